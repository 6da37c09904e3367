"""Docs, the GitHub action and the pre-commit hook cannot drift from the CLI."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT

from ftaudit.cli import main

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _help(*command: str) -> str:
    return CliRunner().invoke(main, [*command, "--help"]).output


def _options(line: str) -> list[str]:
    words = shlex.split(line.replace("\\\n", " "), comments=False)
    return [w.split("=")[0] for w in words if w.startswith("--")]


def _commands(text: str) -> list[str]:
    """`ftaudit ...` invocations in a text, one per line, without shell operators and comments."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        m = re.search(r"\bftaudit (scan|baseline write|rules|explain)\b([^#|&;]*)", line)
        if m and "${{" not in m.group(0):
            out.append(m.group(0))
    return out


def _check_command(cmd: str) -> None:
    sub = ["baseline", "write"] if cmd.startswith("ftaudit baseline write") else [cmd.split()[1]]
    helptext = _help(*sub)
    for opt in _options(cmd):
        assert opt in helptext, f"`{cmd}` uses {opt}, which `ftaudit {' '.join(sub)}` does not have"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_yaml_blocks_parse_and_commands_exist(doc):
    text = doc.read_text(encoding="utf-8")
    for lang, body in _FENCE.findall(text):
        if lang in ("yaml", "yml"):
            assert yaml.safe_load(body) is not None
        if lang in ("console", "yaml", "bash", "sh", ""):
            for cmd in _commands(body):
                _check_command(cmd)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    for target in _LINK.findall(doc.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_action_is_a_composite_running_existing_options():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    scan_step = next(s for s in action["runs"]["steps"] if s.get("id") == "scan")
    run = scan_step["run"]
    for opt in _options(re.sub(r"\$\{\{[^}]*\}\}", "X", run.split("ftaudit scan", 1)[1].split("rc=")[0])):
        assert opt in _help("scan"), opt
    used = set(re.findall(r"inputs\.([\w-]+)", (ROOT / "action.yml").read_text()))
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    upload = next(s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
    assert set(upload["with"]) == {"sarif_file", "category"}


def test_pre_commit_hook_manifest():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "ftaudit" and hook["language"] == "python"
    assert hook["types_or"] == ["c", "c++", "cython"]
    assert hook["entry"] == "ftaudit scan"
    for opt in hook.get("args", []):
        assert opt in _help("scan")
