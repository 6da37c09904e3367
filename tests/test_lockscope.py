"""Locks held for a caller (lockscope.py): what the walkers record of a helper's locks, and the judgements
made from it over the whole scan (the fixtures c/lock_helpers.c and cython/lock_helpers.pyx show the rules'
side)."""

from __future__ import annotations

import pytest

from ftaudit.config import Config
from ftaudit.scan import ScanOptions, scan

HELPERS_C = """
#include <Python.h>
typedef struct { PyObject_HEAD PyMutex mutex; PyObject *last; } Obj;
static PyMutex mu;
static void take(void) { PyMutex_Lock(&mu); }
static int take_if(int ok) { PyMutex_Lock(&mu); if (!ok) { PyMutex_Unlock(&mu); return -1; } return 0; }
static void give(void) { PyMutex_Unlock(&mu); }
static void both(void) { PyMutex_Lock(&mu); PyMutex_Unlock(&mu); }
static void lock_obj(Obj *o) { PyMutex_Lock(&o->mutex); }
"""

CROSS_FILE = """
#include <Python.h>
void lock_table(void);
void unlock_table(void);
static PyObject *first(PyObject *list) { return PyList_GetItem(list, 0); }
static PyObject *get(PyObject *self, PyObject *list)
{
    lock_table();
    PyObject *x = first(list);
    unlock_table();
    return Py_XNewRef(x);
}
static PyMethodDef methods[] = {{"get", get, METH_O, NULL}, {NULL}};
"""

TABLE = """
#include <Python.h>
static PyMutex table_mu;
void lock_table(void) { PyMutex_Lock(&table_mu); }
void unlock_table(void) { PyMutex_Unlock(&table_mu); }
"""


def _units(tmp_path, frontend: str, **files: str):
    from ftaudit import scan as scan_mod

    seen = []
    real = scan_mod.with_held_locks

    def spy(units, graph, *rest):
        seen.extend(units)
        return real(units, graph, *rest)

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    scan_mod.with_held_locks = spy
    try:
        result = scan(ScanOptions([tmp_path], root=tmp_path, config=Config(), frontend=frontend, jobs=1))
    finally:
        scan_mod.with_held_locks = real
    return {fn.name: fn for u in seen for fn in u.functions}, result


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_c_walkers_record_what_a_body_leaves_held_or_releases(tmp_path, frontend):
    fns, _ = _units(tmp_path, frontend, **{"helpers.c": HELPERS_C})
    assert [lk.key for lk in fns["take"].exit_locks] == ["mu"]
    assert [lk.key for lk in fns["take_if"].exit_locks] == ["mu"]  # held on the path that returns 0
    assert fns["take_if"].releases == ()  # its own lock, taken first
    assert [lk.key for lk in fns["give"].releases] == ["mu"]
    assert fns["both"].exit_locks == () and fns["both"].releases == ()
    assert [lk.key for lk in fns["lock_obj"].exit_locks] == ["o.mutex"]


def test_cython_walker_records_locks_taken_under_nogil_and_released_in_finally(tmp_path):
    text = """
from cpython.pythread cimport PyThread_acquire_lock, PyThread_release_lock, PyThread_type_lock, WAIT_LOCK

cdef class Ev:
    cdef PyThread_type_lock _l
    cdef int _lock(self) except -1:
        with nogil:
            PyThread_acquire_lock(self._l, WAIT_LOCK)
        return 0
    cdef void _unlock(self) noexcept:
        PyThread_release_lock(self._l)
    cdef int _scoped(self):
        PyThread_acquire_lock(self._l, WAIT_LOCK)
        try:
            return 1
        finally:
            PyThread_release_lock(self._l)
"""
    fns, _ = _units(tmp_path, "auto", **{"ev.pyx": text})
    assert [lk.key for lk in fns["Ev._lock"].exit_locks] == ["self._l"]
    assert [lk.key for lk in fns["Ev._unlock"].releases] == ["self._l"]
    assert fns["Ev._scoped"].exit_locks == ()


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_helpers_in_another_file_and_the_note(tmp_path, frontend):
    _fns, result = _units(tmp_path, frontend, **{"caller.c": CROSS_FILE, "table.c": TABLE})
    assert [f for f in result.findings if f.rule.startswith("FT2")] == []
    notes = [p for p in result.problems if p.code == "under-callers-lock"]
    assert [(p.path, p.line) for p in notes] == [("caller.c", 5)]
    assert "first: called with a lock held in `get`" in notes[0].message


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_an_address_taken_helper_stays_judged(tmp_path, frontend):
    text = CROSS_FILE.replace("{NULL}};", '{"first", first, METH_O, NULL}, {NULL}};')
    _fns, result = _units(tmp_path, frontend, **{"caller.c": text, "table.c": TABLE})
    assert [(f.rule, f.span.line) for f in result.findings if f.rule.startswith("FT2")] == [("FT201", 5)]
    assert not [p for p in result.problems if p.code == "under-callers-lock"]
