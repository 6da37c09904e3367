"""Which parameters a call may keep: a per-scan summary of whether a function makes the object passed
at a position reachable by other code after it returns (rules/_fresh.py asks it of constructors: a
`__init__` that calls its own methods on `self`, or hands `self` to a helper that only uses it, does not
publish the new object).

Facts used (every frontend's): `Function.stores` (a local stored into a field, an item or a global,
and the receiver of its own method call), `Function.calls`, `Function.returns` and the call graph.

Parameter `i` of a function is kept when the function, through the parameter or a local copy of it:

- stores it anywhere (a field, an item, a global, through a pointer);
- returns it (the caller then holds it beyond the call);
- passes it to a call that may keep it: one defined nowhere in the scan (except the catalogue's
  inspecting calls, and the first argument of a C API call that does not run code: as `_fresh._passes`),
  or a function of the scan that keeps that parameter;
- calls a method on it (Cython `x.m()`, recorded as a store of the receiver ending where the call's
  name starts) that keeps its receiver, or that Python code may override (a method used as a value at
  file scope: `def`/`cpdef`, special methods): its override may keep it.

Calls are resolved as the call graph dispatches them (`CallGraph.resolve_call`): a method call on a
receiver of a known class of the scan (a typed local, parameter or attribute, a cast, `self`) reaches
that class's method, inherited or overridden below it, not every method of that name; an unknown
receiver falls back to every method of the name. A call through a class of the scan by its name
(`Base.__init__(self, p)`, `CallGraph.resolve_unbound`) reaches that class's own or inherited method,
with the arguments in place when its first parameter is `self`. Any other call by an attribute on
something other than a local (`self._x.m(p)`) leaves open whether the receiver is among the arguments:
both positions are asked. Recursion, and chains deeper than _MAX_DEPTH, count as keeping it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..callgraph import CallGraph, Key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import ArgKind, Call, Function, Store, Unit

_MAX_DEPTH = 6


class Keeps:
    """Answers `keeps(function, parameter index)` for the functions of one scan (memoised)."""

    def __init__(self, graph: CallGraph, catalogue: Catalogue) -> None:
        self.graph = graph
        self.cat = catalogue
        self._memo: dict[tuple[Key, int], bool] = {}
        self._busy: set[tuple[Key, int]] = set()

    def keeps(self, key: Key, index: int, depth: int = 0) -> bool:
        """May a call of `key` keep what it is passed as parameter `index` (its receiver: 0 in a method)?"""
        done = self._memo.get((key, index))
        if done is not None:
            return done
        if depth > _MAX_DEPTH or (key, index) in self._busy or key not in self.graph.functions:
            return True
        unit, fn = self.graph.functions[key]
        if index >= len(fn.params):
            return True  # `*args` or a frontend that did not see the parameter
        self._busy.add((key, index))
        from ._fresh import aliases_of  # _fresh asks this summary of its constructors

        got = self.names_kept(unit, fn, aliases_of(fn, fn.params[index].name), depth)
        self._busy.discard((key, index))
        if got or depth == 0:
            self._memo[(key, index)] = got  # a False found under a recursion assumption stays unmemoised
        return got

    def names_kept(self, unit: Unit, fn: Function, names: set[str], depth: int) -> bool:
        """Does `fn` keep the object the locals `names` hold (see the module docstring)?"""
        receivers = _receiver_calls(fn)
        store_ends = {_end(s) for s in fn.stores}
        for s in fn.stores:
            if s.name not in names:
                continue
            call = receivers.get(_end(s))
            if call is None or self._receiver_kept(unit, call, depth):
                return True
        if any(r.source in names for r in fn.returns if r.source):
            return True
        for call in fn.calls:
            if call.name in self.cat.inspecting_calls:
                continue
            operand = call.name.startswith(("Py", "_Py")) and not call.name.startswith(self.cat.operand_code_prefixes)
            bound = (call.span.line, call.span.col) in store_ends
            for j, a in enumerate(call.args):
                passed = a.kind == ArgKind.NAME and a.path in names and not (j == 0 and operand)
                if passed and self._argument_kept(unit, call, j, bound, depth):
                    return True
        return False

    def _receiver_kept(self, unit: Unit, call: Call, depth: int) -> bool:
        targets = self.graph.resolve_call(unit, call)
        if not targets:
            return True
        for t in targets:
            member = "." in t[1] or "::" in t[1]
            if not member or t in self.graph.file_refs or self.keeps(t, 0, depth + 1):
                return True
        return False

    def kept_by(self, unit: Unit) -> Callable[[Call, set[str]], bool]:
        """For calls made in `unit`: may `call` keep one of the locals `names` it is passed, as an argument
        or as its receiver (`x.m()`)? A call of the scan is asked of its definitions (every one a call may
        reach); any other call keeps it."""

        def kept(call: Call, names: set[str]) -> bool:
            passed = any(a.kind == ArgKind.NAME and a.path in names for a in call.args)
            if call.receiver in names and self._receiver_kept(unit, call, 0):
                return True  # `x.m()`: a method that keeps `self`, one Python may override, or unresolved
            return any(
                a.kind == ArgKind.NAME and a.path in names and self._argument_kept(unit, call, j, False, 0)
                for j, a in enumerate(call.args)
            ) or not (passed or call.receiver in names)

        return kept

    def _argument_kept(self, unit: Unit, call: Call, j: int, bound: bool, depth: int) -> bool:
        unbound = self.graph.resolve_unbound(unit, call)
        if unbound is not None:  # `Base.__init__(self, p)`: that class's method, given the receiver first
            return any(self.keeps(t, p, depth + 1) for t in unbound for p in _unbound_positions(self.graph, t, j))
        targets = self.graph.resolve_call(unit, call)
        if not targets:
            return True
        for t in targets:
            member = "." in t[1] or "::" in t[1]
            # A bound call on a local passes the receiver apart; any other member call may pass it first.
            positions = (j + 1,) if member and bound else (j, j + 1) if member else (j,)
            if any(self.keeps(t, p, depth + 1) for p in positions):
                return True
        return False


def _unbound_positions(graph: CallGraph, target: Key, j: int) -> tuple[int, ...]:
    """The parameters argument `j` of a call through the class's name may fill: `j` itself for a method
    taking `self` first (the instance is passed explicitly); both `j` and `j + 1` otherwise (a classmethod
    gets its class apart)."""
    params = graph.functions[target][1].params
    return (j,) if params and params[0].name == "self" else (j, j + 1)


def _end(s: Store) -> tuple[int, int]:
    return (s.span.end_line, s.span.end_col)


def _receiver_calls(fn: Function) -> dict[tuple[int, int], Call]:
    """Calls by position of their name (where a receiver's store ends: `x.m()`)."""
    return {(c.span.line, c.span.col): c for c in fn.calls}


def keeps_summary(ctx: Context) -> Keeps:
    """The scan's summary of kept parameters, memoised per scan."""
    graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
    return ctx.project.memo("keeps", lambda: Keeps(graph, ctx.catalogue))
