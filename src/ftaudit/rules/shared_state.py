"""FT1: shared mutable state (FT101 globals, FT102 lazy init, FT103 object fields)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..engine import Context, rule
from ..facts import Access, AccessKind, Arg, ArgKind, LazyInit, Span, Storage, Unit
from ..findings import Finding, Related
from ._protection import Privacy, aliases, protects
from ._roles import Role, roles_of
from ._statics import guarded, is_shared_state, racy_lazy_inits

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


def _describe_write(w: _Write) -> str:
    how = _HOW.get(w.access.kind, "written").format(detail=w.access.detail)
    return f"`{w.access.path}` {how} in `{w.function}` ({w.role.value})"


@rule("FT101", scope="project")
def mutable_global_state(units: Sequence[Unit], ctx: Context) -> Iterator[Finding]:
    declared = {}
    writes: dict[str, list[_Write]] = defaultdict(list)
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
            lazy = {w.span for li in racy_lazy_inits(unit, fn, role) for w in li.writes}
            for a in fn.accesses:
                if a.kind.writes and a.span not in lazy and not guarded(a.locks, unit):
                    writes[a.var].append(_Write(unit.path, fn.name, role, a))
    for key, ws in writes.items():
        var = declared.get(key)
        if var is None or not is_shared_state(var) or not var.path:
            continue
        ws = list({(w.path, w.access.span): w for w in ws}.values())  # one macro use can record a write twice
        ws.sort(key=lambda w: (w.path, w.access.span.line, w.access.span.col))
        functions = list(dict.fromkeys(w.function for w in ws))
        roles = list(dict.fromkeys(f"`{w.function}` ({w.role.value})" for w in ws))
        shown = ", ".join(roles[:4]) + (f" and {len(roles) - 4} more" if len(roles) > 4 else "")
        others = f" and {len(functions) - 1} more" if len(functions) > 1 else ""
        msg = f"{_STORAGE[var.storage]} `{var.name}` ({var.type}) written without a lock in `{functions[0]}`{others}"
        related = [Related(w.access.span, _describe_write(w), w.path) for w in ws[:_MAX_RELATED]]
        detail = f"{len(ws)} unguarded write(s) after import in {shown}, and every thread shares it; {_FIX}"
        yield Finding(ctx.info.id, var.path, var.span, msg, ctx.info.level, "", tuple(related), detail=detail)


@rule("FT102")
def lazy_init_race(unit: Unit, ctx: Context) -> Iterator[Finding]:
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        role = roles[fn.name]
        # One finding per check: `if (a == NULL || b == NULL)` tests two statics at one place.
        by_check: dict[Span, list[LazyInit]] = {}
        for li in racy_lazy_inits(unit, fn, role):
            by_check.setdefault(li.check, []).append(li)
        for check, inits in by_check.items():
            checked = list(dict.fromkeys(unit.statics[li.var].name for li in inits))
            writes = list({w.span: w for li in inits for w in li.writes}.values())  # each write once
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


_NOT_SHARED_YET = {Role.CONSTRUCTOR, Role.DEALLOC, Role.GC}


@rule("FT103")
def unsynchronized_object_field(unit: Unit, ctx: Context) -> Iterator[Finding]:
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        role = roles[fn.name]
        if role in _NOT_SHARED_YET or role.init_only or not fn.field_writes:
            continue
        privacy = Privacy(fn, ctx.catalogue)
        for w in fn.field_writes:
            if privacy.is_private(Arg(ArgKind.NAME, w.root, w.root)):
                continue
            if any(protects(w.locks, Arg(ArgKind.MEMBER, w.path, root)) for root in aliases(fn, w.root)):
                continue
            cython = unit.language == "cython"
            shown = w.path if cython else w.path.replace(".", "->", 1)
            verb = "assigned" if w.op == "=" else "read-modify-written"
            danger = " holding an object reference (a race can release it twice and crash)" if w.object_field else ""
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
                detail=f"a {w.object_type} field{danger}, and `{fn.name}` is a {role.value}: two threads using the "
                f"same object race; {fix}, or use atomics for counters and flags",
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
