"""What a call returns: a per-scan summary of the functions whose every `return` hands the caller a new
object nobody else holds (a factory), so that the caller's local holding the result is as fresh as one
it constructed itself (rules/_fresh.py).

Facts used (every frontend's): `Function.returns` (where each returned value comes from, as a local's
origin), `Function.locals`, `Function.calls`, `Function.stores` and the call graph (callgraph.py).

A function returns new objects when it has a `return` with a value, and each one returns (reaching
definitions, `_protection.reaching`, judge the local at the `return`):

- `None` / NULL;
- a new object: a call of a catalogue fresh constructor (`PyList_New`), of a constructible class of the
  scan (as _fresh defines: its constructor does not publish `self`), of a type object of the scan through
  the object-call C API (rules/_typecalls.py), of another such function, or a
  local only such calls fill (`x = Cls(); ...; return x`), not published (stored, passed to a call that
  may keep it, its own method called when that method may keep `self`: the kept-parameter summary,
  rules/_keeps.py) before the `return`;
- a new instance of a class its parameter holds (`result = baseclass(); ...; return result`): then the
  summary records that parameter, and a call counts as constructing only where it passes, at that
  position, a constructible class of the scan by name (`_newElementTree(doc, None, _XSLTResultTree)`);
  a caller passing anything else (its own parameter, which C code or Python may fill with any class
  whose constructor may publish the object) gets no new object.

A least fixpoint over the call graph: a factory calling a factory is found in a later round; recursion
through the result is never new. A call by a bare method name (`obj.copy()`) counts only when every
method of that name in the scan is a factory; a call through a class by its name (`_Base._copy(self)`,
recorded by the Cython frontend as the callee `_Base._copy`) asks only the method that class defines or
inherits (`CallGraph.resolve_qualified`).
"""

from __future__ import annotations

from ..callgraph import CallGraph, Key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import Arg, ArgKind, Assignment, Function, OriginKind, Unit
from ._fresh import Freshness, constructible_classes
from ._keeps import Keeps, keeps_summary
from ._typecalls import ModuleTypes, module_types

_MAX_ROUNDS = 8  # factories a result is followed through


class ReturnSummary:
    """Per function of the scan that returns only new objects: the indexes of the parameters whose
    class it instantiates for the result (empty: none, the result is new whatever the call passes)."""

    def __init__(self, graph: CallGraph, classes: frozenset[str], types: ModuleTypes | None = None) -> None:
        self.graph = graph
        self.classes = classes
        self.types = types  # the scan's type objects (rules/_typecalls.py); None: none
        self.new: dict[Key, frozenset[int]] = {}
        self.keeps: Keeps | None = None  # the kept-parameter summary (rules/_keeps.py); None: any call may keep

    def results(self, unit: Unit) -> UnitResults:
        """The judge of call results as seen from `unit` (its static functions first)."""
        return UnitResults(self, unit)


class UnitResults:
    """`_fresh.CallResults` for the calls of one unit."""

    def __init__(self, summary: ReturnSummary, unit: Unit) -> None:
        self.summary = summary
        self.unit = unit

    def new(self, callee: str, args: tuple[Arg, ...]) -> bool:
        """Does every function a call of `callee` may run return a new object for these `args`?"""
        if not callee:
            return False
        graph = self.summary.graph
        targets = graph.resolve_qualified(self.unit, callee) if "." in callee else None
        if targets is None:
            targets = graph.resolve_all(self.unit, callee)
        if not targets:
            return False
        for target in targets:
            needs = self.summary.new.get(target)
            if needs is None:
                return False
            for index in needs:
                if index >= len(args) or not _names_class(args[index], self.summary.classes):
                    return False
        return True


def _names_class(arg: Arg, classes: frozenset[str]) -> bool:
    return arg.kind == ArgKind.NAME and arg.path in classes


def return_summary(ctx: Context) -> ReturnSummary:
    """The scan's return summary (see the module docstring), memoised per scan."""

    def build() -> ReturnSummary:
        graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
        return _solve(graph, ctx.catalogue, constructible_classes(ctx), module_types(ctx), keeps_summary(ctx))

    return ctx.project.memo("return-summary", build)


def _candidate(fn: Function) -> bool:
    """Could `fn` be a factory at all: it returns something, and only calls, locals or None?"""
    kinds = {r.kind for r in fn.returns}
    return (
        bool(fn.returns) and kinds <= {OriginKind.CALL, OriginKind.NAME, OriginKind.NULL} and kinds != {OriginKind.NULL}
    )


def _solve(
    graph: CallGraph, cat: Catalogue, classes: frozenset[str], types: ModuleTypes, keeps: Keeps | None = None
) -> ReturnSummary:
    summary = ReturnSummary(graph, classes, types)
    summary.keeps = keeps
    todo = {key: unit_fn for key, unit_fn in graph.functions.items() if _candidate(unit_fn[1])}
    for _ in range(_MAX_ROUNDS):
        found: dict[Key, frozenset[int]] = {}
        for key, (unit, fn) in todo.items():
            needs = _factory_needs(unit, fn, summary, cat)
            if needs is not None:
                found[key] = needs
        if not found:
            break
        summary.new.update(found)  # a round's findings only widen what the next round may rest on
        for key in found:
            del todo[key]
    return summary


def _factory_needs(unit: Unit, fn: Function, summary: ReturnSummary, cat: Catalogue) -> frozenset[int] | None:
    """The class parameters every `return` of `fn` rests on when each returns a new object, else None."""
    members = "." in fn.name or "::" in fn.name  # a receiver shifts the argument positions: no class parameters
    class_params = frozenset() if members else frozenset(p.name for p in fn.params)
    # No fresh parameters here: those rest on this summary (a helper handed a factory's result).
    types = summary.types.names(unit) if summary.types is not None else frozenset()
    # Calls of the scan's helpers that only use the new object (`x.init(...)` filling it) do not publish it.
    kept = summary.keeps.kept_by(unit) if summary.keeps is not None else None
    judge = Freshness(
        fn, cat, summary.classes, frozenset(), summary.results(unit), class_params, kept=kept, types=types
    )
    for r in fn.returns:
        if not _returns_new(judge, r):
            return None
    by_name = {p.name: p.index for p in fn.params}
    return frozenset(by_name[name] for name in judge.assumed)


def _returns_new(judge: Freshness, r: Assignment) -> bool:
    if r.kind == OriginKind.NULL:
        return True
    if r.span is None:
        return False
    if r.kind == OriginKind.CALL:
        return r.callee in judge.cat.fresh_constructors or judge.constructs(r.callee, r.args)
    if r.kind == OriginKind.NAME:
        return judge.private_at(Arg(ArgKind.NAME, r.source, r.source), (r.span, r.regions))
    return False
