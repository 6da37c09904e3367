"""CLI behaviour through click's runner and through a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from click.testing import CliRunner
from conftest import FIXTURES, ROOT

from ftaudit.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_scan_text_is_compiler_style_with_summary():
    res = run("scan", str(FIXTURES / "c" / "refcount.c"), "--root", str(FIXTURES))
    assert res.exit_code == 1
    first = res.output.splitlines()[0]
    assert first.startswith("c/refcount.c:8:9: FT204 ")
    assert first.endswith("[refcount-uniqueness-check]")
    assert "FT204 refcount-uniqueness-check" in res.output
    assert "7 findings in 1 file(s)" in res.output


def test_exit_zero_when_clean(tmp_path):
    (tmp_path / "clean.c").write_text("int add(int a, int b) { return a + b; }\n")
    res = run("scan", str(tmp_path))
    assert res.exit_code == 0, res.output


def test_select_and_ignore_prefixes():
    path = str(FIXTURES / "c" / "libc.c")
    assert run("scan", path, "--select", "FT2").exit_code == 0
    res = run("scan", path, "--select", "FT3", "--format", "json")
    assert {f["rule"] for f in json.loads(res.output)["findings"]} == {"FT301"}
    assert run("scan", path, "--ignore", "FT301").exit_code == 0


def test_unknown_rule_is_usage_error():
    res = run("scan", str(FIXTURES), "--select", "FT999")
    assert res.exit_code == 2
    assert "matches no rule" in res.output


def test_missing_path_is_exit_2_and_said_even_when_quiet(tmp_path):
    (tmp_path / "bad.c").write_bytes(b"int f(void) { return \xff; }\n")
    for extra in ([], ["-q"]):
        res = run("scan", str(tmp_path / "nope"), str(tmp_path / "bad.c"), *extra)
        assert res.exit_code == 2
        assert "no such file or directory [not-found]" in res.output
        assert ("[encoding]" in res.output) == (not extra), res.output


def test_json_output_to_file(tmp_path):
    out = tmp_path / "r.json"
    res = run("scan", str(FIXTURES / "c" / "borrowed.c"), "--format", "json", "-o", str(out))
    assert res.exit_code == 1
    doc = json.loads(out.read_text())
    assert doc["tool"] == "ftaudit"
    f = doc["findings"][0]
    assert {"rule", "name", "level", "path", "line", "column", "function", "message"} <= set(f)
    assert doc["files"][0]["frontend"] == "clang"


def test_defines_and_includes_reach_the_parser(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "cfg.h").write_text("#define GET PyList_GetItem\n")
    (tmp_path / "m.c").write_text(
        "#include <Python.h>\n#include <cfg.h>\n#ifdef USE_IT\nPyObject *f(PyObject *l) { return GET(l, 0); }\n#endif\n"
    )
    quiet = run("scan", str(tmp_path / "m.c"), "-I", str(tmp_path / "inc"))
    assert quiet.exit_code == 0, quiet.output
    res = run("scan", str(tmp_path / "m.c"), "-I", str(tmp_path / "inc"), "-D", "USE_IT")
    assert res.exit_code == 1 and "FT201" in res.output


def test_compile_commands_flags_win(tmp_path):
    src = tmp_path / "m.c"
    src.write_text("#include <Python.h>\n#if WANT\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n#endif\n")
    db = [{"directory": str(tmp_path), "file": "m.c", "arguments": ["cc", "-DWANT=1", "-c", "m.c", "-o", "m.o"]}]
    (tmp_path / "compile_commands.json").write_text(json.dumps(db))
    res = run("scan", str(tmp_path))
    assert res.exit_code == 1 and "FT201" in res.output


def test_rules_and_explain():
    res = run("rules")
    assert res.exit_code == 0
    assert "FT201" in res.output and "borrowed-reference" in res.output
    res = run("explain", "ft201")
    assert res.exit_code == 0
    assert "## Why is this a hazard?" in res.output and "PyList_GetItemRef" in res.output
    assert run("explain", "FT999").exit_code == 2


def test_subprocess_module_and_console_script():
    proc = subprocess.run(
        [sys.executable, "-m", "ftaudit", "scan", str(ROOT / "examples")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "spammodule.c" in proc.stdout
    assert "FT401" in proc.stdout
    assert "fastcount.pyx:48:18: FT104" in proc.stdout  # the Cython example goes through Cython's parser


def test_global_written_in_another_file_has_related_location_there():
    res = run("scan", str(FIXTURES / "c"), "--select", "FT101", "--format", "json", "-q", "--root", str(FIXTURES))
    doc = json.loads(res.output)
    (f,) = [f for f in doc["findings"] if "split_calls" in f["message"]]
    assert f["path"] == "c/split_setup.c"
    assert {r["path"] for r in f["related"]} == {"c/split_setup.c", "c/split_module.c"}
    assert "2 unguarded write(s)" in f["message"]


def test_github_annotations():
    res = run("scan", str(FIXTURES / "c" / "refcount.c"), "--format", "github", "-q", "--root", str(FIXTURES))
    assert res.exit_code == 1
    first = res.output.splitlines()[0]
    assert first.startswith("::warning file=c/refcount.c,line=8,col=9,")
    assert "title=FT204 refcount-uniqueness-check::" in first
    assert "\n" not in first


def test_sarif_category_sets_automation_details(tmp_path):
    out = tmp_path / "r.sarif"
    res = run("scan", str(FIXTURES / "c" / "refcount.c"), "--format", "sarif", "-o", str(out), "--sarif-category", "c")
    assert res.exit_code == 1
    assert json.loads(out.read_text())["runs"][0]["automationDetails"] == {"id": "c/"}


def test_summary_by_directory_and_colour(tmp_path):
    res = run("scan", str(FIXTURES / "c"), str(FIXTURES / "cpp"), "--root", str(FIXTURES), "--color", "always")
    assert "By directory:" in res.output
    assert "\x1b[" in res.output
    plain = run("scan", str(FIXTURES / "c" / "refcount.c"), "--color", "never")
    assert "\x1b[" not in plain.output


def test_gitlab_code_quality_report():
    res = run("scan", str(FIXTURES / "c" / "refcount.c"), "--format", "gitlab", "-q", "--root", str(FIXTURES))
    issues = json.loads(res.output)
    assert res.exit_code == 1 and len(issues) == 7
    first = issues[0]
    assert first["check_name"] == "FT204 refcount-uniqueness-check"
    assert first["severity"] == "major"
    assert first["location"] == {"path": "c/refcount.c", "lines": {"begin": 8, "end": 8}}
    assert len({i["fingerprint"] for i in issues}) == 7


def test_progress_on_a_terminal_only(monkeypatch):
    import ftaudit.cli as cli_mod

    target = str(FIXTURES / "c")
    for name in ("CI", "TF_BUILD", "JENKINS_URL"):  # .ci/run sets CI: a slow scan would print CI lines
        monkeypatch.delenv(name, raising=False)
    assert "ftaudit: [" not in run("scan", target).output  # not a terminal, not CI: no progress
    monkeypatch.setattr(cli_mod, "_stderr_is_tty", lambda: True)
    out = run("scan", target, "--no-cache").output  # a warm cache has no files to report progress on
    assert "\rftaudit: discovering files" in out
    # Which files get a counter line depends on timing (at most one every 0.1 s): any counter will do.
    assert re.search(r"\rftaudit: \[\s*\d+/\d+\] [\d.]+ s, \d+ problems? so far", out) and "c/" in out
    assert "ftaudit: [" not in run("scan", target, "-q").output


def test_colour_decision_respects_no_color():
    from ftaudit.cli import use_colour

    assert use_colour("auto", True, {}) is True
    assert use_colour("auto", True, {"NO_COLOR": "1"}) is False
    assert use_colour("auto", False, {}) is False
    assert use_colour("always", False, {"NO_COLOR": "1"}) is True
    assert use_colour("never", True, {}) is False


def test_frontend_choice_and_auto_fallback(tmp_path):
    good = tmp_path / "good.c"
    good.write_text("#include <Python.h>\nstatic long n;\nvoid bump(void) { n++; }\n")
    bad = tmp_path / "bad.c"
    # NPY_UNUSED_ATTR is the missing header's: without it libclang's parse has a syntax error.
    text = '#include <Python.h>\n#include "not_installed.h"\nstatic long n;\nvoid bump(void) { n++; }\n'
    bad.write_text(text + "int z NPY_UNUSED_ATTR = 0;\n")
    res = run("scan", str(tmp_path), "--format", "json", "-q", "--root", str(tmp_path), "--no-config")
    doc = json.loads(res.output)
    frontends = {f["path"]: f["frontend"] for f in doc["files"]}
    assert frontends == {"good.c": "clang", "bad.c": "treesitter"}
    codes = [(p["path"], p["code"]) for p in doc["problems"]]
    assert codes == [("bad.c", "missing-header")]  # one problem per fallback
    assert "not_installed.h" in doc["problems"][0]["message"]
    assert "analysed with tree-sitter" in doc["problems"][0]["message"]
    assert {f["path"] for f in doc["findings"] if f["rule"] == "FT101"} == {"good.c", "bad.c"}
    forced = json.loads(run("scan", str(bad), "--format", "json", "-q", "--frontend", "clang").output)
    assert forced["files"][0]["frontend"] == "clang"
    ts = json.loads(run("scan", str(good), "--format", "json", "-q", "--frontend", "treesitter").output)
    assert ts["files"][0]["frontend"] == "treesitter"


def test_sarif_records_the_frontend_per_file(tmp_path):
    out = tmp_path / "r.sarif"
    run("scan", str(FIXTURES / "c" / "refcount.c"), "--format", "sarif", "-o", str(out), "--frontend", "treesitter")
    (artifact,) = json.loads(out.read_text())["runs"][0]["artifacts"]
    assert artifact["properties"] == {"frontend": "treesitter", "language": "c"}
