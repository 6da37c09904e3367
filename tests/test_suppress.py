"""Inline suppressions through the real CLI, and their parsing."""

from __future__ import annotations

import json
import textwrap

from click.testing import CliRunner

from ftaudit.cli import main
from ftaudit.suppress import parse_ignores

CODE = textwrap.dedent(
    """
    #include <Python.h>
    static long ncalls;{c1}
    {c2}
    static long nerrors;
    static PyObject *count(PyObject *self, PyObject *unused) {{
        ncalls++;
        nerrors++;
        return PyLong_FromLong(ncalls);
    }}
    static PyMethodDef methods[] = {{{{"count", count, METH_NOARGS, NULL}}, {{NULL, NULL, 0, NULL}}}};
    """
)


def write(tmp_path, c1="", c2=""):
    path = tmp_path / "mod.c"
    path.write_text(CODE.format(c1=c1, c2=c2))
    return path


def run(*args):
    return CliRunner().invoke(main, ["scan", "--no-config", *map(str, args)])


def test_parse_ids_reason_and_targets():
    text = "int a; // ftaudit: ignore[FT101, ft2] -- shared on purpose\n// ftaudit: ignore[FT301]\nint b;\n"
    ignores, problems = parse_ignores("x.c", text, "c")
    assert problems == []
    assert [(i.line, i.target, i.rules, i.reason) for i in ignores] == [
        (1, 1, ("FT101", "FT2"), "shared on purpose"),
        (2, 3, ("FT301",), ""),
    ]


def test_parse_block_comment_and_cython():
    ignores, _ = parse_ignores("x.c", "int a; /* ftaudit: ignore[FT101] -- why */\n", "c")
    assert ignores[0].reason == "why"
    ignores, _ = parse_ignores("x.pyx", "cdef int n  # ftaudit: ignore[FT101]\n", "cython")
    assert ignores[0].rules == ("FT101",)


def test_bare_and_malformed_ignores_are_warned_about():
    ignores, problems = parse_ignores("x.c", "int a; // ftaudit: ignore\nint b; // ftaudit: ignore[nope]\n", "c")
    assert [i.rules for i in ignores] == [()]
    assert [p.code for p in problems] == ["bare-ignore", "bad-ignore"]


def test_suppressed_findings_do_not_count(tmp_path):
    path = write(tmp_path, " // ftaudit: ignore[FT101] -- stats only", "// ftaudit: ignore[FT1]")
    res = run(path)
    assert res.exit_code == 0, res.output
    assert "2 suppressed inline" in res.output
    shown = run(path, "--show-suppressed")
    assert "(suppressed: stats only)" in shown.output
    assert "(suppressed: // ftaudit: ignore[FT1])" in shown.output


def test_other_rule_ids_do_not_suppress(tmp_path):
    res = run(write(tmp_path, " // ftaudit: ignore[FT301]"), "--format", "json", "-q")
    assert res.exit_code == 1
    assert len([f for f in json.loads(res.output)["findings"] if f["suppressed"] is None]) == 2


def test_unused_ignores_reported_only_when_asked(tmp_path):
    path = write(tmp_path, " // ftaudit: ignore[FT101]", "// ftaudit: ignore[FT201]\n")
    res = run(path, "--select", "FT1")
    assert "unused-ignore" not in res.output
    path.write_text(path.read_text().replace("nerrors++;", ""))
    res = run(path, "--warn-unused-ignores")
    assert res.exit_code == 1  # an unused ignore fails the run
    assert "`ftaudit: ignore` for FT201 suppresses nothing here" in res.output
    # An ignore for a rule that did not run cannot be judged.
    assert "unused-ignore" not in run(path, "--warn-unused-ignores", "--select", "FT1").output


def test_sarif_reports_suppressions_in_source(tmp_path):
    out = tmp_path / "r.sarif"
    res = run(write(tmp_path, " // ftaudit: ignore[FT101] -- stats only"), "--format", "sarif", "-o", out)
    assert res.exit_code == 1  # nerrors still counts
    results = json.loads(out.read_text())["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert len(suppressed) == 1
    assert suppressed[0]["suppressions"] == [{"kind": "inSource", "justification": "stats only"}]
