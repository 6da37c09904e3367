"""Objects no other thread can see yet: new instances of the scan's own classes until they are
published, and the parameters every call site passes such an object (a per-scan function summary).

Facts used (every frontend's): `Unit.classes` (the classes a file defines), `Function.locals` (where a
local's value comes from; a call of `__class__` is `self.__class__(...)` / `type(self)(...)`),
`Function.calls` (a call an object is passed to may keep it), `Function.stores` (a local stored into a
field, an item, a global, through a pointer, or handed to its own method: published when that method may
keep `self`) and the call graph. C units
define no classes, so in C only what the catalogue calls fresh (`fresh_constructors`, judged by
`Privacy`) reaches a helper's parameter.

- **Constructed objects.** `x = Cls(...)` where `Cls` is a class of the scan whose own `__init__` /
  `__cinit__` does not publish `self` (keep it, by the summary of kept parameters, rules/_keeps.py:
  store it, return it, hand it to a call or call a method that may keep it), and
  `x = self.__class__(...)` / `type(self)(...)` in a method of such a class: the object is this call's
  alone until it is published. Every definition of `x` reaching the use must be one (reaching
  definitions, `_protection.reaching`), and nothing may publish it (or a local copy of it) between
  that definition and the use, nor round a loop enclosing the use but not the definition.
- **Fresh parameters.** A function that no table, slot, Python definition or address-of makes an entry
  point (`FunctionRef` of any context), that is not a member (`Class.method`: the receiver makes the
  argument positions ambiguous) and whose every call site in the scan passes, at position `i`, a value
  private there (fresh by the catalogue or constructed, or a fresh parameter of the caller, or `self`
  of a constructor) and not published before the call, gets parameter `i` as private, as long as the
  function itself does not publish it before the use. A greatest fixpoint, so a chain of helpers (and
  recursion) is followed; any call site that does not qualify, or none at all, keeps it judged.
- **Containers in a stack struct.** A member (`info->list`) that _structs.py finds is a field holding only
  new containers of a struct on this thread's stack is private wherever it is passed (`Freshness.members`).
- **Members just given a new container.** `p->items = PyTuple_New(n)` (or `self.prev = ...` in a
  constructor) and then a fill of `p->items` with nothing in between that may replace it, on an object
  private here (`Freshness.fresh_member`, rules/_paths.py).
- **Calls of the scan's types.** `x = PyObject_CallObject((PyObject *)IterType, NULL)` (any object-call
  C API, catalogue `type-calls`) on a type object of the scan (rules/_typecalls.py) is constructed too.
- **Factory results.** A local whose reaching definitions are all calls of a function the return
  summary (rules/_returns.py) says returns new objects is constructed too (`Freshness.constructs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from ..callgraph import CallGraph, Key, own_key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import LOOP_REGION, Arg, ArgKind, Assignment, Call, Function, OriginKind, Span, Unit, exclusive_regions
from ._keeps import Keeps, keeps_summary
from ._paths import PathIndex, fresh_path
from ._perthread import per_thread
from ._protection import Point, Privacy, reaching
from ._roles import Role, project_roles
from ._sites import CallSites, Site, call_sites, drop_unpassed
from ._structs import StructFields, struct_fields
from ._typecalls import ModuleTypes, calls_type, module_types

if TYPE_CHECKING:
    from ._returns import ReturnSummary

CLASS_OF_SELF = "__class__"  # the callee the Cython frontend records for `self.__class__()`, `type(self)()`
_CONSTRUCTORS = ("__init__", "__cinit__")
_MAX_DEPTH = 8
_MAX_ALIASES = 16


def constructible_classes(ctx: Context) -> frozenset[str]:
    """The classes of the scan whose construction does not publish the new object (memoised per scan)."""

    def build() -> frozenset[str]:
        keeps = keeps_summary(ctx)
        defined = {c for unit in ctx.project.units for c in unit.classes}
        leaky: set[str] = set()
        for unit in ctx.project.units:
            for fn in unit.functions:
                cls, _, method = fn.name.rpartition(".")
                if cls in defined and method in _CONSTRUCTORS and fn.params and keeps.keeps(own_key(unit, fn), 0):
                    leaky.add(cls)
        return frozenset(defined - leaky)

    return ctx.project.memo("constructible-classes", build)


def _passes(call: Call, names: set[str], cat: Catalogue) -> bool:
    """Does `call` take one of `names` where it may keep it (catalogue: inspecting-calls, and the C
    API's first argument unless the call runs its code: operand-code-prefixes)?"""
    if call.name in cat.inspecting_calls:
        return False
    operand = call.name.startswith(("Py", "_Py")) and not call.name.startswith(cat.operand_code_prefixes)
    return any(a.kind == ArgKind.NAME and a.path in names and not (i == 0 and operand) for i, a in enumerate(call.args))


def aliases_of(fn: Function, name: str) -> set[str]:
    """`name` and the locals copied from it or into it (`y = x`, `x = y`), transitively."""
    seen = {name}
    todo = [name]
    while todo and len(seen) < _MAX_ALIASES:
        cur = todo.pop()
        for local, defs in fn.locals.items():
            for d in defs:
                if d.kind != OriginKind.NAME:
                    continue
                other = d.source if local == cur else local if d.source == cur else ""
                if other and other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen


def _class_of(fn: Function) -> str:
    return fn.name.rpartition(".")[0].rpartition(".")[2]


@dataclass(frozen=True)
class _Event:
    span: Span
    regions: tuple[int, ...]


Kept = Callable[[Call, set[str]], bool]  # may this call keep one of these locals it is passed? (_keeps.py)


def _events(fn: Function, names: set[str], cat: Catalogue, kept: Kept | None = None) -> Iterable[_Event]:
    """Where the object a local holds may be published: stored, or passed to a call that may keep it
    (`kept`: the scan's summary of kept parameters; None: any call the catalogue does not exempt). The
    receiver of its own method call (`x.m()`, a Store ending where the call's name starts) is published
    only when `kept` says that method may keep its receiver."""
    methods = {(c.span.line, c.span.col): c for c in fn.calls} if kept is not None else {}
    for s in fn.stores:
        if s.name in names:
            call = methods.get((s.span.end_line, s.span.end_col))
            if call is None or call.receiver != s.name or kept is None or kept(call, {s.name}):
                yield _Event(s.span, s.regions)
    for c in fn.calls:
        if _passes(c, names, cat) and (kept is None or kept(c, names)):
            yield _Event(c.span, c.regions)


def published(
    fn: Function,
    cat: Catalogue,
    name: str,
    since: tuple[Span, tuple[int, ...]] | None,
    at: Point,
    kept: Kept | None = None,
) -> bool:
    """May the object `name` holds at `at` have been published since `since` (a definition's span and
    regions; None: since the function was entered)? Stores and calls of `name` or a copy of it in
    between count, those on the use's own line (other than the use itself), and those after `at`
    inside a loop that encloses `at` but not `since`; those in the other arm of an if/else than the
    use (or the definition) do not."""
    return any(
        happens_between(fn, (e.span, e.regions), since, at) for e in _events(fn, aliases_of(fn, name), cat, kept)
    )


def publication_events(fn: Function, cat: Catalogue, name: str, kept: Kept | None = None) -> list[Point]:
    """Everywhere in `fn` the object `name` (or a copy) holds may be published: stored, or passed to a call
    that may keep it (`kept`, as for `published`), as (span, regions). Returning it does not count."""
    return [(e.span, e.regions) for e in _events(fn, aliases_of(fn, name), cat, kept)]


def ever_published(fn: Function, cat: Catalogue, name: str, kept: Kept | None = None) -> bool:
    """Does `fn` anywhere publish the object `name` holds (`publication_events`)?"""
    return next(iter(_events(fn, aliases_of(fn, name), cat, kept)), None) is not None


def happens_between(fn: Function, event: Point, since: Point | None, at: Point) -> bool:
    """May the event at `event` run after `since` (None: the function's entry) and before the use at `at`?
    Those on the use's own line (other than the use itself) count, and those after `at` inside a loop that
    encloses `at` but not `since`; those in the other arm of an if/else than the use (or `since`) do not."""
    (e_span, e_regions), (use_span, use_regions) = event, at
    use = (use_span.line, use_span.col)
    start = (since[0].end_line, since[0].end_col) if since is not None else (0, 0)
    since_regions = since[1] if since is not None else ()
    here = (e_span.line, e_span.col)
    if here < start or exclusive_regions(fn, e_regions, use_regions) or exclusive_regions(fn, e_regions, since_regions):
        return False
    # The use's own statement may publish it first (`x.f = keep(x)`: the value is evaluated first).
    same_statement = e_span.line == use_span.line and e_span != use_span
    return here < use or same_statement or _loop_around(fn, e_regions, use_regions, since_regions)


def _loop_around(fn: Function, a: tuple[int, ...], b: tuple[int, ...], outside: tuple[int, ...]) -> bool:
    """Is there a loop enclosing both `a` and `b` that does not enclose `outside`?"""
    for ra, rb in zip(a, b, strict=False):
        if ra != rb:
            return False
        if fn.regions.get(ra) == LOOP_REGION and ra not in outside:
            return True
    return False


class CallResults(Protocol):
    """What a call returns, by the scan's return summary (rules/_returns.py)."""

    def new(self, callee: str, args: tuple[Arg, ...]) -> bool:
        """Does this call of `callee` with `args` return a new object nobody else holds?"""
        ...


class Freshness:
    """Judges, in one function, whether a local or parameter holds an object only this call can see.

    `results` judges the calls whose result is new by the return summary (None: none is);
    `class_params` names parameters taken to hold a constructible class of the scan (the return
    summary's assumption while it judges a factory: `baseclass()`); `assumed` collects those used;
    `types` names the scan's type objects as this unit knows them (rules/_typecalls.py: calling one
    through the object-call C API makes a new instance)."""

    def __init__(
        self,
        fn: Function,
        catalogue: Catalogue,
        classes: frozenset[str],
        params: frozenset[int],
        results: CallResults | None = None,
        class_params: frozenset[str] = frozenset(),
        kept: Kept | None = None,
        members: Callable[[Arg], bool] | None = None,
        constructor_self: str = "",
        per_thread: Callable[[Assignment], bool] | None = None,
        types: frozenset[str] = frozenset(),
    ) -> None:
        self.fn = fn
        self.types = types
        self.constructor_self = constructor_self
        self.members = members
        self.kept = kept
        self.classes = classes
        self.params = {p.name: p.index for p in fn.params}
        self.fresh_params = params
        self.cat = catalogue
        self.privacy = Privacy(fn, catalogue, per_thread)
        self.klass = _class_of(fn)
        self.results = results
        self.class_params = class_params
        self.assumed: set[str] = set()
        self.paths = PathIndex(fn, catalogue)  # fresh_member's index of stores and calls, built on first use

    def is_fresh(self, name: str, at: Point, depth: int = 0) -> bool:
        """Is the object `name` holds at `at` new (constructed here, or a fresh parameter) and unpublished?"""
        if depth > _MAX_DEPTH:
            return False
        defs, entry = reaching(self.fn, name, at)
        origins = [d for d in defs if d.kind != OriginKind.NULL]
        if entry:
            index = self.params.get(name)
            if (
                index is None
                or index not in self.fresh_params
                or published(self.fn, self.cat, name, None, at, kept=self.kept)
            ):
                return False
        elif not origins:
            return False
        return all(self._origin_fresh(name, d, at, depth) for d in origins)

    def _origin_fresh(self, name: str, d: Assignment, at: Point, depth: int) -> bool:
        if d.span is None:
            return False
        since = (d.span, d.regions)
        if d.kind == OriginKind.CALL and self.constructs(d.callee, d.args):
            return not published(self.fn, self.cat, name, since, at, kept=self.kept)
        if d.kind == OriginKind.NAME:
            return self.is_fresh(d.source, (d.span, d.regions), depth + 1) and not published(
                self.fn, self.cat, name, since, at, kept=self.kept
            )
        return False

    def constructs(self, callee: str, args: tuple[Arg, ...] = ()) -> bool:
        """Does a call of `callee` (with `args`, when known) make a new object nobody else holds: a
        constructible class, a type object of the scan called through the C API, a factory the return
        summary knows, or a class parameter assumed one?"""
        if callee == CLASS_OF_SELF:
            return self.klass in self.classes
        if callee in self.class_params:
            self.assumed.add(callee)
            return True
        if self.types and calls_type(self.cat, self.fn, self.types, callee, args):
            return True
        return callee in self.classes or (self.results is not None and self.results.new(callee, args))

    def private_argument(self, arg: Arg, call: Call, constructor_self: str) -> bool:
        """Is `arg` of `call` an object private to this function there and not yet published?"""
        if arg.kind == ArgKind.CALL:
            return arg.path in self.cat.fresh_constructors or self.constructs(arg.path)
        if arg.kind == ArgKind.MEMBER:
            return self.private_member(arg)
        return self.private_at(arg, (call.span, call.regions), constructor_self)

    def private_member(self, arg: Arg) -> bool:
        """Is the member `arg` (`info.list`) a container kept in a struct on this thread's stack (_structs.py)?"""
        return self.members is not None and self.members(arg)

    def fresh_member(self, arg: Arg, call: Call) -> bool:
        """Is the member `arg` (`p.items`) of `call` a container a fresh constructor just stored there, in an
        object private to this function (rules/_paths.py)?"""
        at = (call.span, call.regions)

        def root_private(root: str) -> bool:
            return self.private_at(Arg(ArgKind.NAME, root, root), at, self.constructor_self)

        return fresh_path(self.fn, self.cat, arg, at, self.constructs, root_private, call, self.paths)

    def private_at(self, arg: Arg, at: Point, constructor_self: str = "") -> bool:
        """Is the local or parameter `arg` (a NAME) private to this function at `at`, and not yet
        published: fresh (`is_fresh`), a constructor's unpublished `self` (`constructor_self`), or a
        local only catalogue fresh constructors fill (Privacy)?"""
        if arg.kind != ArgKind.NAME:
            return False
        if arg.path == constructor_self:
            return not published(self.fn, self.cat, arg.path, None, at, kept=self.kept)
        if self.is_fresh(arg.path, at):
            return True
        if arg.path not in self.params and self.privacy.is_private(arg, at=at):
            defs, entry = reaching(self.fn, arg.path, at)
            return not entry and all(
                d.span is not None
                and not published(self.fn, self.cat, arg.path, (d.span, d.regions), at, kept=self.kept)
                for d in defs
            )
        return False


def fresh_params(ctx: Context) -> dict[Key, frozenset[int]]:
    """Per function of the scan, the parameters every call site passes an unpublished new object
    (see the module docstring); memoised per scan."""

    from ._returns import return_summary  # built from Freshness judgements itself

    def build() -> dict[Key, frozenset[int]]:
        project = project_roles(ctx)
        graph, roles = project.graph, project.roles
        classes, structs, index = constructible_classes(ctx), struct_fields(ctx), call_sites(ctx.project.memo, graph)
        summaries = (return_summary(ctx), keeps_summary(ctx), structs, module_types(ctx))
        return _solve(graph, index, roles, ctx.catalogue, classes, *summaries)

    return ctx.project.memo("fresh-params", build)


def _solve(
    graph: CallGraph,
    index: CallSites,
    roles: dict[Key, Role],
    cat: Catalogue,
    classes: frozenset[str],
    results: ReturnSummary,
    keeps: Keeps,
    structs: StructFields,
    types: ModuleTypes,
) -> dict[Key, frozenset[int]]:
    candidates: dict[Key, set[int]] = {}
    for key, (unit, fn) in graph.functions.items():
        if key in index.referenced or not index.sites.get(key) or "." in fn.name or "::" in fn.name:
            continue
        if roles.get(key, Role.INIT_HELPER) != Role.INIT_HELPER:
            continue
        if unit.language != "cython" and not fn.internal:
            continue  # an external C function may be called from outside the scan
        candidates[key] = {p.index for p in fn.params}
    refused: set[tuple[int, int]] = set()  # (call, index): not fresh, and no later round can change that

    def passes(site: Site, i: int) -> bool:
        memo = (id(site[3]), i)
        if memo in refused:
            return False
        if _site_passes_fresh(site, i, candidates, roles, cat, classes, results, keeps, structs, types):
            return True  # may still change: it can rest on the caller's parameters, which only shrink
        refused.add(memo)
        return False

    return drop_unpassed(candidates, index, passes)  # a greatest fixpoint


def _site_passes_fresh(
    site: Site,
    index: int,
    candidates: dict[Key, set[int]],
    roles: dict[Key, Role],
    cat: Catalogue,
    classes: frozenset[str],
    results: ReturnSummary,
    keeps: Keeps,
    structs: StructFields,
    types: ModuleTypes,
) -> bool:
    caller, unit, fn, call = site
    if index >= len(call.args):
        return False
    own = frozenset(candidates.get(caller, ()))
    constructor_self = fn.params[0].name if roles.get(caller) == Role.CONSTRUCTOR and fn.params else ""
    members = partial(structs.holds_private, unit, fn)
    kept = keeps.kept_by(unit)
    judge = Freshness(fn, cat, classes, own, results.results(unit), kept=kept, members=members, types=types.names(unit))
    return judge.private_argument(call.args[index], call, constructor_self)


def freshness(unit: Unit, fn: Function, ctx: Context) -> Freshness:
    """The judge of fresh objects for `fn` of `unit`, with the scan's classes, fresh parameters,
    factories (the return summary, rules/_returns.py) and kept parameters (rules/_keeps.py: passing an
    object to a helper of the scan that only uses it does not publish it)."""
    from ._returns import return_summary

    params = fresh_params(ctx).get(own_key(unit, fn), frozenset())
    results = return_summary(ctx).results(unit)
    members = partial(struct_fields(ctx).holds_private, unit, fn)
    kept = keeps_summary(ctx).kept_by(unit)
    key = own_key(unit, fn)
    project = project_roles(ctx)
    graph, role = project.graph, project.roles.get(key)
    constructor_self = fn.receiver if role == Role.CONSTRUCTOR else ""
    classes = constructible_classes(ctx)
    items = per_thread(ctx).judge(graph, unit, fn, ctx.catalogue)
    return Freshness(
        fn,
        ctx.catalogue,
        classes,
        params,
        results,
        kept=kept,
        members=members,
        constructor_self=constructor_self,
        per_thread=items,
        types=module_types(ctx).names(unit),
    )
