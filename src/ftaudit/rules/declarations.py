"""FT4: whether modules declare free-threading support (FT401, FT403, FT405)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence

from ..engine import Context, rule
from ..facts import DeclKind, Span, Unit
from ..findings import Finding, Related

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


@rule("FT402")
def cython_freethreading_not_declared(unit: Unit, ctx: Context) -> Iterator[Finding]:
    if os.path.abspath(unit.path) in _included_elsewhere(ctx):
        return  # its includer's header directives are the module's
    for decl in unit.module_decls:
        if decl.kind == DeclKind.CYTHON and not decl.declares_gil_not_used:
            yield ctx.finding(
                unit,
                Span(1, 1, 1, 2),
                f"Cython module `{decl.name}` does not declare free-threading support",
                detail="importing it re-enables the GIL; once its code is thread-safe, add "
                "`# cython: freethreading_compatible=True` to the file header (or set it for the build and in "
                "[tool.ftaudit] cython-directives)",
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


_HAZARD_FAMILIES = ("FT1", "FT2", "FT3")
_HAZARD_LEVELS = {"warning", "error"}
_MAX_RELATED = 20


def _touches(f: Finding, files: set[str]) -> bool:
    """In one of the files, or (a global declared elsewhere) written in one of them."""
    if os.path.abspath(f.path) in files:
        return True
    return any(r.path and os.path.abspath(r.path) in files for r in f.related)


@rule("FT405", scope="findings", depends=_HAZARD_FAMILIES)
def declared_but_hazardous(units: Sequence[Unit], findings: list[Finding], ctx: Context) -> Iterator[Finding]:
    hazards = [f for f in findings if f.rule.startswith(_HAZARD_FAMILIES) and f.level in _HAZARD_LEVELS]
    if not hazards:
        return
    scanned = {os.path.abspath(u.path) for u in units}
    for unit in units:
        for decl in unit.module_decls:
            if not decl.declares_gil_not_used:
                continue
            files = {os.path.abspath(unit.path)} | {os.path.abspath(i) for i in unit.includes} & scanned
            hits = sorted((f for f in hazards if _touches(f, files)), key=Finding.sort_key)
            if not hits:
                continue
            counts = Counter(f.rule for f in hits)
            summary = ", ".join(f"{rid} x{n}" for rid, n in sorted(counts.items()))
            yield ctx.finding(
                unit,
                decl.span,
                f"module `{decl.name}` declares free-threading support but {len(hits)} hazard(s) remain: {summary}",
                detail="the GIL stays disabled when it is imported; fix them or declare Py_MOD_GIL_USED until they "
                "are fixed",
                related=[Related(f.span, f"{f.rule}: {f.message}", f.path) for f in hits[:_MAX_RELATED]],
            )
