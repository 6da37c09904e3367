"""Inline suppressions through the real CLI, and their parsing."""

from __future__ import annotations

import json
import sys
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


def _parsed(text, language="c"):
    ignores, problems = parse_ignores("x.c", text, language)
    return [(i.form, i.target, i.end, i.rules, i.reason or i.text) for i in ignores], [p.code for p in problems]


def test_parse_clang_tidy_nolint_forms():
    text = (
        "a = getenv(x); // NOLINT(concurrency-mt-unsafe)\n"  # 1
        "// NOLINTNEXTLINE(bugprone-*, concurrency-*)\n"  # 2
        "b = getenv(y);\n"  # 3
        "/* NOLINTBEGIN(*) */\n"  # 4
        "c = getenv(z);\n"  # 5
        "// NOLINTEND(*)\n"  # 6
        "d = getenv(w); // NOLINT\n"  # 7
        "e = getenv(v); // NOLINT(bugprone-branch-clone)\n"  # 8: clang-tidy's business
        "f = NOLINT_MACRO(1);\n"  # 9: not a comment, not the marker
    )
    assert _parsed(text) == (
        [
            ("NOLINT", 1, 1, ("FT301",), "NOLINT(concurrency-mt-unsafe)"),
            ("NOLINTNEXTLINE", 3, 3, ("FT301",), "NOLINTNEXTLINE(bugprone-*, concurrency-*)"),
            ("NOLINTBEGIN", 4, 6, ("FT301",), "NOLINTBEGIN(*)"),
            ("NOLINT", 7, 7, ("FT301",), "NOLINT"),
        ],
        [],
    )
    # Cython comments are `#`: clang-tidy never reads them.
    assert _parsed("x = getenv(b'A')  # NOLINT\n", "cython") == ([], [])


def test_parse_numpy_noqa_borrowed_ref():
    text = "o = PyList_GetItem(l, 0);  // noqa: borrowed-ref - manual fix needed\n"
    text += "p = PyDict_GetItem(d, k); /* noqa: borrowed-ref OK */\n"
    assert _parsed(text) == (
        [
            ("noqa: borrowed-ref", 1, 1, ("FT201", "FT202", "FT203"), "noqa: borrowed-ref - manual fix needed"),
            ("noqa: borrowed-ref", 2, 2, ("FT201", "FT202", "FT203"), "noqa: borrowed-ref OK"),
        ],
        [],
    )
    assert _parsed("o = f(l)  # noqa: borrowed-ref OK\n", "cython") == ([], [])


def test_parse_file_and_range_forms_and_rule_names():
    text = (
        "int a;\n"
        "// ftaudit: ignore-begin[borrowed-reference, FT202] -- list is private\n"  # 2
        "x;\n"
        "// ftaudit: ignore-end\n"  # 4
        "// ftaudit: ignore-end\n"  # 5: closes nothing
        "int b; // ftaudit: ignore[mutable-global-state, no-such-rule]\n"  # 6
        "// ftaudit: ignore-file[FT1] -- generated tables\n"  # 7
        "// ftaudit: ignore-begin[FT3]\n"  # 8: never closed
        "y;\n"
    )
    assert _parsed(text) == (
        [
            ("ftaudit: ignore-begin", 2, 4, ("FT201", "FT202"), "list is private"),
            ("ftaudit: ignore", 6, 6, ("FT101",), "// ftaudit: ignore[mutable-global-state, no-such-rule]"),
            ("ftaudit: ignore-file", 1, sys.maxsize, ("FT1",), "generated tables"),
            ("ftaudit: ignore-begin", 8, 9, ("FT3",), "// ftaudit: ignore-begin[FT3]"),
        ],
        ["unmatched-ignore-end", "bad-ignore", "unclosed-ignore"],
    )
    ignores, _ = parse_ignores("x.pyx", "# ftaudit: ignore-file[FT1] -- Cython too\ncdef int n\n", "cython")
    assert [(i.form, i.rules, i.reason) for i in ignores] == [("ftaudit: ignore-file", ("FT1",), "Cython too")]


MARKERS = textwrap.dedent(
    """
    #include <Python.h>
    #include <stdlib.h>
    static PyObject *env(PyObject *self, PyObject *list) {{
        const char *a = getenv("A");{a}
        const char *b = getenv("B");
        PyObject *item = PyList_GetItem(list, 0);{item}
        return Py_BuildValue("(ssO)", a, b, item);
    }}
    static PyMethodDef methods[] = {{{{"env", env, METH_O, NULL}}, {{NULL, NULL, 0, NULL}}}};
    """
)


def test_markers_in_sarif_and_unused(tmp_path):
    path = tmp_path / "markers.c"
    path.write_text(
        MARKERS.format(a="  // NOLINT(concurrency-mt-unsafe)", item="  // noqa: borrowed-ref - manual fix needed")
    )
    out = tmp_path / "r.sarif"
    res = run(path, "--format", "sarif", "-o", out, "--select", "FT2,FT3")
    assert res.exit_code == 1, res.output  # getenv("B") still counts
    results = json.loads(out.read_text())["runs"][0]["results"]
    assert sorted((r["ruleId"], r.get("suppressions", [{}])[0].get("justification", "")) for r in results) == [
        ("FT201", "noqa: borrowed-ref - manual fix needed"),
        ("FT301", ""),
        ("FT301", "NOLINT(concurrency-mt-unsafe)"),
    ]
    # A NOLINT for a check ftaudit does not mirror suppresses nothing of ftaudit's.
    path.write_text(MARKERS.format(a="  // NOLINT(bugprone-branch-clone)", item=""))
    res = run(path, "--format", "json", "-q", "--select", "FT301")
    assert len([f for f in json.loads(res.output)["findings"] if f["suppressed"] is None]) == 2


def test_unused_markers_are_reported(tmp_path):
    path = tmp_path / "markers.c"
    code = MARKERS.format(a="", item="").replace('getenv("B")', '"B"')
    code = code.replace(
        "static PyObject *env", "// NOLINTBEGIN(concurrency-mt-unsafe)\n// NOLINTEND\nstatic PyObject *env"
    )
    code += "static int f(void) { return 0; }  // NOLINT\n// ftaudit: ignore-begin[FT2] -- nothing here\nint g;\n"
    code += "// ftaudit: ignore-end\n// ftaudit: ignore-file[FT201]\n"
    path.write_text(code)
    text = run(path, "--warn-unused-ignores", "--select", "FT2,FT3").output
    assert "`NOLINT` for FT301 suppresses nothing here" in text
    assert "`NOLINTBEGIN` for FT301 suppresses nothing in lines 4-5" in text
    assert "`ftaudit: ignore-begin` for FT2 suppresses nothing in lines" in text
    assert "`ftaudit: ignore-file` for FT201 suppresses nothing in this file" not in text  # the FT201 finding used it
