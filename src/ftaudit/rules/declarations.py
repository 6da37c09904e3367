"""FT4: whether modules declare free-threading support (FT401-FT405)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence

from .. import names
from ..engine import Context, rule
from ..facts import DeclKind, Span, Unit
from ..findings import Finding, Related
from ..membership import DECLARED, of_project
from ..readiness import HAZARD_FAMILIES, hazards_in, is_hazard

_C_MODULES = {DeclKind.MULTI_PHASE, DeclKind.SINGLE_PHASE, DeclKind.MODULE_DEF}


@rule("FT401")
def c_module_gil_not_declared(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for decl in unit.module_decls:
        if decl.kind not in _C_MODULES or decl.declares_gil_not_used or decl.declares_gil_used:
            continue
        how = (
            "call PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED) in its PyInit_ function"
            if decl.kind == DeclKind.SINGLE_PHASE
            else "add {Py_mod_gil, Py_MOD_GIL_NOT_USED} to its PyModuleDef_Slot array"
        )
        yield ctx.finding(
            unit,
            decl.span,
            f"module `{decl.name}` does not declare free-threading support",
            detail=f"importing it re-enables the GIL; once its code is thread-safe, {how}",
        )


def _included_elsewhere(ctx: Context) -> set[str]:
    """Absolute paths of the files some scanned file textually includes (Cython `include "x.pyx"`):
    part of their includer's module, not modules of their own."""
    return ctx.project.memo("included", lambda: {os.path.abspath(p) for u in ctx.project.units for p in u.includes})


def _cython_sources(ctx: Context) -> set[str]:
    """The names of the modules whose .pyx the scan analysed: generated C of the same module, found
    elsewhere in the tree (a build directory, another copy), is not a module of its own."""
    return ctx.project.memo(
        "cython-sources",
        lambda: {d.name for u in ctx.project.units for d in u.module_decls if d.kind == DeclKind.CYTHON},
    )


@rule("FT402")
def cython_freethreading_not_declared(unit: Unit, ctx: Context) -> Iterator[Finding]:
    if os.path.abspath(unit.path) in _included_elsewhere(ctx):
        return  # its includer's header directives are the module's
    for decl in unit.module_decls:
        if decl.declares_gil_not_used:
            continue
        if decl.kind == DeclKind.CYTHON:
            yield ctx.finding(
                unit,
                Span(1, 1, 1, 2),
                f"Cython module `{decl.name}` does not declare free-threading support",
                detail="importing it re-enables the GIL; once its code is thread-safe, add "
                "`# cython: freethreading_compatible=True` to the file header (or set it for the build and in "
                "[tool.ftaudit] cython-directives)",
            )
        elif decl.kind == DeclKind.CYTHON_GENERATED and decl.name not in _cython_sources(ctx):
            yield ctx.finding(
                unit,
                decl.span,
                f"Cython module `{decl.name}` (generated C, its .pyx not in the tree) does not declare "
                "free-threading support",
                detail=f"importing it re-enables the GIL: {decl.detail}; its code was not analysed (scan its .pyx); "
                "once that code is thread-safe, regenerate this file with Cython 3.1 or later from a .pyx with "
                "`# cython: freethreading_compatible=True`",
            )


@rule("FT403")
def pybind11_gil_not_declared(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for decl in unit.module_decls:
        if decl.kind == DeclKind.PYBIND11 and not decl.declares_gil_not_used:
            yield ctx.finding(
                unit,
                decl.span,
                f"pybind11 module `{decl.name}` does not declare free-threading support",
                detail="importing it re-enables the GIL; once its code is thread-safe, pass py::mod_gil_not_used() "
                "to PYBIND11_MODULE",
            )


@rule("FT404")
def nanobind_gil_not_declared(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for module in of_project(ctx.project):
        if module.kind != DeclKind.NANOBIND or module.path != unit.path or module.state == DECLARED:
            continue
        cmake = [b for b in module.builds if b.kind == "nanobind"]
        if cmake:
            here = os.path.dirname(os.path.abspath(unit.path))
            where = ", ".join(f"{names.display(os.path.relpath(b.path, here))}:{b.line}" for b in cmake)
            message = f"nanobind module `{module.name}` does not declare free-threading support"
            detail = (
                f"its nanobind_add_module({module.name} ...) ({where}) lacks FREE_THREADED, so importing it "
                "re-enables the GIL; once its code is thread-safe, add FREE_THREADED to that call"
            )
        else:
            message = f"nanobind module `{module.name}`: no scanned CMakeLists.txt builds it"
            detail = (
                f"it declares free-threading support only through the FREE_THREADED option of its CMake "
                f"nanobind_add_module({module.name} ...): scan the directory that holds it to know; without "
                "FREE_THREADED, importing the module re-enables the GIL"
            )
        yield ctx.finding(unit, module.span, message, detail=detail)


_MAX_RELATED = 20


@rule("FT405", scope="findings", depends=HAZARD_FAMILIES)
def declared_but_hazardous(units: Sequence[Unit], findings: list[Finding], ctx: Context) -> Iterator[Finding]:
    hazards = [f for f in findings if is_hazard(f)]
    if not hazards:
        return
    by_path = {os.path.abspath(u.path): u for u in units}
    for module in of_project(ctx.project):
        unit = by_path.get(os.path.abspath(module.path))
        if module.state != DECLARED or unit is None:
            continue
        hits = hazards_in(module, hazards)
        if not hits:
            continue
        counts = Counter(f.rule for f in hits)
        summary = ", ".join(f"{rid} x{n}" for rid, n in sorted(counts.items()))
        n_files = len({os.path.abspath(f.path) for f in hits})
        yield ctx.finding(
            unit,
            module.span,
            f"module `{module.name}` declares free-threading support but {len(hits)} hazard(s) remain: {summary}",
            detail=f"they are in {n_files} of its {len(module.files)} source file(s), and the GIL stays disabled when "
            "it is imported; fix them or declare Py_MOD_GIL_USED until they are fixed",
            related=[Related(f.span, f"{f.rule}: {f.message}", f.path) for f in hits[:_MAX_RELATED]],
        )
