"""Whether FT206's allocation can be switched to `PyMem_*` mechanically, from Function.pointer_flows.

In: a unit and the FT206 allocation calls of it. Out, per call: the positions of every object-
allocator call on that buffer (its allocations, reallocations and frees, which all change together),
or the reason no edit is offered. Safe means the buffer never leaves the function: the local that
receives it (and every local it is copied into) is not returned, not stored into a field, a static,
an array or through a pointer, its address is not taken, and it is passed to no call but the memory
functions and the calls of `READERS` (which use the memory only while they run); every value those
locals hold is an allocation of the object or mem domain (or NULL), of a buffer type, and every free
and reallocation is one of those domains' functions. Then nothing outside the function can see which
allocator made the memory, and the edit is all of it.

Template expansions (numpy's `.c.src`) map several generated calls onto one template position: the
edit is offered only when every object-allocator call at its positions is covered by a safe buffer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..facts import ArgKind, Call, Flow, FlowKind, Function, Span, Unit

# The object-domain spellings and the mem-domain forms the edit writes.
PYMEM_FORM = {
    "PyObject_Malloc": "PyMem_Malloc",
    "PyObject_Calloc": "PyMem_Calloc",
    "PyObject_Realloc": "PyMem_Realloc",
    "PyObject_Free": "PyMem_Free",
    "PyObject_MALLOC": "PyMem_MALLOC",
    "PyObject_REALLOC": "PyMem_REALLOC",
    "PyObject_FREE": "PyMem_FREE",
    "PyObject_Del": "PyMem_Free",
    "PyObject_DEL": "PyMem_FREE",
}
_MEM_DOMAIN = {
    "PyMem_Malloc",
    "PyMem_Calloc",
    "PyMem_Realloc",
    "PyMem_Free",
    "PyMem_MALLOC",
    "PyMem_REALLOC",
    "PyMem_FREE",
    "PyMem_New",
    "PyMem_NEW",
    "PyMem_Del",
    "PyMem_DEL",
}
_DOMAINS = set(PYMEM_FORM) | _MEM_DOMAIN
# Calls that use the memory only while they run and keep no pointer into it: name -> the index of an
# argument that would receive a pointer into it (`char **end`), which must then be NULL; -1 for none.
# `returns_it`: the call returns its first argument, so its result must be discarded.
READERS: dict[str, int] = {
    "memcpy": -1,
    "memmove": -1,
    "memset": -1,
    "memcmp": -1,
    "strlen": -1,
    "strnlen": -1,
    "strcmp": -1,
    "strncmp": -1,
    "strcpy": -1,
    "strncpy": -1,
    "strcat": -1,
    "strncat": -1,
    "snprintf": -1,
    "sprintf": -1,
    "PyOS_snprintf": -1,
    "PyLong_FromString": 1,
    "PyOS_string_to_double": 1,
    "strtol": 1,
    "strtoul": 1,
    "strtoll": 1,
    "strtoull": 1,
    "strtod": 1,
    "PyBytes_FromStringAndSize": -1,
    "PyBytes_FromString": -1,
    "PyByteArray_FromStringAndSize": -1,
    "PyUnicode_FromStringAndSize": -1,
    "PyUnicode_FromString": -1,
    "PyUnicode_DecodeUTF8": -1,
    "PyUnicode_FromKindAndData": -1,
}
_RETURNS_IT = {"memcpy", "memmove", "memset", "strcpy", "strncpy", "strcat", "strncat"}


@dataclass(frozen=True)
class Verdict:
    """The edit positions for one allocation, or why there is none (`reason` non-empty)."""

    edits: tuple[Span, ...] = ()
    reason: str = ""


def _at(span: Span) -> str:
    return f"line {span.line}"


def _call_at(fn: Function, span: Span) -> list[Call]:
    return [c for c in fn.calls if c.span == span]


def _refusal(fn: Function, name: str, f: Flow) -> str:
    """Why flow `f` of local `name` keeps the buffer's allocator from changing, "" when it does not."""
    k = f.kind
    if k == FlowKind.ALLOCATED:
        if f.detail not in _DOMAINS:
            return f"`{name}` also holds memory from {f.detail}() ({_at(f.span)})"
        calls = _call_at(fn, f.span)
        if f.detail in PYMEM_FORM and not any(c.result == "buffer" for c in calls):
            return f"`{name}` also holds an allocation whose type does not say it is no Python object ({_at(f.span)})"
        return ""
    if k == FlowKind.ASSIGNED:
        if f.detail and f.detail in fn.pointer_flows:
            return ""
        if f.span == fn.span:
            return f"`{name}` is a parameter: it also holds its caller's pointer"
        return f"`{name}` also holds another value ({_at(f.span)})"
    if k in (FlowKind.FREED, FlowKind.REALLOCATED):
        return "" if f.detail in _DOMAINS else f"`{name}` is passed to {f.detail}() ({_at(f.span)})"
    if k == FlowKind.COPIED:
        return ""
    if k == FlowKind.RETURNED:
        return f"`{name}` is returned ({_at(f.span)}): its caller frees it"
    if k == FlowKind.STORED:
        return f"`{name}` is stored into `{f.detail}` ({_at(f.span)}): it may be freed elsewhere"
    if k == FlowKind.ADDRESS:
        return f"the address of `{name}` is taken ({_at(f.span)})"
    if k == FlowKind.PASSED:
        return _passed(fn, name, f)
    return f"`{name}` is used in {f.detail or 'an expression'} ({_at(f.span)}), which the analysis does not follow"


def _passed(fn: Function, name: str, f: Flow) -> str:
    callee = f.detail or "a call through a pointer"
    refused = f"`{name}` is passed to {callee}() ({_at(f.span)}), which may keep or free it"
    if f.detail not in READERS:
        return refused
    if f.used and f.detail in _RETURNS_IT:
        return f"`{name}` is passed to {callee}() whose result, the same pointer, is used ({_at(f.span)})"
    end = READERS[f.detail]
    if end >= 0 and end != f.arg:
        for c in _call_at(fn, f.span):
            if len(c.args) > end and not (c.args[end].kind == ArgKind.LITERAL and c.args[end].value == 0):
                return f"`{name}` is passed to {callee}(), whose argument {end + 1} may point into it ({_at(f.span)})"
    return ""


def _group(fn: Function, start: str) -> list[str]:
    """`start` and every local a value of it is copied into or from."""
    seen = {start}
    todo = [start]
    while todo:
        v = todo.pop()
        for f in fn.pointer_flows.get(v, ()):
            other = f.detail if f.kind in (FlowKind.COPIED, FlowKind.ASSIGNED) else ""
            if other and other in fn.pointer_flows and other not in seen:
                seen.add(other)
                todo.append(other)
    return sorted(seen)


def verdict(fn: Function, call: Call) -> Verdict:
    """Whether the allocation `call` of `fn` can become PyMem_*, and with which edits."""
    holders = [
        v
        for v, flows in fn.pointer_flows.items()
        if any(f.kind == FlowKind.ALLOCATED and f.span == call.span for f in flows)
    ]
    if not holders:
        return Verdict(reason="its result is not kept in a local variable (it goes into a field, a static or a call)")
    edits: set[Span] = set()
    for name in _group(fn, holders[0]):
        for f in fn.pointer_flows[name]:
            why = _refusal(fn, name, f)
            if why:
                return Verdict(reason=why)
            if f.kind in (FlowKind.ALLOCATED, FlowKind.FREED, FlowKind.REALLOCATED) and f.detail in PYMEM_FORM:
                edits.add(f.span)
    return Verdict(edits=tuple(sorted(edits)))


def verdicts(unit: Unit, allocations: Iterable[tuple[Function, Call]]) -> dict[tuple[int, Span], Verdict]:
    """`verdict` of every allocation (keyed by id(function), call span), with the template check."""
    allocations = list(allocations)
    out = {(id(fn), call.span): verdict(fn, call) for fn, call in allocations}
    memory = [(fn, c) for fn in unit.functions for c in fn.calls if c.name in PYMEM_FORM]
    changed = True
    while changed:  # a refusal uncovers the positions it shared: judge again
        changed = False
        covered = {(key[0], s) for key, v in out.items() for s in v.edits}
        covered_calls = {(id(fn), c.span) for fn, c in memory if (id(fn), c.span) in covered}
        for key, v in out.items():
            why = _template_conflict(v, memory, covered_calls)
            if why:
                out[key] = Verdict(reason=why)
                changed = True
    return out


def _template_conflict(v: Verdict, memory: list[tuple[Function, Call]], covered: set[tuple[int, Span]]) -> str:
    for s in v.edits:
        same = [(fn, c) for fn, c in memory if c.span[:2] == s[:2]]
        if len({(id(fn), c.span) for fn, c in same}) < len(same):
            return f"{_at(s)} is expanded into several calls (a template): not edited"
        if any((id(fn), c.span) not in covered for fn, c in same):
            return f"{_at(s)} also expands to a call on another allocation (a template)"
    return ""
