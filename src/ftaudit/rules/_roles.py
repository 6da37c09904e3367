"""Function roles: when may a function run, and is that only during import?

A write to a global during module initialisation is safe: CPython runs
`PyInit_*` and `Py_mod_exec` slots once per interpreter, under the import
lock. A write from anything a Python caller can reach after import is not.
Roles come from names (`PyInit_*`), from the tables a function is listed in
(method tables, type slots, module slots) and from the call graph in the file.
"""

from __future__ import annotations

from collections import defaultdict
from enum import Enum

from ..facts import Unit


class Role(str, Enum):
    MODULE_INIT = "module init"
    EXEC_SLOT = "Py_mod_exec slot"
    INIT_HELPER = "called only during module init"
    ONCE = "run once (pthread_once / call_once)"
    PYTHON_ENTRY = "Python entry point"
    CONSTRUCTOR = "object constructor"
    DEALLOC = "deallocator"
    GC = "GC traverse/clear"
    OTHER = "may run after import"

    @property
    def init_only(self) -> bool:
        """Runs only while the module is being initialised (or once, process-wide)."""
        return self in (Role.MODULE_INIT, Role.EXEC_SLOT, Role.INIT_HELPER, Role.ONCE)


_INIT_PREFIXES = ("PyInit_", "pybind11_init_", "nanobind_init_")
# Table fields / slots (without the table name) and the role they give.
_SLOT_ROLES = {
    "Py_mod_exec": Role.EXEC_SLOT,
    "Py_mod_create": Role.MODULE_INIT,
    "tp_dealloc": Role.DEALLOC,
    "tp_finalize": Role.DEALLOC,
    "tp_free": Role.DEALLOC,
    "tp_del": Role.DEALLOC,
    "m_free": Role.DEALLOC,
    "tp_new": Role.CONSTRUCTOR,
    "tp_init": Role.CONSTRUCTOR,
    "tp_alloc": Role.CONSTRUCTOR,
    "tp_traverse": Role.GC,
    "tp_clear": Role.GC,
    "m_traverse": Role.GC,
    "m_clear": Role.GC,
}
_ENTRY_TABLES = {
    "PyMethodDef",
    "PyGetSetDef",
    "PyTypeObject",
    "PyType_Slot",
    "PyNumberMethods",
    "PySequenceMethods",
    "PyMappingMethods",
    "PyAsyncMethods",
    "PyBufferProcs",
}
_ENTRY_CALLS = {"call:def", "call:def_static", "call:def_property", "call:def_property_readonly"}  # pybind11 m.def


def _slot_role(context: str) -> Role | None:
    table, _, slot = context.partition(".")
    if slot.startswith("Py_tp_"):
        slot = slot[3:]
    role = _SLOT_ROLES.get(slot)
    if role is not None:
        return role
    if table in _ENTRY_TABLES or context in _ENTRY_CALLS:
        return Role.PYTHON_ENTRY
    if context == "once":
        return Role.ONCE
    return None


def _name_role(name: str) -> Role | None:
    base = name.rsplit("::", 1)[-1]
    if base.startswith(_INIT_PREFIXES):
        return Role.MODULE_INIT
    if base.endswith("_dealloc"):
        return Role.DEALLOC
    return None


def roles_of(unit: Unit) -> dict[str, Role]:
    """The role of every function of the unit (linear in its size: cheap to recompute)."""
    names = {fn.name for fn in unit.functions}
    roles: dict[str, Role] = {}
    address_taken: set[str] = set()
    refs = list(unit.refs) + [r for fn in unit.functions for r in fn.refs]
    for ref in refs:
        role = _slot_role(ref.context)
        if role is None:
            address_taken.add(ref.name)
            continue
        current = roles.get(ref.name)
        # A function in a method table and in an exec slot is still an entry point.
        if current is None or (current.init_only and not role.init_only):
            roles[ref.name] = role
    for fn in unit.functions:
        role = _name_role(fn.name)
        if role is not None and fn.name not in roles:
            roles[fn.name] = role
    callers: dict[str, set[str]] = defaultdict(set)
    for fn in unit.functions:
        for call in fn.calls:
            if call.user_defined and call.name in names:
                callers[call.name].add(fn.name)
    # Helpers: called only from init-only code, never used as a value.
    changed = True
    while changed:
        changed = False
        for fn in unit.functions:
            if fn.name in roles or fn.name in address_taken or not callers.get(fn.name):
                continue
            if all(c != fn.name and roles.get(c, Role.OTHER).init_only for c in callers[fn.name]):
                roles[fn.name] = Role.INIT_HELPER
                changed = True
    return {fn.name: roles.get(fn.name, Role.OTHER) for fn in unit.functions}
