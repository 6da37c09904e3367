"""Shared judgements about static storage: is it shared state, is an access guarded,
which lazy initialisations race? FT101 and FT102 must agree on these, so that a
write FT102 reports is not reported again by FT101.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..engine import Context
from ..facts import (
    Access,
    AccessKind,
    Arg,
    ArgKind,
    Call,
    Function,
    LazyInit,
    Lock,
    LockKind,
    OriginKind,
    Span,
    StaticVar,
    Unit,
    param_index,
)
from ..summaries import INITIALISES, WRITES, Effect, Summaries, summaries_of
from ._roles import Role


def is_shared_state(var: StaticVar) -> bool:
    """Mutable, process-wide, and the project's own."""
    return not (var.const or var.atomic or var.thread_local or var.exempt or var.system)


def guarded(locks: tuple[Lock, ...], unit: Unit) -> bool:
    """A process-wide lock, a once routine, or a critical section on a global object."""
    for lk in locks:
        if lk.kind in (LockKind.MUTEX, LockKind.ONCE) or (lk.kind == LockKind.GUARD and not lk.objects):
            return True
        if lk.objects and any(_names_static(obj, unit) for obj in lk.objects):
            return True
    return False


def _names_static(path: str, unit: Unit) -> bool:
    root = path.split(".", 1)[0].split("[", 1)[0]
    return any(v.name == root for v in unit.statics.values())


def racy_lazy_inits(unit: Unit, fn: Function, role: Role) -> list[LazyInit]:
    """Check-then-set initialisations of shared statics that no lock or once-flag covers.

    A check under a lock (the inner check of double-checked locking) covers
    its writes; an unguarded outer check whose writes are all covered is fine.
    Nested unguarded checks of one variable are reported once, at the outer check.
    """
    if role.init_only:
        return []
    covered = {w.span for li in fn.lazy_inits if guarded(li.check_locks, unit) for w in li.writes if w.var == li.var}
    racy: list[LazyInit] = []
    reported: set[tuple[str, int, int]] = set()
    for li in sorted(fn.lazy_inits, key=lambda x: (x.check.line, x.check.col)):
        var = unit.statics.get(li.var)
        if var is None or not is_shared_state(var) or guarded(li.check_locks, unit):
            continue
        own = [w.span for w in li.writes if w.var == li.var]
        if all(s in covered for s in own) or _reset_later(fn, li):
            continue
        keys = {(li.var, s.line, s.col) for s in own}
        if keys <= reported:
            continue
        reported |= keys
        racy.append(li)
    return racy


def _reset_later(fn: Function, li: LazyInit) -> bool:
    """A flag set under the check and written again further on in the function (`busy = 1; ... busy = 0;`)
    is a reentrancy guard toggled on every call, not an initialisation: FT101 judges its writes."""
    own = [w.span for w in li.writes if w.var == li.var]
    last = max((s.line, s.col) for s in own)
    # Another check-then-set of the same static (`case A: if (!err) err = get(); ... case B: if (!err) err =
    # get();`) initialises it again; it does not reset it.
    initialising = {w.span for other in fn.lazy_inits if other.var == li.var for w in other.writes}
    return any(
        a.var == li.var and a.kind.writes and (a.span.line, a.span.col) > last and a.span not in initialising
        for a in fn.accesses
    )


def summaries(ctx: Context) -> Summaries:
    """The scan's function summaries, judged with the guards FT101 and FT102 use."""
    return summaries_of(ctx.project, guarded)


@dataclass(frozen=True)
class CallInit:
    """Lazy initialisation of a static through a call: its address handed to a helper that checks and
    sets what it points to (`cache_attr(&hook)`: `at` is the argument), or a check here whose store
    happens in a callee (`if (!table) init_table();`: `at` is the check)."""

    var: str
    at: Span
    locks: tuple[Lock, ...]
    call: str
    effect: Effect
    once: bool = False  # set inside the call_once/pthread_once routine, checked outside it
    address: Span | None = None  # `if (!x) fill(&x);`: the `&x` the callee writes through (FT101 leaves it)


def racy_call_inits(
    unit: Unit, fn: Function, role: Role, sums: Summaries, once_functions: Mapping[str, int]
) -> list[CallInit]:
    """The unguarded lazy initialisations of shared statics that happen through a call (see CallInit),
    including a plain done-flag checked before `call_once`/`pthread_once` and set by its routine."""
    if role.init_only:
        return []
    out: list[CallInit] = []
    for a in fn.accesses:
        if a.kind != AccessKind.ADDRESS or param_index(a.var) is not None or not _shared(unit, a.var):
            continue
        if guarded(a.locks, unit):
            continue
        eff = sums.through(unit, fn, a)
        if eff is not None and eff.how == INITIALISES:
            out.append(CallInit(a.var, a.span, a.locks, a.detail, eff))
    for li in fn.lazy_inits:
        if not li.via or not _shared(unit, li.var) or guarded(li.check_locks, unit):
            continue
        for call in li.via:
            if call.name.rsplit("::", 1)[-1] in once_functions:
                eff = _set_by_once_routine(unit, fn, call, li.var, sums)
                if eff is not None:
                    out.append(CallInit(li.var, li.check, li.check_locks, call.name, eff, once=True))
                    break
                continue
            if guarded(call.locks, unit):
                continue
            eff = sums.stores(unit, call).get(li.var)
            if eff is not None:
                out.append(CallInit(li.var, li.check, li.check_locks, call.name, eff))
                break
            address = _written_through(unit, fn, call, li.var, sums)
            if address is not None:
                out.append(CallInit(li.var, li.check, li.check_locks, call.name, address[1], address=address[0]))
                break
    return out


def _written_through(unit: Unit, fn: Function, call: Call, var: str, sums: Summaries) -> tuple[Span, Effect] | None:
    """`fill(&x)` under a check of `x`: the address argument and the write the callee makes through it."""
    for a in fn.accesses:
        if a.var != var or a.kind != AccessKind.ADDRESS or not call.span.contains(a.span):
            continue
        eff = sums.through(unit, fn, a)
        if eff is not None and eff.how == WRITES:
            return a.span, eff
    return None


def _set_by_once_routine(unit: Unit, fn: Function, call: Call, var: str, sums: Summaries) -> Effect | None:
    """Where the routine a once call runs (a lambda or a function named as its argument) writes `var`."""
    s = call.span
    for ref in fn.refs:
        r = ref.span
        if ref.context != "once" or not ((s.line, s.col) <= (r.line, r.col) <= (s.end_line, s.end_col)):
            continue
        for key in sums.targets(unit, ref.name):
            runit, routine = sums.graph.functions[key]
            for a in routine.accesses:
                if a.var == var and a.kind.writes:
                    return Effect(WRITES, routine.name, runit.path, a.span)
    return None


def call_writes(unit: Unit, fn: Function, role: Role, sums: Summaries) -> list[tuple[Access, Effect]]:
    """A shared static handed by address to a function that writes it (`sysctlbyname(..., &n, ...)`,
    `fill(&table)`), outside init-only code and locks; lazy initialisations are racy_call_inits'."""
    if role.init_only:
        return []
    out = []
    for a in fn.accesses:
        if a.kind != AccessKind.ADDRESS or param_index(a.var) is not None or guarded(a.locks, unit):
            continue
        eff = sums.through(unit, fn, a)
        if eff is not None and eff.how == WRITES:
            out.append((a, eff))
    return out


def _shared(unit: Unit, key: str) -> bool:
    var = unit.statics.get(key)
    return var is not None and is_shared_state(var)


# Lookups and the store that fills what they missed: an attribute or item used as a cache.
_CACHE_PAIRS = {
    "PyObject_GetAttrString": "PyObject_SetAttrString",
    "PyObject_GetOptionalAttrString": "PyObject_SetAttrString",
    "PyObject_HasAttrString": "PyObject_SetAttrString",
    "PyObject_GetAttr": "PyObject_SetAttr",
    "PyObject_GetOptionalAttr": "PyObject_SetAttr",
    "PyObject_HasAttr": "PyObject_SetAttr",
    "PyDict_GetItemString": "PyDict_SetItemString",
    "PyDict_GetItemRef": "PyDict_SetItem",
    "PyDict_GetItemStringRef": "PyDict_SetItemString",
    "PyDict_GetItem": "PyDict_SetItem",
    "PyDict_GetItemWithError": "PyDict_SetItem",
}
# Where a module (or its dict) comes from: a shared object every thread importing it sees.
_MODULE_SOURCES = frozenset(
    {
        "PyImport_ImportModule",
        "PyImport_Import",
        "PyImport_AddModule",
        "PyImport_AddModuleRef",
        "PyImport_AddModuleObject",
        "PyImport_GetModule",
        "PyState_FindModule",
        "PyModule_GetDict",
        "PyEval_GetGlobals",
        "PyEval_GetBuiltins",
        "PySys_GetObject",
    }
)
_MODULE_PARAMS = frozenset({"module", "mod", "m"})


@dataclass(frozen=True)
class AttributeCache:
    """`PyObject_GetAttrString(mod, "T")` missing, then `PyObject_SetAttrString(mod, "T", made)`: the lookup,
    the store, the object and the name."""

    lookup: Call
    store: Call
    obj: str
    name: str


def attribute_caches(unit: Unit, fn: Function, role: Role) -> list[AttributeCache]:
    """Module attributes (or module dict items) used as a cache outside module init: looked up, then stored
    in a branch the lookup's outcome decides, on a module the function imported, found, or was given."""
    if role.init_only:
        return []
    out: list[AttributeCache] = []
    seen: set[tuple[str, str]] = set()
    for i, get in enumerate(fn.calls):
        setter = _CACHE_PAIRS.get(get.name)
        if setter is None or len(get.args) < 2 or guarded(get.locks, unit):
            continue
        obj, name = get.args[0], get.args[1]
        if obj.kind not in (ArgKind.NAME, ArgKind.MEMBER) or not name.path or (obj.path, name.path) in seen:
            continue
        if not _is_module(unit, fn, obj):
            continue
        for put in fn.calls[i + 1 :]:
            if (
                put.name == setter
                and len(put.args) >= 2
                and put.args[0].path == obj.path
                and put.args[1].path == name.path
                and put.args[1].kind == name.kind
                and len(put.regions) > len(get.regions)
                and put.regions[: len(get.regions)] == get.regions
                and not guarded(put.locks, unit)
            ):
                seen.add((obj.path, name.path))
                out.append(AttributeCache(get, put, obj.path, name.path))
                break
    return out


def _is_module(unit: Unit, fn: Function, obj: Arg) -> bool:
    root = obj.root or obj.path
    if obj.kind == ArgKind.NAME and any(v.name == root for v in unit.statics.values()):
        return True
    origins = fn.locals.get(root, [])
    if origins:
        return all(o.kind == OriginKind.CALL and o.callee in _MODULE_SOURCES for o in origins)
    return obj.kind == ArgKind.NAME and root in _MODULE_PARAMS and any(p.name == root for p in fn.params)
