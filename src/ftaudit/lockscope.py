"""Locks held for a caller: helpers that take or release a lock, and code that only runs under one.

Computed once per scan, over the whole call graph, from the facts every frontend produces, so
libclang, tree-sitter and Cython units are judged alike:

- an *acquire helper* is a function whose body takes a mutex or critical section and may return still
  holding it (`Function.exit_locks`: lxml's `_XPathEvaluatorBase._lock()`, a C `lock_obj(o)` around
  `PyMutex_Lock(&o->mutex)`); a *release helper* releases one it did not take (`Function.releases`).
  A helper that takes and releases before it returns is neither.
- In a caller, what comes after a call of an acquire helper and before the matching release helper's
  call holds that lock, as the walkers judge a lock call there: a release inside a branch releases it
  for the rest of that branch only (after the branch the lock counts as held, as after any conditional
  locking), and a fact whose branch the frontend does not record (accesses, field writes) counts as
  held only when the acquire is at the top of the body and no release lies between the two.
  A lock rooted at a helper's parameter (`o->mutex`) is renamed to the argument (`self->mutex`), so
  helpers on two objects do not match; one rooted elsewhere (a static, a method's receiver) keeps its name.
- A function no Python thread enters directly (not used as a value anywhere, so in no method table, type
  slot or callback; not a Cython def/cpdef/special method or property; for C and C++ of internal
  linkage, so no caller outside the scan) whose every call site in the scan holds a mutex (its own or
  an acquire helper's), or lies in a function that is itself always under its callers' lock, runs
  under its callers' lock: its facts are given that lock too. A function with no callers, or one
  unlocked call site, is judged as before. Calls are resolved by `CallGraph.resolve_call` (a Cython
  method call on a typed receiver reaches the method it dispatches to and every override), and a method
  call on an object a variable of the caller holds counts as locked only under that object's owner's lock
  (rooted at the same variable) or a lock rooted at no variable of the caller (`site_locked`).
- A method whose receiver or another parameter is private (or, for the receiver, locked) at every call
  site (receivers.py) gets a critical section on those parameters: their fields count as guarded,
  statics and other objects do not.

The result is the scan's units with those locks added to the `locks` of their calls, accesses, field
writes, comparisons and checks, which every rule asking whether something is guarded
(FT101/FT102/FT105/FT2xx/FT303...) reads: no rule knows about helpers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .callgraph import CallGraph, Key, own_key
from .catalogue import Catalogue
from .facts import Access, Call, Function, Lock, LockKind, Problem, Span, Unit, exclusive_regions
from .receivers import PrivateParameters

Pos = tuple[int, int]
_MUTEX_LIKE = (LockKind.MUTEX, LockKind.ONCE)
_ROOT_END = (".", "[", "-", "(")


def holds_mutex(locks: tuple[Lock, ...]) -> bool:
    """A mutex, a once routine or an RAII guard on no particular object: what makes a call site locked."""
    return any(lk.kind in _MUTEX_LIKE or (lk.kind == LockKind.GUARD and not lk.objects) for lk in locks)


@dataclass(frozen=True)
class _Event:
    """A call of an acquire (`take`) or release helper at `pos` (its end: `after`), in `regions`."""

    pos: Pos
    after: Pos
    regions: tuple[int, ...]
    take: bool
    lock: Lock


def _root(path: str) -> str:
    cut = len(path)
    for ch in _ROOT_END:
        i = path.find(ch)
        if i != -1:
            cut = min(cut, i)
    return path[:cut]


def _renamed(lock: Lock, callee: Function, call: Call) -> Lock:
    """The helper's lock as the caller sees it: a key rooted at parameter i becomes the call's argument i,
    one rooted at a method's receiver the call's receiver (`self._eval_lock` of `other._lock()` is
    `other._eval_lock`; Cython methods: the receiver is parameter 0 and not among the call's arguments)."""
    offset = 1 if callee.receiver or ("." in callee.name and callee.params and callee.params[0].name == "self") else 0

    def rename(path: str) -> str:
        root = _root(path.lstrip("&*"))
        if callee.receiver and root == callee.receiver and call.receiver:
            return call.receiver + path.lstrip("&*")[len(root) :]
        for p in callee.params:
            i = p.index - offset
            if p.name and p.name == root and 0 <= i < len(call.args) and call.args[i].path:
                return call.args[i].path + path.lstrip("&*")[len(root) :]
        return path

    return Lock(lock.kind, rename(lock.key), tuple(rename(o) for o in lock.objects))


class LockScope:
    """The acquire/release helpers of the scan, the functions always run under their callers' lock, and
    the units with the locks those imply added to their facts (`units`)."""

    def __init__(self, graph: CallGraph, catalogue: Catalogue | None = None) -> None:
        self.graph = graph
        fns = graph.functions
        self.acquires: dict[Key, tuple[Lock, ...]] = {k: fn.exit_locks for k, (_u, fn) in fns.items() if fn.exit_locks}
        self.releases: dict[Key, tuple[Lock, ...]] = {k: fn.releases for k, (_u, fn) in fns.items() if fn.releases}
        self.held_after: dict[Key, list[_Event]] = {}  # per caller: its calls of helpers
        if self.acquires:
            for key, (unit, fn) in fns.items():
                events = self._events(unit, fn)
                if any(e.take for e in events):
                    self.held_after[key] = events
        self.under_lock: dict[Key, str] = {}  # function -> why (the first locked caller)
        self.private: dict[Key, frozenset[str]] = {}  # method -> its parameters private at every call
        self.private_why: dict[Key, str] = {}
        self._private_found: PrivateParameters | None = None  # which of them each fact sees unpublished
        self._find_under_lock(catalogue)

    # helpers' calls -----------------------------------------------------------
    def _events(self, unit: Unit, fn: Function) -> list[_Event]:
        out: list[_Event] = []
        for call in fn.calls:
            targets = self.graph.resolve_call(unit, call)
            if not targets:
                continue
            at = (call.span.line, call.span.col)
            after = (call.span.end_line, call.span.end_col)
            if all(t in self.acquires for t in targets):  # every function the call may run takes it
                for t in targets:
                    for lk in self.acquires[t]:
                        out.append(
                            _Event(at, after, call.regions, True, _renamed(lk, self.graph.functions[t][1], call))
                        )
            for t in targets:
                for lk in self.releases.get(t, ()):
                    out.append(_Event(at, after, call.regions, False, _renamed(lk, self.graph.functions[t][1], call)))
        return out

    def _held(self, fn: Function, events: list[_Event], pos: Pos, regions: tuple[int, ...] | None) -> tuple[Lock, ...]:
        """The helper-taken locks held at `pos` (in `regions`; None: not recorded by the frontend)."""
        out: list[Lock] = []
        for a in events:
            if not a.take or a.after > pos or a.lock in out:
                continue
            if regions is None and a.regions:
                continue  # a fact of unknown branch after a conditional acquire: not judged held
            if regions is not None and exclusive_regions(fn, a.regions, regions):
                continue
            released = False
            for r in events:
                if r.take or (r.lock.kind, r.lock.key) != (a.lock.kind, a.lock.key) or not (a.pos < r.pos < pos):
                    continue
                if regions is None or regions[: len(r.regions)] == r.regions:
                    released = True
                    break
            if not released:
                out.append(a.lock)
        return tuple(out)

    # always under the callers' lock -------------------------------------------
    def _entry(self, key: Key, unit: Unit, fn: Function, valued: set[Key]) -> bool:
        if key in self.graph.file_refs or key in valued:
            return True
        return unit.language != "cython" and not fn.internal

    def site_locked(self, caller: Key, call: Call) -> bool:
        """Does `call` in `caller` hold a mutex (its own or a helper's) that covers the call? For a method
        call on an object a variable of the caller holds (`self._context.register_context()`), the lock must
        be rooted at that variable (`self._eval_lock`) or at none of the caller's (a static, a lock held for
        the caller): a lock of another object (`other._eval_lock`) guards that object's state, not this
        one's. Any other call (a function, a module's or a global's method) takes any mutex."""
        fn = self.graph.functions[caller][1]
        held = call.locks + self._held(fn, self.held_after.get(caller, []), _pos(call.span), call.regions)
        mutexes = tuple(lk for lk in held if holds_mutex((lk,)))
        if not mutexes:
            return False
        if not call.receiver:
            return True  # a function call, or a receiver that is no variable: any mutex, as for C
        mine = {p.name for p in fn.params} | set(fn.locals) | ({fn.receiver} if fn.receiver else set())
        owner = _root(call.receiver)
        if owner not in mine:
            return True  # a module's or a global object's method: any mutex, as before
        roots = {_root(lk.key.lstrip("&*")) for lk in mutexes}
        return owner in roots or any(r not in mine for r in roots)

    def _find_under_lock(self, catalogue: Catalogue | None) -> None:
        graph = self.graph
        valued: set[Key] = set()
        sites: dict[Key, list[tuple[Key, Call]]] = defaultdict(list)
        for caller, (unit, fn) in graph.functions.items():
            for ref in fn.refs:
                valued.update(graph.resolve_all(unit, ref.name))
            for call in fn.calls:
                for target in graph.resolve_call(unit, call):
                    sites[target].append((caller, call))
        locked_site: dict[tuple[Key, Call], bool] = {}
        for callee_sites in sites.values():
            for caller, call in callee_sites:
                if (caller, call) not in locked_site:
                    locked_site[(caller, call)] = self.site_locked(caller, call)
        candidates = {
            k
            for k, (unit, fn) in graph.functions.items()
            if k in sites and not self._entry(k, unit, fn, valued) and any(c != k for c, _ in sites[k])
        }
        changed = True
        while changed:  # least fixpoint: a cycle of helpers with no locked way in stays judged
            changed = False
            for key in sorted(candidates - self.under_lock.keys()):
                outside = [(c, call) for c, call in sites[key] if c != key]
                if all(locked_site[(c, call)] or c in self.under_lock for c, call in outside):
                    self.under_lock[key] = _why(outside, locked_site)
                    changed = True
        if catalogue is not None:
            found = PrivateParameters(
                graph, catalogue, candidates, sites, lambda c, call: locked_site[(c, call)], set(self.under_lock)
            )
            self.private, self.private_why = found.private, found.why
            self._private_found = found

    # the result ------------------------------------------------------------------
    def units(self, units: Sequence[Unit]) -> list[Unit]:
        """`units` with the locks held for them added to their facts, copied only where one is."""
        out = []
        for u in units:
            fns = [self._locked(own_key(u, fn), fn) for fn in u.functions]
            out.append(u if all(a is b for a, b in zip(fns, u.functions, strict=True)) else replace(u, functions=fns))
        return out

    def _locked(self, key: Key, fn: Function) -> Function:
        events = self.held_after.get(key)
        callers = self.under_lock.get(key)
        private = self.private.get(key)
        if events is None and callers is None and private is None:
            return fn
        extra = (Lock(LockKind.MUTEX, f"<lock held by every caller of {fn.name}>"),) if callers is not None else ()
        found = self._private_found if private is not None and callers is None else None
        key_text = f"<private or locked at every call of {fn.name}>"

        def add(
            locks: tuple[Lock, ...], span: Span, regions: tuple[int, ...] | None, own: tuple[int, ...] | None = None
        ) -> tuple[Lock, ...]:
            """`locks` with those held at `span`; `own`: the fact's regions when `regions` (what the helpers'
            locks are judged by) leaves them out."""
            more = extra + (self._held(fn, events, _pos(span), regions) if events else ())
            if found is not None:  # covers those objects and their fields only, until the body publishes them
                objects = found.private_here(key, span, regions if own is None else own)
                if objects:
                    more += (Lock(LockKind.CRITICAL_SECTION, key_text, tuple(sorted(objects))),)
            return locks + tuple(lk for lk in more if lk not in locks)

        def access(a: Access) -> Access:
            return a._replace(locks=add(a.locks, a.span, None))

        def call(c: Call) -> Call:
            return c._replace(locks=add(c.locks, c.span, c.regions))

        return replace(
            fn,
            calls=[call(c) for c in fn.calls],
            accesses=[access(a) for a in fn.accesses],
            field_writes=[replace(w, locks=add(w.locks, w.span, None, w.regions)) for w in fn.field_writes],
            comparisons=[replace(c, locks=add(c.locks, c.span, c.regions)) for c in fn.comparisons],
            lazy_inits=[
                replace(
                    li,
                    check_locks=add(li.check_locks, li.check, None),
                    writes=tuple(access(a) for a in li.writes),
                    via=tuple(call(c) for c in li.via),
                )
                for li in fn.lazy_inits
            ],
        )

    def notes(self) -> list[Problem]:
        """One note per file naming its functions that run only under their callers' lock (for `-v`)."""
        by_file: dict[str, list[tuple[Function, str]]] = defaultdict(list)
        for key, why in [*self.under_lock.items(), *self.private_why.items()]:
            if key in self.releases:
                continue  # an unlock helper: called with the lock held by nature, not worth a line
            unit, fn = self.graph.functions[key]
            by_file[unit.path].append((fn, why))
        notes = []
        for path in sorted(by_file):
            items = sorted(by_file[path], key=lambda x: x[0].span.line)
            named = "; ".join(f"{fn.name}: {why}" for fn, why in items[:5])
            more = f" and {len(items) - 5} more" if len(items) > 5 else ""
            message = (
                f"{len(items)} function(s) run only under their callers' lock (or on an object only the caller "
                f"holds), so their accesses count as guarded: {named}{more}"
            )
            notes.append(Problem(path, "note", "under-callers-lock", message, items[0][0].span.line))
        return notes


def _why(sites: list[tuple[Key, Call]], locked: dict[tuple[Key, Call], bool]) -> str:
    """Why a function runs under its callers' lock, in a note: where it is called with one held."""
    held = sorted({c[1] for c, call in sites if locked[(c, call)]})
    inside = sorted({c[1] for c, call in sites if not locked[(c, call)]})
    out = f"called with a lock held in {', '.join(f'`{n}`' for n in held[:3])}" if held else ""
    if inside:
        out += (" and " if out else "called ") + f"from {', '.join(f'`{n}`' for n in inside[:3])} (itself under one)"
    return out


def _pos(span: Span) -> Pos:
    return (span.line, span.col)


def with_held_locks(
    units: Sequence[Unit], graph: CallGraph, catalogue: Catalogue | None = None
) -> tuple[list[Unit], CallGraph, list[Problem]]:
    """The scan's units with the locks helpers and callers hold for them, their call graph, and the notes
    saying which functions run under their callers' lock. With the `catalogue` (what rules/_fresh.py judges
    fresh by), methods whose receiver or parameters are private at every call site too (receivers.py).
    The units and graph are returned unchanged when no helper or such function exists."""
    scope = LockScope(graph, catalogue)
    if not scope.held_after and not scope.under_lock and not scope.private:
        return list(units), graph, []
    locked = scope.units(units)
    return locked, CallGraph(locked), scope.notes()


__all__ = ["LockScope", "holds_mutex", "with_held_locks"]
