"""Configuration as ruff users expect it, through the real CLI: rule selection layers, per-file-ignores,
severity, gitignore-style exclude, .gitignore files, ftaudit.toml discovery, --show-settings/--show-files,
and the JSON Schema generated from the key table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import ROOT

from ftaudit.cli import main
from ftaudit.config import KEYS, load_config
from ftaudit.schema import config_schema, schema_text

# FT101 (ncalls++) and FT301 (strtok) in one function reachable from Python.
HAZARD = textwrap.dedent(
    """
    #include <Python.h>
    #include <string.h>
    static long ncalls;
    static PyObject *put(PyObject *self, PyObject *arg) {
        ncalls++;
        strtok(NULL, ",");
        Py_RETURN_NONE;
    }
    static PyMethodDef methods[] = {{"put", put, METH_O, NULL}, {NULL, NULL, 0, NULL}};
    """
)


def run(*args: str, cwd: Path | None = None):
    if cwd is None:
        return CliRunner().invoke(main, list(args))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def tree(tmp_path: Path, files: dict[str, str], config: str | None = None, name: str = "pyproject.toml") -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if config is not None:
        header = "[tool.ftaudit]\n" if name == "pyproject.toml" else ""
        (tmp_path / name).write_text(header + textwrap.dedent(config))
    return tmp_path


def shown_files(res) -> set[str]:
    assert res.exit_code == 0, res.output
    return set(res.output.split())


def scan_json(*args: str, cwd: Path | None = None) -> dict:
    res = run("scan", "--frontend", "treesitter", "-j", "1", "--format", "json", *args, cwd=cwd)
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.output)


def counted(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule"], f["path"]) for f in doc["findings"] if f["suppressed"] is None}


# -- exclude: gitignore semantics -------------------------------------------------------------------------


FILES = {
    "a.c": "",
    "tests/t.c": "",
    "tests/sub/u.c": "",
    "tests/sub/keep.c": "",
    "src/tests/v.c": "",
}


@pytest.mark.parametrize(
    ("patterns", "left"),
    [
        # The old fnmatch reading also dropped tests/sub/u.c; gitignore's `*` stops at `/`.
        (["tests/*.c"], {"a.c", "tests/sub/u.c", "tests/sub/keep.c", "src/tests/v.c"}),
        # Anchored: the top tests/ only, not src/tests/.
        (["/tests"], {"a.c", "src/tests/v.c"}),
        # Unanchored directory name: both.
        (["tests/"], {"a.c"}),
        # `!` re-includes (the old reading took it literally and matched nothing).
        (["*.c", "!keep.c"], {"tests/sub/keep.c"}),
    ],
)
def test_exclude_has_gitignore_semantics(tmp_path, patterns, left):
    tree(tmp_path, FILES, f"exclude = {json.dumps(patterns)}\n")
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == left
    # The same through the command line (relative to the working directory), with no configuration.
    res = run("scan", "--no-config", "--show-files", "--exclude", ",".join(patterns), ".", cwd=tmp_path)
    assert shown_files(res) == left


def test_default_excludes_are_listed_with_verbose_and_can_be_overridden(tmp_path):
    files = {"a.c": "", "build/b.c": "", ".hidden/h.c": "", "venv/lib/v.c": ""}
    tree(tmp_path, files)
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"a.c"}
    res = run("scan", "--frontend", "treesitter", "-j", "1", "--no-cache", "-v", ".", cwd=tmp_path)
    [note] = [line for line in res.output.splitlines() if "[excluded]" in line]
    assert "3 directories left out by the default `exclude`" in note and "build/" in note
    quiet = run("scan", "--frontend", "treesitter", "-j", "1", "--no-cache", ".", cwd=tmp_path)
    assert "[excluded]" not in quiet.output
    # extend-exclude with `!` brings one back; `exclude` replaces the defaults altogether.
    tree(tmp_path, {}, 'extend-exclude = ["!build/"]\n')
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"a.c", "build/b.c"}
    tree(tmp_path, {}, "exclude = []\n")
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == set(files)
    # A directory holding pyvenv.cfg is a virtual environment whatever exclude says.
    tree(tmp_path, {"env2/pyvenv.cfg": "", "env2/e.c": ""})
    assert "env2/e.c" not in shown_files(run("scan", "--show-files", ".", cwd=tmp_path))


def test_scanning_inside_an_excluded_directory_still_applies_the_patterns_below_it(tmp_path):
    tree(tmp_path, {"build/pkg/m.c": "", "build/pkg/build/gen.c": ""})
    assert shown_files(run("scan", "--show-files", "build/pkg", cwd=tmp_path)) == {"build/pkg/m.c"}


# -- .gitignore ---------------------------------------------------------------------------------------------


def test_gitignore_files_are_respected_nested_and_from_above(tmp_path):
    files = {
        ".gitignore": "gen_*.c\n/top_only.c\n",
        "gen_a.c": "",
        "top_only.c": "",
        "a.c": "",
        "pkg/top_only.c": "",
        "pkg/.gitignore": "*.c\n!keep.c\n",
        "pkg/keep.c": "",
        "pkg/drop.c": "",
        "pkg/sub/gen_b.c": "",
        "pkg/sub/.gitignore": "!gen_b.c\n",
    }
    tree(tmp_path, files)
    (tmp_path / ".git").mkdir()  # the scan root: .gitignore files above a scanned directory count up to it
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"a.c", "pkg/keep.c", "pkg/sub/gen_b.c"}
    sub = run("scan", "--show-files", str(tmp_path / "pkg"))
    assert shown_files(sub) == {str(tmp_path / "pkg/keep.c"), str(tmp_path / "pkg/sub/gen_b.c")}
    every = run("scan", "--show-files", "--no-respect-gitignore", ".", cwd=tmp_path)
    assert shown_files(every) == {p for p in files if p.endswith(".c")}
    tree(tmp_path, {}, "respect-gitignore = false\n")
    assert len(shown_files(run("scan", "--show-files", ".", cwd=tmp_path))) == len(every.output.split())
    assert shown_files(run("scan", "--show-files", "--respect-gitignore", ".", cwd=tmp_path)) == {
        "a.c",
        "pkg/keep.c",
        "pkg/sub/gen_b.c",
    }


def test_gitignore_outside_a_git_work_tree_is_not_read(tmp_path):
    """An unpacked sdist: ujson 5.9.0's .gitignore says `lib/`, where its own C code is."""
    tree(tmp_path, {".gitignore": "lib/\n", "lib/ultrajsondec.c": "", "python/m.c": ""})
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"lib/ultrajsondec.c", "python/m.c"}
    (tmp_path / ".git").mkdir()
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"python/m.c"}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to write an index")
@pytest.mark.parametrize("version", ["2", "4"])
def test_tracked_files_are_not_left_out_by_gitignore(tmp_path, version):
    """ujson's checkout: `lib/` in .gitignore, its C code committed in lib/ (git add -f). Git's rule:
    ignore patterns do not apply to tracked files; ftaudit reads .git/index (git is not run by ftaudit)."""
    tree(tmp_path, {".gitignore": "lib/\n", "lib/ultrajsondec.c": "", "lib/new.c": "", "python/m.c": ""})
    git = ["git", "-C", str(tmp_path), "-c", f"index.version={version}"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-f", "lib/ultrajsondec.c", "python/m.c"], check=True)
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"lib/ultrajsondec.c", "python/m.c"}
    (tmp_path / ".git" / "index").write_bytes(b"DIRC junk")  # not understood: the .gitignore files decide
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"python/m.c"}


def test_a_directory_named_on_the_command_line_is_scanned_though_ignored_above(tmp_path):
    tree(tmp_path, {".gitignore": "gen/\n", "gen/g.c": "", "a.c": ""})
    (tmp_path / ".git").mkdir()
    assert shown_files(run("scan", "--show-files", "gen", cwd=tmp_path)) == {"gen/g.c"}
    assert shown_files(run("scan", "--show-files", ".", cwd=tmp_path)) == {"a.c"}


# -- rule selection -----------------------------------------------------------------------------------------


def test_extend_select_extend_ignore_and_layers(tmp_path):
    tree(tmp_path, {"m.c": HAZARD}, 'ignore = ["FT101"]\n')
    rules = lambda *a: {f["rule"] for f in scan_json(*a, ".", cwd=tmp_path)["findings"]}  # noqa: E731
    assert rules() == {"FT301"}
    assert rules("--select", "FT101") == {"FT101"}  # the command line's select replaces the file's ignore too
    assert rules("--extend-ignore", "FT301") == set()
    assert "FT103" in scan_json("--extend-select", "FT103", ".", cwd=tmp_path)["rules"]
    tree(tmp_path, {}, 'select = ["FT101"]\nignore = ["FT1"]\n')
    assert rules() == {"FT101"}  # the more specific selector wins
    tree(tmp_path, {}, 'select = ["FT1"]\nextend-select = ["FT301"]\nextend-ignore = ["FT102"]\n')
    doc = scan_json(".", cwd=tmp_path)
    assert {f["rule"] for f in doc["findings"]} == {"FT101", "FT301"}
    assert "FT102" not in doc["rules"] and "FT104" in doc["rules"]


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        (None, ["--select", "FT5"], "--select: 'FT5' matches no rule"),
        (None, ["--extend-select", "FT9"], "--extend-select: 'FT9' matches no rule"),
        (None, ["--per-file-ignores", "tests/**:FT7"], "'FT7' matches no rule"),
        (None, ["--per-file-ignores", "tests/**"], "is not GLOB:RULES"),
        (None, ["--extend-per-file-ignores", "x.c:FT2,FT5"], "--extend-per-file-ignores: 'FT5' matches no rule"),
        ('extend-ignore = ["FT5"]\n', [], "extend-ignore: 'FT5' matches no rule"),
        ('per-file-ignores = { "a/*" = ["FT6"] }\n', [], "per-file-ignores 'a/*': 'FT6' matches no rule"),
        ('severity = { FT8 = "error" }\n', [], "severity: 'FT8' matches no rule"),
        ('severity = { FT101 = "fatal" }\n', [], "`severity` must be a table of error, warning, note"),
        ("respect-gitignore = 1\n", [], "`respect-gitignore` must be true or false"),
        ('per-file-ignores = { "a/*" = "FT1" }\n', [], "`per-file-ignores` must be a table of lists"),
    ],
)
def test_selectors_that_match_no_rule_are_usage_errors(tmp_path, config, args, message):
    tree(tmp_path, {"m.c": HAZARD}, config)
    res = run("scan", *args, ".", cwd=tmp_path)
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_per_file_ignores_from_config_and_command_line(tmp_path):
    files = {"src/m.c": HAZARD, "tests/t.c": HAZARD, "tests/deep/d.c": HAZARD, "_gen_x.c": HAZARD}
    config = 'per-file-ignores = { "tests/*" = ["FT1"], "_gen_*.c" = ["FT301"], "!src/**" = ["FT301"] }\n'
    tree(tmp_path, files, config)
    doc = scan_json(".", cwd=tmp_path)
    # ruff's globs: `*` crosses `/` (tests/deep/d.c too), a name pattern matches anywhere, `!` negates.
    assert counted(doc) == {("FT101", "src/m.c"), ("FT301", "src/m.c"), ("FT101", "_gen_x.c")}
    why = {f["suppressed"]["justification"] for f in doc["findings"] if f["suppressed"]}
    assert why == {"per-file-ignores: tests/*", "per-file-ignores: !src/**", "per-file-ignores: _gen_*.c"}
    # --per-file-ignores replaces the table, --extend-per-file-ignores adds to it.
    doc = scan_json("--per-file-ignores", "src/*:FT101", ".", cwd=tmp_path)
    assert ("FT101", "src/m.c") not in counted(doc) and ("FT101", "tests/t.c") in counted(doc)
    doc = scan_json("--extend-per-file-ignores", "src/{m,n}.c:FT1,FT3", ".", cwd=tmp_path)
    assert counted(doc) == {("FT101", "_gen_x.c")}


# -- severity ---------------------------------------------------------------------------------------------------


def test_severity_override_in_every_format(tmp_path):
    tree(tmp_path, {"m.c": HAZARD}, 'severity = { FT1 = "error", FT301 = "note" }\n')
    doc = scan_json(".", cwd=tmp_path)
    assert {(f["rule"], f["level"]) for f in doc["findings"]} == {("FT101", "error"), ("FT301", "note")}
    res = run("scan", "--frontend", "treesitter", "-j", "1", "--format", "sarif", ".", cwd=tmp_path)
    sarif = json.loads(res.output)["runs"][0]
    assert {(r["ruleId"], r["level"]) for r in sarif["results"]} == {("FT101", "error"), ("FT301", "note")}
    levels = {d["id"]: d["defaultConfiguration"]["level"] for d in sarif["tool"]["driver"]["rules"]}
    assert levels["FT101"] == "error" and levels["FT102"] == "error" and levels["FT301"] == "note"
    github = run("scan", "--frontend", "treesitter", "-j", "1", "--format", "github", ".", cwd=tmp_path).output
    assert any(line.startswith("::notice") and "FT301" in line for line in github.splitlines())
    gitlab = json.loads(
        run("scan", "--frontend", "treesitter", "-j", "1", "--format", "gitlab", ".", cwd=tmp_path).output
    )
    assert len({g["severity"] for g in gitlab}) == 2
    text = run("scan", "--frontend", "treesitter", "-j", "1", ".", cwd=tmp_path).output
    assert "FT301" in text and "FT101" in text


# -- where the configuration is found ------------------------------------------------------------------


def test_ftaudit_toml_is_found_like_ruff_toml(tmp_path):
    tree(tmp_path, {"pkg/m.c": HAZARD}, 'ignore = ["FT101"]\n')  # pyproject.toml at the top
    assert {f["rule"] for f in scan_json("pkg", cwd=tmp_path)["findings"]} == {"FT301"}
    tree(tmp_path, {}, 'ignore = ["FT301"]\n', name="ftaudit.toml")  # same directory: beats pyproject
    assert {f["rule"] for f in scan_json("pkg", cwd=tmp_path)["findings"]} == {"FT101"}
    tree(tmp_path, {}, "ignore = []\n", name=".ftaudit.toml")  # beats ftaudit.toml
    assert {f["rule"] for f in scan_json("pkg", cwd=tmp_path)["findings"]} == {"FT101", "FT301"}
    (tmp_path / "pkg" / "ftaudit.toml").write_text('select = ["FT3"]\n')  # nearer: wins
    res = run("scan", "--show-settings", "pkg", cwd=tmp_path)
    assert f"configuration: {tmp_path / 'pkg' / 'ftaudit.toml'}" in res.output
    assert {f["rule"] for f in scan_json("pkg", cwd=tmp_path)["findings"]} == {"FT301"}
    # No [tool.ftaudit] table in ftaudit.toml: the keys are at the top level.
    (tmp_path / "pkg" / "ftaudit.toml").write_text('[tool.ftaudit]\nselect = ["FT3"]\n')
    res = run("scan", "pkg", cwd=tmp_path)
    assert res.exit_code == 2 and "unknown key `tool`" in res.output


# -- --show-settings, --show-files ------------------------------------------------------------------------


def test_show_settings_and_show_files_do_not_scan(tmp_path):
    db = [{"directory": str(tmp_path), "file": "m.c", "arguments": ["cc", "-Iinc", "-c", "m.c"]}]
    files = {"m.c": HAZARD, "inc/x.h": "", "build/compile_commands.json": json.dumps(db)}
    tree(tmp_path, files, 'severity = { FT301 = "note" }\nextend-exclude = ["/old/"]\n')
    os.mkfifo(tmp_path / "blocked.c")  # were it opened, the command would hang
    res = run("scan", "--show-settings", "--frontend", "clang", "--select", "FT1,FT301", ".", cwd=tmp_path)
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"configuration: {tmp_path / 'pyproject.toml'}" in out
    assert f"compile-database: {tmp_path / 'build' / 'compile_commands.json'}" in out
    assert "frontend:\n  choice: clang" in out
    assert "python-include:\n  " in out
    assert "  FT301: note" in out and "  FT101: warning" in out and "FT201" not in out
    assert "patterns: /old/" in out and "respect-gitignore: True" in out
    res = run("scan", "--show-files", ".", cwd=tmp_path)
    assert res.exit_code == 0 and set(res.output.split()) == {"m.c", "inc/x.h"}  # the FIFO is a note, never opened
    assert run("scan", "--show-files", "missing", cwd=tmp_path).exit_code == 2


def test_settings_are_one_structured_dict(tmp_path):
    from ftaudit.config import Config
    from ftaudit.scan import ScanOptions, prepare
    from ftaudit.showsettings import render, settings

    tree(tmp_path, {"m.c": HAZARD})
    opts = ScanOptions([tmp_path], config=Config())
    values = settings(prepare(opts), opts)
    json.dumps(values)  # JSON-ready, for a report's run properties
    assert values["files"] == 1 and values["frontend"]["choice"] == "auto"
    assert set(values) >= {"configuration", "python-include", "include-dirs", "compile-database", "rules"}
    assert render(values).startswith("configuration: (none)\n")


# -- JSON Schema and reference -----------------------------------------------------------------------------


def test_committed_schema_is_generated_from_the_key_table():
    committed = (ROOT / "docs" / "ftaudit.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "stale: run python scripts/gen_docs.py"
    assert set(json.loads(committed)["properties"]) == {k.name for k in KEYS}


def test_schema_accepts_the_documented_example_and_rejects_what_the_loader_rejects(tmp_path):
    import tomllib

    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    example = "\n".join(f"{k.name} = {k.example}" for k in KEYS)
    values = tomllib.loads(example)
    jsonschema.validate(values, schema)
    path = tmp_path / "ftaudit.toml"
    path.write_text(example)
    assert load_config(path).values == values
    for bad in ({"exclude": "vendor"}, {"severity": {"FT1": "fatal"}}, {"respect-gitignore": "yes"}, {"x": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
