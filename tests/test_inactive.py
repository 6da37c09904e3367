"""Code in `#if` branches libclang's configuration leaves out (frontends/inactive.py, conditions.py)."""

from __future__ import annotations

from ftaudit.frontends.inactive import Branch, conditional_branches

TEXT = """\
#ifndef GUARD_H
#define GUARD_H
#if 0  /* off */
a;
#elif defined(HAVE_X) && \\
      HAVE_X > 2
b;
#else
c;
#endif
#  ifdef _WIN32
d;
#  endif
#if 1
e;
#else
f;
#endif
#endif
"""


def test_conditional_branches():
    got = conditional_branches(TEXT)
    assert got == [
        Branch(1, 18, "#ifndef GUARD_H", False),
        Branch(3, 4, "#if 0", True),
        Branch(5, 7, "#elif defined(HAVE_X) && HAVE_X > 2", False),
        Branch(8, 9, "#else of #if 0", False),
        Branch(11, 12, "#ifdef _WIN32", False),
        Branch(14, 15, "#if 1", False),
        Branch(16, 17, "#else of #if 1", True),
    ]


def test_unterminated_and_unbalanced_directives_do_not_fail():
    assert conditional_branches("#endif\n#else\n#ifdef X\nx;\n") == [Branch(3, 5, "#ifdef X", False)]


def test_finding_from_left_out_code_names_its_condition(tmp_path):
    from ftaudit.scan import ScanOptions, scan

    (tmp_path / "m.c").write_text(
        "#include <Python.h>\n"
        "#ifdef HAVE_LIBFOO\n"
        "static PyObject *enc(PyObject *self, PyObject *d) { return Py_XNewRef(PyDict_GetItem(d, d)); }\n"
        "#endif\n"
        "static PyObject *get(PyObject *self, PyObject *d) { return Py_XNewRef(PyDict_GetItem(d, d)); }\n"
    )
    result = scan(ScanOptions([tmp_path], root=tmp_path, frontend="clang"))
    got = sorted(
        (f.span.line, f.message.endswith("(in code compiled only under `#ifdef HAVE_LIBFOO`)")) for f in result.findings
    )
    assert got == [(3, True), (5, False)]
    assert [r.frontend for r in result.files] == ["clang"]


def test_defined_macro_leaves_nothing_to_merge(tmp_path):
    from ftaudit.scan import ScanOptions, scan

    (tmp_path / "m.c").write_text(
        "#include <Python.h>\n"
        "#define HAVE_LIBFOO 1\n"
        "#ifdef HAVE_LIBFOO\n"
        "static PyObject *enc(PyObject *self, PyObject *d) { return Py_XNewRef(PyDict_GetItem(d, d)); }\n"
        "#endif\n"
    )
    result = scan(ScanOptions([tmp_path], root=tmp_path, frontend="clang"))
    assert [(f.span.line, "compiled only" in f.message) for f in result.findings] == [(4, False)]


# A function in a branch libclang leaves out, its same-named twin in the other arm (each with its own
# local static: the first one walked names `f()::x`), a function with an inner arm libclang skipped, and
# functions far from any of them.
PARTIAL = """\
#include <Python.h>
static PyObject *cache;
static int far_before(void) { static int n; return ++n; }
#ifdef HAVE_FOO
static int twin(void) { static int x; return ++x; }
#else
static int twin(void) { static int x; cache = NULL; return x++; }
#endif
static void setup(PyObject *d)
{
    PyDict_SetItemString(d, "a", d);
#ifdef HAVE_BAR
    cache = PyDict_GetItemString(d, "a");
#endif
}
static int far_after(void) { return 2; }
"""


def _chooser(tmp_path):
    from ftaudit.analyse import FrontendChooser, Settings
    from ftaudit.catalogue import load
    from ftaudit.frontends.flags import FlagSettings

    return FrontendChooser(Settings(load(), FlagSettings(roots=[tmp_path]), "clang", {}, 10_000_000))


def test_partial_tree_sitter_unit_merges_as_the_whole(tmp_path):
    """`inactive.lines_merged` gives tree-sitter only the lines the merge takes from: every merged
    fact is the same as with tree-sitter's whole unit, and the functions away from those lines are not
    walked (frontends/inactive.py)."""
    from ftaudit.discover import SourceFile
    from ftaudit.frontends import inactive
    from ftaudit.source import read_source

    path = tmp_path / "m.c"
    path.write_text(PARTIAL)
    sf = SourceFile(path, "c")
    src, _ = read_source(path, 10_000_000)
    chooser = _chooser(tmp_path)
    branches = inactive.conditional_branches(src.text)

    def merged(only: bool):
        unit = chooser.clang.analyse(sf, src)
        candidates = inactive.uncovered(branches, src.text, unit)
        inner = inactive.inner_uncovered(branches, src.text, unit)
        lines = inactive.lines_merged(candidates, inner) if only else None
        other = chooser.ts.analyse(sf, src, only=lines)
        inactive.merge_inner(unit, other, inner)
        inactive.merge(unit, other, candidates, branches)
        return unit, other

    whole, whole_ts = merged(False)
    part, part_ts = merged(True)
    assert [f.name for f in whole_ts.functions] == ["far_before", "twin", "twin", "setup", "far_after"]
    assert [f.name for f in part_ts.functions] == ["twin", "twin", "setup"]
    assert part == whole
    assert sorted(c[2] for c in part.conditional) == ["#ifdef HAVE_BAR", "#ifdef HAVE_FOO"]
    assert "c:m.c@F@far_before@n" in whole_ts.statics and "c:m.c@F@far_before@n" not in part_ts.statics
