"""FT2: C API references and containers (FT201-FT205)."""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import replace

from ..engine import Context, rule
from ..facts import Arg, ArgKind, Call, Comparison, Function, LockKind, Operand, OriginKind, Unit
from ..findings import Finding, Suppression
from ._buffers import verdicts
from ._containers import frozen_containers
from ._fresh import Freshness, freshness
from ._protection import Privacy, protects
from ._roles import roles_of

_UNLOCKED_MACROS = ("PyList_GET_ITEM", "PySequence_Fast_GET_ITEM", "PySequence_Fast_ITEMS")
_SET_ITEM = ("PyList_SET_ITEM", "PyTuple_SET_ITEM")
_REFCOUNT_CALLS = {"Py_REFCNT", "_Py_REFCNT"}
_REFCOUNT_FIELDS = {"ob_refcnt"}
# (operator, literal) pairs that test "am I the only owner?" with the refcount on the left.
_UNIQUENESS = {("==", 1), ("!=", 1), ("<=", 1), (">", 1), ("<", 2), (">=", 2)}
_MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _describe(arg: Arg, lang: str = "c") -> str:
    if arg.kind in (ArgKind.NAME, ArgKind.MEMBER):
        return f"`{_plain(arg, lang)}`"
    if arg.kind == ArgKind.CALL:
        return f"the result of {arg.path}()"
    return "the container"


def _container_calls(unit: Unit, ctx: Context, names: Container[str]) -> Iterator[tuple[Freshness, str, Call]]:
    """The calls of `names` in the unit, each with the judge of its function's fresh objects (whose
    `privacy` is the function's Privacy). Functions that run only during module init or teardown are
    left out, as FT101 leaves them: no Python thread uses the module's objects yet (_roles.py)."""
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        if roles[fn.name].init_only:
            continue
        fresh: Freshness | None = None
        for call in fn.calls:
            if call.name in names:
                fresh = fresh or freshness(unit, fn, ctx)
                yield fresh, fn.name, call


def _frozen(finding: Finding, unit: Unit, ctx: Context, privacy: Privacy, arg: Arg) -> Finding:
    """The finding, set aside (origin "frozen", shown as a note with -v) when its container is frozen:
    nothing in the scan changes it after construction (rules/_containers.py)."""
    why = frozen_containers(ctx).reason(unit, privacy.fn, arg)
    if why is None:
        return finding
    return replace(finding, suppression=Suppression("external", why, "frozen"))


def _shared(fresh: Freshness, call: Call, index: int) -> Arg | None:
    """The container argument when it is shared and unprotected, else None: not private to the function
    (Privacy), nor a parameter every caller passes a new container (_fresh.py), nor locked."""
    if index < 0:
        return Arg(ArgKind.OTHER) if not protects(call.locks, Arg(ArgKind.OTHER)) else None
    if index >= len(call.args):
        return None
    arg = call.args[index]
    at = (call.span, call.regions)
    if fresh.privacy.is_private(arg, at=at) or protects(call.locks, arg):
        return None
    if arg.kind == ArgKind.NAME and fresh.is_fresh(arg.path, at):
        return None
    if arg.kind == ArgKind.MEMBER and (fresh.private_member(arg) or fresh.fresh_member(arg, call)):
        return None  # kept in a struct on this thread's stack (_structs.py), or just stored new (_paths.py)
    return arg


def presence_test(fn: Function, call: Call) -> bool:
    """Is the call's result only compared with NULL (`if (PyDict_GetItem(d, k) != NULL)`)? Then nothing
    borrowed is ever used, and another thread freeing the item cannot hurt. The comparison is the one
    whose operand is this very call: the same callee and arguments, on the call's line (libclang and
    tree-sitter give the comparison's whole span, Cython its operator's)."""
    line = call.span.line
    for cmp in fn.comparisons:
        if cmp.op not in ("==", "!=") or not (cmp.span.line <= line <= cmp.span.end_line):
            continue
        for side, other in ((cmp.lhs, cmp.rhs), (cmp.rhs, cmp.lhs)):
            if other.value == 0 and side.call == call.name and side.call_args == call.args:
                return True
    return False


@rule("FT201")
def borrowed_reference(unit: Unit, ctx: Context) -> Iterator[Finding]:
    table = ctx.catalogue.borrowed
    for fresh, fname, call in _container_calls(unit, ctx, table):
        b = table[call.name]
        arg = _shared(fresh, call, b.container_arg)
        if arg is None or presence_test(fresh.privacy.fn, call):
            continue
        source = f" from {_describe(arg, unit.language)}" if b.container_arg >= 0 else ""
        compat = "; pythoncapi-compat backports it" if b.compat else ""
        note = f"{b.note}; " if b.note else ""
        alternative = f", or {b.alternative}" if b.alternative else ""
        msg = f"{call.name} returns a borrowed reference{source}"
        detail = (
            f"another thread can free it; {note}use {b.replacement} (Python {b.since}+{compat}), which returns a "
            f"strong reference{alternative}"
        )
        yield _frozen(ctx.finding(unit, call.span, msg, fname, detail=detail), unit, ctx, fresh.privacy, arg)


@rule("FT202")
def unlocked_container_macro(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for fresh, fname, call in _container_calls(unit, ctx, _UNLOCKED_MACROS):
        arg = _shared(fresh, call, 0)
        if arg is None:
            continue
        what = _describe(arg, unit.language)
        if call.name == "PyList_GET_ITEM":
            fix = f"{_section(arg, unit.language)} or use PyList_GetItemRef"
        else:
            fix = (
                f"PySequence_Fast returns the very list it was given: wrap the loop in "
                f"Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST({_plain(arg)}) or use PySequence_GetItem"
            )
        found = ctx.finding(
            unit,
            call.span,
            f"{call.name} reads {what} without a lock",
            fname,
            detail=f"other threads may resize it or replace its items; {fix}",
        )
        yield _frozen(found, unit, ctx, fresh.privacy, arg)


def _plain(arg: Arg, lang: str = "c") -> str:
    if not arg.path:
        return "op"
    return arg.path if lang == "cython" else arg.path.replace(".", "->")


def _section(arg: Arg, lang: str, what: str = "the access") -> str:
    """How to lock the object in this language."""
    if lang == "cython":
        return f"wrap {what} in `with cython.critical_section({_plain(arg, lang)}):`"
    end = "Py_END_CRITICAL_SECTION()"
    return f"wrap {what} in Py_BEGIN_CRITICAL_SECTION({_plain(arg, lang)}) ... {end}"


@rule("FT203")
def unlocked_dict_iteration(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for fresh, fname, call in _container_calls(unit, ctx, ("PyDict_Next",)):
        arg = _shared(fresh, call, 0)
        if arg is None:
            continue
        found = ctx.finding(
            unit,
            call.span,
            f"PyDict_Next iterates {_describe(arg, unit.language)} without locking it",
            fname,
            detail=f"another thread can resize the dict or free the borrowed key and value; "
            f"{_section(arg, unit.language, 'the loop')} or iterate a PyDict_Copy snapshot",
        )
        yield _frozen(found, unit, ctx, fresh.privacy, arg)


@rule("FT204")
def refcount_uniqueness_check(unit: Unit, ctx: Context) -> Iterator[Finding]:
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        if roles[fn.name].init_only:
            continue  # as _container_calls: nothing is shared before the module is
        privacy = Privacy(fn, ctx.catalogue)
        for cmp in fn.comparisons:
            for refside, other, op in ((cmp.lhs, cmp.rhs, cmp.op), (cmp.rhs, cmp.lhs, _MIRROR[cmp.op])):
                via = _refcount_local(fn, refside, cmp)
                if via is not None:
                    refside = via
                is_refcnt = refside.call in _REFCOUNT_CALLS or refside.member in _REFCOUNT_FIELDS
                if is_refcnt and (op, other.value) in _UNIQUENESS:
                    if cmp.in_assertion and _fresh_operand(privacy, refside, cmp):
                        break  # a sanity check on an object no other thread can see yet decides nothing
                    what = f"{refside.call}(...)" if refside.call else refside.member
                    if via is not None:
                        what = f"`{cmp.lhs.name or cmp.rhs.name}` (= {what})"
                    yield ctx.finding(
                        unit,
                        cmp.span,
                        f"{what} {op} {other.value} is used as an exclusive-ownership test",
                        fn.name,
                        detail="the free-threaded build does not support it (other threads can take references "
                        "at any time, counts may be split or deferred); use PyUnstable_Object_IsUniquelyReferenced "
                        "(3.14) or skip the in-place path under Py_GIL_DISABLED",
                    )
                    break


def _refcount_local(fn: Function, side: Operand, cmp: Comparison) -> Operand | None:
    """The refcount read a plain local holds (`n = Py_REFCNT(self); ... if (n == 1)`), as an Operand:
    every assignment to it before the comparison reads the count."""
    if side.name is None:
        return None
    before = [a for a in fn.locals.get(side.name, []) if a.span is None or a.span.line <= cmp.span.line]
    if not before or any(a.kind != OriginKind.CALL or a.callee not in _REFCOUNT_CALLS for a in before):
        return None
    return Operand(call=before[-1].callee, call_args=before[-1].args)


def _fresh_operand(privacy: Privacy, refside: Operand, cmp: Comparison) -> bool:
    """Is the object whose count is compared one this function just created (`Py_REFCNT(o)`)?"""
    args = refside.call_args
    return bool(args) and privacy.is_private(args[0], at=(cmp.span, cmp.regions))


@rule("FT205")
def set_item_on_shared_container(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for fresh, fname, call in _container_calls(unit, ctx, _SET_ITEM):
        arg = _shared(fresh, call, 0)
        if arg is None:
            continue
        fix = "PyList_SetItem" if call.name == "PyList_SET_ITEM" else "a new tuple"
        yield ctx.finding(
            unit,
            call.span,
            f"{call.name} stores into {_describe(arg, unit.language)} without a lock",
            fname,
            detail="the container was not created in this function, and the macro is only safe on a fresh "
            f"container no other thread can see: use {fix}",
        )


_OBJECT_ALLOCATORS = {
    "PyObject_Malloc": "PyMem_Malloc",
    "PyObject_Calloc": "PyMem_Calloc",
    "PyObject_Realloc": "PyMem_Realloc",
}


@rule("FT206")
def object_allocator_for_buffer(unit: Unit, ctx: Context) -> Iterator[Finding]:
    found = [
        (fn, call)
        for fn in unit.functions
        for call in fn.calls
        if call.name in _OBJECT_ALLOCATORS and call.result == "buffer"
    ]
    judged = verdicts(unit, found)
    for fn, call in found:
        v = judged[(id(fn), call.span)]
        yield ctx.finding(
            unit,
            call.span,
            f"{call.name} allocates a plain buffer",
            fn.name,
            detail="in the free-threaded build the object allocator must only hold Python objects (the GC "
            f"and lock-free reads walk its heaps); use {_OBJECT_ALLOCATORS[call.name]} and PyMem_Free",
            fix=v.edits,
            no_fix=v.reason,
        )


@rule("FT207")
def nested_critical_section(unit: Unit, ctx: Context) -> Iterator[Finding]:
    begins = ctx.catalogue.locks.critical_sections
    for fn in unit.functions:
        for call in fn.calls:
            if call.name not in begins or len(call.args) < 2:
                continue
            inner = tuple(a.path for a in call.args[1:])
            outer = [lk for lk in call.locks if lk.kind in (LockKind.CRITICAL_SECTION, LockKind.GUARD) and lk.objects]
            outer = [lk for lk in outer if lk.objects != inner]
            if not outer:
                continue
            held = ", ".join(_plain(Arg(ArgKind.NAME, o)) for o in outer[-1].objects)
            new = ", ".join(_plain(Arg(ArgKind.NAME, o)) for o in inner if o) or "another object"
            yield ctx.finding(
                unit,
                call.span,
                f"critical section on {new} opened while one on {held} is held",
                fn.name,
                detail=f"if it has to wait, the outer section is suspended and {held} is no longer protected; lock "
                f"both at once with Py_BEGIN_CRITICAL_SECTION2({held}, {new})",
            )
