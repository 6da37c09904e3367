"""Output through the CLI: text forms, several reports, exit-code policy, statistics, progress,
colour from the environment, SARIF extras, `rules --format json`, and a missing libclang."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, ROOT

from ftaudit.cli import main

REFCOUNT = str(FIXTURES / "c" / "refcount.c")
DECLS = str(FIXTURES / "cpp" / "pybind.cpp")  # FT403 notes only


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_concise_is_one_short_line_a_finding():
    res = run("scan", REFCOUNT, "--root", str(FIXTURES), "--format", "concise", "-q")
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert len(lines) == 7
    assert lines[0] == "c/refcount.c:8:9: FT204 Py_REFCNT(...) == 1 is used as an exclusive-ownership test"
    assert all(len(line) <= 120 for line in lines)
    assert "PyUnstable_Object_IsUniquelyReferenced" not in res.output  # the fix is for full and explain


def test_full_is_the_default_with_code_frame_caret_and_help():
    res = run("scan", REFCOUNT, "--root", str(FIXTURES), "-q")
    lines = res.output.splitlines()
    assert lines[0].endswith("is used as an exclusive-ownership test [refcount-uniqueness-check]")
    assert lines[2] == "8 |     if (Py_REFCNT(o) == 1) n++;  // expect: FT204"
    assert lines[3] == "  |         " + "^" * len("Py_REFCNT(o) == 1")
    assert lines[5].startswith("  = help: the free-threaded build does not support it")
    assert "PyUnstable_Object_IsUniquelyReferenced" in res.output
    assert run("scan", REFCOUNT, "--root", str(FIXTURES), "-q", "--format", "text").output == res.output


def test_caret_counts_characters_not_bytes(tmp_path):
    (tmp_path / "u.c").write_text(
        "#include <Python.h>\nPyObject *f(PyObject *l) {\n\t/* é */ return PyList_GetItem(l, 0); }\n", "utf-8"
    )
    lines = run("scan", str(tmp_path), "--root", str(tmp_path), "-q", "--no-config").output.splitlines()
    code, caret = lines[2], lines[3]
    assert code.startswith("3 |     /* é */ return PyList_GetItem")  # the tab printed as four spaces
    assert caret.index("^") == code.index("PyList_GetItem") and caret.count("^") == len("PyList_GetItem(l, 0)")


def test_output_format_is_an_alias_of_format():
    a = run("scan", REFCOUNT, "--output-format", "json", "-q")
    b = run("scan", REFCOUNT, "--format", "json", "-q")
    assert json.loads(a.output)["findings"] == json.loads(b.output)["findings"]
    f = json.loads(a.output)["findings"][0]
    assert f["short_message"] == "Py_REFCNT(...) == 1 is used as an exclusive-ownership test"
    assert f["message"].startswith(f["short_message"] + "; the free-threaded build")


def test_several_reports_in_one_run(tmp_path):
    sarif, js = tmp_path / "r.sarif", tmp_path / "r.json"
    res = run("scan", REFCOUNT, "-q", "--format", "concise", "--report", f"sarif:{sarif}", "--report", f"json:{js}")
    assert res.exit_code == 1
    assert res.output.count("FT204") == 7  # the main report still goes to stdout
    assert len(json.loads(sarif.read_text())["runs"][0]["results"]) == 7
    assert len(json.loads(js.read_text())["findings"]) == 7
    bad = run("scan", REFCOUNT, "--report", "pdf:x.pdf")
    assert bad.exit_code == 2 and "unknown format 'pdf'" in bad.output
    assert run("scan", REFCOUNT, "--report", "sarif").exit_code == 2


def test_fail_on_and_exit_zero():
    assert run("scan", DECLS, "-q").exit_code == 1  # notes fail by default (--fail-on note)
    assert run("scan", DECLS, "-q", "--fail-on", "warning").exit_code == 0
    assert run("scan", REFCOUNT, "-q", "--fail-on", "warning").exit_code == 1
    assert run("scan", REFCOUNT, "-q", "--fail-on", "error").exit_code == 0
    assert run("scan", REFCOUNT, "-q", "--exit-zero").exit_code == 0
    missing = run("scan", str(FIXTURES / "nope.c"), "--exit-zero")
    assert missing.exit_code == 2  # a tool or usage error is never hidden


def test_statistics_counts_only():
    res = run("scan", str(FIXTURES / "c" / "allocators.c"), REFCOUNT, "--statistics")
    assert res.exit_code == 1
    assert res.output.splitlines() == [
        "7\tFT204\trefcount-uniqueness-check  \twarning",
        "3\tFT206\tobject-allocator-for-buffer\twarning",
    ]
    rows = json.loads(run("scan", REFCOUNT, "--statistics", "--format", "json").output)
    assert rows == [{"rule": "FT204", "name": "refcount-uniqueness-check", "level": "warning", "count": 7}]
    assert run("scan", REFCOUNT, "--statistics", "--format", "sarif").exit_code == 2


def test_progress_lines_in_ci(monkeypatch):
    res = CliRunner().invoke(main, ["scan", REFCOUNT, "--format", "json"], env={"CI": "true"})
    assert res.exit_code == 1
    phases = [line for line in res.stderr.splitlines() if line.startswith("ftaudit: ")]
    assert [p.split(" s  ", 1)[1] for p in phases[:2]] == [
        "discovering files",
        "found 1 files; reading flags and the compile database",
    ]
    assert any("parsing 1 files with" in p for p in phases) and any("running" in p for p in phases)
    assert json.loads(res.stdout)["findings"]  # progress never reaches stdout
    assert "ftaudit:" not in run("scan", REFCOUNT, "-q", env={"CI": "true"}).stderr


def test_progress_counts_files_time_and_problems_on_a_fake_clock():
    from ftaudit.progress import Progress

    now = [0.0]
    out = io.StringIO()
    p = Progress(out, terminal=False, interval=5.0, clock=lambda: now[0])
    p.phase("discovering files")
    for i in range(1, 11):
        now[0] = i * 1.0
        p.file_done(i, 10, f"f{i}.c", problems=1 if i == 3 else 0)
    p.finish(findings=4)
    lines = out.getvalue().splitlines()
    assert lines[0] == "ftaudit:   0.0 s  discovering files"
    assert lines[1:] == [  # a line every 5 s, and the last one
        "ftaudit: [ 5/10] 5.0 s, 1 problem so far",
        "ftaudit: [10/10] 10.0 s, 1 problem so far",
        "ftaudit:  10.0 s  done: 10 files analysed, 4 findings, 1 problem",
    ]


def test_colour_from_the_environment():
    plain = run("scan", REFCOUNT, "-q")
    assert "\x1b[" not in plain.output  # not a terminal
    for env in ({"FORCE_COLOR": "1"}, {"CLICOLOR_FORCE": "1"}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}):
        assert "\x1b[" in run("scan", REFCOUNT, "-q", env=env).output, env
    assert "\x1b[" not in run("scan", REFCOUNT, "-q", env={"FORCE_COLOR": "0"}).output
    assert "\x1b[" not in run("scan", REFCOUNT, "-q", "--color", "never", env={"FORCE_COLOR": "1"}).output
    from ftaudit.terminal import use_colour

    assert use_colour("auto", True, {"NO_COLOR": ""}) is True  # empty NO_COLOR is unset (no-color.org)


def test_sarif_security_severity_and_display_limit(tmp_path, monkeypatch):
    from ftaudit.report import sarif

    out = tmp_path / "r.sarif"
    res = run("scan", REFCOUNT, "--format", "sarif", "-o", str(out))
    rules = json.loads(out.read_text())["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["properties"]["security-severity"] for r in rules if r["id"] in ("FT102", "FT204", "FT401")} == {
        "FT102": "7.0",
        "FT204": "5.0",
        "FT401": "2.0",
    }
    assert "displays at most" not in res.output
    monkeypatch.setattr(sarif, "GITHUB_DISPLAY_LIMIT", 5)
    res = run("scan", REFCOUNT, "--format", "sarif", "-o", str(out))
    assert "ftaudit: warning: 7 results in one run: GitHub code scanning displays at most 5 per run" in res.stderr
    notes = json.loads(out.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["too-many-results"]
    res = run("scan", REFCOUNT, "--format", "concise", "--report", f"sarif:{out}")
    assert "GitHub code scanning displays at most 5" in res.stderr  # an extra SARIF report too


def test_rules_as_json():
    res = run("rules", "--format", "json", "--select", "FT2")
    rows = json.loads(res.output)
    assert [r["id"] for r in rows] == ["FT201", "FT202", "FT203", "FT204", "FT205", "FT206", "FT207"]
    assert {"name", "level", "summary", "rationale", "fix", "enabled", "help_uri", "security_severity"} <= set(rows[0])


def test_sarif_needs_no_object_model():
    code = (
        "import sys\nfrom pathlib import Path\nfrom ftaudit.catalogue import load\nfrom ftaudit.report import sarif\n"
        "from ftaudit.scan import ScanResult\n"
        "sarif.render(ScanResult(Path('.').resolve(), [], [], [], []), load())\n"
        "print(sorted(m for m in ('sarif_om', 'attr', 'pbr') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "sarif-om" not in (ROOT / "pyproject.toml").read_text()


def _without_libclang(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    shadow = tmp_path / "shadow" / "clang"
    shadow.mkdir(parents=True, exist_ok=True)
    (shadow / "__init__.py").write_text("raise ImportError('libclang is not installed here (test)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow.parent), str(ROOT / "src")])}
    env.pop("CI", None)
    cmd = [sys.executable, "-m", "ftaudit", "scan", "--no-cache", "--no-config", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


def test_auto_uses_tree_sitter_when_libclang_cannot_load(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "m.c").write_text("#include <Python.h>\nstatic long n;\nPyObject *bump(PyObject *s) { n++; return s; }\n")
    proc = _without_libclang(tmp_path, str(src), "--root", str(src), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["frontend"] for f in doc["files"]] == ["treesitter"]
    assert [f["rule"] for f in doc["findings"]] == ["FT101"]
    (note,) = [p for p in doc["problems"] if p["code"] == "frontend-unavailable"]
    assert note["level"] == "note" and "libclang is not available (ImportError" in note["message"]
    assert proc.stderr.count("frontend-unavailable") == 1  # one clear message, not one per file
    verbose = _without_libclang(tmp_path, str(src), "-v", "--format", "concise")
    assert "frontend: tree-sitter (libclang is not available: ImportError" in verbose.stderr
    forced = _without_libclang(tmp_path, str(src), "--frontend", "clang")
    assert forced.returncode == 2 and "--frontend clang, but libclang cannot be loaded" in forced.stderr


@pytest.mark.parametrize("form", ["full", "concise"])
def test_text_forms_show_suppressed_findings_when_asked(form):
    res = run("scan", str(FIXTURES / "c" / "suppressed.c"), "--format", form, "--show-suppressed", "-q")
    assert "(suppressed:" in res.output


def test_terminal_progress_fits_the_width_and_keeps_the_file_name(monkeypatch):
    from ftaudit.progress import Progress

    monkeypatch.setenv("COLUMNS", "70")
    out = io.StringIO()
    now = [0.0]
    p = Progress(out, terminal=True, clock=lambda: now[0])
    now[0] = 2.0
    p.file_done(3, 1701, "/work/sdists/numpy-1.26.4/numpy/core/src/multiarray/ctors.c", problems=2)
    p.stop()
    line = out.getvalue().split("\r")[1]
    assert line.rstrip().startswith("ftaudit: [    3/1,701] 2.0 s, 2 problems so far  ...")
    assert line.rstrip().endswith("ultiarray/ctors.c") and len(line) == 69
    assert out.getvalue().endswith("\r" + " " * 69 + "\r")  # cleared at the end


def test_ci_progress_speaks_while_a_big_file_keeps_every_worker_busy():
    from ftaudit.progress import Progress

    now = [0.0]
    out = io.StringIO()
    p = Progress(out, terminal=False, interval=5.0, clock=lambda: now[0])
    p.phase("parsing 3 files with 2 worker(s), biggest first")
    now[0] = 5.5
    p._line(p._ci_tick())  # what the ticker thread writes each `interval` without news
    p.file_done(1, 3, "big.c")
    now[0] = 11.0
    p._line(p._ci_tick())
    assert out.getvalue().splitlines()[1:] == [
        "ftaudit:   5.5 s  parsing 3 files with 2 worker(s), biggest first ...",
        "ftaudit: [1/3] 11.0 s, 0 problems so far",
    ]


def test_ci_ticker_thread_writes_lines_on_its_own():
    import time

    from ftaudit.progress import Progress

    out = io.StringIO()
    p = Progress(out, terminal=False, interval=1.0)
    p.phase("parsing 1 files with 1 worker(s), biggest first")
    time.sleep(2.6)
    p.stop()
    ticks = [line for line in out.getvalue().splitlines() if line.endswith("biggest first ...")]
    assert 1 <= len(ticks) <= 3
