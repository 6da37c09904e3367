"""Function summaries across files: a helper in one file, the static and the call in another."""

from __future__ import annotations

import pytest

from ftaudit.config import Config
from ftaudit.scan import ScanOptions, scan

HELPERS = """
#include <Python.h>
void store_twice(long *out, long v);
void store(long *out, long v) { *out = v; }
void store_twice(long *out, long v) { store(out, v); store(out, v + 1); }
void peek(const long *in, long *copy) { *copy = *in; }
void lazily(PyObject **slot) { if (*slot == NULL) *slot = PyDict_New(); }
"""
CALLER = """
#include <Python.h>
void store_twice(long *out, long v);
void peek(const long *in, long *copy);
void lazily(PyObject **slot);
static long total;
static long seen;
static PyObject *cache;
static PyObject *count(PyObject *self, PyObject *arg)
{
    long copy;
    store_twice(&total, 1);
    peek(&seen, &copy);
    lazily(&cache);
    return PyLong_FromLong(copy);
}
static PyMethodDef methods[] = {{"count", count, METH_O, NULL}, {NULL}};
"""


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_effects_follow_helpers_in_other_files(tmp_path, frontend):
    (tmp_path / "helpers.c").write_text(HELPERS)
    (tmp_path / "caller.c").write_text(CALLER)
    result = scan(ScanOptions([tmp_path], select=["FT1"], root=tmp_path, config=Config(), frontend=frontend, jobs=1))
    got = {(f.rule, f.path, f.span.line) for f in result.findings}
    assert got == {("FT101", "caller.c", 6), ("FT102", "caller.c", 14)}
    ft101 = next(f for f in result.findings if f.rule == "FT101")
    assert "`store_twice` -> `store` writes it at helpers.c:4" in ft101.related[0].message
    assert [(r.path, r.span.line) for r in ft101.related[1:]] == [("helpers.c", 4)]
