"""Container mutation facts (facts.ContainerMutation): what each frontend records, the cache keeps them,
and a finding on a frozen container becomes a `frozen-container` note."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftaudit.analyse import FileRecord, FileResult
from ftaudit.cache import _DECODERS, _ENCODER
from ftaudit.facts import ContainerMutation, Function, MutationKind, Span, StaticVar, Storage, Unit
from ftaudit.scan import ScanOptions, scan

C_SOURCE = """\
#include <Python.h>
typedef struct { PyObject_HEAD PyObject *map; } Obj;
static PyObject *registry;
extern void keep(PyObject *o);
static PyObject *put(PyObject *self, PyObject *arg) {
    Obj *o = (Obj *)self;
    PyObject *d = o->map;
    PyDict_SetItem(d, arg, arg);
    PyList_Append(registry, arg);
    keep(o->map);
    Py_RETURN_NONE;
}
"""

CYTHON_SOURCE = """\
_cache = []
cdef class Obj:
    cdef dict _map
    def put(self, k, v):
        self._map[k] = v
        del self._map[k]
        self._map.update(v)
        self._map += v
        _cache.append(k)
        keep(self._map)
        return self._map
"""


def _units(tmp_path: Path, name: str, text: str, frontend: str) -> list[Unit]:
    import ftaudit.scan as scan_mod

    path = tmp_path / name
    path.write_text(text)
    seen: list[Unit] = []
    original = scan_mod.run_rules

    def spy(units, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend(units)
        return original(units, *args, **kwargs)

    scan_mod.run_rules = spy
    try:
        scan(ScanOptions([path], select=["FT"], frontend=frontend))
    finally:
        scan_mod.run_rules = original
    return seen


def _mutations(units: list[Unit]) -> set[tuple[str, str, str, str]]:
    return {(m.scope, m.key.rsplit(":", 1)[-1].rsplit("@", 1)[-1], m.kind.value, m.how.lstrip("_")) for u in units
            for fn in u.functions for m in fn.mutations}  # fmt: skip


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_c_frontends_record_the_same_container_mutations(tmp_path, frontend):
    found = _mutations(_units(tmp_path, "m.c", C_SOURCE, frontend))
    assert ("local", "d", "call", "PyDict_SetItem") in found  # through `d = o->map`: resolved by the rules
    assert ("static", "registry", "call", "PyList_Append") in found
    assert ("field", "map", "passed", "keep") in found


def test_cython_records_methods_subscripts_augmented_passing_and_return(tmp_path):
    found = _mutations(_units(tmp_path, "m.pyx", CYTHON_SOURCE, "clang"))
    assert {
        ("field", "_map", "store", "[]="),
        ("field", "_map", "delete", "del []"),
        ("field", "_map", "method", ".update"),
        ("field", "_map", "augmented", "+="),
        ("static", "_cache", "method", ".append"),
        ("field", "_map", "passed", "keep"),
        ("field", "_map", "escaped", "return"),
    } <= found


def test_an_item_store_on_an_object_attribute_is_not_a_field_write(tmp_path):
    units = _units(tmp_path, "m.pyx", CYTHON_SOURCE, "clang")
    writes = [fw.path for u in units for fn in u.functions for fw in fn.field_writes]
    assert "self._map" in writes  # `+=` stores the same object back (FT103 sees it)
    assert len(writes) == 1  # `self._map[k] = v` and `del self._map[k]` change the dict, not the field


def test_mutations_survive_the_cache_encoding():
    m = ContainerMutation("field", "_map", MutationKind.STORE, "[]=", Span(3, 1, 3, 5), (), "self._map")
    where = Span(1, 1, 1, 7)
    var = StaticVar("cython:m.pyx:_cache", "_cache", "m.pyx", where, Storage.FILE, "list", module_attribute=True)
    unit = Unit("m.pyx", "cython", "cython", functions=[Function("put", Span(2, 1, 2, 4), mutations=[m])])
    unit.statics = {var.key: var}
    unit.exposed_fields = ["frz"]
    result = FileResult(FileRecord("m.pyx", "cython", "cython"), unit)
    back = _DECODERS[b"facts"].decode(_ENCODER.encode(result))
    assert back.unit.functions[0].mutations == [m]
    assert back.unit.statics[var.key].module_attribute is True
    assert back.unit.exposed_fields == ["frz"]


def test_a_finding_on_a_frozen_container_is_a_note_saying_why(tmp_path):
    path = tmp_path / "f.pyx"
    path.write_text(
        "from cpython.dict cimport PyDict_GetItem\n"
        "cdef class L:\n"
        "    cdef object _m\n"
        "    cdef object _n\n"
        "    def __init__(self, m):\n"
        "        self._m = dict(m)\n"
        "        self._n = {}\n"
        "    def get(self, k):\n"
        "        PyDict_GetItem(self._m, k)\n"
        "        PyDict_GetItem(self._n, k)\n"
        "    def put(self, k):\n"
        "        self._n[k] = 1\n"
    )
    result = scan(ScanOptions([path], select=["FT201"]))
    assert [(f.rule, f.span.line) for f in result.findings] == [("FT201", 10)]
    notes = [p for p in result.problems if p.code == "frozen-container"]
    assert [n.line for n in notes] == [9]
    assert "`_m` is never changed after construction" in notes[0].message


STRUCT_SOURCE = """\
#include <Python.h>
typedef struct { PyObject *list; PyObject *item; } Info;
static PyObject *g;
static void add(Info *p, PyObject *v) {
    p->list = PyList_New(0);
    p->item = v;
    g = p->item;
    PyArg_ParseTuple(v, "O", &p->item);
    Info copy = *p;
    (void)copy;
}
static PyObject *run(PyObject *self, PyObject *v) {
    Info info;
    Info kept;
    add(&info, v);
    add(&kept, v);
    g = (PyObject *)&kept;
    Py_XDECREF(info.list);
    Py_RETURN_NONE;
}
"""


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_c_frontends_record_the_same_member_stores_and_struct_uses(tmp_path, frontend):
    units = _units(tmp_path, "s.c", STRUCT_SOURCE, frontend)
    fns = {fn.name: fn for u in units for fn in u.functions}
    stores = {(m.target, m.value.kind.value, m.value.callee or m.value.source) for m in fns["add"].member_stores}
    assert stores == {
        ("p.list", "call", "PyList_New"),
        ("p.item", "name", "v"),
        ("g", "other", "p.item"),  # a member's value stored elsewhere
        ("p.item", "other", ""),  # its address handed to a call
    }
    assert [(u.name, u.callee) for u in fns["add"].struct_uses] == [("p", "")]  # `*p` copied whole
    uses = {(u.name, u.callee, u.arg) for u in fns["run"].struct_uses}
    # `info.list` is a member read, not a whole use; `&kept` stored in a global is one
    assert uses == {("info", "add", 0), ("kept", "add", 0), ("kept", "", -1)}


def test_member_stores_and_struct_uses_survive_the_cache_encoding():
    from ftaudit.facts import Assignment, MemberStore, OriginKind, StructUse

    where = Span(2, 1, 2, 9)
    fn = Function(
        "add",
        Span(1, 1, 3, 1),
        member_stores=[MemberStore("p.list", Assignment(OriginKind.CALL, "PyList_New", span=where, regions=(0,)))],
        struct_uses=[StructUse("info", "add", 0, where)],
    )
    result = FileResult(FileRecord("s.c", "c", "clang"), Unit("s.c", "c", "clang", functions=[fn]))
    back = _DECODERS[b"facts"].decode(_ENCODER.encode(result)).unit.functions[0]
    assert back.member_stores == fn.member_stores
    assert back.struct_uses == fn.struct_uses


INIT_SOURCE = """\
#include <Python.h>
typedef struct { PyObject *list; Py_ssize_t n; } Buf;
typedef struct { Buf inner; Py_ssize_t m; } Outer;
static PyObject *shared;
static PyObject *run(PyObject *self, PyObject *v) {
    Buf named = {.list = NULL, .n = 2};
    Buf zero = {0};
    Buf empty = {};
    Buf made = {.list = PyList_New(0)};
    Buf given = {.list = shared};
    Outer deep = {.inner.list = NULL, .m = 1};
    Buf positional = {shared, 1};
    Buf indexed[2] = {[0] = {0}};
    Outer nested = {.inner = {shared, 0}};
    Buf copied = named;
    (void)zero; (void)empty; (void)made; (void)given; (void)deep;
    (void)positional; (void)indexed; (void)nested; (void)copied;
    Py_RETURN_NONE;
}
"""


@pytest.mark.parametrize("frontend", ["clang", "treesitter"])
def test_c_frontends_read_a_stack_struct_initialiser_member_by_member(tmp_path, frontend):
    units = _units(tmp_path, "i.c", INIT_SOURCE, frontend)
    fn = next(f for u in units for f in u.functions if f.name == "run")
    kinds = {name: [d.kind.value for d in defs] for name, defs in fn.locals.items()}
    for name in ("named", "zero", "empty", "made", "given", "deep"):
        assert kinds[name] == ["aggregate"], name
    for name in ("positional", "nested", "copied"):  # not named member by member: refused by _structs.py
        assert kinds[name] != ["aggregate"], name
    assert kinds.get("indexed", []) != ["aggregate"]  # an array, no struct value
    stores = {(m.target, m.value.kind.value, m.value.callee or m.value.source) for m in fn.member_stores}
    assert stores == {
        ("named.list", "null", ""),
        ("named.n", "other", ""),
        ("made.list", "call", "PyList_New"),
        ("given.list", "name", "shared"),
        ("deep.inner.list", "null", ""),
        ("deep.m", "other", ""),
    }
