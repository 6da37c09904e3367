"""The pointer-flow fact (facts.Flow) shared by the C/C++ frontends: which locals to follow, and the
fact built from what a frontend saw of every local.

A frontend walks a function that calls an allocator (`has_allocation`) and reports, for every local
variable (parameters included), the values assigned to it (`Origin`) and the places its value goes
(`Flow`s of kind FREED, REALLOCATED, RETURNED, STORED, PASSED, COPIED, ADDRESS, OTHER).
`pointer_flows` keeps the locals that receive an allocation and, transitively, those a value of one is
copied into, with their origins turned into ALLOCATED / ASSIGNED flows. The names are the C
allocators of CPython (object, mem and raw domains, their macro spellings) and of the C library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ..facts import Flow, FlowKind, Span

ALLOCATORS = frozenset(
    {
        "PyObject_Malloc",
        "PyObject_Calloc",
        "PyObject_MALLOC",
        "PyMem_Malloc",
        "PyMem_Calloc",
        "PyMem_MALLOC",
        "PyMem_New",
        "PyMem_NEW",
        "PyMem_RawMalloc",
        "PyMem_RawCalloc",
        "malloc",
        "calloc",
    }
)
REALLOCATORS = frozenset(
    {"PyObject_Realloc", "PyObject_REALLOC", "PyMem_Realloc", "PyMem_REALLOC", "PyMem_RawRealloc", "realloc"}
)
DEALLOCATORS = frozenset(
    {
        "PyObject_Free",
        "PyObject_FREE",
        "PyObject_Del",
        "PyObject_DEL",
        "PyMem_Free",
        "PyMem_FREE",
        "PyMem_Del",
        "PyMem_DEL",
        "PyMem_RawFree",
        "free",
    }
)
# Calls whose result is the allocation (a reallocator both consumes its first argument and allocates).
ALLOCATING = ALLOCATORS | REALLOCATORS


class Origin(NamedTuple):
    """A value assigned to a local: `callee` for a call's result, `source` for another local, neither
    for anything else; `null` for NULL/0 (not a flow)."""

    span: Span
    callee: str = ""
    source: str = ""
    null: bool = False


def has_allocation(call_names: Iterable[str]) -> bool:
    """Whether a function calling these is worth the pointer-flow walk."""
    return any(n in ALLOCATING for n in call_names)


def use_of_call_arg(callee: str, index: int, span: Span, used: bool) -> Flow:
    """The flow of a local passed as argument `index` of `callee` (the call at `span`)."""
    if callee in DEALLOCATORS:
        return Flow(FlowKind.FREED, span, callee, index)
    if callee in REALLOCATORS and index == 0:
        return Flow(FlowKind.REALLOCATED, span, callee, index)
    return Flow(FlowKind.PASSED, span, callee, index, used)


def pointer_flows(
    origins: dict[str, list[Origin]], uses: dict[str, list[Flow]], params: Iterable[str] = (), entry: Span | None = None
) -> dict[str, list[Flow]]:
    """The fact: the locals holding an allocation (or a copy of one), each with its flows in source order.
    `params`: the function's parameters, which also hold the caller's value (an ASSIGNED flow at `entry`,
    the function's position)."""
    for name in params:
        if entry is not None:
            origins.setdefault(name, []).insert(0, Origin(entry))
    tracked = {v for v, os in origins.items() if any(o.callee in ALLOCATING for o in os)}
    todo = list(tracked)
    while todo:
        v = todo.pop()
        for f in uses.get(v, ()):
            if f.kind == FlowKind.COPIED and f.detail not in tracked:
                tracked.add(f.detail)
                todo.append(f.detail)
    out: dict[str, list[Flow]] = {}
    for v in sorted(tracked):
        flows = []
        for o in origins.get(v, ()):
            if o.null:
                continue
            if o.callee in ALLOCATING:
                flows.append(Flow(FlowKind.ALLOCATED, o.span, o.callee))
            else:
                flows.append(Flow(FlowKind.ASSIGNED, o.span, o.source))
        flows += uses.get(v, ())
        out[v] = sorted(flows, key=lambda f: (f.span, f.kind.value))
    return out
