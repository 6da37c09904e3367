"""Shared judgements about static storage: is it shared state, is an access guarded,
which lazy initialisations race? FT101 and FT102 must agree on these, so that a
write FT102 reports is not reported again by FT101.
"""

from __future__ import annotations

from ..facts import Function, LazyInit, Lock, LockKind, StaticVar, Unit
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
