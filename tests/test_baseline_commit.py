"""`--baseline-commit REF`: only findings new since REF, from REF's files read out of git's objects,
and nothing the repository configures can run."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from ftaudit.cli import main

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0, reason="no git"
)

HEAD = "#include <Python.h>\n"
OLD = HEAD + "PyObject *a(PyObject *l) { return PyList_GetItem(l, 0); }\n"
# Lines above move the old finding down; the new function adds one.
NEW = (
    HEAD
    + "/* moved */\n\nPyObject *a(PyObject *l) { return PyList_GetItem(l, 0); }\n"
    + ('PyObject *b(PyObject *d) { return PyDict_GetItemString(d, "k"); }\n')
)
SAME = HEAD + "PyObject *c(PyObject *l) { return PyList_GetItem(l, 1); }\n"


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q")
    git(r, "config", "user.email", "t@example.org")
    git(r, "config", "user.name", "t")
    (r / "m.c").write_text(OLD)
    (r / "same.c").write_text(SAME)
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "base")
    (r / "m.c").write_text(NEW)
    (r / "added.c").write_text('#include <string.h>\nchar *t(char *s) { return strtok(s, ","); }\n')
    return r


def scan(repo, *extra):
    args = ["scan", str(repo), "--root", str(repo), "--no-config", "--format", "json", "-q", *extra]
    return CliRunner().invoke(main, args)


def test_only_findings_new_since_the_commit_count(repo):
    full = json.loads(scan(repo).stdout)
    assert sorted((f["path"], f["rule"]) for f in full["findings"]) == [
        ("added.c", "FT301"),
        ("m.c", "FT201"),
        ("m.c", "FT201"),
        ("same.c", "FT201"),
    ]
    res = scan(repo, "--baseline-commit", "HEAD")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    new = sorted((f["path"], f["line"]) for f in doc["findings"] if f["suppressed"] is None)
    assert new == [("added.c", 2), ("m.c", 5)]  # the new file, the new function: not the moved call
    known = [f for f in doc["findings"] if f["suppressed"]]
    assert {(f["path"], f["line"]) for f in known} == {("m.c", 4), ("same.c", 2)}
    assert all(f["suppressed"]["origin"] == "baseline-commit" for f in known)
    assert "existed at HEAD (" in known[0]["suppressed"]["justification"]
    text = CliRunner().invoke(
        main,
        ["scan", str(repo), "--root", str(repo), "--no-config", "--format", "concise", "--baseline-commit", "HEAD"],
    )
    assert "2 existed at HEAD" in text.output


def test_nothing_new_exits_zero(repo):
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "change")
    assert scan(repo, "--baseline-commit", "HEAD").exit_code == 0
    assert scan(repo, "--baseline-commit", "HEAD~1").exit_code == 1


def test_unknown_ref_or_no_repository_is_exit_2(repo, tmp_path):
    res = scan(repo, "--baseline-commit", "no-such-branch")
    assert res.exit_code == 2 and "--baseline-commit no-such-branch: git rev-parse failed" in res.output
    assert scan(repo, "--baseline-commit", "--output=x").exit_code == 2  # an option is never a ref
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "x.c").write_text(OLD)
    res = CliRunner().invoke(main, ["scan", str(plain), "--no-config", "--baseline-commit", "HEAD"])
    assert res.exit_code == 2 and "--baseline-commit HEAD:" in res.output


def test_the_repository_cannot_run_commands(repo, tmp_path):
    """fsmonitor, pager, external diff, textconv and clean/smudge filters named by the repository's
    config and .gitattributes: none runs (the ftaudit side reads objects and hashes files itself)."""
    marker = tmp_path / "ran"
    cmd = f"sh -c 'echo ran >> {marker}'"
    for key in (
        "core.fsmonitor",
        "core.pager",
        "diff.external",
        "diff.evil.textconv",
        "filter.evil.clean",
        "filter.evil.smudge",
        "filter.evil.process",
        "core.sshCommand",
        "core.askPass",
    ):
        git(repo, "config", key, cmd)
    (repo / ".gitattributes").write_text("*.c diff=evil filter=evil\n")
    res = scan(repo, "--baseline-commit", "HEAD")
    assert res.exit_code == 1, res.output
    assert not marker.exists()
    new = {f["path"] for f in json.loads(res.stdout)["findings"] if f["suppressed"] is None}
    assert new == {"added.c", "m.c"}
