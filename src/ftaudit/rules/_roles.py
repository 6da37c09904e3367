"""Function roles: when may a function run, and is that only during import?

A write to a global during module initialisation is safe: CPython runs
`PyInit_*` and `Py_mod_exec` slots once per interpreter, under the import
lock. So is one during the module's teardown: a `PyModuleDef`'s `m_clear` and
`m_free` run when the module object is being destroyed (at interpreter
finalization, or once nothing references it: no function of the module can
be running then, since each holds the module as its `m_self`). A write from
anything a Python caller can reach after import is not.
Roles come from names (`PyInit_*`), from the tables a function is listed in
(method tables, type slots, module slots) and from the call graph in the file.
"""

from __future__ import annotations

from enum import Enum

from ..callgraph import CallGraph, Key, own_key
from ..engine import Context
from ..facts import Unit


class Role(str, Enum):
    MODULE_INIT = "module init"
    EXEC_SLOT = "Py_mod_exec slot"
    MODULE_TEARDOWN = "module teardown (m_clear / m_free)"
    INIT_HELPER = "called only during module init or teardown"
    ONCE = "run once (pthread_once / call_once)"
    PYTHON_ENTRY = "Python entry point"
    CONSTRUCTOR = "object constructor"
    DEALLOC = "deallocator"
    GC = "GC traverse/clear"
    OTHER = "may run after import"

    @property
    def noun(self) -> str:
        """The role as a noun phrase, for messages that say what a function is (`f` is a deallocator);
        `value` is the short label shown in parentheses after a function's name."""
        return _NOUNS[self]

    @property
    def init_only(self) -> bool:
        """Runs only while the module is being initialised or torn down (or once, process-wide): never
        while Python threads use the module."""
        return self in (Role.MODULE_INIT, Role.EXEC_SLOT, Role.MODULE_TEARDOWN, Role.INIT_HELPER, Role.ONCE)


_NOUNS = {
    Role.MODULE_INIT: "the module's init function",
    Role.EXEC_SLOT: "a Py_mod_exec slot",
    Role.MODULE_TEARDOWN: "module teardown code (m_clear / m_free)",
    Role.INIT_HELPER: "a helper called only during module init or teardown",
    Role.ONCE: "a routine run once (pthread_once / call_once)",
    Role.PYTHON_ENTRY: "a Python entry point",
    Role.CONSTRUCTOR: "an object constructor",
    Role.DEALLOC: "a deallocator",
    Role.GC: "a GC traverse/clear slot",
    Role.OTHER: "code that may run after import",
}

_INIT_PREFIXES = ("PyInit_", "pybind11_init_", "nanobind_init_")
# Table fields / slots (without the table name) and the role they give.
_SLOT_ROLES = {
    "Py_mod_exec": Role.EXEC_SLOT,
    "Py_mod_create": Role.MODULE_INIT,
    "tp_dealloc": Role.DEALLOC,
    "tp_finalize": Role.DEALLOC,
    "tp_free": Role.DEALLOC,
    "tp_del": Role.DEALLOC,
    "m_free": Role.MODULE_TEARDOWN,
    "tp_new": Role.CONSTRUCTOR,
    "tp_init": Role.CONSTRUCTOR,
    "tp_alloc": Role.CONSTRUCTOR,
    "tp_traverse": Role.GC,
    "tp_clear": Role.GC,
    "m_traverse": Role.GC,
    "m_clear": Role.MODULE_TEARDOWN,
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
    if context == "python-def":  # Cython def/cpdef functions and methods
        return Role.PYTHON_ENTRY
    if context == "unpickle":  # Cython `__setstate__`: pickle/copy call it on the object they just made
        return Role.CONSTRUCTOR
    return None


def _name_role(name: str) -> Role | None:
    base = name.rsplit("::", 1)[-1]
    if base == "<module>" or base.startswith(_INIT_PREFIXES):  # Cython: module-level code runs at import
        return Role.MODULE_INIT
    if base.endswith("_dealloc"):
        return Role.DEALLOC
    return None


class ProjectRoles:
    """Roles over the whole scan: an external `setup()` in one file called only
    from `PyInit_` in another is module-init code too. Calls are resolved by the
    scan's call graph (callgraph.py), the one every judgement of reach shares."""

    def __init__(self, graph: CallGraph) -> None:
        self.graph = graph
        roles: dict[Key, Role] = {}
        address_taken: set[Key] = set()
        for unit in graph.units:
            for ref in [*unit.refs, *(r for fn in unit.functions for r in fn.refs)]:
                key = graph.resolve(unit, ref.name)
                role = _slot_role(ref.context)
                if role is None:
                    address_taken.add(key)
                elif key not in roles or (roles[key].init_only and not role.init_only):
                    # A function in a method table and in an exec slot is still an entry point.
                    roles[key] = role
        for key, (_unit, fn) in graph.functions.items():
            role = _name_role(fn.name)
            if role is not None and key not in roles:
                roles[key] = role
        # Helpers: called only from init-only code, never used as a value.
        changed = True
        while changed:
            changed = False
            for key in graph.functions:
                callers = graph.callers.get(key)
                if key in roles or key in address_taken or not callers:
                    continue
                others = callers - {key}  # recursion does not make a helper run later
                if others and all(roles.get(c, Role.OTHER).init_only for c in others):
                    roles[key] = Role.INIT_HELPER
                    changed = True
        self.roles = roles
        self.address_taken = address_taken  # used as a value (a callback, a table entry without a role)

    def of(self, unit: Unit) -> dict[str, Role]:
        return {fn.name: self.roles.get(own_key(unit, fn), Role.OTHER) for fn in unit.functions}


def project_roles(ctx: Context) -> ProjectRoles:
    """The scan's roles, built once over the scan's call graph (both memoised in the project)."""
    graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
    return ctx.project.memo("roles", lambda: ProjectRoles(graph))


def roles_of(unit: Unit, ctx: Context) -> dict[str, Role]:
    """The role of every function of the unit, judged over the whole scan."""
    return project_roles(ctx).of(unit)
