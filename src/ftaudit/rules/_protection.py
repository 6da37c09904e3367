"""Shared judgements: is a container private to the function, is it locked?

Every FT2 rule asks the same two questions, so they are answered once here.
"""

from __future__ import annotations

from collections.abc import Callable

from ..catalogue import Catalogue
from ..facts import LOOP_REGION, Arg, ArgKind, Assignment, Function, Lock, OriginKind, Span, exclusive_regions
from ..lockscope import holds_mutex

_MAX_DEPTH = 8

Point = tuple[Span, tuple[int, ...]]  # a use: where it is, and the regions it sits in


def reaching(fn: Function, name: str, at: Point | None) -> tuple[list[Assignment], bool]:
    """The assignments of the local `name` that may reach the use `at` (None: every assignment), and
    whether the value `name` had on entry (a parameter's) may reach it too.

    Reaching definitions over the structured control flow the walkers record (Function.regions):
    a definition in the other arm of an if/else than the use never reaches it; one after the use
    reaches it only round a loop enclosing both; and the last definition before the use on the use's
    own path (its regions enclose the use) hides the earlier ones, and so does an if/else before the use
    with a definition directly in each of its arms. A definition counts from its
    end (`x = f(x)`: the inner `x` is the previous one). Over-approximate where flow is not
    structured (goto, switch fall-through), which can only make a value look less private."""
    return reaching_among(fn, fn.locals.get(name, []), at)


def reaching_among(fn: Function, defs: list[Assignment], at: Point | None) -> tuple[list[Assignment], bool]:
    """`reaching` over any list of definitions of one location (a local's, or an access path's:
    rules/_paths.py): those that may reach `at`, and whether the value from before them may too."""
    if at is None or not defs or any(d.span is None for d in defs):
        return defs, True
    span, regions = at
    use = (span.line, span.col)
    before: list[Assignment] = []
    around: list[Assignment] = []  # after the use, reaching it round a loop
    for d in defs:
        if exclusive_regions(fn, d.regions, regions):
            continue
        assert d.span is not None
        if (d.span.end_line, d.span.end_col) <= use:
            before.append(d)
        elif _in_common_loop(fn, d.regions, regions):
            around.append(d)
    before.sort(key=lambda d: (d.span.end_line, d.span.end_col) if d.span else (0, 0))
    cut = _covered_from(fn, before, regions)
    for i in range(len(before) - 1, -1, -1):
        if regions[: len(before[i].regions)] == before[i].regions:  # on every path to the use
            cut = i if cut is None else max(cut, i)
            break
    if cut is None:
        return before + around, True
    return before[cut:] + around, False


def _covered_from(fn: Function, before: list[Assignment], regions: tuple[int, ...]) -> int | None:
    """The index in `before` (definitions before a use in `regions`, in the order they end) from which
    on a finished if/else defines the location in every arm: each arm (the implicit empty else the
    walkers record for an `if` without one included) holds a definition directly, not nested in a
    loop or an inner if. Those are the last definitions on every path through it, so the earlier ones
    and the value from before do not reach the use. None: no such if/else."""
    last: dict[int, dict[int, int]] = {}  # if/else group -> arm region -> index of its last direct definition
    for i, d in enumerate(before):
        if not d.regions:
            continue
        arm, outer = d.regions[-1], d.regions[:-1]
        group = fn.regions.get(arm, LOOP_REGION)
        inside = len(regions) > len(outer) and fn.regions.get(regions[len(outer)]) == group
        if group == LOOP_REGION or regions[: len(outer)] != outer or inside:
            continue  # a loop body, an if/else not on the use's path, or the one the use sits in
        last.setdefault(group, {})[arm] = i
    cuts = [
        min(arms.values())
        for group, arms in last.items()
        if set(arms) == {r for r, g in fn.regions.items() if g == group}
    ]
    return max(cuts) if cuts else None


def _in_common_loop(fn: Function, a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    for ra, rb in zip(a, b, strict=False):
        if ra != rb:
            return False
        if fn.regions.get(ra) == LOOP_REGION:
            return True
    return False


class Privacy:
    """Decides whether a container argument can be seen by other threads. `per_thread` says whether a
    local's definition is an item of the calling thread's own dict (rules/_perthread.py; None: none is)."""

    def __init__(
        self, fn: Function, catalogue: Catalogue, per_thread: Callable[[Assignment], bool] | None = None
    ) -> None:
        self.fn = fn
        self.cat = catalogue
        self.params = {p.name: p for p in fn.params}
        self.per_thread = per_thread

    def is_private(self, arg: Arg, depth: int = 0, at: Point | None = None) -> bool:
        """Is the value of `arg`, used at `at` (None: anywhere in the function), private to this call?"""
        if depth > _MAX_DEPTH:
            return False
        if arg.kind == ArgKind.CALL:
            return arg.path in self.cat.fresh_constructors
        if arg.kind != ArgKind.NAME:
            return False
        defs, entry = reaching(self.fn, arg.path, at)
        origins = [o for o in defs if o.kind != OriginKind.NULL]
        param = self.params.get(arg.path)
        if param is not None and entry:
            # The call's own argument tuple / keyword dict (never `self`), and whatever replaced it.
            own = param.index >= 1 and arg.path in self.cat.call_private_params
            return own and all(self._origin_private(o, depth + 1) for o in origins)
        return bool(origins) and all(self._origin_private(o, depth + 1) for o in origins)

    def origin_private(self, o: Assignment) -> bool:
        """Is the value a definition of a local gives private to this call (new, or per-thread)?"""
        return self._origin_private(o, 1)

    def _origin_private(self, o: Assignment, depth: int) -> bool:
        here = (o.span, o.regions) if o.span is not None else None
        if o.kind == OriginKind.CALL:
            if o.callee in self.cat.fresh_constructors or o.callee in self.cat.uniqueness_tests:
                return True  # new, or (in the branch where the test holds) referenced by this thread alone
            if self.per_thread is not None and self.per_thread(o):
                return True  # an item of the thread's own dict that no other code holds (_perthread.py)
            if o.callee in self.cat.alias_preserving and o.args:
                return self.is_private(o.args[0], depth, here)
            return False
        if o.kind == OriginKind.NAME:
            return self.is_private(Arg(ArgKind.NAME, o.source, o.source), depth, here)
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
