"""Forward declarations of a file's own type objects for stand-in parses (frontends/forward.py)."""

from __future__ import annotations

from ftaudit.frontends.forward import declarations


def test_a_type_object_named_before_its_file_scope_definition_is_declared():
    text = (
        "static PyObject *make(void) { return PyObject_GC_New(T, &Late_Type); }\n"
        "NPY_NO_EXPORT PyTypeObject Late_Type = {0};\n"
        "PyTypeObject Early_Type = {0};\n"  # never named before: nothing to declare
        "static PyObject *use(void) { return (PyObject *)&Early_Type; }\n"
        "static PyObject *h(void) { return (PyObject *)&Hidden_Type; }\n"
        "static PyTypeObject Hidden_Type = {0};\n"  # static: an extern would contradict it
        'const char *s = "Quoted_Type";\nPyTypeObject Quoted_Type = {0};\n'  # named only in a string
    )
    assert declarations(text) == "extern PyTypeObject Late_Type;\n"
    assert declarations("void f(void) { g(&Indented_Type); }\n  PyTypeObject Indented_Type = {0};\n") == (
        "extern PyTypeObject Indented_Type;\n"
    )


def test_no_type_object_no_declarations():
    assert declarations("int x = 1;\nstatic int f(void) { return x; }\n") == ""


def test_static_or_late_named_type_objects_are_not_declared():
    """The identifier pass runs only when the file defines a non-static type object; the answer is
    the same: a static definition, or one never named before it, declares nothing."""
    static = "static PyTypeObject T;\nvoid f(void) { use(&T); }\nstatic PyTypeObject T = {0};\n"
    late = "PyTypeObject Late = {0};\nvoid f(void) { use(&Late); }\n"
    assert declarations(static) == ""
    assert declarations(late) == ""
    assert declarations("void f(void) { use(&E); }\nPyTypeObject E = {0};\n") == "extern PyTypeObject E;\n"
