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
