"""Which files make up each extension module of the scan, and whether it declares free-threading.

A module is its definition (a `PyModuleDef` with its `PyInit_` function or exec slot, a Cython
`.pyx`, `PYBIND11_MODULE`, `NB_MODULE`, from `Unit.module_decls`) plus its sources, found two
ways and united (a file found either way counts; a file used by several modules counts for each):

- `build`: the sources of the build target of the same name (`buildfiles.read_targets`: setup.py,
  meson.build, CMake), when one names the module;
- `calls`: the files of every function reachable, through the scan's call graph
  (`callgraph.CallGraph`), from the functions of the module's files and the functions their
  initialisers name (method tables, slots), to a fixed point: a file is linked whole, so once one
  of its functions is part of the module all of them are (`PyInit_` calls `add_methods()` in
  methods.c, whose table names a method that calls a helper in helper.c). The calls stop at
  files of other modules (their defining files, the sources their build targets list): a module
  does not link another one, it calls its C API through a table at run time;

plus `definition` (the defining file) and `include` (scanned files the members include). Each
member records how it was found, so the build description can be checked against the calls.

Entry point: `modules(units, graph, targets) -> list[Module]`, used by FT404/FT405 (through
`of_project`) and by `ftaudit modules` (readiness.py). Paths are as the units name them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .buildfiles import BuildTarget
from .callgraph import CallGraph, Key, own_key, plain_name
from .engine import Project
from .facts import DeclKind, Function, ModuleDecl, Span, Unit

DECLARED = "declared"
NOT_DECLARED = "not declared"
GIL_USED = "declared Py_MOD_GIL_USED"

_C_KINDS = {DeclKind.MULTI_PHASE, DeclKind.SINGLE_PHASE, DeclKind.MODULE_DEF}
_DEF_USERS = {"PyModule_Create", "PyModule_Create2", "PyModuleDef_Init", "PyModule_FromDefAndSpec"}
_DEF_USERS |= {"PyModule_FromDefAndSpec2"}


@dataclass(frozen=True)
class Member:
    """A file of a module and how it was found: definition, build, include, calls."""

    path: str
    via: tuple[str, ...]


@dataclass(frozen=True)
class Module:
    """One extension module: its name, definition, declaration state and files.

    `state`: DECLARED, NOT_DECLARED or GIL_USED (nanobind: DECLARED when its CMake target has
    FREE_THREADED). `builds`: the build targets naming it. `notes`: what could not be told."""

    name: str
    kind: DeclKind
    path: str
    span: Span
    state: str
    files: tuple[Member, ...]
    builds: tuple[BuildTarget, ...] = ()
    notes: tuple[str, ...] = ()

    def paths(self) -> frozenset[str]:
        """The absolute paths of its files."""
        return frozenset(os.path.abspath(m.path) for m in self.files)


def module_name(unit: Unit, decl: ModuleDecl) -> str:
    """The name Python imports: the `PyInit_<name>` that creates a C module's PyModuleDef (the decl
    names the variable), else the decl's own name (Cython, pybind11, nanobind)."""
    if decl.kind not in _C_KINDS:
        return decl.name
    inits = [fn for fn in unit.functions if fn.name.startswith("PyInit_")]
    for fn in inits:
        if any(c.name in _DEF_USERS and c.args and c.args[0].path == decl.name for c in fn.calls):
            return fn.name[len("PyInit_") :]
    c_decls = [d for d in unit.module_decls if d.kind in _C_KINDS]
    if len(inits) == 1 and len(c_decls) == 1:
        return inits[0].name[len("PyInit_") :]
    return decl.name


def declaration_state(decl: ModuleDecl, builds: Sequence[BuildTarget]) -> str:
    """DECLARED, NOT_DECLARED or GIL_USED; a nanobind module declares in its CMake target."""
    if decl.kind == DeclKind.NANOBIND:
        return DECLARED if any("FREE_THREADED" in b.options for b in builds) else NOT_DECLARED
    if decl.declares_gil_not_used:
        return DECLARED
    return GIL_USED if decl.declares_gil_used else NOT_DECLARED


def matching_builds(name: str, path: str, targets: Sequence[BuildTarget]) -> list[BuildTarget]:
    """The build targets of module `name` defined in `path`: those of that name listing the file,
    else the only one of that name (its sources may be generated, `x.c.src`)."""
    named = [t for t in targets if t.module == name]
    listing = [t for t in named if os.path.abspath(path) in t.sources]
    return listing or (named if len(named) == 1 else [])


def _entries(graph: CallGraph, unit: Unit) -> set[Key]:
    """The functions of a file and those its file-scope initialisers name (tables, slots)."""
    keys = {own_key(unit, fn) for fn in unit.functions}
    for ref in unit.refs:
        keys.update(graph.resolve_all(unit, ref.name))
    return {k for k in keys if k in graph.functions}


def _callable_elsewhere(unit: Unit, fn: Function, scanned: frozenset[str]) -> set[str] | None:
    """The names `fn` can call in another file, or None for any. Cython: only the names it declares
    C (`cdef extern`, `cimport`), not Python-level ones (`next(it)` is the builtin, not a C `next()`).
    C and C++: any name, except those the compiler found declared in a header outside the scan
    (`std::next` from <iterator> is not a scanned `next()`)."""
    if unit.language == "cython":
        return {plain_name(c.name) for c in fn.calls if c.declared_in}
    outside = {plain_name(c.name) for c in fn.calls if c.declared_in and os.path.abspath(c.declared_in) not in scanned}
    if not outside:
        return None
    return {plain_name(c.name) for c in fn.calls} - outside | {plain_name(r.name) for r in fn.refs}


def _linked(graph: CallGraph, start: set[Key], blocked: frozenset[str], scanned: frozenset[str]) -> set[Key]:
    """`start` and what its functions reach through the graph's edges, never entering a function of a
    `blocked` file. A call from C or Cython to a bare name does not reach C++ methods of that name
    (the graph links `rand` to `Counter::rand` for C++ member calls, which C and Cython cannot make),
    and a call reaches another file only by a name it can call there (`_callable_elsewhere`)."""
    seen = set(start)
    todo = list(start)
    while todo:
        key = todo.pop()
        unit, fn = graph.functions.get(key, (None, None))
        cpp = unit is None or unit.language == "cpp"
        allowed = _callable_elsewhere(unit, fn, scanned) if unit is not None and fn is not None else None
        named = {plain_name(c.name) for c in fn.calls} | {plain_name(r.name) for r in fn.refs} if fn else set()
        for nxt in graph.edges.get(key, ()):
            if nxt in seen or (not cpp and "::" in nxt[1]):
                continue
            if nxt in graph.functions:
                path = graph.functions[nxt][0].path
                if os.path.abspath(path) in blocked:
                    continue
                if _ambiguous_member_call(graph, nxt, named) and unit is not None and path != unit.path:
                    continue
                foreign = allowed is not None and unit is not None and path != unit.path
                if foreign and nxt[1] not in allowed and _base_name(nxt[1]) not in allowed:  # type: ignore[operator]
                    continue
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _ambiguous_member_call(graph: CallGraph, target: Key, named: set[str]) -> bool:
    """Does the edge to the method `target` come only from a call by its bare name (`v.size()`),
    which the graph links to every `Class::size`, with more than one such method? Such an edge says
    nothing about which file is linked (matplotlib's wrappers would reach every file of the tree)."""
    if "::" not in target[1] or target[1] in named:
        return False
    return len(graph.methods_named(_base_name(target[1]))) > 1


def _base_name(name: str) -> str:
    return name.rsplit("::", 1)[-1]


def reached_files(
    graph: CallGraph, by_path: dict[str, Unit], start: set[str], blocked: frozenset[str] = frozenset()
) -> set[str]:
    """The files (absolute paths) linked with `start` through calls: every file holding a function
    reachable from the functions of the files found so far, to a fixed point (`start` excluded).
    Functions of `blocked` files (another module's) are neither entered nor followed."""
    found = set(start)
    scanned = frozenset(by_path)
    todo = [p for p in start if p in by_path]
    seen_keys: set[Key] = set()
    while todo:
        entries: set[Key] = set()
        for path in todo:
            entries |= _entries(graph, by_path[path])
        # A file's initialisers may name a function of another file (an extern in a table): not one of `blocked`.
        entries = {k for k in entries if os.path.abspath(graph.functions[k][0].path) not in blocked}
        reached = _linked(graph, entries - seen_keys, blocked, scanned) - seen_keys
        seen_keys |= reached
        todo = []
        for key in reached:
            if key not in graph.functions:
                continue
            path = os.path.abspath(graph.functions[key][0].path)
            if path not in found:
                found.add(path)
                todo.append(path)
    return found - set(start)


@dataclass(frozen=True)
class _Definition:
    unit: Unit
    decl: ModuleDecl
    name: str
    builds: tuple[BuildTarget, ...]


def _definitions(units: Sequence[Unit], targets: Sequence[BuildTarget]) -> list[_Definition]:
    """Each module definition with its name and build targets. A Cython file another scanned file
    includes is part of its includer's module, not one of its own."""
    included = {os.path.abspath(p) for u in units for p in u.includes}
    out = []
    for unit in units:
        if unit.language == "cython" and os.path.abspath(unit.path) in included:
            continue
        for decl in unit.module_decls:
            name = module_name(unit, decl)
            out.append(_Definition(unit, decl, name, tuple(matching_builds(name, unit.path, targets))))
    return out


def _others(d: _Definition, defs: Sequence[_Definition], targets: Sequence[BuildTarget]) -> frozenset[str]:
    """Files that belong to other modules, where the calls of `d`'s module stop: other modules'
    defining files and the sources of build targets not its own, minus the sources its own targets
    list (a file two targets list is each one's). A module's C API used by name from another module
    (numpy's `PyArray_*` from its Cython modules) goes through a table at run time, not the linker."""
    own = {os.path.abspath(d.unit.path)} | {s for b in d.builds for s in b.sources}
    claimed = {os.path.abspath(o.unit.path) for o in defs if o.unit is not d.unit}
    claimed |= {s for t in targets if t not in d.builds for s in t.sources}
    return frozenset(claimed - own)


def modules(units: Sequence[Unit], graph: CallGraph, targets: Sequence[BuildTarget] = ()) -> list[Module]:
    """Every module defined in `units` (in unit order), with its members (see the module docstring)."""
    by_path = {os.path.abspath(u.path): u for u in units}
    defs = _definitions(units, targets)
    out = []
    for d in defs:
        via: dict[str, list[str]] = defaultdict(list)
        via[os.path.abspath(d.unit.path)].append("definition")
        for b in d.builds:
            for src in b.sources:
                if src in by_path:
                    via[src].append("build")
        others = _others(d, defs, targets)
        for path in reached_files(graph, by_path, set(via), others):
            via[path].append("calls")
        for path in list(via):
            member = by_path.get(path)
            for inc in member.includes if member is not None else ():
                if os.path.abspath(inc) in by_path and os.path.abspath(inc) not in others:
                    via[os.path.abspath(inc)].append("include")
        files = tuple(
            Member(by_path[p].path if p in by_path else p, tuple(dict.fromkeys(v))) for p, v in sorted(via.items())
        )
        state = declaration_state(d.decl, d.builds)
        notes = _notes(d.decl, d.name, d.builds)
        out.append(Module(d.name, d.decl.kind, d.unit.path, d.decl.span, state, files, d.builds, notes))
    return out


def _notes(decl: ModuleDecl, name: str, builds: Sequence[BuildTarget]) -> tuple[str, ...]:
    notes = []
    if decl.kind == DeclKind.NANOBIND and not any(b.kind == "nanobind" for b in builds):
        notes.append(
            f"no nanobind_add_module({name} ...) in the scanned CMake files: whether it is built FREE_THREADED "
            "is unknown (scan the directory holding its CMakeLists.txt)"
        )
    if decl.kind == DeclKind.CYTHON_GENERATED:
        notes.append("known only by its Cython-generated C (its .pyx is not in the tree): its code was not analysed")
    if any(not b.complete for b in builds):
        notes.append("some sources in the build description are not literals: the call graph found the rest")
    return tuple(notes)


def of_project(project: Project) -> list[Module]:
    """The modules of an engine `Project` (memoised: the scan hands over those it computed), from its
    units, call graph and build targets."""
    graph = project.memo("callgraph", lambda: CallGraph(project.units))
    targets: Sequence[BuildTarget] = project.memo("build-targets", lambda: ())
    return project.memo("modules", lambda: modules(project.units, graph, targets))
