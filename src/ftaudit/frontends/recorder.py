"""What every frontend's function walker does the same way: record accesses, pair a
static's check with the writes it guards, and drop a released lock.

The frontends differ in syntax only; keeping these judgements in one place
keeps the facts they produce comparable (the fixture test runs them all).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ..catalogue import ContainerVocabulary, LockVocabulary, StaticsVocabulary
from ..facts import (
    Access,
    AccessKind,
    Arg,
    ArgKind,
    Assignment,
    Call,
    Comparison,
    ContainerMutation,
    Function,
    LazyInit,
    Lock,
    LockKind,
    MemberStore,
    MutationKind,
    Operand,
    OriginKind,
    Param,
    Span,
    StaticVar,
    StaticWrite,
    Store,
    StructUse,
    param_index,
    param_key,
)
from .textscan import Assertions

State = tuple[Lock, ...]

# Branch-prediction hints around a condition (`NPY_UNLIKELY(x)`, `likely(x)`, `__builtin_expect(x, 0)`), as
# calls: tree-sitter never expands them, libclang does not when the header defining them is missing.
BRANCH_HINT = re.compile(r"^(?:[A-Za-z0-9]+_)?(?:UN)?LIKELY$|^(?:un)?likely$|^__builtin_expect$")

# Members of C++ reference holders that return the held object's raw pointer: cppy's `ptr::get()`,
# pybind11's and nanobind's `handle::ptr()`, `release()` of both, std::unique_ptr's `get()`. A call of
# one on a local (`terms.get()`) is that local's object, so it is judged as the local is.
RAW_POINTER_ACCESSORS = frozenset({"get", "ptr", "release"})


# The locks a helper can take for its caller or release for it (lockscope.py): not RAII guards (their scope
# ends in the helper) nor once routines.
_HELPER_KINDS = (LockKind.MUTEX, LockKind.CRITICAL_SECTION)


def union(a: State, b: State) -> State:
    """Locks held on either path (precision over recall: conditional locking counts as held)."""
    return a + tuple(x for x in b if x not in a)


def lock_key(arg: Arg) -> str:
    return arg.path or f"<{arg.kind.value}>"


def origin(a: Arg, args: tuple[Arg, ...] = (), span: Span | None = None, regions: tuple[int, ...] = ()) -> Assignment:
    """Where a local's value comes from (for container privacy), assigned at `span` inside `regions`."""
    if a.kind == ArgKind.CALL:
        return Assignment(OriginKind.CALL, a.path, args, span=span, regions=regions)
    if a.kind == ArgKind.NAME:
        return Assignment(OriginKind.NAME, source=a.path, span=span, regions=regions)
    if a.kind == ArgKind.LITERAL and a.value == 0:
        return Assignment(OriginKind.NULL, span=span, regions=regions)
    # A field read (`d = self->map`) keeps the field's path: a container changed through `d` is that field's.
    source = a.path if a.kind == ArgKind.MEMBER else ""
    return Assignment(OriginKind.OTHER, source=source, span=span, regions=regions)


def holds_named_value(fn: Function, local: str) -> bool:
    """Whether a local was loaded from a field or another name so far (`d = self->map`, `d = registry`): a
    change through it may be that container's. Changes through other locals are not recorded (fresh or
    unknown values, which rules/_containers.py could not name anyway)."""
    return any(d.source for d in fn.locals.get(local, ()))


def container_of(arg: Arg, static: str, params: dict[str, int]) -> tuple[str, str] | None:
    """(scope, key) of the container an argument names (ContainerMutation): the static `static` (its key,
    when the argument is one), a field (`self->map`, `st->cache`: by the field's name), a parameter, or a
    local; None for anything else (a call's result, a literal)."""
    if static:
        return "static", static
    if arg.kind == ArgKind.MEMBER and arg.path:
        last = arg.path.replace("[]", "").rsplit(".", 1)
        return ("field", last[-1]) if len(last) == 2 and last[-1] else None
    if arg.kind == ArgKind.NAME and arg.path:
        if arg.path in params:
            return "param", str(params[arg.path])
        return "local", arg.path
    return None


def static_arg_kind(
    sv: StaticsVocabulary,
    callee: str,
    index: int,
    address: bool,
    array: bool,
    containers: ContainerVocabulary | None = None,
) -> AccessKind:
    """What passing a static (`x`, `&x`, an array) as argument `index` of `callee` does to it: a container
    the call changes in place (`PyDict_SetItem(cache, k, v)`, when `containers` is given) is modified."""
    if containers is not None and not (address or array) and containers.mutated_arg(callee) == index:
        return AccessKind.METHOD_WRITE
    if sv.is_atomic_call(callee) and (address or array):
        return AccessKind.ATOMIC
    # Variadic out-parameters (`PyArg_ParseTuple(args, "O!", type, &obj)`) are written only when passed
    # by address; a fixed buffer argument (`memcpy(p, ...)`) writes what p points to.
    if sv.writes_arg(callee, index) and (address or array or isinstance(sv.buffer_writers[callee], tuple)):
        return AccessKind.CALL_WRITE
    return AccessKind.ADDRESS if address or array else AccessKind.READ


def slot_context(target: Arg, default: str) -> str:
    """Where a function named on the right of `target = f` is used: a type slot filled in code
    (`FooType.tp_init = (initproc)Foo_init;`, as in matplotlib) is the slot, else `default`."""
    field = target.path.rsplit(".", 1)[-1] if target.kind == ArgKind.MEMBER else ""
    return f"PyTypeObject.{field}" if field.startswith("tp_") else default


def pointer_params(params: Sequence[Param]) -> dict[str, int]:
    """The parameters declared as pointers or arrays to data they may write (`T *p`, `T **p`, `T p[]`,
    not `const T *p`), by name."""
    return {p.name: p.index for p in params if p.name and _writable_pointee(p.type)}


def _writable_pointee(type_text: str) -> bool:
    t = type_text.strip()
    if "[" in t:
        t = t.split("[", 1)[0] + "*"
    if "*" not in t:
        return False
    pointee = t[: t.rindex("*")].strip()
    return "*" in pointee or not (pointee.startswith("const ") or pointee.endswith(" const"))


def mark_abort_path(
    calls: list[Call], starts: Sequence[int], dies: Sequence[bool], escapes: Callable[[int], bool]
) -> bool:
    """Mark the calls of one block that certainly reach a process-ending call.

    `starts[i]` is `len(calls)` before the block's statement i was walked, `dies[i]` whether that statement
    certainly ends the process (a no-return call, an `if` whose branches both do, a block that does), and
    `escapes(i)` whether statement i may leave the block another way (return, goto, break, continue, throw).
    Marked: the calls of the first dying statement and of the statements before it back to the nearest one
    that may escape. Returns whether the block itself dies (no statement before the dying one escapes)."""
    first = next((i for i, d in enumerate(dies) if d), None)
    if first is None:
        return False
    k = first
    while k > 0 and not escapes(k - 1):
        k -= 1
    end = starts[first + 1] if first + 1 < len(starts) else len(calls)
    for i in range(starts[k], end):
        if not calls[i].abort_path:
            calls[i] = calls[i]._replace(abort_path=True)
    return k == 0


def mark_arm_abort_path(calls: list[Call], start: int) -> None:
    """Mark the calls from index `start` on as on an abort path: they were made by a branch arm, just
    walked, that certainly ends the process. A braced arm is a block and `mark_abort_path` marked it; a
    brace-less one (`if (!p) exit(EXIT_FAILURE);`, Brotli's allocation failures) is a one-statement
    arm no block walk sees, so its dying call would be reported as if the process went on."""
    for i in range(start, len(calls)):
        if not calls[i].abort_path:
            calls[i] = calls[i]._replace(abort_path=True)


class Recorder:
    """Mixed into a walker that has `fn`, `state` and `pending`."""

    fn: Function
    state: State
    # `if (x) return x;` seen (the static, its check, the locks and regions there): a later write to x is
    # lazy init
    pending: list[tuple[str, Span, State, tuple[int, ...]]]
    vocab: LockVocabulary
    gil_released: bool

    stored: set[str]  # statics this function wrote or passed by address so far
    static_values: dict[Span, Assignment]  # what each plain `x = v` on a static stored (static_value)
    early_marks: dict[Span, tuple[int, int]]  # an early-return check: the calls and accesses made before it
    early_inits: list[tuple[int, int, int]]  # lazy inits after one: (index in lazy_inits, its marks)
    regions: tuple[int, ...] = ()  # the branch arms and loop bodies being walked, outermost first
    entry_locks: State = ()  # held on entry (a lock decorator's): not taken by the body

    def returning(self) -> None:
        """The body returns here (a `return`, or its end): the locks it took and still holds are its
        `exit_locks` (an acquire helper). A `throw`/`raise` is not a return: the caller's code after the
        call does not run."""
        taken = tuple(lk for lk in self.state if lk.kind in _HELPER_KINDS and lk not in self.entry_locks)
        if taken:
            self.fn.exit_locks = union(self.fn.exit_locks, taken)
        self._close_early_inits()

    def early_return(self, key: str, check: Span, locks: State) -> None:
        """`if (x) return x;` just walked: a later write to `x` in this block is its lazy initialisation, and
        every call from here to a return is made only while `x` is unset (LazyInit.made)."""
        self.pending.append((key, check, locks, self.regions))
        self.early_marks[check] = (len(self.fn.calls), len(self.fn.accesses))

    def _close_early_inits(self) -> None:
        """At a return: the lazy initialisations after an early return made the calls since their check, if
        they wrote no other static (a second one makes them more than a lookup's store: `made` stays None)."""
        for index, calls, accesses in self.early_inits:
            li = self.fn.lazy_inits[index]
            own = li.writes[0].span
            if any(a.kind.writes and a.span != own for a in self.fn.accesses[accesses:]):
                made = None
            else:
                made = tuple(self.fn.calls[calls:])
            self.fn.lazy_inits[index] = replace(li, made=made)

    def new_region(self, group: int) -> tuple[int, ...]:
        """The current regions plus a new one: an arm of the if/else `group`, or a loop body (LOOP_REGION)."""
        rid = len(self.fn.regions)
        self.fn.regions[rid] = group
        return (*self.regions, rid)

    def new_group(self) -> int:
        """A new id for the arms of one if/else (ids count from 0 per walker)."""
        self.groups = getattr(self, "groups", 0) + 1
        return self.groups - 1

    def uniquely_referenced(self, tests: frozenset[str], name: str, args: tuple[Arg, ...], where: Span) -> None:
        """A branch entered because `name(args[0])` said the object is uniquely referenced: from here
        on, in this branch, the local `args[0]` is as private as a fresh object."""
        if name in tests and args and args[0].kind == ArgKind.NAME:
            self.define(args[0].path, Arg(ArgKind.CALL, name), args[:1], where)

    def define(self, name: str, value: Arg, args: tuple[Arg, ...], where: Span) -> None:
        """Record an assignment to the local `name` at `where` (the walker's current regions)."""
        self.fn.locals.setdefault(name, []).append(origin(value, args, where, self.regions))

    def returns_value(self, value: Arg, args: tuple[Arg, ...], where: Span) -> None:
        """`return value` at `where` (the walker's current regions): what a caller receives (Function.returns)."""
        self.fn.returns.append(origin(value, args, where, self.regions))

    def publish(self, value: Arg, where: Span, into_local: bool) -> None:
        """`self->f = x`, `g = x`, `p[i] = x`, `*out = x`: the local `x` stored where other code can reach
        it (facts.Store); an assignment into another local is an origin instead."""
        if value.kind == ArgKind.NAME and not into_local:
            self.fn.stores.append(Store(value.path, where, self.regions))

    def member_assignment(self, target: str, into_local: bool, value: Arg, args: tuple[Arg, ...], where: Span) -> None:
        """`target = value` (`target` the lvalue's path): a store into a member of a struct, or of a member's
        value into anything but a local, as a MemberStore (rules/_structs.py)."""
        if "." in target or (value.kind == ArgKind.MEMBER and not into_local):
            self.fn.member_stores.append(MemberStore(target, origin(value, args, where, self.regions)))

    def aggregate(self, name: str, members: Sequence[tuple[str, Arg, tuple[Arg, ...]]], where: Span) -> None:
        """`name = {.list = v, ...}` declaring a struct value on this call's stack, every element designated by
        member names (`members`: the member path, `list` or `inner.list`, its value and a call value's
        arguments) or zero: each member's value a MemberStore of `name.list`, the declaration an AGGREGATE
        definition of `name` (rules/_structs.py reads both; an initialiser of another shape is an OTHER one)."""
        for path, value, args in members:
            self.member_assignment(f"{name}.{path}", False, value, args, where)
        self.fn.locals.setdefault(name, []).append(Assignment(OriginKind.AGGREGATE, span=where, regions=self.regions))

    def member_address(self, path: str, where: Span) -> None:
        """`&p->f` (`path` the lvalue's): whatever receives the address may store anything into the member."""
        if "." in path:
            value = Assignment(OriginKind.OTHER, span=where, regions=self.regions)
            self.fn.member_stores.append(MemberStore(path, value))

    def struct_use(self, name: str, callee: str, arg: int, where: Span, local: bool) -> None:
        """`&name` of a local struct passed to `callee` as argument `arg` (`local`: kept until the body ends,
        see `close_struct_uses`), or a whole use of what the pointer parameter `name` points to (StructUse)."""
        use = StructUse(name, callee, arg, where)
        if not local:
            self.fn.struct_uses.append(use)
            return
        pending: dict[str, list[StructUse]] = self.__dict__.setdefault("_local_struct_uses", {})
        pending.setdefault(name, []).append(use)

    def value_struct(self, name: str) -> None:
        """The local `name` is declared as a struct value on this call's stack (Function.value_structs)."""
        if name not in self.fn.value_structs:
            self.fn.value_structs.append(name)

    def whole_local(self, name: str) -> None:
        """The local `name` used whole (not a member of it, not its address handed to a call): a struct
        copied, returned or its address kept (only locals whose address a helper receives are reported)."""
        self.__dict__.setdefault("_whole_locals", set()).add(name)

    def close_struct_uses(self) -> None:
        """At the end of the body: the uses of each local struct whose address some call other than the
        Python C API's receives (a helper of the scan may: rules/_structs.py judges only those); a whole use
        is reported at the function's span."""
        pending: dict[str, list[StructUse]] = self.__dict__.get("_local_struct_uses", {})
        whole: set[str] = self.__dict__.get("_whole_locals", set())
        for name, uses in pending.items():
            if any(not u.callee.startswith(("Py", "_Py")) for u in uses):
                self.fn.struct_uses += uses
                if name in whole:
                    self.fn.struct_uses.append(StructUse(name, "", -1, self.fn.span))

    assertions: Assertions | None = None

    def compare(self, op: str, lhs: Operand, rhs: Operand, where: Span) -> None:
        """Keep a comparison of a call or a field with a constant (`Py_REFCNT(o) == 1`): the kind a rule
        can judge, also through a local that holds a call's result (`n = Py_REFCNT(o); ... n == 1`). The
        thousands of `i < n` in a file are not worth carrying to the rules."""
        if (lhs.value is not None and self._judgeable(rhs)) or (rhs.value is not None and self._judgeable(lhs)):
            checked = self.assertions is not None and self.assertions.contains(where.line, where.col)
            self.fn.comparisons.append(Comparison(op, lhs, rhs, where, self.state, self.regions, checked))

    def _judgeable(self, side: Operand) -> bool:
        if side.call or side.member:
            return True
        held = self.fn.locals.get(side.name or "") if side.name else None
        return bool(held) and held[-1].kind == OriginKind.CALL

    def container_use(
        self, containers: ContainerVocabulary, callee: str, index: int, arg: Arg, static: str, where: Span
    ) -> None:
        """Argument `index` of a call of `callee`: a container the call changes (`PyDict_SetItem(d, ...)`), or
        hands to code that may (any call that is not a catalogued reader), as a ContainerMutation."""
        if not callee or callee in containers.readers:
            return
        mutated = containers.mutated_arg(callee)
        if mutated is not None and mutated != index:
            return
        params = {p.name: p.index for p in self.fn.params}
        which = container_of(arg, static, params)
        if which is None or (which[0] == "local" and not holds_named_value(self.fn, which[1])):
            return
        kind = MutationKind.CALL if mutated is not None else MutationKind.PASSED
        arg_index = -1 if mutated is not None else index
        self.fn.mutations.append(
            ContainerMutation(which[0], which[1], kind, callee, where, self.state, arg.path, arg_index)
        )

    def record(self, a: Access) -> None:
        self.fn.accesses.append(a)
        if a.kind.writes or a.kind == AccessKind.ADDRESS:
            self.stored.add(a.var)
        if a.kind.writes and self.pending:
            for i, (key, check, locks, regions) in enumerate(self.pending):
                if key == a.var:
                    values = (self.static_values.get(a.span),) if a.kind == AccessKind.WRITE else ()
                    mark = self.early_marks.get(check)
                    if mark is not None:
                        self.early_inits.append((len(self.fn.lazy_inits), *mark))
                    li = LazyInit(key, check, locks, (a,), values=values, early=True, regions=regions)
                    self.fn.lazy_inits.append(li)
                    del self.pending[i]
                    break

    def static_value(self, where: Span, value: Arg, args: tuple[Arg, ...]) -> None:
        """`x = value` on a static `x` itself, at `where` (its write's span): what it stores, kept for the
        lazy initialisation whose branch this write may be (LazyInit.values), and for the function's
        summary (Function.static_writes)."""
        self.static_values[where] = origin(value, args, where, self.regions)
        self.fn.static_writes.append(StaticWrite(where, value, args))

    def short_circuited(
        self, gates: Sequence[tuple[str, Span]], first_access: int, first_call: int
    ) -> dict[str, tuple[list[Access], list[Call]]]:
        """What a condition does only while a static is unset: `gates` are (static key, span of an operand
        evaluated only then: the right of `x == NULL && init()` or of `x || init()`), and the accesses and
        calls recorded since `first_access`/`first_call` (the condition's) that lie in each span, by key.
        `if (henv == NULL && !AllocateEnv()) return NULL;` initialises henv in its condition (pyodbc). The
        caller leaves out statics stored before the condition (normalised, not lazily initialised)."""
        out: dict[str, tuple[list[Access], list[Call]]] = {}
        for key, where in gates:
            accesses, calls = out.setdefault(key, ([], []))
            accesses += [a for a in self.fn.accesses[first_access:] if where.contains(a.span)]
            calls += [c for c in self.fn.calls[first_call:] if where.contains(c.span)]
        return out

    def lazy_init(
        self, key: str, check: Span, locks: State, branch: list[Access], calls: Sequence[Call] | None = None
    ) -> None:
        """A check of `key` whose guarded branch writes it (and maybe other statics), or, writing nothing of
        it, makes `calls` (one of which may store it: summaries.py decides). `calls` are every call of the
        branch, None when the caller does not delimit them."""
        writes = [a for a in branch if a.kind.writes]
        own = [a for a in writes if a.var == key]
        if own:
            others = [a for a in writes if a.var != key]
            ordered = (*own, *others)
            values: tuple[Assignment | None, ...] = ()
            if all(a.kind == AccessKind.WRITE for a in ordered):
                values = tuple(self.static_values.get(a.span) for a in ordered)
            made = tuple(calls) if calls is not None else None
            li = LazyInit(key, check, locks, ordered, made=made, values=values, regions=self.regions)
            self.fn.lazy_inits.append(li)
            if not any(a.var == key and a.kind == AccessKind.ADDRESS for a in branch):
                # Stored only by its own check-then-set (the check found it unset: nothing stored it before),
                # so a later check of it initialises it again (each `case` of a switch doing `if (!err)
                # err = lookup();`), it does not normalise it.
                self.stored.discard(key)
        elif calls and param_index(key) is None:
            self.fn.lazy_inits.append(LazyInit(key, check, locks, (), tuple(calls), regions=self.regions))

    ptr_params: dict[str, int]  # pointer parameters by name: writes through them are `param_key` accesses

    # Hooks each C walker implements over its own syntax nodes (a libclang cursor, a tree-sitter node).
    def static_of(self, node: Any) -> StaticVar | None:
        """The static that `node` names (casts and parentheses stripped), else None."""
        raise NotImplementedError

    def lvalue(self, node: Any) -> tuple[Any | None, str, list[Any]]:
        """The base of an lvalue (`table` in `table[k].f`), its access path, and the other nodes it reads."""
        raise NotImplementedError

    def param_name(self, node: Any) -> str | None:
        """The name of the parameter `node` refers to, else None."""
        raise NotImplementedError

    def tested(self, node: Any) -> str | None:
        """What a condition operand tests: a static (its key), an element or field of one (`table[k]`,
        `state.ready`), or what a pointer parameter points to (`*out`: its `param_key`); else None."""
        var = self.static_of(node)
        if var is not None:
            return var.key
        base, path, _others = self.lvalue(node)
        if base is None:
            return None
        var = self.static_of(base)
        if var is not None:
            return var.key
        name = self.param_name(base) if self.ptr_params else None
        return self.through_param(name, path) if name is not None else None

    def through_param(self, name: str, path: str) -> str | None:
        """The `param_key` of a path that dereferences a pointer parameter (`*out`, `p->f`, `p[i]`), else None."""
        idx = self.ptr_params.get(name)
        return param_key(idx) if idx is not None and len(path) > len(name) else None

    def release(self, kind: LockKind, key: str) -> None:
        """Drop the innermost held lock of this kind and key. Unlocking a lock the body did not take
        releases its caller's: kept in `fn.releases` (a release helper)."""
        for i in range(len(self.state) - 1, -1, -1):
            lk = self.state[i]
            if lk.kind == kind and lk.key == key:
                self.state = self.state[:i] + self.state[i + 1 :]
                return
        if kind in _HELPER_KINDS:
            self.fn.releases = union(self.fn.releases, (Lock(kind, key),))

    def merge_branches(self, start: State, then: tuple[bool, State], other: tuple[bool, State]) -> bool:
        """The state after an if/else from the states its live branches end in; False if neither falls out."""
        (then_live, then_state), (else_live, else_state) = then, other
        if then_live and else_live:
            self.state = union(then_state, else_state)
        elif then_live or else_live:
            self.state = then_state if then_live else else_state
        else:
            self.state = start
            return False
        return True

    def lock_event(self, name: str, args: tuple[Arg, ...], member_base: Arg | None) -> None:
        """Locks taken and released by a call (mutex functions, critical sections, `.lock()`)."""
        v = self.vocab
        if member_base is not None:
            if name in v.member:
                self.state = (*self.state, Lock(LockKind.MUTEX, lock_key(member_base)))
            elif name in v.member.values():
                self.release(LockKind.MUTEX, lock_key(member_base))
            return
        if name in v.mutex and args:
            lock = Lock(LockKind.MUTEX, lock_key(args[0]))
            if lock not in self.state:  # held already: a try-lock, then the blocking wait (`ENTER_ZLIB`)
                self.state = (*self.state, lock)
        elif name in v.mutex_releases and args:
            self.release(LockKind.MUTEX, lock_key(args[0]))
        elif name in v.critical_sections and args:
            objects = tuple(a.path for a in args[1:] if a.path)
            self.state = (*self.state, Lock(LockKind.CRITICAL_SECTION, lock_key(args[0]), objects))
        elif name in v.critical_section_ends and args:
            self.release(LockKind.CRITICAL_SECTION, lock_key(args[0]))
        elif name in v.gil_release:
            self.gil_released = True
        elif name in v.gil_acquire:
            self.gil_released = False
