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


def _uncovered_pairwise(branches, text, unit):
    """`inactive.uncovered` as it was written before bisection: every arm against every function."""
    lines = text.split("\n")
    spans = sorted((f.span.line, f.span.end_line) for f in unit.functions)
    out = []
    for b in branches:
        if b.never or any(b.first <= a and e <= b.last for a, e in spans):
            continue
        body = range(b.first + 1, min(b.last, len(lines)) + 1)
        if any(("{" in lines[n - 1] or ";" in lines[n - 1]) and not any(a <= n <= e for a, e in spans) for n in body):
            out.append(b)
    return out


def _inner_pairwise(branches, text, unit):
    """`inactive.inner_uncovered` as it was written before bisection."""
    lines = text.split("\n")
    out = []
    for fn in unit.functions:
        facts = {c.span.line for c in fn.calls} | {a.span.line for a in fn.accesses}
        for b in branches:
            if b.never or not (fn.span.line < b.first and b.last <= fn.span.end_line):
                continue
            body = range(b.first + 1, min(b.last, len(lines)) + 1)
            if not any(n in facts for n in body) and any(";" in lines[n - 1] for n in body):
                out.append((b, fn))
    return out


def test_bisected_arms_match_every_pair():
    """`uncovered` and `inner_uncovered` find arms and functions by bisection and running counts
    (numpy's expanded templates made the pairwise tests 15 s of a 150 s scan): on random files of
    nested arms, functions (some overlapping, one reaching past the end) and calls, they give what
    testing every pair gives, in the same order. Arms are given unsorted too."""
    import random

    from ftaudit.facts import Call, Function, Span, Unit
    from ftaudit.frontends import inactive

    rng = random.Random(16)
    for _ in range(300):
        n = rng.randint(1, 60)
        text = "\n".join(rng.choice(["x;", "{", "", "// c", "y = 1;", "}"]) for _ in range(n))
        branches = []
        for _ in range(rng.randint(0, 12)):
            first = rng.randint(1, n + 2)
            branches.append(Branch(first, first + rng.randint(0, 15), "#ifdef X", rng.random() < 0.2))
        if rng.random() < 0.5:
            branches.sort(key=lambda b: (b.first, -b.last))
        unit = Unit("f.c", "c", "clang")
        for i in range(rng.randint(0, 6)):
            line = rng.randint(1, n)
            fn = Function(f"f{i}", Span(line, 1, line + rng.randint(0, 20), 1))
            fn.calls = [Call("g", Span(rng.randint(1, n), 1, 1, 2), ()) for _ in range(rng.randint(0, 3))]
            unit.functions.append(fn)
        assert inactive.uncovered(branches, text, unit) == _uncovered_pairwise(branches, text, unit)
        assert inactive.inner_uncovered(branches, text, unit) == _inner_pairwise(branches, text, unit)
