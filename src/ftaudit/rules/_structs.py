"""Containers kept in a struct on one call's stack: `RE_JoinInfo info;` in a function, `&info` handed only to
helpers of the scan, and a field of it (`info->list = PyList_New(2)`) that only ever holds new containers
nobody else is given. No other thread can reach such a container, so FT201-FT205 treat `info->list` as
private where `info` is that struct, and a helper every call site hands `info->list` gets it as a fresh
parameter (rules/_fresh.py).

Facts used (the C frontends'): `Function.struct_uses` (where a local struct's address goes, and whole uses
of a local struct or of what a pointer parameter points to), `Function.member_stores` (what is stored
into members, and members' values stored elsewhere), calls, returns, local origins, the call graph and
the kept-parameter summary (rules/_keeps.py).

- **Private struct parameters** (a greatest fixpoint): parameter `i` of a `static` function that no table
  or address-of makes an entry point, which never reassigns it, copies it into a local, uses what it
  points to whole (`*p`, `p[i]`) or keeps it (_keeps.py), and whose every call site passes there either
  `&local`, a local struct of the caller that is never assigned, initialised or used whole and whose
  address goes only to helpers of the scan that do not keep it, or a private struct parameter of the
  caller. The local's declaration may initialise it member by member (`OutBuf buffer = {.list = NULL};`,
  `{0}`: the frontends record each designated member's value as a MemberStore and the declaration as an
  AGGREGATE definition); any other definition (a positional initialiser with a value, an assignment or
  copy of the whole struct) refuses it. So CPython's `_BlocksOutputBuffer`, which Brotli and pyzstd copy,
  is seen: every caller passes `&buffer` of its own stack buffer. A static function with no call site at
  all and no address taken (pyppmd's unused `OutputBuffer_InitWithSize`) never runs, so nothing refuses
  its parameters; one of external linkage may have callers outside the scan and is never a candidate.
- **Fields that hold only new containers**, by name across the scan (as frozen containers are): every
  store into a member of that name anywhere stores NULL or a catalogue fresh constructor's result
  (`PyList_New`...) and at least one stores a new one; no member of that name has its address taken; and
  its value never goes anywhere it could be kept: not returned, not stored elsewhere, passed only to calls
  that keep nothing of it (the catalogue's inspecting calls and readers, the operand of a C API call that
  runs no code, a helper of the scan that does not keep that parameter), and loaded only into locals that
  are themselves never stored, returned, copied or passed where they may be kept (`_stays`: Py_CLEAR's
  expansion under libclang, `PyObject *tmp = b->list; b->list = NULL; Py_DECREF(tmp);`).

Known limits: a member's value that leaves through a conditional expression (`g = c ? p->list : NULL`,
also from a local it was loaded into) or an aggregate initialiser of anything but a stack struct's
declaration is not seen leaving.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..callgraph import CallGraph, Key, own_key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import Arg, ArgKind, Call, Function, OriginKind, StructUse, Unit
from ._keeps import Keeps, keeps_summary
from ._sites import CallSites, Site, call_sites, drop_unpassed


def _field(path: str) -> str:
    """The member a path ends in (`info.list` -> `list`), "" for a path that is no member or an element."""
    if "." not in path or path.endswith("]"):
        return ""
    return path.rsplit(".", 1)[-1].replace("[]", "")


class StructFields:
    """The scan's private struct parameters and fields that hold only new containers (built once per scan)."""

    def __init__(self, graph: CallGraph, catalogue: Catalogue, keeps: Keeps, index: CallSites) -> None:
        self.graph = graph
        self.cat = catalogue
        self.keeps = keeps
        self.index = index
        self.fields = self._fresh_fields()
        self.params = self._private_params() if self.fields else set()

    def holds_private(self, unit: Unit, fn: Function, arg: Arg) -> bool:
        """Is `arg` (`info.list`) a field holding only new containers of a private struct parameter of `fn`?"""
        if arg.kind != ArgKind.MEMBER or not arg.root or not arg.path.startswith(arg.root + "."):
            return False
        name = arg.path[len(arg.root) + 1 :]
        if name not in self.fields:
            return False
        index = next((p.index for p in fn.params if p.name == arg.root), None)
        return index is not None and (own_key(unit, fn), index) in self.params

    # fields ---------------------------------------------------------------------------------------------
    def _fresh_fields(self) -> set[str]:
        good: set[str] = set()
        bad: set[str] = set()
        for unit, fn in self.graph.functions.values():
            for st in fn.member_stores:
                target, value = _field(st.target), st.value
                if value.kind == OriginKind.OTHER and value.source:
                    bad.add(_field(value.source))  # the member's value stored elsewhere
                if not target:
                    continue
                if value.kind == OriginKind.CALL and value.callee in self.cat.fresh_constructors:
                    good.add(target)
                elif value.kind != OriginKind.NULL:
                    bad.add(target)
            bad.update(_field(r.source) for r in fn.returns if r.source)
            for local, defs in fn.locals.items():
                loaded = {_field(d.source) for d in defs if d.source} - {""}
                if loaded and not self._stays(unit, fn, local):
                    bad.update(loaded)  # the member's value goes on from the local
            for call in fn.calls:
                for j, a in enumerate(call.args):
                    if a.kind == ArgKind.MEMBER and _field(a.path) and self._may_keep(unit, call, j):
                        bad.add(_field(a.path))
        return good - bad

    def _stays(self, unit: Unit, fn: Function, local: str) -> bool:
        """Does the value of `local` go nowhere it could be kept: not stored (Function.stores, a member's
        value), returned or copied into another local, and passed only to calls that keep nothing of it?
        (`PyObject *_py_tmp = buffer->list; ... Py_DECREF(_py_tmp);`, Py_CLEAR's expansion.) Only the C
        walkers record all of that (member stores among it): a Cython local never stays."""
        if unit.language == "cython":
            return False
        if any(st.name == local for st in fn.stores) or any(r.source == local for r in fn.returns):
            return False
        if any(st.value.source == local for st in fn.member_stores):
            return False
        if any(d.source == local for name, defs in fn.locals.items() if name != local for d in defs):
            return False
        return not any(
            a.kind == ArgKind.NAME and a.path == local and self._may_keep(unit, call, j)
            for call in fn.calls
            for j, a in enumerate(call.args)
        )

    def _may_keep(self, unit: Unit, call: Call, index: int) -> bool:
        """May `call` keep its argument `index` (as rules/_keeps.py judges a call of the scan)?"""
        cat = self.cat
        if call.name in cat.inspecting_calls or call.name in cat.containers.readers:
            return False
        if index == 0 and call.name.startswith(("Py", "_Py")) and not call.name.startswith(cat.operand_code_prefixes):
            return False
        targets = self.graph.resolve_all(unit, call.name)
        return not targets or any(self.keeps.keeps(t, index) for t in targets)

    # parameters -----------------------------------------------------------------------------------------
    def _private_params(self) -> set[tuple[Key, int]]:
        index = self.index
        candidates: dict[Key, set[int]] = {}
        for key, (unit, fn) in self.graph.functions.items():
            # A static function nothing calls nor takes the address of (pyppmd's unused
            # OutputBuffer_InitWithSize) never runs: its parameters are private with no site to refuse them.
            if key in index.referenced or not fn.internal or unit.language == "cython":
                continue
            if "." in fn.name or "::" in fn.name:
                continue
            candidates[key] = {p.index for p in fn.params if self._own_use_ok(key, fn, p.name, p.index)}

        def passes(site: Site, i: int) -> bool:  # drop a parameter as soon as one call site passes no private struct
            return self._passes(site, i, candidates)

        kept = drop_unpassed(candidates, index, passes)
        return {(key, i) for key, indexes in kept.items() for i in indexes}

    def _own_use_ok(self, key: Key, fn: Function, name: str, index: int) -> bool:
        """Does the function use its parameter `name` only through its members and by passing it on?"""
        if fn.locals.get(name) or any(u.name == name for u in fn.struct_uses):
            return False
        if any(d.kind == OriginKind.NAME and d.source == name for defs in fn.locals.values() for d in defs):
            return False
        return not self.keeps.keeps(key, index)

    def _passes(self, site: Site, index: int, found: dict[Key, set[int]]) -> bool:
        caller, unit, fn, call = site
        if index >= len(call.args):
            return False
        use = next(
            (u for u in fn.struct_uses if u.callee == call.name and u.arg == index and call.span.contains(u.span)),
            None,
        )
        if use is not None:  # `helper(&info)`
            return self._private_local(unit, fn, use.name)
        arg = call.args[index]
        own = next((p.index for p in fn.params if p.name == arg.path), None) if arg.kind == ArgKind.NAME else None
        return own is not None and own in found.get(caller, ())

    def _private_local(self, unit: Unit, fn: Function, name: str) -> bool:
        """Is the local struct `name` never assigned nor used whole, its address passed only to helpers of
        the scan that do not keep it?"""
        if any(p.name == name for p in fn.params):
            return False
        if any(d.kind != OriginKind.AGGREGATE for d in fn.locals.get(name, ())):
            return False  # assigned or copied whole (a declaration's `{.list = NULL}` is MemberStores)
        uses: Iterable[StructUse] = (u for u in fn.struct_uses if u.name == name)
        for u in uses:
            targets = self.graph.resolve_all(unit, u.callee) if u.callee else []
            if not targets or any(self.keeps.keeps(t, u.arg) for t in targets):
                return False
        return True


def struct_fields(ctx: Context) -> StructFields:
    """The scan's containers kept in stack structs, computed once (a project memo)."""
    graph = ctx.project.memo("callgraph", lambda: CallGraph(ctx.project.units))
    index = call_sites(ctx.project.memo, graph)
    return ctx.project.memo("struct-fields", lambda: StructFields(graph, ctx.catalogue, keeps_summary(ctx), index))
