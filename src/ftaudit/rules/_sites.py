"""The index the per-scan parameter summaries run their fixpoints over: which functions are entry points
(used as a value anywhere: a table, a slot, a callback, an address taken) and, per function, every call
site in the scan. rules/_fresh.py (parameters every call passes a new unpublished object) and
rules/_structs.py (parameters every call passes a struct on the caller's stack) both ask "does every call
site pass, at position i, something private?" over this one index, built once per scan (memo
`call-sites`), and drop a parameter by the same greatest fixpoint (`drop_unpassed`).

Inputs: the scan's call graph (callgraph.py). Outputs: `CallSites`; no errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..callgraph import CallGraph, Key, own_key
from ..facts import Call, Function, Unit

Site = tuple[Key, Unit, Function, Call]  # the caller's key, its unit and function, and the call


@dataclass(frozen=True)
class CallSites:
    """`referenced`: the functions some FunctionRef (of a unit or of a function) resolves to; `sites`: per
    function, the calls that may run it (caller, its unit, its function, the call), in scan order."""

    referenced: frozenset[Key]
    sites: Mapping[Key, tuple[Site, ...]]

    @classmethod
    def build(cls, graph: CallGraph) -> CallSites:
        """The index of `graph` (every unit's refs and calls, resolved as the call graph resolves them)."""
        referenced: set[Key] = set()
        sites: dict[Key, list[Site]] = {}
        for unit in graph.units:
            for ref in [*unit.refs, *(r for fn in unit.functions for r in fn.refs)]:
                referenced.update(graph.resolve_ref(unit, ref.name))
            for fn in unit.functions:
                me = own_key(unit, fn)
                for call in fn.calls:
                    for target in graph.resolve_all(unit, call.name):
                        sites.setdefault(target, []).append((me, unit, fn, call))
        return cls(frozenset(referenced), {k: tuple(v) for k, v in sites.items()})


def call_sites(memo: Callable[[str, Callable[[], CallSites]], CallSites], graph: CallGraph) -> CallSites:
    """The scan's index of `graph`, computed once (`memo` is the project's: engine.Project.memo)."""
    return memo("call-sites", lambda: CallSites.build(graph))


def drop_unpassed(
    candidates: dict[Key, set[int]], index: CallSites, passes: Callable[[Site, int], bool]
) -> dict[Key, frozenset[int]]:
    """The greatest fixpoint: drop parameter `i` of a candidate as soon as one of its call sites does not
    pass it (`passes(site, i)`, which may rest on the candidates still kept: they only shrink). Changes
    `candidates` in place; returns the parameters left, per function that keeps any."""
    changed = True
    while changed:
        changed = False
        for key, indexes in candidates.items():
            for i in sorted(indexes):
                if not all(passes(site, i) for site in index.sites.get(key, ())):
                    indexes.discard(i)
                    changed = True
    return {k: frozenset(v) for k, v in candidates.items() if v}
