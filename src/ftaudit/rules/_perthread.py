"""Objects only one thread reaches: the items of the thread-state dict, and what helpers return of them.

`PyThreadState_GetDict()` is the calling thread's own dict (the C API manual: "a dictionary in which
extensions can store thread-specific state information"). An item read from it is another thread's too
only if some code put there an object other code also holds, or handed an item out. So the items are
judged per-thread for a whole group of files linked by calls (a module and its helpers: `PerThread.sealed`),
or not at all, from the facts every C and C++ frontend records (locals' origins, calls, stores, returns),
when every function of the group meets these:

- every call given a thread dict (a local whose every definition is a `[thread-dict] sources` call) is a
  getter, a setter or a harmless call of the catalogue (containers.toml `[thread-dict]`), and the dict is
  stored nowhere;
- every setter stores a local that is private where it is stored (`_protection.Privacy`: a new container,
  object or memory) and that its function hands out nowhere else (no other store, no other call that may
  keep it: the kept-parameter summary, rules/_keeps.py);
- every item read (a local defined by a getter on a thread dict, or by a call of a *per-thread function*)
  is handed out nowhere (the same test), and returned only by a per-thread function;
- a getter's result is always kept in a local or returned, never used in place (passed on, stored).

A *per-thread function* (`PerThread.functions`, a least fixpoint) is a function no code outside the scan
can call (internal linkage, never used as a value) whose every `return` gives NULL, a getter's result on
a thread dict, a call of another per-thread function, or a local only those and private values fill.

A group with a Cython unit leaves the items judged: its walker does not record subscript stores
into `<object>thread_dict` (lxml's `_setThreadErrorLog` stores a caller's log there, which another thread
may hold too). Not seen either: `PyThreadState_Get()->dict`, `threading.local`.

Another module (in the scan or not) storing a shared object under a group's key is not seen: modules
name their keys for themselves (cffi's "cffi.thread.canary").

Used by `_protection.Privacy` through `_fresh.freshness` (a local filled by such a read or call is
private), so FT201-FT203 and FT105 judge a per-thread container or object as they judge a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..callgraph import CallGraph, Key
from ..catalogue import Catalogue, ThreadDictVocabulary
from ..engine import Context
from ..facts import Arg, ArgKind, Assignment, Call, Function, OriginKind, Span, Unit
from ._keeps import keeps_summary
from ._protection import Privacy, reaching

Kept = Callable[[Call, set[str]], bool]
_VALUE = 2  # a setter's stored value: PyDict_SetItem(dict, key, value)


@dataclass(frozen=True)
class PerThread:
    """Per group of files linked by calls (`group`: a unit's path to its group's first path), whether its
    thread-dict items are per-thread (`sealed`: the groups that are), which functions return such items
    (`functions`), and why the other groups are not (`why`: one reason per group, for tests and debugging)."""

    sealed: frozenset[str]
    functions: frozenset[Key]
    group: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)

    def judge(self, graph: CallGraph, unit: Unit, fn: Function, cat: Catalogue) -> Callable[[Assignment], bool]:
        """For `Privacy`: is a definition of a local in `fn` a per-thread item (a getter on a thread dict, or
        a call of a per-thread function)? Always false outside a sealed group."""
        if self.group.get(unit.path, unit.path) not in self.sealed:
            return _never
        view = _View(graph, unit, fn, cat.containers.thread_dict, self.functions)
        return view.item


def _never(_o: Assignment) -> bool:
    return False


class _View:
    """The thread dicts and items of one function."""

    def __init__(
        self, graph: CallGraph, unit: Unit, fn: Function, vocab: ThreadDictVocabulary, functions: frozenset[Key]
    ) -> None:
        self.graph, self.unit, self.fn, self.vocab, self.functions = graph, unit, fn, vocab, functions

    def is_dict(self, arg: Arg, at: tuple[Span, tuple[int, ...]] | None) -> bool:
        """Is `arg` a local holding the calling thread's dict at `at`?"""
        if arg.kind != ArgKind.NAME:
            return False
        defs, entry = reaching(self.fn, arg.path, at)
        real = [d for d in defs if d.kind != OriginKind.NULL]
        return (
            not entry and bool(real) and all(d.kind == OriginKind.CALL and d.callee in self.vocab.sources for d in real)
        )

    def item(self, o: Assignment) -> bool:
        """Is the definition `o` an item of a thread dict (a getter on one, a per-thread function's result)?"""
        if o.kind != OriginKind.CALL or o.span is None:
            return False
        if o.callee in self.vocab.getters:
            return bool(o.args) and self.is_dict(o.args[0], (o.span, o.regions))
        targets = self.graph.resolve_all(self.unit, o.callee)
        return bool(targets) and all(t in self.functions for t in targets)


def per_thread(ctx: Context) -> PerThread:
    """The scan's judgement of thread-dict items (see the module docstring), memoised per scan."""

    def build() -> PerThread:
        graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
        return _solve(graph, ctx.catalogue, keeps_summary(ctx).kept_by)

    return ctx.project.memo("per-thread", build)


def _solve(graph: CallGraph, cat: Catalogue, kept_by: Callable[[Unit], Kept]) -> PerThread:
    vocab = cat.containers.thread_dict
    using = {u.path for u, f in graph.functions.values() if any(c.name in vocab.sources for c in f.calls)}
    if not using:
        return PerThread(frozenset(), frozenset())  # the common case: no group to judge, none built
    group = _groups(graph)
    users = {group[p] for p in using}
    functions = _functions(graph, cat)
    why: dict[str, str] = {}
    for key, (unit, fn) in graph.functions.items():
        g = group[unit.path]
        if g not in users or g in why:
            continue
        if unit.language == "cython":
            found = "a Cython unit (its stores into the dict are not recorded)"
        else:
            found = _unsealed(graph, unit, fn, cat, kept_by(unit), functions, key)
        if found:
            why[g] = f"{fn.name}: {found}"
    return PerThread(frozenset(users - why.keys()), functions, group, why)


def _groups(graph: CallGraph) -> dict[str, str]:
    """Each unit's path to its group's: the files linked by calls resolved between them (union-find). A
    group's thread-dict items are judged on its own code: another module storing under its keys is as
    unseen as an extension outside the scan doing so."""
    parent: dict[str, str] = {u.path: u.path for u in graph.units}

    def find(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for unit, fn in graph.functions.values():
        for call in fn.calls:
            for target in graph.resolve_call(unit, call):
                a, b = find(unit.path), find(graph.functions[target][0].path)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {p: find(p) for p in parent}


def _functions(graph: CallGraph, cat: Catalogue) -> frozenset[Key]:
    """The per-thread functions: a least fixpoint over the return origins."""
    vocab = cat.containers.thread_dict
    valued: set[Key] = set(graph.file_refs)
    for _caller, (unit, fn) in graph.functions.items():
        for ref in fn.refs:
            valued.update(graph.resolve_all(unit, ref.name))
    found: set[Key] = set()
    changed = True
    while changed:
        changed = False
        for key, (unit, fn) in graph.functions.items():
            if key in found or key in valued or not fn.internal or not fn.returns:
                continue
            view = _View(graph, unit, fn, vocab, frozenset(found))
            privacy = Privacy(fn, cat)
            if all(_returns_item(view, privacy, r) for r in fn.returns) and any(
                r.kind != OriginKind.NULL for r in fn.returns
            ):
                found.add(key)
                changed = True
    return frozenset(found)


def _returns_item(view: _View, privacy: Privacy, r: Assignment) -> bool:
    if r.kind == OriginKind.NULL:
        return True
    if r.kind == OriginKind.CALL:
        return view.item(r)
    if r.kind != OriginKind.NAME or r.span is None:
        return False
    defs, entry = reaching(view.fn, r.source, (r.span, r.regions))
    real = [d for d in defs if d.kind != OriginKind.NULL]
    return (
        not entry and any(view.item(d) for d in real) and all(view.item(d) or privacy.origin_private(d) for d in real)
    )


def _unsealed(
    graph: CallGraph,
    unit: Unit,
    fn: Function,
    cat: Catalogue,
    kept: Kept,
    functions: frozenset[Key],
    key: Key,
) -> str:
    """Why `fn` may let a thread-dict item reach another thread ("" when it does not)."""
    vocab = cat.containers.thread_dict
    view = _View(graph, unit, fn, vocab, functions)
    privacy = Privacy(fn, cat)
    dicts = _closure(fn, lambda d: d.kind == OriginKind.CALL and d.callee in vocab.sources)
    sources_kept = [d.span for n in dicts for d in fn.locals[n] if d.kind == OriginKind.CALL and d.span]
    setter_spans: set[Span] = set()
    for call in fn.calls:
        if call.name in vocab.sources and not any(s.contains(call.span) for s in sources_kept):
            return "the thread dict is used in place (not kept in a local)"
        at = (call.span, call.regions)
        for i, a in enumerate(call.args):
            if a.kind == ArgKind.CALL and a.path in vocab.sources:
                return f"the thread dict is passed to `{call.name}` in place"
            if a.kind != ArgKind.NAME or a.path not in dicts:
                continue
            if i != 0 or call.name not in vocab.getters | vocab.setters | vocab.harmless or not view.is_dict(a, at):
                return f"the thread dict is passed to `{call.name}`"
        if call.name in vocab.setters and call.args and call.args[0].path in dicts:
            value = call.args[_VALUE] if len(call.args) > _VALUE else Arg(ArgKind.OTHER, "", "")
            if value.kind not in (ArgKind.NAME, ArgKind.CALL) or not privacy.is_private(value, at=at):
                return f"`{call.name}` stores an object other code may hold"
            setter_spans.add(call.span)
    statics = {a.path for a in fn.accesses if a.kind.writes}  # libclang lists a static's stores among locals
    if any(s.name in dicts for s in fn.stores) or any(
        r.kind == OriginKind.NAME and r.source in dicts for r in fn.returns
    ):
        return "the thread dict is stored or returned"
    stored = {c.args[_VALUE].path for c in fn.calls if c.span in setter_spans and c.args[_VALUE].kind == ArgKind.NAME}
    items = _closure(fn, view.item) | _closure(fn, lambda d: d.kind == OriginKind.NAME and d.source in stored)
    if statics & (dicts | items | stored):
        return "the thread dict or an item is kept in a static"
    for name in sorted(items | stored):
        if _handed_out(fn, cat, name, kept, setter_spans):
            return f"`{name}` is handed out"
        returned = any(r.kind == OriginKind.NAME and r.source == name for r in fn.returns)
        if returned and key not in functions:
            return f"`{name}` is returned by a function that is not per-thread"
    for r in fn.returns:
        if r.kind == OriginKind.CALL and view.item(r) and key not in functions:
            return "an item is returned by a function that is not per-thread"
    return _used_in_place(fn, vocab, view)


def _closure(fn: Function, seed: Callable[[Assignment], bool]) -> set[str]:
    """The locals some definition of which `seed` accepts, and those copied from one of them (`y = x`)."""
    found = {name for name, defs in fn.locals.items() if any(seed(d) for d in defs)}
    changed = True
    while changed:
        changed = False
        for name, defs in fn.locals.items():
            if name not in found and any(d.kind == OriginKind.NAME and d.source in found for d in defs):
                found.add(name)
                changed = True
    return found


def _handed_out(fn: Function, cat: Catalogue, name: str, kept: Kept, setter_spans: set[Span]) -> bool:
    from ._fresh import publication_events

    return any(span not in setter_spans for span, _regions in publication_events(fn, cat, name, kept))


def _used_in_place(fn: Function, vocab: ThreadDictVocabulary, view: _View) -> str:
    """A getter on a thread dict whose result is neither a local's definition nor a return."""
    kept_at = [d.span for defs in fn.locals.values() for d in defs if d.kind == OriginKind.CALL and d.span]
    kept_at += [r.span for r in fn.returns if r.kind == OriginKind.CALL and r.span]
    for call in fn.calls:
        if call.name not in vocab.getters or not call.args or not view.is_dict(call.args[0], (call.span, call.regions)):
            continue
        if call.name in vocab.setters and not any(s.contains(call.span) for s in kept_at):
            continue  # PyDict_SetDefault used as a store only
        if not any(s.contains(call.span) for s in kept_at):
            return f"the result of `{call.name}` is used in place"
    return ""


__all__ = ["PerThread", "per_thread"]
