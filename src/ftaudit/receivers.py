"""Methods whose receiver (or another parameter) is, at every call site, an object only the caller holds.

lxml's XSLT evaluates on a per-call copy of its context (`context = self._context._copy()`, then
`context.register_context(...)`, `context.free_context()`): what those methods do to `self` races with
nothing. Computed once per scan (lockscope.py), from the facts every frontend produces, over the call graph
(`CallGraph.resolve_call`: a call on a typed receiver reaches the method it dispatches to and every override):

- A method *publishes its receiver* when its body stores it (`Function.stores`, other than as the receiver
  of its own method calls), passes it to a call, returns it (a `Function.returns` of it), or calls on it a method
  the scan does not define or one that publishes it (a least fixpoint: a cycle publishes nothing by itself).
- A parameter of a method no Python thread enters directly (lockscope's entry test) is *private* when every
  call site from another function passes, at its position (the receiver for the method's `self`), a value
  `rules/_fresh.py` judges private there (a new object not yet published, `self` of a constructor), or a
  parameter of the caller that is itself private and not published before the call. A call of a method
  that does not publish its receiver does not publish that object, so the caller is judged on its body
  without those calls' receiver stores; the receiver of the call being judged is judged where the call
  starts (that the call may keep it is what the method's own body does). A least fixpoint: a cycle with
  no private way in stays judged.
- A private parameter stays private in the body only until the body may publish it (`handed_out`: a
  store, a call that may keep it, by `rules/_fresh.publication_events`; before the use, in the same
  statement, or later in a loop around both): uvloop's `h = X.__new__(X); h._init(...)` fills the
  handle, then stores it where the loop finds it. Facts whose branch is not recorded (accesses, lazy
  initialisations) get it only when the body never publishes it.
- The receiver also counts as guarded at a call site that holds a lock covering it (lockscope's
  `site_locked`), so a method called under the lock from one place and on a private copy from another is
  judged like one always under the lock for what it does to its receiver.

The private parameters are given to the method's facts as a critical section on them (lockscope.py, per
fact: `private_here`), which covers the objects and their fields (`self._utf_refs`), not statics or other
objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .callgraph import CallGraph, Key
from .catalogue import Catalogue
from .facts import Arg, ArgKind, Call, Function, OriginKind, Span, Unit

if TYPE_CHECKING:
    from .rules._fresh import Freshness
    from .rules._protection import Point

Site = tuple[Key, Call]
# Does the call at a site (caller, call) hold a lock covering its receiver?
SiteLocked = Callable[[Key, Call], bool]


def receiver_stores(fn: Function) -> set[tuple[int, int, str]]:
    """Where `fn` records a local as stored because it calls a method on it: (line, end column, name)."""
    return {(c.span.line, c.span.col, c.receiver) for c in fn.calls if c.receiver and "." not in c.receiver}


def _aliases(fn: Function, name: str) -> set[str]:
    from .rules._fresh import aliases_of  # the rules import lockscope: import here, not at load time

    return aliases_of(fn, name) if name else set()


def publishers(graph: CallGraph) -> set[Key]:
    """The methods of the scan that may publish their receiver (see the module docstring)."""
    out: set[Key] = set()
    on_self: dict[Key, list[list[Key]]] = {}
    for key, (unit, fn) in graph.functions.items():
        if not fn.receiver:
            continue
        names = _aliases(fn, fn.receiver)
        own = receiver_stores(fn)
        stored = any(s.name in names and (s.span.line, s.span.end_col, s.name) not in own for s in fn.stores)
        passed = any(a.kind == ArgKind.NAME and a.path in names for c in fn.calls for a in c.args)
        targets = [graph.resolve_call(unit, c) for c in fn.calls if c.receiver in names]
        returned = any(r.kind == OriginKind.NAME and r.source in names for r in fn.returns)
        if stored or passed or returned or any(not t for t in targets):
            out.add(key)
        else:
            on_self[key] = targets
    changed = True
    while changed:
        changed = False
        for key, targets in on_self.items():
            if key not in out and any(t in out for ts in targets for t in ts):
                out.add(key)
                changed = True
    return out


def without_kept_receivers(unit: Unit, fn: Function, graph: CallGraph, publishing: set[Key]) -> Function:
    """`fn` without the stores its calls of methods that do not publish their receiver record for it."""
    quiet = {
        (c.span.line, c.span.col, c.receiver)
        for c in fn.calls
        if c.receiver and "." not in c.receiver and _all_quiet(graph.resolve_call(unit, c), publishing)
    }
    if not quiet:
        return fn
    kept = [s for s in fn.stores if (s.span.line, s.span.end_col, s.name) not in quiet]
    return fn if len(kept) == len(fn.stores) else replace(fn, stores=kept)


def _all_quiet(targets: list[Key], publishing: set[Key]) -> bool:
    return bool(targets) and not any(t in publishing for t in targets)


class PrivateParameters:
    """Per method, the parameters (its receiver by name) private or, for the receiver, locked at every call
    site (`private`), and why (`why`, for the note; not for a helper only construction calls).

    `candidates` are the methods no Python thread enters directly, `sites` every function's call sites
    (caller, call), `site_locked` lockscope's test of a site's lock and `under_lock` the functions always
    under their callers' lock (those need nothing more)."""

    def __init__(
        self,
        graph: CallGraph,
        catalogue: Catalogue,
        candidates: set[Key],
        sites: dict[Key, list[Site]],
        site_locked: SiteLocked,
        under_lock: set[Key],
    ) -> None:
        from .engine import Context, Project
        from .rules._fresh import freshness, publication_events, published
        from .rules._keeps import keeps_summary
        from .rules._roles import ProjectRoles, Role

        self.graph = graph
        project = Project(graph.units)
        project.memo("callgraph", lambda: graph)
        info = next(iter(catalogue.rules.values()), None)
        self.private: dict[Key, frozenset[str]] = {}
        self.why: dict[Key, str] = {}
        # per method and private parameter, where its body may publish it (stores, calls that may keep it)
        self.handed_out: dict[Key, dict[str, tuple[Point, ...]]] = {}
        methods = {k for k in candidates - under_lock if graph.functions[k][1].receiver}
        if info is None or not methods:
            return  # C and C++ have no receivers: nothing to judge
        ctx = Context(catalogue, info, project)
        roles = project.memo("roles", lambda: ProjectRoles(graph)).roles
        publishing = publishers(graph)
        quiet: dict[Key, Function] = {}
        judges: dict[Key, Freshness] = {}

        def judge(caller: Key) -> Freshness:
            if caller not in judges:
                unit, fn = graph.functions[caller]
                quiet[caller] = without_kept_receivers(unit, fn, graph, publishing)
                judges[caller] = freshness(unit, quiet[caller], ctx)
            return judges[caller]

        def private_at(caller: Key, call: Call, value: Arg, receiver: bool = False) -> bool:
            """Is `value`, passed at `call` in `caller` (as its receiver: `receiver`), an object only the
            caller holds there?"""
            fresh = judge(caller)
            _unit, fn = graph.functions[caller]
            # The receiver is judged where the call starts: the store the call itself records for it
            # (`x.m()` may keep `x`) is what the callee does, judged in its own body.
            at = (receiver_span(fn, call) if receiver else call.span, call.regions)
            if value.kind == ArgKind.NAME and value.path in self.private.get(caller, ()):
                return not published(quiet[caller], catalogue, value.path, None, at) and not self.published_before(
                    caller, value.path, at
                )
            constructor_self = fn.receiver if roles.get(caller) == Role.CONSTRUCTOR else ""
            if receiver:
                return fresh.private_at(value, at, constructor_self)
            return fresh.private_argument(value, call, constructor_self)

        def guards(caller: Key, call: Call, fn: Function, name: str) -> bool:
            if call.receiver in graph.classes:
                return False  # `Base.m(obj, x)`: the object is the first argument, the positions shift
            if name == fn.receiver:
                if caller in under_lock or site_locked(caller, call):
                    return True
                return bool(call.receiver) and private_at(
                    caller, call, Arg(ArgKind.NAME, call.receiver, call.receiver), receiver=True
                )
            index = next((p.index for p in fn.params if p.name == name), -1) - (1 if fn.receiver else 0)
            return 0 <= index < len(call.args) and private_at(caller, call, call.args[index])

        keeps = keeps_summary(ctx)
        found: dict[Key, set[str]] = defaultdict(set)
        changed = True
        while changed:  # least fixpoint: a parameter joins once every call site passes it private
            changed = False
            for key in sorted(methods):
                unit, fn = graph.functions[key]
                outside = [(c, call) for c, call in sites.get(key, ()) if c != key]
                if not outside:
                    continue
                for name in [fn.receiver, *(p.name for p in fn.params if p.name != fn.receiver)]:
                    if name in found[key] or not all(guards(c, call, fn, name) for c, call in outside):
                        continue
                    # private when it comes in, and until the body hands it out (lockscope gives the
                    # critical section only to what may run before that)
                    self.handed_out.setdefault(key, {})[name] = tuple(
                        publication_events(fn, catalogue, name, keeps.kept_by(unit))
                    )
                    found[key].add(name)
                    self.private[key] = frozenset(found[key])
                    self.why[key] = _why(outside, name, fn, self.handed_out[key][name])
                    changed = True
        # Helpers only construction runs (a constructor's, theirs) are construction's already: no note.
        building: set[Key] = set()
        changed = True
        while changed:
            changed = False
            for key in sorted(self.private.keys() - building):
                callers = {c for c, _call in sites.get(key, ()) if c != key}
                if callers and all(roles.get(c) == Role.CONSTRUCTOR or c in building for c in callers):
                    building.add(key)
                    changed = True
        for key in building:
            self.why.pop(key, None)

    def published_before(self, key: Key, name: str, at: Point | None) -> bool:
        """May method `key`'s body have published its private parameter `name` before `at` (None: a fact
        whose branch is not recorded, so any publication in the body counts)?"""
        events = self.handed_out.get(key, {}).get(name, ())
        if at is None or not events:
            return bool(events)
        from .rules._fresh import happens_between

        fn = self.graph.functions[key][1]
        return any(happens_between(fn, e, None, at) for e in events)

    def private_here(self, key: Key, span: Span, regions: tuple[int, ...] | None) -> frozenset[str]:
        """The private parameters of method `key` a fact at `span` (in `regions`; None: not recorded) sees
        unpublished yet: the critical section lockscope gives that fact."""
        names = self.private.get(key, frozenset())
        at = (span, regions) if regions is not None else None
        return frozenset(n for n in names if not self.published_before(key, n, at))


def receiver_span(fn: Function, call: Call) -> Span:
    """Where the receiver of `call` (`x.m()`) starts: the span of the store `fn` records for it (ending
    where the call's name starts), else the call's own span."""
    for s in fn.stores:
        if s.name == call.receiver and (s.span.end_line, s.span.end_col) == (call.span.line, call.span.col):
            return s.span
    return call.span


def _why(sites: list[Site], name: str, fn: Function, handed_out: tuple[Point, ...] = ()) -> str:
    """The note's reason: the callers, and the first line the body may publish the parameter on."""
    callers = sorted({c[1] for c, _call in sites})
    what = "receiver" if name == fn.receiver else f"`{name}`"
    until = f" (until its body publishes it, line {min(e[0].line for e in handed_out)})" if handed_out else ""
    return f"its {what} is private or locked at every call, in {', '.join(f'`{n}`' for n in callers[:3])}{until}"


__all__ = ["PrivateParameters", "publishers", "receiver_span", "receiver_stores", "without_kept_receivers"]
