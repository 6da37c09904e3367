"""Access paths just filled with a new object: `p->items = PyTuple_New(n)` then `PyTuple_SET_ITEM(p->items,
0, v)`, where `p` is an object only this call can see (rules/_fresh.py: a new object, a constructor's
`self`). The container at `p->items` is then as private as a local that held the new tuple would be.

Reaching definitions over the access path rather than a local (the same structured flow as
`_protection.reaching`): the stores into the member `p.items` (C: `Function.member_stores`; Cython:
`FieldWrite.value`, its field writes not being MemberStores) that may reach the use must all store the
result of a fresh constructor (the catalogue's, or a call `constructs` accepts: a constructible class, a
factory of the return summary), and between each of them and the use:

- `p` is not redefined (`p = other`: the path then names another object's member);
- no call takes the path itself where it may keep or replace it (any call but the C API's operand, its
  first argument, of a call that runs no code, and the catalogue's inspecting calls; the assigning macros
  `Py_SETREF`/`Py_CLEAR` replace it);
- no call takes `p` (or a copy of it) but the catalogue's inspecting calls: a helper given the object may
  rebind any of its members.

Events after the use count too when a loop encloses the use but not the store; those in the other arm of
an if/else do not (as `_fresh.published`). A member whose address is taken (`&p->items`) has a definition
of unknown value there, so it is never fresh after. Element paths (`lst[0]`, recorded as `lst[]`: every
index one path) are not judged: one index's store would hide another's.

Cost and bounds (docs/security.md: a generated function must not stall the rules): `PathIndex` indexes a
function's stores by path and its calls by the paths and names they take once, so a query costs its own
reaching stores and events, not a pass over the function; the events that cannot fall between any reaching
store and the use (before the earliest store, in the other arm of an if/else than the use, after the use
with no loop around both) are dropped before the store-event pairs are tried, and stores in the same
regions count once (the earliest). Beyond `MAX_PATH_EVENTS` stores and events of one path, or
`MAX_CHECKS` store-event pairs tried in one function, the answer is "not fresh": the finding stays.

Inputs: the function's facts, the catalogue, the path argument and the use; `constructs` and
`root_private` from the caller's Freshness; the function's `PathIndex` (a new one when not given).
Output: a yes/no; no errors.
"""

from __future__ import annotations

from collections.abc import Callable

from ..catalogue import Catalogue
from ..facts import Arg, ArgKind, Assignment, Call, Function, OriginKind, exclusive_regions
from ._protection import Point, reaching_among

Constructs = Callable[[str, tuple[Arg, ...]], bool]

MAX_PATH_EVENTS = 256  # stores plus events of one access path in one function; beyond: not fresh
MAX_CHECKS = 200_000  # store-event pairs tried in one function (every query); beyond: not fresh


def _definitions(fn: Function) -> dict[str, list[Assignment]]:
    """Per member path, every store into it in `fn` (an augmented or unknown one as an OTHER origin)."""
    out: dict[str, list[Assignment]] = {}
    for st in fn.member_stores:
        out.setdefault(st.target, []).append(st.value)
    for w in fn.field_writes:
        if w.value is not None:
            out.setdefault(w.path, []).append(w.value)
    return out


def _changes_path(call: Call, index: int, cat: Catalogue) -> bool:
    """May `call`, given the path as argument `index`, keep or replace what the path holds?"""
    name = call.name
    if name in cat.statics.assigning_macros:
        return True
    if name in cat.inspecting_calls:
        return False
    operand = name.startswith(("Py", "_Py")) and not name.startswith(cat.operand_code_prefixes)
    return not (index == 0 and operand)


class PathIndex:
    """One function's stores by access path and calls by the member paths and names they take, built
    once (a Freshness keeps one per function), and the store-event pairs its queries have tried."""

    def __init__(self, fn: Function, cat: Catalogue) -> None:
        self.fn = fn
        self.cat = cat
        self.checks = 0
        self._defs: dict[str, list[Assignment]] | None = None
        self._by_member: dict[str, list[tuple[int, Call]]] | None = None
        self._by_name: dict[str, list[tuple[int, Call]]] = {}

    def definitions(self, path: str) -> list[Assignment]:
        """Every store into the member `path`."""
        if self._defs is None:
            self._defs = _definitions(self.fn)
        return self._defs.get(path, [])

    def _index_calls(self) -> dict[str, list[tuple[int, Call]]]:
        if self._by_member is None:
            self._by_member = {}
            for n, call in enumerate(self.fn.calls):
                members: set[str] = set()
                names: set[str] = set()
                for i, a in enumerate(call.args):
                    if a.kind == ArgKind.MEMBER and a.path not in members and _changes_path(call, i, self.cat):
                        members.add(a.path)
                        self._by_member.setdefault(a.path, []).append((n, call))
                    elif a.kind == ArgKind.NAME and a.path not in names and call.name not in self.cat.inspecting_calls:
                        names.add(a.path)
                        self._by_name.setdefault(a.path, []).append((n, call))
        return self._by_member

    def events(self, path: str, roots: set[str], use: Call | None) -> list[Point]:
        """Where the path's container may be kept or replaced, or its object handed to a call (any call
        but `use`), and where a root is redefined."""
        calls = dict(self._index_calls().get(path, []))
        for root in roots:
            calls.update(self._by_name.get(root, []))
        out = [(c.span, c.regions) for _, c in sorted(calls.items(), key=lambda kv: kv[0]) if c is not use]
        for root in roots:
            out += [(d.span, d.regions) for d in self.fn.locals.get(root, []) if d.span is not None]
        return out

    def any_between(self, events: list[Point], defs: list[Assignment], at: Point) -> bool:
        """May one of `events` run between one of `defs` (all with spans) and the use at `at`? True too
        (may: the conservative answer) once this function has tried `MAX_CHECKS` pairs."""
        from ._fresh import _loop_around, happens_between  # _fresh imports this module: import here

        fn = self.fn
        use_span, use_regions = at
        use = (use_span.line, use_span.col)
        earliest: dict[tuple[int, ...], Point] = {}  # per regions, the store that ends first
        for d in defs:
            assert d.span is not None
            had = earliest.get(d.regions)
            if had is None or (d.span.end_line, d.span.end_col) < (had[0].end_line, had[0].end_col):
                earliest[d.regions] = (d.span, d.regions)
        first = min((s.end_line, s.end_col) for s, _ in earliest.values())
        candidates = [
            e
            for e in events
            if (e[0].line, e[0].col) >= first
            and not exclusive_regions(fn, e[1], use_regions)
            and (
                (e[0].line, e[0].col) < use
                or (e[0].line == use_span.line and e[0] != use_span)
                or _loop_around(fn, e[1], use_regions, ())
            )
        ]
        self.checks += len(candidates) * len(earliest)
        if self.checks > MAX_CHECKS:
            return True
        return any(happens_between(fn, e, since, at) for e in candidates for since in earliest.values())


def fresh_path(
    fn: Function,
    cat: Catalogue,
    arg: Arg,
    at: Point,
    constructs: Constructs,
    root_private: Callable[[str], bool],
    use: Call | None = None,
    index: PathIndex | None = None,
) -> bool:
    """Is the container at the member path `arg` (`p.items`), used at `at` (by the call `use`), one a fresh
    constructor stored there in this function, unchanged since, in an object `root_private` accepts?
    `index`: the function's PathIndex (a new one when None)."""
    from ._fresh import aliases_of  # _fresh imports this module: import here, not at load

    if arg.kind != ArgKind.MEMBER or "[" in arg.path or not arg.root or not arg.path.startswith(arg.root + "."):
        return False
    index = index if index is not None else PathIndex(fn, cat)
    stores = index.definitions(arg.path)
    if len(stores) > MAX_PATH_EVENTS:
        return False
    defs, entry = reaching_among(fn, stores, at)
    if entry or not defs or not root_private(arg.root):
        return False
    for d in defs:
        if d.span is None or d.kind != OriginKind.CALL:
            return False
        if d.callee not in cat.fresh_constructors and not constructs(d.callee, d.args):
            return False
    events = index.events(arg.path, aliases_of(fn, arg.root), use)
    if len(stores) + len(events) > MAX_PATH_EVENTS:
        return False
    return not events or not index.any_between(events, defs, at)
