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
  methods.c, whose table names a method that calls a helper in helper.c);

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
from .callgraph import CallGraph, Key, own_key
from .engine import Project
from .facts import DeclKind, ModuleDecl, Span, Unit

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


def _linked(graph: CallGraph, start: set[Key]) -> set[Key]:
    """`start` and what its functions reach through the graph's edges; a call from C or Cython to a
    bare name does not reach C++ methods of that name (the graph links `rand` to `Counter::rand`
    for C++ member calls, which C and Cython cannot make)."""
    seen = set(start)
    todo = list(start)
    while todo:
        key = todo.pop()
        cpp = graph.functions[key][0].language == "cpp" if key in graph.functions else True
        for nxt in graph.edges.get(key, ()):
            if nxt not in seen and (cpp or "::" not in nxt[1]):
                seen.add(nxt)
                todo.append(nxt)
    return seen


def reached_files(graph: CallGraph, by_path: dict[str, Unit], start: set[str]) -> set[str]:
    """The files (absolute paths) linked with `start` through calls: every file holding a function
    reachable from the functions of the files found so far, to a fixed point (`start` excluded)."""
    found = set(start)
    todo = [p for p in start if p in by_path]
    seen_keys: set[Key] = set()
    while todo:
        entries: set[Key] = set()
        for path in todo:
            entries |= _entries(graph, by_path[path])
        reached = _linked(graph, entries - seen_keys) - seen_keys
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


def modules(units: Sequence[Unit], graph: CallGraph, targets: Sequence[BuildTarget] = ()) -> list[Module]:
    """Every module defined in `units` (in unit order), with its members (see the module docstring).
    A Cython file another scanned file includes is part of its includer's module, not one of its own."""
    by_path = {os.path.abspath(u.path): u for u in units}
    included = {os.path.abspath(p) for u in units for p in u.includes}
    out = []
    for unit in units:
        if unit.language == "cython" and os.path.abspath(unit.path) in included:
            continue
        for decl in unit.module_decls:
            name = module_name(unit, decl)
            builds = matching_builds(name, unit.path, targets)
            via: dict[str, list[str]] = defaultdict(list)
            via[os.path.abspath(unit.path)].append("definition")
            for b in builds:
                for src in b.sources:
                    if src in by_path:
                        via[src].append("build")
            for path in reached_files(graph, by_path, set(via)):
                via[path].append("calls")
            for path in list(via):
                member = by_path.get(path)
                for inc in member.includes if member is not None else ():
                    if os.path.abspath(inc) in by_path:
                        via[os.path.abspath(inc)].append("include")
            files = tuple(
                Member(by_path[p].path if p in by_path else p, tuple(dict.fromkeys(v))) for p, v in sorted(via.items())
            )
            out.append(
                Module(
                    name,
                    decl.kind,
                    unit.path,
                    decl.span,
                    declaration_state(decl, builds),
                    files,
                    tuple(builds),
                    _notes(decl, name, builds),
                )
            )
    return out


def _notes(decl: ModuleDecl, name: str, builds: Sequence[BuildTarget]) -> tuple[str, ...]:
    notes = []
    if decl.kind == DeclKind.NANOBIND and not any(b.kind == "nanobind" for b in builds):
        notes.append(
            f"no nanobind_add_module({name} ...) in the scanned CMake files: whether it is built FREE_THREADED "
            "is unknown (scan the directory holding its CMakeLists.txt)"
        )
    if any(not b.complete for b in builds):
        notes.append("some sources in the build description are not literals: the call graph found the rest")
    return tuple(notes)


def of_project(project: Project) -> list[Module]:
    """The modules of an engine `Project` (memoised: the scan hands over those it computed), from its
    units, call graph and build targets."""
    graph = project.memo("callgraph", lambda: CallGraph(project.units))
    targets: Sequence[BuildTarget] = project.memo("build-targets", lambda: ())
    return project.memo("modules", lambda: modules(project.units, graph, targets))
