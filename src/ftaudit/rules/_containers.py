"""Frozen containers: a dict, list or set reached through a field or a static that no code in the scan
changes after it is built (FT201-FT203 stay quiet on it).

Facts come from every frontend: `Function.mutations` (C-API mutators, Cython methods, subscript stores
and deletes, `+=`, and a container passed to a call or returned/stored elsewhere), `Function.field_writes`
(a field rebound: the old container may be freed under a reader) and, for members of any C struct,
`Function.member_stores` (also a member whose address is handed out), static accesses, `Unit.exposed_fields`
(Cython `cdef public`/`readonly` attributes, PyMemberDef object members: Python code holds the container).
Fields are known by their name across the scan (`self._map` and `lookup._map` are one field), which can
only make a container look less frozen. A container is frozen when nothing changes it outside the code
that builds it: for a field, its object's construction (tp_new/tp_init, `__cinit__`/`__init__`), its
deallocation and GC, module init, and the helpers only those call; for a static, module init and its
helpers. A container passed to a function of the scan is judged by what that function does to its
parameter (followed to a fixed point); passed to any other call that is not a catalogued reader, it is not
frozen. A local is the containers its definitions load (`d = self->map`); a value of unknown origin is
never frozen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..callgraph import CallGraph, Key, own_key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import Arg, ArgKind, ContainerMutation, Function, MutationKind, OriginKind, Unit
from ._protection import Point
from ._roles import ProjectRoles, Role, project_roles

Target = tuple[str, str]  # ("field", name) or ("static", key)
_MAX_DEPTH = 8
_IN_PLACE = {MutationKind.CALL, MutationKind.METHOD, MutationKind.STORE, MutationKind.DELETE, MutationKind.AUGMENTED}
_BUILDING = {Role.CONSTRUCTOR, Role.DEALLOC, Role.GC}


@dataclass(frozen=True)
class Thaw:
    """Why a container is not frozen: what happens to it, in which function."""

    what: str
    function: str


class NewObjects(Protocol):
    """Is the object a local names at a point one the function has just made and not yet published?"""

    def __call__(self, unit: Unit, fn: Function, root: str, at: Point) -> bool: ...


def _never_new(unit: Unit, fn: Function, root: str, at: Point) -> bool:
    return False


class FrozenContainers:
    """Which fields and statics the whole scan never changes after construction (built once per scan).

    `new_object` says whether a field's object is one its function has just created and not yet published
    (a factory filling `self = PyObject_New(...)`): changing that object's fields is building it."""

    def __init__(
        self, graph: CallGraph, roles: ProjectRoles, catalogue: Catalogue, new_object: NewObjects = _never_new
    ) -> None:
        self.graph = graph
        self.cat = catalogue
        self.new_object = new_object
        self.thawed: dict[Target, Thaw] = {}
        self.built: dict[Target, str] = {}  # a constructor or init function that changes it (for the note)
        self._local_targets = _LocalTargets()
        self._object_building = self._building(roles, lambda r: r in _BUILDING or r.init_only)
        self._module_init = self._building(roles, lambda r: r.init_only)
        passes: list[tuple[Target, Key, int, Thaw]] = []  # a container handed to a function of the scan
        param_passes: list[tuple[Key, int, Key, int]] = []  # a parameter handed on: (fn, i) -> (callee, j)
        param_thawed: dict[tuple[Key, int], Thaw] = {}
        for unit in graph.units:
            for name in unit.exposed_fields:
                self._thaw(("field", name), Thaw("is an attribute Python code can reach", unit.path))
            for var in unit.statics.values():
                if var.module_attribute:
                    self._thaw(("static", var.key), Thaw("is a module attribute Python code can reach", "<module>"))
            for fn in unit.functions:
                me = own_key(unit, fn)
                self._rebinds(unit, fn, me)
                for m in fn.mutations:
                    if m.kind == MutationKind.PASSED and m.how in catalogue.inspecting_calls:
                        continue  # a reference count taken or dropped changes no item
                    thaw = Thaw(_describe(m), fn.name)
                    for target in self._targets(unit, fn, m):
                        if isinstance(target, int):  # the function's own parameter
                            if m.kind == MutationKind.PASSED:
                                for callee in graph.resolve_all(unit, m.how):
                                    param_passes.append((me, target, callee, m.arg))
                                if not graph.resolve_all(unit, m.how):
                                    param_thawed.setdefault((me, target), thaw)
                            else:
                                param_thawed.setdefault((me, target), thaw)
                            continue
                        if m.kind == MutationKind.PASSED:
                            callees = graph.resolve_all(unit, m.how)
                            if not callees:
                                self._thaw(target, thaw)
                            for callee in callees:
                                passes.append((target, callee, m.arg, thaw))
                        elif m.kind in _IN_PLACE and (self._excused(target, me) or self._building_new(unit, fn, m)):
                            self.built.setdefault(target, fn.name)
                        else:
                            self._thaw(target, thaw)
        # What a function does to a parameter, through the functions it hands it to (a fixed point).
        changed = True
        while changed:
            changed = False
            for fn_key, i, callee, j in param_passes:
                if (callee, j) in param_thawed and (fn_key, i) not in param_thawed:
                    param_thawed[(fn_key, i)] = param_thawed[(callee, j)]
                    changed = True
        for target, callee, j, thaw in passes:
            inner = param_thawed.get((callee, j))
            if inner is not None:
                self._thaw(target, Thaw(f"{thaw.what}, which {inner.what}", thaw.function))

    def _building(self, roles: ProjectRoles, building: Callable[[Role], bool]) -> set[Key]:
        """Functions whose role `building` accepts, and those only they call (never used as a value)."""
        out = {k for k, r in roles.roles.items() if building(r)}
        changed = True
        while changed:
            changed = False
            for key in self.graph.functions:
                callers = self.graph.callers.get(key)
                if key in out or key in roles.roles or key in roles.address_taken or not callers:
                    continue
                others = callers - {key}
                if others and others <= out:
                    out.add(key)
                    changed = True
        return out

    def _excused(self, target: Target, fn: Key) -> bool:
        return fn in (self._object_building if target[0] == "field" else self._module_init)

    def _building_new(self, unit: Unit, fn: Function, m: ContainerMutation) -> bool:
        """A field container changed through an object `fn` has just made (`self->map` after
        `self = PyObject_New(...)`), before anything published it: the object is being built."""
        root = m.path.split(".", 1)[0]
        return m.scope == "field" and "." in m.path and self.new_object(unit, fn, root, (m.span, ()))

    def _thaw(self, target: Target, thaw: Thaw) -> None:
        self.thawed.setdefault(target, thaw)

    def _rebinds(self, unit: Unit, fn: Function, me: Key) -> None:
        """A field or static given a new value after construction: a reader's borrowed item may be freed
        with the old container."""
        for fw in fn.field_writes:
            parts = fw.path.split(".")
            if fw.same_field:  # `copy.f = self.f`: the copy shares the (frozen) container
                continue
            if len(parts) < 2 or "[" in fw.path or self._excused(("field", parts[-1]), me):
                continue
            if not self.new_object(unit, fn, fw.root, (fw.span, fw.regions)):
                self._thaw(("field", parts[-1]), Thaw(f"`{fw.path}` is assigned", fn.name))
        for st in fn.member_stores:  # members of any struct (a FieldWrite is a Python object's only)
            root, _, rest = st.target.partition(".")
            name = rest.replace("[]", "").rsplit(".", 1)[-1]
            if not rest or rest.endswith("]") or self._excused(("field", name), me):
                continue
            at = (st.value.span, st.value.regions) if st.value.span is not None else None
            if at is None or not self.new_object(unit, fn, root, at):
                self._thaw(("field", name), Thaw(f"`{st.target}` is assigned", fn.name))
        for a in fn.accesses:
            if (a.kind.writes or a.kind.value == "address") and not self._excused(("static", a.var), me):
                self._thaw(("static", a.var), Thaw(f"`{a.path or a.var}` is written", fn.name))

    def _targets(self, unit: Unit, fn: Function, m: ContainerMutation) -> list[Target | int]:
        if m.scope in ("static", "field"):
            return [(m.scope, m.key)]
        if m.scope == "param":
            return [int(m.key)]
        return self._local_targets(unit, fn, m.key)

    def reason(self, unit: Unit, fn: Function, arg: Arg) -> str | None:
        """Why the container `arg` (an argument of a call in `fn`) can be read without a lock: no code
        changes it after construction, or the running frame owns it; None when it may change."""
        if arg.kind == ArgKind.CALL and arg.path in self.cat.containers.frame_owned:
            return f"the dict {arg.path}() returns belongs to the running frame, which keeps it alive"
        if arg.kind == ArgKind.MEMBER:
            last = arg.path.replace("[]", "").rsplit(".", 1)
            targets: list[Target | int] = [("field", last[-1])] if len(last) == 2 and last[-1] else []
        elif arg.kind == ArgKind.NAME:
            targets = self._local_targets(unit, fn, arg.path)
        else:
            return None
        if not targets or any(isinstance(t, int) or t[0] == "unknown" or t in self.thawed for t in targets):
            return None
        names = ", ".join(f"`{_shown(unit, t)}`" for t in targets if not isinstance(t, int))
        built = [self.built[t] for t in targets if not isinstance(t, int) and t in self.built]
        where = f" (filled in `{built[0]}`)" if built else ""
        return (
            f"{names}{where} is never changed after construction by any code in the scan, nor reachable by Python "
            "code: a frozen container"
        )


def _shown(unit: Unit, t: Target) -> str:
    if t[0] == "static":
        var = unit.statics.get(t[1])
        return var.name if var is not None else t[1]
    return t[1]


class _LocalTargets:
    """The containers a name in a function may hold: a static of that name (not shadowed by a local), a
    parameter (its index), or what the local's definitions load (`d = self->map`, `d = other`). A local
    with a definition of unknown origin (a call's result) gives a target no container matches.

    Answers are kept per (function, name, depth) and listed once each, first occurrence first: a chain of
    locals defined from each other (`p = q; q = p;` in a loop) branches at every definition, so without
    the memo the walk and the lists it returns grow exponentially with `_MAX_DEPTH` (zstandard's
    amalgamated zstd.c: 120 s of the scan)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, str, int], tuple[Function, tuple[Target | int, ...]]] = {}
        self._statics: dict[int, tuple[Unit, dict[str, str]]] = {}

    def __call__(self, unit: Unit, fn: Function, name: str, depth: int = 0) -> list[Target | int]:
        """The targets, in order, each once (a new list: the caller may change it)."""
        return list(self._targets(unit, fn, name, depth))

    def _targets(self, unit: Unit, fn: Function, name: str, depth: int) -> tuple[Target | int, ...]:
        key = (id(fn), name, depth)
        held = self._memo.get(key)
        if held is not None and held[0] is fn:
            return held[1]
        found = tuple(dict.fromkeys(self._walk(unit, fn, name, depth)))
        self._memo[key] = (fn, found)
        return found

    def _walk(self, unit: Unit, fn: Function, name: str, depth: int) -> list[Target | int]:
        if depth > _MAX_DEPTH:
            return [("unknown", name)]
        index = {p.name: p.index for p in fn.params}.get(name)
        defs = fn.locals.get(name)
        if not defs:
            if index is not None:
                return [index]
            static = self._static_named(unit, name)
            return [("static", static)] if static is not None else []
        out: list[Target | int] = []
        if index is not None:
            out.append(index)
        for d in defs:
            if d.kind == OriginKind.OTHER and "." in d.source:
                out.append(("field", d.source.replace("[]", "").rsplit(".", 1)[-1]))
            elif d.kind == OriginKind.NAME and d.source:
                out += self._targets(unit, fn, d.source, depth + 1)
            elif d.kind == OriginKind.NULL:
                continue
            else:
                out.append(("unknown", name))  # fresh containers are judged private before this is asked
        return out

    def _static_named(self, unit: Unit, name: str) -> str | None:
        """The key of the first static of `unit` named `name` (one index per unit, not a scan per name)."""
        held = self._statics.get(id(unit))
        if held is None or held[0] is not unit:
            names: dict[str, str] = {}
            for v in unit.statics.values():
                names.setdefault(v.name, v.key)
            held = (unit, names)
            self._statics[id(unit)] = held
        return held[1].get(name)


def _describe(m: ContainerMutation) -> str:
    what = f"`{m.path}`" if m.path else "it"
    if m.kind == MutationKind.PASSED:
        return f"{what} is passed to {m.how}()"
    if m.kind == MutationKind.ESCAPED:
        return f"{what} is {'returned' if m.how == 'return' else 'kept elsewhere'} ({m.how})"
    return f"{what} is changed by {m.how}"


def frozen_containers(ctx: Context) -> FrozenContainers:
    """The scan's frozen containers, computed once (a project memo over the call graph and the roles)."""
    roles = project_roles(ctx)
    graph = roles.graph

    def new_object(unit: Unit, fn: Function, root: str, at: Point) -> bool:
        from ._fresh import freshness  # judges with the frozen-free summaries of the scan

        return freshness(unit, fn, ctx).private_at(Arg(ArgKind.NAME, root, root), at)

    return ctx.project.memo("frozen-containers", lambda: FrozenContainers(graph, roles, ctx.catalogue, new_object))
