"""FT4: whether modules declare free-threading support (FT401, FT403)."""

from __future__ import annotations

from collections.abc import Iterator

from ..engine import Context, rule
from ..facts import DeclKind, Unit
from ..findings import Finding

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
            f"module `{decl.name}` does not declare free-threading support, so importing it re-enables the GIL; "
            f"once its code is thread-safe, {how}",
        )


@rule("FT403")
def pybind11_gil_not_declared(unit: Unit, ctx: Context) -> Iterator[Finding]:
    for decl in unit.module_decls:
        if decl.kind == DeclKind.PYBIND11 and not decl.declares_gil_not_used:
            yield ctx.finding(
                unit,
                decl.span,
                f"pybind11 module `{decl.name}` does not declare free-threading support, so importing it "
                "re-enables the GIL; once its code is thread-safe, pass py::mod_gil_not_used() to PYBIND11_MODULE",
            )
