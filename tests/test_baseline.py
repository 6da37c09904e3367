"""Baseline: accept today's findings, report only new ones, notice fixed ones."""

from __future__ import annotations

import json
import textwrap

from click.testing import CliRunner

from ftaudit.cli import main

OLD = textwrap.dedent(
    """
    #include <Python.h>
    static long ncalls;
    static PyObject *first(PyObject *self, PyObject *list) {
        ncalls++;
        return Py_NewRef(PyList_GetItem(list, 0));
    }
    static PyMethodDef methods[] = {{"first", first, METH_O, NULL}, {NULL, NULL, 0, NULL}};
    """
)
HELPER = textwrap.dedent(  # external: a static function nothing calls is not judged (never-called)
    """
    PyObject *helper(PyObject *list) {
        return Py_NewRef(PyList_GetItem(list, 0));
    }
    """
)


def cli(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def setup(tmp_path):
    src = tmp_path / "mod.c"
    src.write_text(OLD)
    res = cli("baseline", "write", src, "--no-config", "--root", tmp_path)
    assert res.exit_code == 0, res.output
    baseline = tmp_path / ".ftaudit-baseline.json"
    assert len(json.loads(baseline.read_text())["findings"]) == 2
    return src, baseline


def scan(src, baseline, *extra):
    return cli("scan", src, "--no-config", "--baseline", baseline, "--root", src.parent, *extra)


def test_unchanged_tree_is_clean(tmp_path):
    src, baseline = setup(tmp_path)
    res = scan(src, baseline)
    assert res.exit_code == 0, res.output
    assert "2 in the baseline, 0 baseline entries fixed" in res.output


def test_moving_code_does_not_resurrect(tmp_path):
    src, baseline = setup(tmp_path)
    lines = OLD.splitlines()
    # Twenty new lines above, and the function moved below the method table.
    fn_start = next(i for i, x in enumerate(lines) if x.startswith("static PyObject *first"))
    fn = lines[fn_start : fn_start + 4]
    rest = lines[:fn_start] + lines[fn_start + 4 :]
    moved = "\n".join(["/* new comment */"] * 20 + rest[:3] + ["static PyObject *first(PyObject *, PyObject *);"])
    moved += "\n" + "\n".join(rest[3:] + fn) + "\n"
    src.write_text(moved)
    res = scan(src, baseline)
    assert res.exit_code == 0, res.output
    assert "2 in the baseline, 0 baseline entries fixed" in res.output  # still found, still matched


def test_new_findings_are_reported_and_fixed_ones_counted(tmp_path):
    src, baseline = setup(tmp_path)
    src.write_text(OLD.replace("ncalls++;", "") + HELPER)
    res = scan(src, baseline, "--format", "json", "-q")
    assert res.exit_code == 1
    doc = json.loads(res.output)
    new = [f for f in doc["findings"] if f["suppressed"] is None]
    assert [(f["rule"], f["function"]) for f in new] == [("FT201", "helper")]
    assert doc["summary"]["baseline_fixed"] == 1  # the FT101 on ncalls is gone


def test_sarif_marks_baselined_results_as_external_suppressions(tmp_path):
    src, baseline = setup(tmp_path)
    out = tmp_path / "r.sarif"
    assert scan(src, baseline, "--format", "sarif", "-o", out).exit_code == 0
    results = json.loads(out.read_text())["runs"][0]["results"]
    assert {r["suppressions"][0]["kind"] for r in results} == {"external"}


def test_bad_baseline_is_a_usage_error(tmp_path):
    src = tmp_path / "mod.c"
    src.write_text(OLD)
    bad = tmp_path / "b.json"
    bad.write_text("{}")
    res = cli("scan", src, "--no-config", "--baseline", bad)
    assert res.exit_code == 2
    assert "not an ftaudit baseline" in res.output
    res = cli("scan", src, "--no-config", "--baseline", tmp_path / "missing.json")
    assert res.exit_code == 2
    assert "cannot read baseline" in res.output
