"""Idempotent lookups: a lazy initialisation whose every racing thread stores the same value (FT102 quiet,
and FT101 leaves its write to FT102), and the scan's own functions that are such lookups.

A branch is an idempotent lookup (`idempotent_lookup`) when it stores, into each static its check tests,
a catalogued lookup (statics.toml `[idempotent-lookups]`: GetProcAddress, dlsym, interning, importing a
module, reading its attribute), a singleton, or a call of a *lookup function* of the scan, of constant
arguments, and makes no other call but per-thread ones (raising the lookup's failure, releasing the GIL)
and reference drops on its own locals. A helper the check calls (`if (!io_class && init_io_class() < 0)`)
is an *idempotent initialiser* (`idempotent_initialiser`) when each static it writes gets one plain
store of such a lookup, a local only they fill, or a literal, and it makes no other call.

A lookup function (`lookup_functions`, a least fixpoint over the call graph, once per scan) writes no
static, field or pointer parameter, publishes nothing, and returns (Function.returns: each `return`)
NULL or the value of such a lookup (directly, or through a local only lookups fill) whose arguments are
constants or its own parameters; every call it makes is a lookup, a per-thread call, a reference drop on
a local, or a load that pins a library (`pinning-loads`: LoadLibrary, dlopen of a constant or parameter
name) whose handle a lookup uses. regex's `get_object(module, name)` (import, getattr, decref) and
psutil's `psutil_GetProcAddressFromLib(lib, proc)` (LoadLibraryA, GetProcAddress) are the shapes: called
with constant arguments, each returns one object or pointer every time. A pinned library's extra
reference, taken by a racing thread, keeps loaded a library the stored symbol needs loaded anyway; a
function returning the library handle itself is no lookup (the handle is a reference the static owns).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from ..callgraph import CallGraph, Key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import (
    AccessKind,
    Arg,
    ArgKind,
    Assignment,
    Call,
    Function,
    LazyInit,
    MutationKind,
    OriginKind,
    Span,
    StaticVar,
    Unit,
    param_index,
)
from ..summaries import WRITES, Effect
from ._roles import Role, roles_of

_MACRO_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # `RTLD_DEFAULT`, an enum constant: fixed when it is built
_MAX_DEPTH = 2  # a local that holds a lookup of a local that holds a lookup: as deep as real code goes
_MAX_ROUNDS = 6  # lookup functions calling lookup functions


@dataclass(frozen=True)
class Lookups:
    """What `idempotent_lookup` judges with: the catalogued lookups (statics.toml `[idempotent-lookups]`)
    and the scan's lookup functions as this unit calls them, the calls that change only the calling
    thread's state (its exception, its hold on the GIL), and the unit's functions that run only during
    module init (their writes fix a static before other code runs)."""

    functions: frozenset[str]  # idempotent lookups, canonical-object calls and lookup functions alike
    thread_calls: frozenset[str]
    init_only: frozenset[str]
    singletons: Mapping[str, tuple[int, ...]]  # a call with these literal arguments gives a singleton
    own_references: frozenset[str]  # reference drops allowed on a local of the branch
    pinning: frozenset[str] = frozenset()  # library loads a lookup function may make (see the docstring)

    @classmethod
    def of(cls, ctx: Context, unit: Unit, roles: Mapping[str, Role]) -> Lookups:
        """The judge for `unit`'s branches: the catalogue's lookups and the scan's lookup functions."""
        base = _catalogued(ctx, roles)
        graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
        raising = _project_names(graph, unit, raising_functions(ctx), base.thread_calls)
        looked_up = _project_names(graph, unit, lookup_functions(ctx), base.functions)
        return replace(base.with_functions(looked_up), thread_calls=base.thread_calls | raising)

    def with_functions(self, names: set[str]) -> Lookups:
        return replace(self, functions=self.functions | names) if names else self

    def singleton(self, name: str, args: tuple[Arg, ...]) -> bool:
        """`PyTuple_New(0)`: a call these literal arguments make return a singleton."""
        want = self.singletons.get(name)
        return want is not None and tuple(a.value if a.kind == ArgKind.LITERAL else None for a in args) == want


def _catalogued(ctx: Context, roles: Mapping[str, Role], thread_calls: frozenset[str] = frozenset()) -> Lookups:
    locks, statics = ctx.catalogue.locks, ctx.catalogue.statics
    init = frozenset(name for name, role in roles.items() if role.init_only)
    thread = frozenset((*statics.per_thread_calls, *locks.gil_release, *locks.gil_acquire, *thread_calls))
    lookups = statics.idempotent_lookups | statics.canonical_objects
    return Lookups(lookups, thread, init, statics.singletons, statics.own_references, statics.pinning_loads)


def _project_names(graph: CallGraph, unit: Unit, found: frozenset[Key], known: frozenset[str]) -> set[str]:
    """The callees named in `unit` whose every definition a call may reach is a lookup function."""
    if not found:
        return set()
    return {name for name, targets in graph.callee_targets(unit) if name not in known and targets <= found}


class _RoundNames:
    """`_project_names` for one fixpoint: each (unit, known) answer is kept while `found` is the same set
    (a round asks it once per function of the unit)."""

    def __init__(self, graph: CallGraph) -> None:
        self.graph = graph
        self.found: frozenset[Key] | None = None
        self.kept: dict[tuple[int, int], frozenset[str]] = {}  # by ids: the units and sets outlive the fixpoint

    def __call__(self, unit: Unit, found: frozenset[Key], known: frozenset[str]) -> frozenset[str]:
        if found is not self.found:
            self.found, self.kept = found, {}
        key = (id(unit), id(known))
        out = self.kept.get(key)
        if out is None:
            out = self.kept[key] = frozenset(_project_names(self.graph, unit, found, known))
        return out


def idempotent_lookup(unit: Unit, fn: Function, li: LazyInit, lookups: Lookups) -> bool:
    """Whether a lazy initialisation only stores idempotent lookups of constant arguments
    (`if (!p) p = (fn_t)dlsym(RTLD_DEFAULT, "name");`, `if (!s) s = PyUnicode_InternFromString("null");`,
    `if (!t) t = PyTuple_New(0);`, `if (!e) e = get_object("pkg.core", "error");`): each static the check
    writes is written once, with a catalogued lookup, canonical-object call, singleton or lookup function,
    and every call its branch makes is such a call of constant arguments, changes only the calling
    thread's state (raising the lookup's failure, releasing the GIL around it) or drops a reference a
    local of the branch holds. Threads racing through it all store the same value and nothing is freed.
    A shape whose branch the frontend does not delimit (LazyInit.made is None) is never one."""
    values = li.values
    if li.made is None or len(values) != len(li.writes) or len({w.var for w in li.writes}) != len(li.writes):
        return False  # each static of the check written once, each with a plain `x = v`
    if len(li.writes) > 1:  # and each tested by the check: a reader that passes it has seen every one set
        checked = {other.var for other in fn.lazy_inits if other.check == li.check}
        if not {w.var for w in li.writes} <= checked:
            return False
    made = {c.name for c in li.made}
    for v in values:
        if v is None or v.kind != OriginKind.CALL or v.callee not in made:
            return False
        if lookups.singleton(v.callee, v.args):
            continue
        if v.callee not in lookups.functions or not all(_constant(unit, fn, a, lookups, 0) for a in v.args):
            return False
    return all(_harmless(unit, fn, call, lookups, inside=False) for call in li.made)


def idempotent_initialiser(ctx: Context, effect: Effect) -> bool:
    """Whether a lazy initialisation through a helper (`if (!io_class && init_io_class() < 0)`: cbor2's
    `_CBOR2_init_BytesIO`, which imports `io` and reads `BytesIO`) stores only idempotent lookups, as
    `idempotent_lookup` judges a branch: `effect` (Summaries.stores: a WRITES made in the called helper
    itself, no chain) names the helper; every static it writes gets one plain `x = v` (Function.
    static_writes) of such a lookup of constant arguments, a local only such lookups fill, NULL or a
    literal (a done-flag); it writes no field or pointer parameter, changes no container, publishes
    nothing but into those statics, and every call it makes is harmless (a lookup of constant arguments,
    a per-thread call, a reference drop on a local). Racing threads store the same values; FT102 stays
    quiet and FT101 leaves the writes to it. Memoised per helper."""
    return initialiser_writes(ctx, effect) is not None


def initialiser_writes(ctx: Context, effect: Effect) -> tuple[Span, ...] | None:
    """The static writes of the helper `effect` names when it is an idempotent initialiser (see
    `idempotent_initialiser`; FT101 leaves them all to FT102), else None."""
    if effect.how != WRITES or effect.chain:
        return None
    memo: dict[tuple[str, str], tuple[Span, ...] | None] = ctx.project.memo("idempotent-initialisers", dict)
    key = (effect.path, effect.function)
    if key not in memo:
        graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
        found = graph.functions.get(key) or graph.functions.get(("", effect.function))
        ok = found is not None and found[0].path == effect.path and _initialises_idempotently(ctx, *found)
        memo[key] = tuple(w.span for w in found[1].static_writes) if ok and found is not None else None
    return memo[key]


def _initialises_idempotently(ctx: Context, unit: Unit, fn: Function) -> bool:
    if fn.field_writes or fn.lazy_inits or any(m.kind == MutationKind.CALL for m in fn.mutations):
        return False  # (a container only passed to a call is that call's business: judged below)
    plain = {w.span: w for w in fn.static_writes}
    if len(plain) != len(fn.static_writes):
        return False  # one macro use recorded twice: not a shape to judge
    written: set[str] = set()
    for a in fn.accesses:
        if param_index(a.var) is not None and (a.kind.writes or a.kind == AccessKind.ADDRESS):
            return False
        if a.kind == AccessKind.ADDRESS:
            return False  # handed out by address: what the callee does with it is not judged here
        if a.kind.writes:
            if a.kind != AccessKind.WRITE or a.span not in plain or a.var in written:
                return False  # a compound write, or a static written twice
            written.add(a.var)
    lookups = Lookups.of(ctx, unit, roles_of(unit, ctx))
    for w in plain.values():
        v = w.value
        if v.kind == ArgKind.LITERAL:
            continue
        if v.kind == ArgKind.CALL:
            if lookups.singleton(v.path, w.args):
                continue
            if v.path not in lookups.functions or not all(_constant(unit, fn, a, lookups, 0) for a in w.args):
                return False
            continue
        if v.kind != ArgKind.NAME or v.path not in fn.locals or not _constant(unit, fn, v, lookups, 0):
            return False
    return all(_harmless(unit, fn, call, lookups, inside=False) for call in fn.calls)


def _harmless(unit: Unit, fn: Function, call: Call, lookups: Lookups, *, inside: bool) -> bool:
    """A call a lookup may make: per-thread, a singleton, a drop of a local's reference, a lookup of
    constant arguments (inside a lookup function: also of its parameters, and a pinning load)."""
    if call.name in lookups.thread_calls or lookups.singleton(call.name, call.args):
        return True
    if call.name in lookups.own_references and _drops_local(unit, fn, call):
        return True
    if call.name not in lookups.functions and not (inside and call.name in lookups.pinning):
        return False
    return all(_constant(unit, fn, a, lookups, 0, inside=inside) for a in call.args)


def _drops_local(unit: Unit, fn: Function, call: Call) -> bool:
    """`Py_DECREF(module)` on a local of the function, never on a static: the branch gives back a reference
    it took itself."""
    if len(call.args) != 1 or call.args[0].kind != ArgKind.NAME:
        return False
    name = call.args[0].path
    return name in fn.locals and not any(v.name == name for v in unit.statics.values())


def _constant(unit: Unit, fn: Function, a: Arg, lookups: Lookups, depth: int, *, inside: bool = False) -> bool:
    """An argument every call passes the same: a literal, a lookup (a call of the branch, judged there),
    a constant-like name, a static only module init writes, or a local that holds a lookup of such.
    `inside` a lookup function its parameters count too (each call site passes them constant)."""
    if a.kind == ArgKind.LITERAL:
        return True
    if a.kind == ArgKind.CALL:
        return a.path in lookups.functions and depth == 0  # a local's lookup: its own calls are not in the branch
    if a.kind != ArgKind.NAME:
        return False
    if any(p.name == a.path for p in fn.params):
        return inside
    statics = [v for v in unit.statics.values() if v.name == a.path or v.name.endswith(f"::{a.path}")]
    if statics:
        return all(_fixed_after_init(unit, v, lookups) for v in statics)
    origins = fn.locals.get(a.path)
    if origins:
        return depth < _MAX_DEPTH and all(_holds_lookup(unit, fn, o, lookups, depth + 1, inside) for o in origins)
    return _MACRO_NAME.match(a.path) is not None


def _holds_lookup(unit: Unit, fn: Function, o: Assignment, lookups: Lookups, depth: int, inside: bool) -> bool:
    if o.kind == OriginKind.NULL:
        return True
    return (
        o.kind == OriginKind.CALL
        and (o.callee in lookups.functions or (inside and o.callee in lookups.pinning))
        and all(_constant(unit, fn, a, lookups, depth, inside=inside) for a in o.args)
    )


def _fixed_after_init(unit: Unit, var: StaticVar, lookups: Lookups) -> bool:
    """A const static, or one this unit writes (or hands out by address) only in module-init code."""
    if var.const:
        return True
    return not any(
        a.var == var.key and (a.kind.writes or a.kind == AccessKind.ADDRESS)
        for f in unit.functions
        if f.name not in lookups.init_only
        for a in f.accesses
    )


def raising_functions(ctx: Context) -> frozenset[Key]:
    """The scan's functions that only raise (psutil's `AccessDenied(msg)`: format a message into a local
    buffer, call a builtin exception class, set it as this thread's exception, drop the local reference):
    no static, field or pointer parameter written, nothing published, and every call per-thread (the
    catalogue's, or another such function), a reference drop on a local, a buffer writer (statics.toml
    `[buffer-writers]`) filling only locals, or a call of a builtin exception class (`PyExc_*`, by the
    catalogue's `exception-calls`) into a local: they change only the calling thread's state. Memoised."""

    def build() -> frozenset[Key]:
        graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
        cat = ctx.catalogue
        todo = {key: unit_fn for key, unit_fn in graph.functions.items() if _writes_nothing(unit_fn[1])}
        base = _catalogued(ctx, {})

        names = _RoundNames(graph)

        def raises_only(unit: Unit, fn: Function, found: frozenset[Key]) -> bool:
            thread = base.thread_calls | names(unit, found, base.thread_calls)
            return all(_raises_only(unit, fn, c, thread, base, cat) for c in fn.calls)

        return _least_fixpoint(todo, raises_only)

    return ctx.project.memo("raising-functions", build)


def _raises_only(unit: Unit, fn: Function, call: Call, thread: frozenset[str], base: Lookups, cat: Catalogue) -> bool:
    if call.name in thread:
        return True
    if call.name in base.own_references:
        return _drops_local(unit, fn, call)
    if call.name in cat.statics.exception_calls:
        first = call.args[0] if call.args else None
        return first is not None and first.kind == ArgKind.NAME and first.path.startswith("PyExc_")
    written = [a for i, a in enumerate(call.args) if cat.statics.writes_arg(call.name, i)]
    return bool(written) and all(_local_name(unit, fn, a) for a in written)


def _local_name(unit: Unit, fn: Function, a: Arg) -> bool:
    """A plain name that is neither a parameter nor a static: a local of `fn` (an array, a scalar)."""
    if a.kind != ArgKind.NAME or any(p.name == a.path for p in fn.params):
        return False
    return not any(v.name == a.path or v.name.endswith(f"::{a.path}") for v in unit.statics.values())


def lookup_functions(ctx: Context) -> frozenset[Key]:
    """The scan's lookup functions (see the module docstring), memoised per scan."""

    def build() -> frozenset[Key]:
        graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
        todo = {key: unit_fn for key, unit_fn in graph.functions.items() if _candidate(unit_fn[1])}
        raising = raising_functions(ctx)
        bases = {}
        for unit, _fn in todo.values():
            if unit.path not in bases:
                thread = frozenset(_project_names(graph, unit, raising, frozenset()))
                bases[unit.path] = _catalogued(ctx, roles_of(unit, ctx), thread)

        names = _RoundNames(graph)

        def looks_up(unit: Unit, fn: Function, found: frozenset[Key]) -> bool:
            base = bases[unit.path]
            return _lookup_function(unit, fn, base.with_functions(names(unit, found, base.functions)))

        return _least_fixpoint(todo, looks_up)

    return ctx.project.memo("lookup-functions", build)


def _least_fixpoint(
    todo: dict[Key, tuple[Unit, Function]], qualifies: Callable[[Unit, Function, frozenset[Key]], bool]
) -> frozenset[Key]:
    """The functions of `todo` that qualify given those found so far, round after round (at most
    _MAX_ROUNDS: helpers calling helpers), until a round finds none."""
    todo = dict(todo)
    found: frozenset[Key] = frozenset()
    for _ in range(_MAX_ROUNDS):
        new = {key for key, (unit, fn) in todo.items() if qualifies(unit, fn, found)}
        if not new:
            break
        found |= new
        for key in new:
            del todo[key]
    return found


def _candidate(fn: Function) -> bool:
    """Could `fn` be a lookup function: it returns values, and changes nothing another thread sees?"""
    kinds = {r.kind for r in fn.returns}
    if not fn.returns or not kinds <= {OriginKind.CALL, OriginKind.NAME, OriginKind.NULL} or kinds == {OriginKind.NULL}:
        return False
    return _writes_nothing(fn)


def _writes_nothing(fn: Function) -> bool:
    """No static, field or pointer parameter written (or handed out by address), nothing published: what
    its calls do is judged apart."""
    if fn.field_writes or fn.stores or fn.lazy_inits:
        return False
    return not any(a.kind.writes or param_index(a.var) is not None or a.kind == AccessKind.ADDRESS for a in fn.accesses)


def _lookup_function(unit: Unit, fn: Function, lookups: Lookups) -> bool:
    for r in fn.returns:
        if r.kind == OriginKind.NULL:
            continue
        if r.kind == OriginKind.CALL:
            if r.callee not in lookups.functions and not lookups.singleton(r.callee, r.args):
                return False
            if not all(_constant(unit, fn, a, lookups, 0, inside=True) for a in r.args):
                return False
            continue
        origins = fn.locals.get(r.source) if r.kind == OriginKind.NAME else None
        if not origins or any(o.kind == OriginKind.CALL and o.callee in lookups.pinning for o in origins):
            return False  # a local (not a parameter, not a static); never the pinned library's handle
        if not all(_holds_lookup(unit, fn, o, lookups, 1, True) for o in origins):
            return False
    return all(_harmless(unit, fn, call, lookups, inside=True) for call in fn.calls)
