"""Shared judgements about static storage: is it shared state, is an access guarded,
which lazy initialisations race? FT101 and FT102 must agree on these, so that a
write FT102 reports is not reported again by FT101.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..engine import Context
from ..facts import (
    Access,
    AccessKind,
    Arg,
    ArgKind,
    Assignment,
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
    return any(
        a.var == li.var and a.kind.writes and (a.span.line, a.span.col) > last and a.span not in own
        for a in fn.accesses
    )


_MACRO_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # `RTLD_DEFAULT`, an enum constant: fixed when it is built
_MAX_DEPTH = 2  # a local that holds a lookup of a local that holds a lookup: as deep as real code goes


@dataclass(frozen=True)
class Lookups:
    """What `idempotent_lookup` judges with: the catalogued lookups (statics.toml `[idempotent-lookups]`),
    the calls that change only the calling thread's state (its exception, its hold on the GIL), and the
    unit's functions that run only during module init (their writes fix a static before other code runs)."""

    functions: frozenset[str]  # idempotent lookups and canonical-object calls alike
    thread_calls: frozenset[str]
    init_only: frozenset[str]
    singletons: Mapping[str, tuple[int, ...]]  # a call with these literal arguments gives a singleton
    own_references: frozenset[str]  # reference drops allowed on a local of the branch

    @classmethod
    def of(cls, ctx: Context, roles: Mapping[str, Role]) -> Lookups:
        locks, statics = ctx.catalogue.locks, ctx.catalogue.statics
        init = frozenset(name for name, role in roles.items() if role.init_only)
        thread = frozenset((*statics.per_thread_calls, *locks.gil_release, *locks.gil_acquire))
        lookups = statics.idempotent_lookups | statics.canonical_objects
        return cls(lookups, thread, init, statics.singletons, statics.own_references)

    def singleton(self, name: str, args: tuple[Arg, ...]) -> bool:
        """`PyTuple_New(0)`: a call these literal arguments make return a singleton."""
        want = self.singletons.get(name)
        return want is not None and tuple(a.value if a.kind == ArgKind.LITERAL else None for a in args) == want


def idempotent_lookup(unit: Unit, fn: Function, li: LazyInit, lookups: Lookups) -> bool:
    """Whether a lazy initialisation only stores idempotent lookups of constant arguments
    (`if (!p) p = (fn_t)dlsym(RTLD_DEFAULT, "name");`, `if (!s) s = PyUnicode_InternFromString("null");`,
    `if (!t) t = PyTuple_New(0);`): each static the check writes is written once, with a catalogued lookup,
    canonical-object call or singleton (statics.toml `[idempotent-lookups]`), and every call its branch
    makes is such a call of constant arguments, changes only the calling thread's state (raising the
    lookup's failure, releasing the GIL around it) or drops a reference a local of the branch holds.
    Threads racing through it all store the same value and nothing is freed. A shape whose branch the
    frontend does not delimit (LazyInit.made is None) is never one."""
    values = li.values
    if li.made is None or len(values) != len(li.writes) or len({w.var for w in li.writes}) != len(li.writes):
        return False  # each static of the check written once, each with a plain `x = v`
    if len(li.writes) > 1:  # and each tested by the check: a reader that passes it has seen every one set
        checked = {other.var for other in fn.lazy_inits if other.check == li.check}
        if not {w.var for w in li.writes} <= checked:
            return False
    made = {c.name for c in li.made}
    for v in values:
        if v is None or v.kind != OriginKind.CALL or v.callee not in made:
            return False
        if lookups.singleton(v.callee, v.args):
            continue
        if v.callee not in lookups.functions or not all(_constant(unit, fn, a, lookups, 0) for a in v.args):
            return False
    for call in li.made:
        if call.name in lookups.thread_calls or lookups.singleton(call.name, call.args):
            continue
        if call.name in lookups.own_references and _drops_local(unit, fn, call):
            continue
        if call.name not in lookups.functions or not all(_constant(unit, fn, a, lookups, 0) for a in call.args):
            return False
    return True


def _drops_local(unit: Unit, fn: Function, call: Call) -> bool:
    """`Py_DECREF(module)` on a local of the function, never on a static: the branch gives back a reference
    it took itself."""
    if len(call.args) != 1 or call.args[0].kind != ArgKind.NAME:
        return False
    name = call.args[0].path
    return name in fn.locals and not any(v.name == name for v in unit.statics.values())


def _constant(unit: Unit, fn: Function, a: Arg, lookups: Lookups, depth: int) -> bool:
    """An argument every call passes the same: a literal, a lookup (a call of the branch, judged there),
    a constant-like name, a static only module init writes, or a local that holds a lookup of such."""
    if a.kind == ArgKind.LITERAL:
        return True
    if a.kind == ArgKind.CALL:
        return a.path in lookups.functions and depth == 0  # a local's lookup: its own calls are not in the branch
    if a.kind != ArgKind.NAME or any(p.name == a.path for p in fn.params):
        return False
    statics = [v for v in unit.statics.values() if v.name == a.path or v.name.endswith(f"::{a.path}")]
    if statics:
        return all(_fixed_after_init(unit, v, lookups) for v in statics)
    origins = fn.locals.get(a.path)
    if origins:
        return depth < _MAX_DEPTH and all(_holds_lookup(unit, fn, o, lookups, depth + 1) for o in origins)
    return _MACRO_NAME.match(a.path) is not None


def _holds_lookup(unit: Unit, fn: Function, o: Assignment, lookups: Lookups, depth: int) -> bool:
    if o.kind == OriginKind.NULL:
        return True
    return (
        o.kind == OriginKind.CALL
        and o.callee in lookups.functions
        and all(_constant(unit, fn, a, lookups, depth) for a in o.args)
    )


def _fixed_after_init(unit: Unit, var: StaticVar, lookups: Lookups) -> bool:
    """A const static, or one this unit writes (or hands out by address) only in module-init code."""
    if var.const:
        return True
    return not any(
        a.var == var.key and (a.kind.writes or a.kind == AccessKind.ADDRESS)
        for f in unit.functions
        if f.name not in lookups.init_only
        for a in f.accesses
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
            eff = None if guarded(call.locks, unit) else sums.stores(unit, call).get(li.var)
            if eff is not None:
                out.append(CallInit(li.var, li.check, li.check_locks, call.name, eff))
                break
    return out


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
