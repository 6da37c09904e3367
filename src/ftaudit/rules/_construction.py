"""Objects under construction: which functions, and which parameters, touch an object no other thread has.

A field write is construction (FT103/FT105 quiet) when the object cannot be shared yet (or any more):

- in a constructor, deallocator or GC slot (roles), and in a function only they call, directly or through
  each other, never used as a value (`single_owner_functions`: a cdef `self._fill()` from `__cinit__`);
- through a parameter that every call of the function fills with an object under construction
  (`constructed_params`): one the caller just created (`Cls.__new__(Cls)`, `PyObject_New`: see
  `_protection.Privacy`; or a factory's or a type call's new object it has not published yet: see
  `_fresh.Freshness.is_fresh`), the `self` of a constructor or single-owner caller, or a parameter of the caller
  that is itself such a parameter. lxml's `_registerProxy(result, doc, c_node)` after
  `result = _Element.__new__(_Element)` is the shape; a helper also handed a published object stays judged.

Both come from the scan's one call graph (callgraph.py) and roles (_roles.py), memoised per scan.
"""

from __future__ import annotations

from ..callgraph import CallGraph, Key, own_key
from ..engine import Context
from ..facts import ArgKind, Call, Function, Unit
from ._fresh import Freshness, freshness
from ._protection import Privacy, aliases
from ._roles import Role, project_roles

NOT_SHARED_YET = frozenset({Role.CONSTRUCTOR, Role.DEALLOC, Role.GC})


def _graph_and_roles(ctx: Context) -> tuple[CallGraph, dict[Key, Role]]:
    project = project_roles(ctx)
    return project.graph, project.roles


def single_owner_functions(ctx: Context) -> set[Key]:
    """Functions called only from constructors, deallocators and GC slots (directly or through each other),
    never used as a value: the object they touch has a single owner then."""

    def build() -> set[Key]:
        graph, roles = _graph_and_roles(ctx)
        owned = {k for k, r in roles.items() if r in NOT_SHARED_YET}
        helpers: set[Key] = set()
        changed = True
        while changed:
            changed = False
            for key in graph.functions:
                if key in owned or key in helpers or key in graph.file_refs or key in roles:
                    continue
                callers = graph.callers.get(key, set()) - {key}
                if callers and callers <= owned | helpers:
                    helpers.add(key)
                    changed = True
        return helpers

    return ctx.project.memo("single-owner", build)


def _receiver_offset(unit: Unit, fn: Function) -> int:
    """How many leading parameters a call's argument list leaves out: a Cython method's `self` (the
    receiver of `obj.method()`); C++ members have no `this` parameter, C functions pass everything."""
    return 1 if unit.language == "cython" and "." in fn.name else 0


def _rooted_params(fn: Function) -> set[int]:
    """Indices of the parameters some field write of `fn` goes through (directly or through a cast)."""
    by_name = {p.name: p.index for p in fn.params}
    out: set[int] = set()
    for w in fn.field_writes:
        out.update(by_name[a] for a in aliases(fn, w.root) if a in by_name)
    return out


class _Constructed:
    """The fixpoint behind `constructed_params` (one instance per scan)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.graph, self.roles = _graph_and_roles(ctx)
        self.owners = {k for k, r in self.roles.items() if r in NOT_SHARED_YET} | single_owner_functions(ctx)
        self.found: set[tuple[Key, int]] = set()
        self._privacy: dict[Key, Privacy] = {}
        self._fresh: dict[Key, Freshness] = {}

    def run(self) -> set[tuple[Key, int]]:
        candidates: list[tuple[Key, Unit, Function, set[int]]] = []
        for key, (unit, fn) in self.graph.functions.items():
            if key in self.roles or key in self.graph.file_refs or key in self.owners:
                continue
            offset = _receiver_offset(unit, fn)
            params = {i for i in _rooted_params(fn) if i >= offset}
            if params and self.graph.callers.get(key):
                candidates.append((key, unit, fn, params))
        changed = True
        while changed:
            changed = False
            for key, unit, fn, params in candidates:
                offset = _receiver_offset(unit, fn)
                for i in params:
                    if (key, i) not in self.found and self._always_constructed(key, i - offset):
                        self.found.add((key, i))
                        changed = True
        return self.found

    def _always_constructed(self, key: Key, arg_index: int) -> bool:
        """Does every use of function `key` (every call; a use as a value never) pass, at `arg_index`, an
        object under construction?"""
        for caller in self.graph.callers.get(key, ()):
            cunit, cfn = self.graph.functions[caller]
            calls = [c for c in cfn.calls if key in self.graph.resolve_all(cunit, c.name)]
            if not calls or any(key in self.graph.resolve_all(cunit, r.name) for r in cfn.refs):
                return False
            if not all(self._under_construction(caller, cfn, c, arg_index) for c in calls):
                return False
        return True

    def _under_construction(self, caller: Key, fn: Function, call: Call, index: int) -> bool:
        if index >= len(call.args):
            return False
        arg = call.args[index]
        privacy = self._privacy.setdefault(caller, Privacy(fn, self.ctx.catalogue))
        if privacy.is_private(arg, at=(call.span, call.regions)):
            return True  # created by the caller
        if arg.kind != ArgKind.NAME:
            return False
        fresh = self._fresh.get(caller)
        if fresh is None:
            fresh = self._fresh[caller] = freshness(self.graph.functions[caller][0], fn, self.ctx)
        if fresh.is_fresh(arg.path, (call.span, call.regions)):
            return True  # a factory's new object, or a new instance of the scan's type, not yet published
        by_name = {p.name: p.index for p in fn.params}
        for name in aliases(fn, arg.path):
            index_in_caller = by_name.get(name)
            if index_in_caller is None:
                continue
            if index_in_caller == 0 and caller in self.owners:
                return True  # the constructor's (or its single-owner helper's) own object
            if (caller, index_in_caller) in self.found:
                return True
        return False


def constructed_params(ctx: Context) -> set[tuple[Key, int]]:
    """(function, parameter index) pairs whose every call passes an object under construction."""
    return ctx.project.memo("constructed-params", lambda: _Constructed(ctx).run())


def under_construction(unit: Unit, fn: Function, root: str, ctx: Context) -> bool:
    """Is the object `root` (a name in `fn`) one that `fn` receives only while it is being constructed?"""
    found = constructed_params(ctx)
    if not found:
        return False
    key = own_key(unit, fn)
    by_name = {p.name: p.index for p in fn.params}
    return any((key, by_name[a]) in found for a in aliases(fn, root) if a in by_name)
