"""Function summaries: what calling a function does to the object a pointer argument points to, and
which statics a call stores into, judged over the whole scan.

Built once per scan (the rules share it as a project memo) from the facts every frontend produces,
so a libclang, tree-sitter or Cython unit is summarised alike:

- writes through a pointer parameter (`*out = v`, `p->f = v`, `p[i] = v`) and checks of what it points
  to (`if (*cache == NULL) *cache = ...`) are accesses and lazy initialisations of the pseudo-variable
  `facts.param_key(i)`;
- passing the parameter on (`helper(out)`) is an ADDRESS access of that key with the argument index;
- a function defined nowhere in the scan writes through the arguments its prototype takes as pointers
  to non-const data (`Call.out_params`, libclang only; the Python C API is left to the catalogue's
  `buffer-writers`, which both frontends apply while walking).

Summaries are transitive (a fixpoint over the call graph, so a pointer passed through several helpers
is followed to the one that writes), cross files, and reach `static` helpers defined in the scan's
headers (a call from `a.c` to a `static inline` function of `util.h` is resolved to its definition in
the header's unit). What is under a lock where it happens (judged by the `guarded` the rules give, the
one FT101 and FT102 use) is no effect: the helper synchronises it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .callgraph import CallGraph, Key, own_key, plain_name
from .facts import Access, AccessKind, Call, Function, Lock, Span, Unit, param_index

Guarded = Callable[[tuple[Lock, ...], Unit], bool]

WRITES = "writes"
INITIALISES = "initialises"  # check-then-set: `if (*cache == NULL) *cache = make();`
_HEADERS = (".h", ".hh", ".hpp", ".hxx", ".inc", ".pxd", ".pxi")
_API_PREFIXES = ("Py", "_Py")  # what the Python C API writes is catalogued (buffer-writers)
_MAX_CHAIN = 6  # helpers a pointer is followed through
_MAX_DEPTH = 2  # callees a check-then-call is followed into for the statics they store


@dataclass(frozen=True)
class Effect:
    """What happens to the pointed-to object (or a static) in `function` of `path`: `how` is WRITES or
    INITIALISES; `span` is the write, or the check of an initialisation whose write is `write`;
    `chain` the functions called to get there, the one called first, `function` last (empty: `function`
    itself, in the body being judged)."""

    how: str
    function: str
    path: str
    span: Span
    write: Span | None = None
    chain: tuple[str, ...] = ()

    def describe(self) -> str:
        """`fwd` -> `cache_attr` checks and sets it at util.h:12"""
        names = " -> ".join(f"`{f}`" for f in (self.chain or (self.function,)))
        verb = "checks and sets it" if self.how == INITIALISES else "writes it"
        where = f" at {self.path.rsplit('/', 1)[-1]}:{self.span.line}" if self.path else ""
        return f"{names} {verb}{where}"


class Summaries:
    """Per function and pointer parameter: the effect of a call on what the argument points to."""

    def __init__(self, graph: CallGraph, guarded: Guarded) -> None:
        self.graph = graph
        self.guarded = guarded
        self._headers: dict[str, list[Key]] = defaultdict(list)
        for key, (unit, fn) in graph.functions.items():
            if fn.internal and unit.path.endswith(_HEADERS):
                self._headers[plain_name(fn.name)].append(key)
        self._params: dict[Key, dict[int, Effect]] = {}
        self._static_memo: dict[tuple[Key, int], dict[str, Effect]] = {}
        self._build()

    # resolution -------------------------------------------------------------
    def targets(self, unit: Unit, name: str) -> list[Key]:
        """The functions of the scan a call of `name` from `unit` may run (headers' static helpers too)."""
        found = self.graph.resolve_all(unit, name)
        return found or self._headers.get(plain_name(name), [])

    # pointer parameters -----------------------------------------------------
    def _build(self) -> None:
        direct: dict[Key, dict[int, Effect]] = {}
        passes: dict[Key, list[tuple[int, Unit, Access]]] = {}
        for key, (unit, fn) in self.graph.functions.items():
            own = self._direct(unit, fn)
            if own:
                direct[key] = own
            handed = [
                (i, unit, a)
                for a in fn.accesses
                if a.kind == AccessKind.ADDRESS and (i := param_index(a.var)) is not None
            ]
            if handed:
                passes[key] = handed
        effects = {k: dict(v) for k, v in direct.items()}
        for _ in range(_MAX_CHAIN):  # a fixpoint: each round follows the pointers one helper further
            changed = False
            for key, handed in passes.items():
                unit, fn = self.graph.functions[key]
                for index, _u, a in handed:
                    if index in effects.get(key, {}) or self.guarded(a.locks, unit):
                        continue
                    got = self._callee_effect(unit, fn, a, effects)
                    if got is not None:
                        effects.setdefault(key, {})[index] = got
                        changed = True
            if not changed:
                break
        self._params = effects

    def _direct(self, unit: Unit, fn: Function) -> dict[int, Effect]:
        """Effects through each pointer parameter made by the function's own body."""
        out: dict[int, Effect] = {}
        inits = [li for li in fn.lazy_inits if param_index(li.var) is not None]
        covered = {w.span for li in inits if self.guarded(li.check_locks, unit) for w in li.writes}
        lazy: dict[Span, Effect] = {}
        for li in sorted(inits, key=lambda x: (x.check.line, x.check.col)):
            if self.guarded(li.check_locks, unit):
                continue
            own = [w for w in li.writes if w.var == li.var and w.span not in covered]
            if own:
                index = param_index(li.var)
                assert index is not None
                eff = Effect(INITIALISES, fn.name, unit.path, li.check, own[0].span)
                for w in own:
                    lazy.setdefault(w.span, eff)
                out.setdefault(index, eff)
        for a in fn.accesses:
            index = param_index(a.var)
            if index is None or not a.kind.writes or a.span in lazy or a.span in covered:
                continue
            if self.guarded(a.locks, unit):
                continue
            out[index] = Effect(WRITES, fn.name, unit.path, a.span)  # a plain write outweighs an initialisation
        return out

    def _callee_effect(
        self, unit: Unit, fn: Function, a: Access, effects: dict[Key, dict[int, Effect]]
    ) -> Effect | None:
        for target in self.targets(unit, a.detail):
            got = effects.get(target, {}).get(a.arg)
            if got is not None and len(got.chain) < _MAX_CHAIN:
                return Effect(got.how, got.function, got.path, got.span, got.write, (a.detail, *got.chain))
        if not self.targets(unit, a.detail):
            call = _call_at(fn, a)
            if call is not None and a.arg in call.out_params and not call.name.startswith(_API_PREFIXES):
                return Effect(WRITES, call.name, "", call.span)
        return None

    def through(self, unit: Unit, fn: Function, a: Access) -> Effect | None:
        """What the call an ADDRESS access is an argument of (`helper(&x)`, `fill(buf)`) does to it."""
        if a.kind != AccessKind.ADDRESS or a.arg < 0 or not a.detail:
            return None
        return self._callee_effect(unit, fn, a, self._params)

    # statics stored by a call -----------------------------------------------
    def stores(self, unit: Unit, call: Call) -> dict[str, Effect]:
        """The statics (by key) a call stores into without a lock, in the callee or the callees it makes."""
        out: dict[str, Effect] = {}
        for target in self.targets(unit, call.name):
            for var, eff in self._stores_of(target, _MAX_DEPTH).items():
                out.setdefault(var, eff)
        return out

    def _stores_of(self, key: Key, depth: int) -> dict[str, Effect]:
        memo = self._static_memo.get((key, depth))
        if memo is not None:
            return memo
        self._static_memo[(key, depth)] = {}  # recursion: nothing more
        unit, fn = self.graph.functions[key]
        out: dict[str, Effect] = {}
        for a in fn.accesses:
            if param_index(a.var) is not None or self.guarded(a.locks, unit):
                continue
            if a.kind.writes:
                out.setdefault(a.var, Effect(WRITES, fn.name, unit.path, a.span))
            elif a.kind == AccessKind.ADDRESS:
                eff = self.through(unit, fn, a)
                if eff is not None:
                    out.setdefault(a.var, eff)
        if depth > 0:
            for call in fn.calls:
                if self.guarded(call.locks, unit):
                    continue
                for target in self.targets(unit, call.name):
                    if target != key:
                        for var, eff in self._stores_of(target, depth - 1).items():
                            out.setdefault(
                                var,
                                Effect(eff.how, eff.function, eff.path, eff.span, eff.write, (call.name, *eff.chain)),
                            )
        self._static_memo[(key, depth)] = out
        return out

    def effects(self) -> Iterator[tuple[Key, int, Effect]]:
        """Every summarised (function, parameter, effect), for tests and debugging."""
        for key, by_index in self._params.items():
            for index, eff in by_index.items():
                yield key, index, eff


def _call_at(fn: Function, a: Access) -> Call | None:
    """The call of `a.detail` whose argument the access is."""
    line, col = a.span.line, a.span.col
    best = None
    for c in fn.calls:
        s = c.span
        inside = c.name == a.detail and (s.line, s.col) <= (line, col) <= (s.end_line, s.end_col)
        if inside and (best is None or (s.line, s.col) > (best.span.line, best.span.col)):
            best = c
    return best


def summaries_of(project: object, guarded: Guarded) -> Summaries:
    """The scan's summaries, built once (`project` is the engine's Project, which memoises them)."""
    from .engine import Project

    assert isinstance(project, Project)
    graph = project.memo("callgraph", lambda: CallGraph(project.units))
    return project.memo("summaries", lambda: Summaries(graph, guarded))


__all__ = ["INITIALISES", "WRITES", "Effect", "Summaries", "own_key", "summaries_of"]
