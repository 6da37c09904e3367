"""A rule that raises on one file's facts costs its findings in that file, never the scan (docs/security.md):
the failure is a `rule-error` problem (exit 2), every other rule and file is still reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftaudit import engine
from ftaudit.cli import main

GOOD = "#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n"
COUNTER = "static long calls;\nPyObject *g(PyObject *s) { calls++; Py_RETURN_NONE; }\n"


def _scan(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict]:
    monkeypatch.chdir(root)
    res = CliRunner().invoke(main, ["scan", ".", "--format", "json", "--no-cache", "-j1"])
    return res.exit_code, json.loads(res.stdout)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / "bad.c").write_text(GOOD.replace("f(", "b(") + COUNTER)
    return tmp_path


def test_a_unit_rule_that_raises_on_one_file_is_a_problem_there(tree: Path, monkeypatch: pytest.MonkeyPatch):
    real = engine.registry()["FT201"]

    def flaky(unit, ctx):
        if unit.path.endswith("bad.c"):
            raise KeyError("%param:0")
        yield from real.func(unit, ctx)

    monkeypatch.setitem(engine._REGISTRY, "FT201", engine.Registered(flaky, real.scope, real.depends))
    code, out = _scan(tree, monkeypatch)
    assert code == 2
    by_file = {(f["path"], f["rule"]) for f in out["findings"]}
    assert ("good.c", "FT201") in by_file and ("bad.c", "FT101") in by_file  # other files, other rules
    assert ("bad.c", "FT201") not in by_file
    [problem] = [p for p in out["problems"] if p["code"] == "rule-error"]
    assert problem["path"] == "bad.c" and problem["level"] == "error"
    assert "rule FT201 on this file" in problem["message"] and "KeyError: '%param:0'" in problem["message"]


def test_a_scan_wide_rule_that_raises_is_one_problem(tree: Path, monkeypatch: pytest.MonkeyPatch):
    assert engine.registry()["FT101"].scope == "project"

    def broken(units, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(engine._REGISTRY, "FT101", engine.Registered(broken, "project", ()))
    code, out = _scan(tree, monkeypatch)
    assert code == 2
    found = {(f["path"], f["rule"]) for f in out["findings"]}
    assert ("bad.c", "FT201") in found and ("bad.c", "FT101") not in found
    failed = [p for p in out["problems"] if p["code"] == "rule-error"]
    assert len(failed) == 1 and "rule FT101 on the scan: all its findings are missing" in failed[0]["message"]


def test_without_a_failure_record_the_exception_propagates():
    # Tests of a rule's own code call run_rules without `failures`: a fault must not be hidden there.
    from ftaudit.catalogue import load
    from ftaudit.facts import Unit

    def broken(unit, ctx):
        raise RuntimeError("boom")

    real = engine.registry()["FT201"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(engine._REGISTRY, "FT201", engine.Registered(broken, real.scope, real.depends))
        with pytest.raises(RuntimeError):
            engine.run_rules([Unit("x.c", "c", "clang")], load(), ["FT201"])
