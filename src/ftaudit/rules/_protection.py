"""Shared judgements: is a container private to the function, is it locked?

Every FT2 rule asks the same two questions, so they are answered once here.
"""

from __future__ import annotations

from ..catalogue import Catalogue
from ..facts import Arg, ArgKind, Assignment, Function, Lock, LockKind, OriginKind

_MAX_DEPTH = 8


class Privacy:
    """Decides whether a container argument can be seen by other threads."""

    def __init__(self, fn: Function, catalogue: Catalogue) -> None:
        self.fn = fn
        self.cat = catalogue
        self.params = {p.name: p for p in fn.params}

    def is_private(self, arg: Arg, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if arg.kind == ArgKind.CALL:
            return arg.path in self.cat.fresh_constructors
        if arg.kind != ArgKind.NAME:
            return False
        param = self.params.get(arg.path)
        if param is not None:
            # The call's own argument tuple / keyword dict (never `self`).
            return param.index >= 1 and arg.path in self.cat.call_private_params
        origins = [o for o in self.fn.locals.get(arg.path, []) if o.kind != OriginKind.NULL]
        return bool(origins) and all(self._origin_private(o, depth + 1) for o in origins)

    def _origin_private(self, o: Assignment, depth: int) -> bool:
        if o.kind == OriginKind.CALL:
            if o.callee in self.cat.fresh_constructors:
                return True
            if o.callee in self.cat.alias_preserving and o.args:
                return self.is_private(o.args[0], depth)
            return False
        if o.kind == OriginKind.NAME:
            return self.is_private(Arg(ArgKind.NAME, o.source, o.source), depth)
        return False


def aliases(fn: Function, name: str) -> set[str]:
    """`name` and what it was cast from: `self = (CounterObject *)op` makes `op` an alias of `self`."""
    seen = {name}
    todo = [name]
    while todo and len(seen) < _MAX_DEPTH:
        origins = fn.locals.get(todo.pop(), [])
        if origins and all(o.kind == OriginKind.NAME for o in origins):
            for o in origins:
                if o.source not in seen:
                    seen.add(o.source)
                    todo.append(o.source)
    return seen


def holds_mutex(locks: tuple[Lock, ...]) -> bool:
    """A process-wide lock (mutex or RAII guard without a guarded object), or a once routine."""
    return any(
        lk.kind in (LockKind.MUTEX, LockKind.ONCE) or (lk.kind == LockKind.GUARD and not lk.objects) for lk in locks
    )


def protects(locks: tuple[Lock, ...], arg: Arg) -> bool:
    """Is the object at `arg` covered by a held mutex or a critical section on it
    (or on the object it is a field of: a section on `self` covers `self->items`)?"""
    if holds_mutex(locks):
        return True
    for lk in locks:
        for obj in lk.objects:
            if obj == arg.path or (arg.root and obj == arg.root):
                return True
    return False
