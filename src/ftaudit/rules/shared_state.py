"""FT1: shared mutable state (FT101 globals, FT102 lazy init, FT103 object fields, FT105 owned object fields)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..callgraph import own_key
from ..engine import Context, rule
from ..facts import Access, AccessKind, Arg, ArgKind, FieldWrite, Function, LazyInit, Span, Storage, Unit
from ..findings import Finding, Related
from ..summaries import INITIALISES, Effect
from ._construction import NOT_SHARED_YET, single_owner_functions, under_construction
from ._fresh import freshness
from ._lookups import Lookups, idempotent_initialiser, idempotent_lookup, initialiser_writes
from ._protection import aliases, protects
from ._roles import Role, roles_of
from ._settled import settled_inits
from ._statics import (
    CallInit,
    attribute_caches,
    call_writes,
    guarded,
    is_shared_state,
    racy_call_inits,
    racy_lazy_inits,
    summaries,
)

_MAX_RELATED = 20
_STORAGE = {
    Storage.FILE: "global",
    Storage.FUNCTION: "function-local static",
    Storage.NAMESPACE: "namespace-scope variable",
    Storage.CLASS: "static data member",
}
_HOW = {
    AccessKind.WRITE: "assigned",
    AccessKind.RMW: "read-modify-written",
    AccessKind.CALL_WRITE: "filled by {detail}()",
    AccessKind.METHOD_WRITE: "modified by {detail}()",
}
_FIX = (
    "make it thread_local/_Thread_local (per-thread), _Atomic or std::atomic (a counter or flag), move it "
    "into module state, initialise it during module init, or hold a PyMutex around every access"
)


@dataclass(frozen=True)
class _Write:
    path: str
    function: str
    role: Role
    access: Access
    effect: Effect | None = None  # a write made by the function the static's address is passed to


def _describe_write(w: _Write) -> str:
    if w.effect is not None:
        return f"`{w.access.path}` passed by address in `{w.function}` ({w.role.value}): {w.effect.describe()}"
    how = _HOW.get(w.access.kind, "written").format(detail=w.access.detail)
    return f"`{w.access.path}` {how} in `{w.function}` ({w.role.value})"


@rule("FT101", scope="project")
def mutable_global_state(units: Sequence[Unit], ctx: Context) -> Iterator[Finding]:
    declared = {}
    writes: dict[str, list[_Write]] = defaultdict(list)
    sums = summaries(ctx)
    stored_by_helpers: set[tuple[str, Span]] = set()  # FT102 reports them at the check that calls the helper
    for unit in units:
        for key, var in unit.statics.items():
            best = declared.get(key)
            if best is None or (var.definition and not best.definition):
                declared[key] = var
        roles = roles_of(unit, ctx)
        for fn in unit.functions:
            role = roles[fn.name]
            if role.init_only:
                continue
            racy = racy_lazy_inits(unit, fn, role)
            lazy = {w.span for li in racy for w in li.writes}
            settled = settled_inits(ctx) if racy else None
            for li in racy:  # module init ran the initialiser first: what it writes after its check is init's
                if settled is not None and settled.settled(unit, fn, li):
                    lazy.update(settled.after_check(fn, li))
            lazy_addresses: set[Span] = set()  # `if (!x) fill(&x);`: FT102 reports it at the check
            for ci in racy_call_inits(unit, fn, role, sums, ctx.catalogue.statics.once_functions):
                stored_by_helpers.add((ci.effect.path, ci.effect.write or ci.effect.span))
                if not ci.once and ci.address is None:
                    for span in initialiser_writes(ctx, ci.effect) or ():
                        stored_by_helpers.add((ci.effect.path, span))  # the helper's other lookups too
                if ci.address is not None:
                    lazy_addresses.add(ci.address)
            for a in fn.accesses:
                if a.kind.writes and a.span not in lazy and not guarded(a.locks, unit):
                    writes[a.var].append(_Write(unit.path, fn.name, role, a))
            for a, eff in call_writes(unit, fn, role, sums):
                if a.span not in lazy_addresses:
                    writes[a.var].append(_Write(unit.path, fn.name, role, a, eff))
    for key, ws in writes.items():
        var = declared.get(key)
        if var is None or not is_shared_state(var) or not var.path:
            continue
        ws = [w for w in ws if w.effect is not None or (w.path, w.access.span) not in stored_by_helpers]
        ws = list({(w.path, w.access.span): w for w in ws}.values())  # one macro use can record a write twice
        if not ws:
            continue
        ws.sort(key=lambda w: (w.path, w.access.span.line, w.access.span.col))
        functions = list(dict.fromkeys(w.function for w in ws))
        roles = list(dict.fromkeys(f"`{w.function}` ({w.role.value})" for w in ws))
        shown = ", ".join(roles[:4]) + (f" and {len(roles) - 4} more" if len(roles) > 4 else "")
        others = f" and {len(functions) - 1} more" if len(functions) > 1 else ""
        msg = f"{_STORAGE[var.storage]} `{var.name}` ({var.type}) written without a lock in `{functions[0]}`{others}"
        related = [Related(w.access.span, _describe_write(w), w.path) for w in ws[:_MAX_RELATED]]
        helpers = [w.effect for w in ws if w.effect is not None and w.effect.path]
        related += [Related(e.span, f"written here, in `{e.function}`", e.path) for e in helpers[:_MAX_RELATED]]
        detail = f"{len(ws)} unguarded write(s) after import in {shown}, and every thread shares it; {_FIX}"
        yield Finding(ctx.info.id, var.path, var.span, msg, ctx.info.level, "", tuple(related), detail=detail)


@rule("FT102")
def lazy_init_race(unit: Unit, ctx: Context) -> Iterator[Finding]:
    roles = roles_of(unit, ctx)
    sums = summaries(ctx)
    lookups = Lookups.of(ctx, unit, roles)
    for fn in unit.functions:
        role = roles[fn.name]
        # One finding per check: `if (a == NULL || b == NULL)` tests two statics at one place.
        by_check: dict[Span, list[LazyInit]] = {}
        for li in racy_lazy_inits(unit, fn, role):
            if idempotent_lookup(unit, fn, li, lookups):
                continue  # every racing thread stores the same value (FT101 does not take the write either)
            if settled_inits(ctx).settled(unit, fn, li):
                continue  # module init made the first call: later ones find it set (_settled.py)
            by_check.setdefault(li.check, []).append(li)
        for check, inits in by_check.items():
            checked = list(dict.fromkeys(unit.statics[li.var].name for li in inits))
            # Each write once; writes through a pointer parameter (`p->f = v` under the check: param_key)
            # belong to no static and are the function summaries' business.
            writes = list({w.span: w for li in inits for w in li.writes if w.var in unit.statics}.values())
            others = list(dict.fromkeys(n for w in writes if (n := unit.statics[w.var].name) not in checked))
            names = [f"`{n}`" for n in checked]
            what = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            also = f"{', '.join(f'`{o}`' for o in others)} is set with it; " if others else ""
            msg = f"racy check-then-set initialisation of {what} in `{fn.name}` ({role.value})"
            detail = (
                f"{also}two threads can both see it unset and both initialise it, leaking one result or freeing it "
                "under the other; initialise it in module init (PyInit_/Py_mod_exec), use pthread_once/std::call_once, "
                "an atomic compare-exchange, or hold a PyMutex around the check and the set"
            )
            related = [Related(w.span, f"`{w.path}` set here", unit.path) for w in writes]
            yield ctx.finding(unit, check, msg, fn.name, related, detail)
        for ci in racy_call_inits(unit, fn, role, sums, ctx.catalogue.statics.once_functions):
            if not ci.once and ci.address is None and idempotent_initialiser(ctx, ci.effect):
                continue  # the helper only stores lookups every racing thread makes alike (FT101 leaves it too)
            yield _call_init_finding(unit, ctx, fn.name, role, ci)
        for ac in attribute_caches(unit, fn, role):
            msg = f"{ac.name} of `{ac.obj}` is used as a cache without a lock in `{fn.name}`"
            detail = (
                f"`{fn.name}` is {role.noun}; it looks it up with {ac.lookup.name}() and, when missing, creates "
                f"and stores it with {ac.store.name}(): two threads can both miss it and both create it, and each "
                "may go on with a different object; create it in module init (Py_mod_exec), or hold a PyMutex "
                "around the lookup and the store"
            )
            related = [Related(ac.store.span, "stored here", unit.path)]
            yield ctx.finding(unit, ac.lookup.span, msg, fn.name, related, detail)


def _call_init_finding(unit: Unit, ctx: Context, function: str, role: Role, ci: CallInit) -> Finding:
    """FT102 where the check or the store is in a helper: at the call (or the check), the helper related."""
    name = unit.statics[ci.var].name
    eff = ci.effect
    if ci.once:
        msg = f"`{name}` is read outside `{ci.call}` in `{function}` and written inside its routine `{eff.function}`"
        detail = (
            f"`{function}` is {role.noun}: the unsynchronised read races with that write, and a thread that sees "
            "it set may not yet see what the routine initialised; make it atomic (std::atomic<bool>, _Atomic) "
            f"or drop the check and let `{ci.call}` decide"
        )
        return ctx.finding(unit, ci.at, msg, function, [Related(eff.span, "written here", eff.path)], detail)
    if eff.how == INITIALISES:
        msg = f"racy check-then-set initialisation of `{name}` through its address in `{function}`"
    else:
        msg = f"racy check of `{name}` in `{function}`, set in a callee"
    detail = (
        f"{eff.describe()}, called from `{function}` ({role.value}) without a lock: two threads can both see it "
        "unset and both initialise it, leaking one result or freeing it under the other; initialise it in module "
        "init (PyInit_/Py_mod_exec), use pthread_once/std::call_once, or hold a PyMutex around the call"
    )
    related = []
    if eff.path:
        related.append(
            Related(eff.span, f"checked in `{eff.function}`" if eff.how == INITIALISES else "set here", eff.path)
        )
        if eff.write is not None:
            related.append(Related(eff.write, "set here", eff.path))
    return ctx.finding(unit, ci.at, msg, function, related, detail)


def _unsynchronized_field_writes(unit: Unit, ctx: Context) -> Iterator[tuple[Function, Role, FieldWrite]]:
    """Field writes of Python objects that another thread may be using: outside constructors, deallocators,
    GC slots and what only they call, on an object the function did not create (nor a new object of the
    scan's classes, or one every caller passes new: _fresh.py) or has not published yet, or receives only
    while it is constructed (_construction.py), without a critical section on it or a lock."""
    roles = roles_of(unit, ctx)
    single_owner = single_owner_functions(ctx)
    for fn in unit.functions:
        role = roles[fn.name]
        if role in NOT_SHARED_YET or role.init_only or not fn.field_writes or own_key(unit, fn) in single_owner:
            continue
        fresh = freshness(unit, fn, ctx)
        privacy = fresh.privacy  # per-thread items too (_perthread.py)
        for w in fn.field_writes:
            root = Arg(ArgKind.NAME, w.root, w.root)
            if (
                privacy.is_private(root)
                # by the definitions reaching the write, not yet published: `node = PyObject_New(...)` in
                # the arm where an earlier `node = PyDict_GetItem(...)` no longer reaches
                or fresh.private_at(root, (w.span, w.regions))
                or under_construction(unit, fn, w.root, ctx)
            ):
                continue
            if any(protects(w.locks, Arg(ArgKind.MEMBER, w.path, root)) for root in aliases(fn, w.root)):
                continue
            yield fn, role, w


def _owned_buffers(unit: Unit, ctx: Context) -> set[str]:
    """Pointer fields (by name) this unit frees or reallocates somewhere: buffers their object owns."""
    releasing = ctx.catalogue.statics.releasing_calls
    out: set[str] = set()
    for fn in unit.functions:
        for call in fn.calls:
            if call.name in releasing and call.args and call.args[0].kind == ArgKind.MEMBER:
                out.add(call.args[0].path.rsplit(".", 1)[-1])
    return out


def _lifetime_write(w: FieldWrite, owned: set[str]) -> bool:
    """The field owns what it holds (a reference, or a buffer the unit frees): replacing it can free twice."""
    return w.object_field or (w.pointer_field and w.path.rsplit(".", 1)[-1] in owned)


@rule("FT105")
def object_field_lifetime_race(unit: Unit, ctx: Context) -> Iterator[Finding]:
    owned = _owned_buffers(unit, ctx)
    cython = unit.language == "cython"
    for fn, role, w in _unsynchronized_field_writes(unit, ctx):
        if not _lifetime_write(w, owned):
            continue
        shown = w.path if cython else w.path.replace(".", "->", 1)
        held = "an object reference" if w.object_field else "a buffer it frees"
        fix = (
            f"`with cython.critical_section({w.root}):` (or @cython.critical_section on the method)"
            if cython
            else f"Py_BEGIN_CRITICAL_SECTION({w.root}) ... Py_END_CRITICAL_SECTION()"
        )
        yield ctx.finding(
            unit,
            w.span,
            f"`{shown}` is replaced in `{fn.name}` without a critical section",
            fn.name,
            detail=f"a field of `{w.object_type}` holding {held}, and `{fn.name}` is {role.noun}: two threads using "
            "the same object can both take the old value and free it twice, or lose the new one; hold "
            f"{fix} around the read and the replacement, or the object's own lock",
        )


@rule("FT103")
def unsynchronized_object_field(unit: Unit, ctx: Context) -> Iterator[Finding]:
    owned = _owned_buffers(unit, ctx)
    cython = unit.language == "cython"
    for fn, role, w in _unsynchronized_field_writes(unit, ctx):
        if _lifetime_write(w, owned):
            continue  # FT105's, on by default
        shown = w.path if cython else w.path.replace(".", "->", 1)
        verb = "assigned" if w.op == "=" else "read-modify-written"
        fix = (
            f"wrap it in `with cython.critical_section({w.root}):`"
            if cython
            else f"wrap it in Py_BEGIN_CRITICAL_SECTION({w.root}) ... Py_END_CRITICAL_SECTION()"
        )
        yield ctx.finding(
            unit,
            w.span,
            f"`{shown}` is {verb} in `{fn.name}` without a critical section",
            fn.name,
            detail=f"a field of `{w.object_type}`, and `{fn.name}` is {role.noun}: two threads using the same object "
            f"race; {fix}, or use atomics for counters and flags",
        )


@rule("FT104")
def gil_block_in_parallel_loop(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for fn in unit.functions:
        for where in fn.parallel_gil:
            yield ctx.finding(
                unit,
                where,
                f"`with gil:` inside a prange/parallel block in `{fn.name}`",
                fn.name,
                detail="under free threading it no longer serialises the workers, so they all run this block at "
                "once; move the Python work out of the loop or protect it with a cython.pymutex or "
                "cython.critical_section",
            )
