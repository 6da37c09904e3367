"""Thread-dict items (rules/_perthread.py): a group of files whose every store into the thread-state dict
stores a new object, and whose code hands no item out, reads per-thread items; one escape anywhere in the
group leaves every item judged (the fixtures c/per_thread*.c show the rules' side)."""

from __future__ import annotations

import pytest

from ftaudit.config import Config
from ftaudit.scan import ScanOptions, scan

HELPER = """
#include <Python.h>
static PyObject *last_seen;
typedef struct { PyObject_HEAD PyObject *kept; } Holder;
static PyObject *
cache_of_thread(void)
{
    PyObject *d = PyThreadState_GetDict();
    if (d == NULL) {
        return NULL;
    }
    PyObject *cache = PyDict_GetItemString(d, "t.cache");
    if (cache == NULL) {
        cache = PyDict_New();
        if (cache == NULL || PyDict_SetItemString(d, "t.cache", cache) < 0) {
            Py_XDECREF(cache);
            return NULL;
        }
        Py_DECREF(cache);
    }
    return cache;
}
static PyObject *
lookup(PyObject *self, PyObject *key)
{
    PyObject *cache = cache_of_thread();
    if (cache == NULL) {
        return NULL;
    }
    %s
    return Py_XNewRef(PyDict_GetItem(cache, key));
}
static PyMethodDef methods[] = {{"lookup", lookup, METH_O, NULL}, {NULL}};
"""

ESCAPES = {
    "kept in a static": "last_seen = cache;",
    "handed to unknown code": 'PyObject_SetAttrString(self, "cache", cache);',
    "kept in an object's field": "((Holder *)self)->kept = cache;",
    "copied, then kept": "PyObject *copy = cache; last_seen = copy;",
    "the dict kept in a static": "last_seen = PyThreadState_GetDict();",
    "the dict passed on": "PyObject *items = PyDict_Items(PyThreadState_GetDict()); Py_XDECREF(items);",
}


def _ft201(tmp_path, frontend: str, body: str) -> list[int]:
    (tmp_path / "m.c").write_text(HELPER % body)
    result = scan(ScanOptions([tmp_path], root=tmp_path, config=Config(), frontend=frontend, jobs=1, select=["FT201"]))
    return [f.span.line for f in result.findings if f.rule == "FT201"]


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_items_of_a_sealed_group_are_per_thread(tmp_path, frontend):
    assert _ft201(tmp_path, frontend, "") == []


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_one_escape_leaves_every_item_judged(tmp_path, frontend, escape):
    assert _ft201(tmp_path, frontend, ESCAPES[escape]) != []
