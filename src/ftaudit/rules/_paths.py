"""Access paths just filled with a new object: `p->items = PyTuple_New(n)` then `PyTuple_SET_ITEM(p->items,
0, v)`, where `p` is an object only this call can see (rules/_fresh.py: a new object, a constructor's
`self`). The container at `p->items` is then as private as a local that held the new tuple would be.

Reaching definitions over the access path rather than a local (the same structured flow as
`_protection.reaching`): the stores into the member `p.items` (C: `Function.member_stores`; Cython:
`FieldWrite.value`, its field writes not being MemberStores) that may reach the use must all store the
result of a fresh constructor (the catalogue's, or a call `constructs` accepts: a constructible class, a
factory of the return summary), and between each of them and the use:

- `p` is not redefined (`p = other`: the path then names another object's member);
- no call takes the path itself where it may keep or replace it (any call but the C API's operand, its
  first argument, of a call that runs no code, and the catalogue's inspecting calls; the assigning macros
  `Py_SETREF`/`Py_CLEAR` replace it);
- no call takes `p` (or a copy of it) but the catalogue's inspecting calls: a helper given the object may
  rebind any of its members.

Events after the use count too when a loop encloses the use but not the store; those in the other arm of
an if/else do not (as `_fresh.published`). A member whose address is taken (`&p->items`) has a definition
of unknown value there, so it is never fresh after. Element paths (`lst[0]`, recorded as `lst[]`: every
index one path) are not judged: one index's store would hide another's.

Inputs: the function's facts, the catalogue, the path argument and the use; `constructs` and
`root_private` from the caller's Freshness. Output: a yes/no; no errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..catalogue import Catalogue
from ..facts import Arg, ArgKind, Assignment, Call, Function, OriginKind
from ._protection import Point, reaching_among

Constructs = Callable[[str, tuple[Arg, ...]], bool]


def path_definitions(fn: Function, path: str) -> list[Assignment]:
    """Every store into the member `path` in `fn` (an augmented or unknown one as an OTHER origin)."""
    out = [st.value for st in fn.member_stores if st.target == path]
    for w in fn.field_writes:
        if w.path == path and w.value is not None:
            out.append(w.value)
    return out


def _changes_path(call: Call, index: int, cat: Catalogue) -> bool:
    """May `call`, given the path as argument `index`, keep or replace what the path holds?"""
    name = call.name
    if name in cat.statics.assigning_macros:
        return True
    if name in cat.inspecting_calls:
        return False
    operand = name.startswith(("Py", "_Py")) and not name.startswith(cat.operand_code_prefixes)
    return not (index == 0 and operand)


def _events(fn: Function, path: str, roots: set[str], cat: Catalogue, use: Call | None) -> Iterator[Point]:
    """Where the path's container may be kept or replaced, or its object handed to a call."""
    for call in fn.calls:
        if call is use:
            continue
        for i, a in enumerate(call.args):
            if (a.kind == ArgKind.MEMBER and a.path == path and _changes_path(call, i, cat)) or (
                a.kind == ArgKind.NAME and a.path in roots and call.name not in cat.inspecting_calls
            ):
                yield call.span, call.regions
                break
    for root in roots:
        for d in fn.locals.get(root, []):
            if d.span is not None:
                yield d.span, d.regions


def fresh_path(
    fn: Function,
    cat: Catalogue,
    arg: Arg,
    at: Point,
    constructs: Constructs,
    root_private: Callable[[str], bool],
    use: Call | None = None,
) -> bool:
    """Is the container at the member path `arg` (`p.items`), used at `at` (by the call `use`), one a fresh
    constructor stored there in this function, unchanged since, in an object `root_private` accepts?"""
    from ._fresh import aliases_of, happens_between  # _fresh imports this module: import here, not at load

    if arg.kind != ArgKind.MEMBER or "[" in arg.path or not arg.root or not arg.path.startswith(arg.root + "."):
        return False
    defs, entry = reaching_among(fn, path_definitions(fn, arg.path), at)
    if entry or not defs or not root_private(arg.root):
        return False
    for d in defs:
        if d.span is None or d.kind != OriginKind.CALL:
            return False
        if d.callee not in cat.fresh_constructors and not constructs(d.callee, d.args):
            return False
    roots = aliases_of(fn, arg.root)
    events = list(_events(fn, arg.path, roots, cat, use))
    return not any(happens_between(fn, e, (d.span, d.regions), at) for d in defs if d.span for e in events)
