"""libclang frontend: a real semantic parse of C and C++ files."""

from __future__ import annotations

import re

from clang import cindex as ci

from ...catalogue import Catalogue
from ...discover import SourceFile
from ...facts import DeclKind, ModuleDecl, Problem, Span, Unit
from ...source import Source
from ..textscan import blank_comments_and_strings, macro_uses, mentions
from .flags import FlagSettings, is_cxx
from .walker import FUNCTION_KINDS, K, is_from_main_file, span_of, walk_function

KEEP_GOING = 0x200  # CXTranslationUnit_KeepGoing: parse on after a missing header
_MISSING = re.compile(r"'([^']+)' file not found")
_SYNTAX = re.compile(r"expected|unterminated|extraneous|invalid preprocessing|#error|unknown directive")
_SCOPES = {
    K.NAMESPACE,
    K.LINKAGE_SPEC,
    K.CLASS_DECL,
    K.STRUCT_DECL,
    K.CLASS_TEMPLATE,
    K.UNEXPOSED_DECL,
}
_MODULE_CREATE = {
    "PyModule_Create": DeclKind.SINGLE_PHASE,
    "PyModule_Create2": DeclKind.SINGLE_PHASE,
    "PyModuleDef_Init": DeclKind.MULTI_PHASE,
}


class ClangFrontend:
    name = "clang"

    def __init__(self, catalogue: Catalogue, flags: FlagSettings) -> None:
        self.catalogue = catalogue
        self.flags = flags
        self.index = ci.Index.create()

    def analyse(self, sf: SourceFile, src: Source) -> Unit:
        path = str(sf.path)
        language = "cpp" if is_cxx(sf.path, src.text, sf.language) else "c"
        unit = Unit(path, language, self.name)
        args = self.flags.args_for(sf.path, src.text, sf.language)
        try:
            tu = self.index.parse(path, args=args, options=KEEP_GOING)
        except ci.TranslationUnitLoadError as err:
            unit.problems.append(Problem(path, "error", "parse-failed", f"libclang could not parse the file: {err}"))
            return unit
        unit.problems += self._diagnostics(tu, path)
        module_vars: list[ci.Cursor] = []
        self._scope(tu.cursor, path, unit, module_vars, top=True)
        unit.module_decls = self._module_decls(unit, module_vars, src)
        return unit

    def _scope(self, parent: ci.Cursor, path: str, unit: Unit, module_vars: list[ci.Cursor], top: bool) -> None:
        for c in parent.get_children():
            if top and not is_from_main_file(c):
                continue
            k = c.kind
            if k in FUNCTION_KINDS:
                if c.is_definition():
                    fn = walk_function(self.catalogue, c, path)
                    if fn is not None:
                        unit.functions.append(fn)
                        if c.spelling.startswith("PyInit_"):
                            module_vars += [v for v in c.walk_preorder() if v.kind == K.VAR_DECL]
            elif k in _SCOPES:
                self._scope(c, path, unit, module_vars, top=False)
            elif k == K.VAR_DECL:
                module_vars.append(c)

    @staticmethod
    def _diagnostics(tu: ci.TranslationUnit, path: str) -> list[Problem]:
        missing: list[str] = []
        first_line: int | None = None
        syntax: list[ci.Diagnostic] = []
        for d in tu.diagnostics:
            if d.severity < ci.Diagnostic.Error:
                continue
            m = _MISSING.search(d.spelling)
            if m:
                if m.group(1) not in missing:
                    missing.append(m.group(1))
                    if first_line is None and d.location.file and d.location.file.name == path:
                        first_line = d.location.line
            elif d.location.file and d.location.file.name == path and _SYNTAX.search(d.spelling):
                syntax.append(d)
        problems = []
        if missing:
            problems.append(
                Problem(
                    path,
                    "warning",
                    "missing-header",
                    f"header(s) not found: {', '.join(missing)}; the rest of the file was analysed without "
                    "their declarations (pass -I or --compile-commands for a complete parse)",
                    first_line,
                )
            )
        if syntax and not missing:
            d = syntax[0]
            problems.append(
                Problem(
                    path,
                    "warning",
                    "syntax-error",
                    f"{len(syntax)} syntax error(s), first: {d.spelling}; results for this file may be incomplete",
                    d.location.line,
                )
            )
        return problems

    def _module_decls(self, unit: Unit, module_vars: list[ci.Cursor], src: Source) -> list[ModuleDecl]:
        slots: dict[str, str] = {}
        defs: list[tuple[ci.Cursor, str]] = []
        for v in module_vars:
            type_name = v.type.get_canonical().spelling
            if "PyModuleDef_Slot" in type_name:
                slots[v.spelling] = self._text(v, src)
            elif type_name.endswith("PyModuleDef") and v.is_definition() and any(True for _ in v.get_children()):
                defs.append((v, self._text(v, src)))
        created: dict[str, DeclKind] = {}
        set_gil: set[int] = set()
        for fn in unit.functions:
            for call in fn.calls:
                if call.name in _MODULE_CREATE and call.args and call.args[0].path:
                    created[call.args[0].path] = _MODULE_CREATE[call.name]
                elif call.name == "PyUnstable_Module_SetGIL" and len(call.args) > 1:
                    set_gil.add(call.args[1].value if call.args[1].value is not None else -1)
        decls: list[ModuleDecl] = []
        for v, text in defs:
            slot_text = " ".join(t for name, t in slots.items() if mentions(text, name))
            kind = created.get(v.spelling) or (DeclKind.MULTI_PHASE if slot_text else DeclKind.MODULE_DEF)
            slot_gil = mentions(slot_text, "Py_mod_gil")
            not_used = (slot_gil and mentions(slot_text, "Py_MOD_GIL_NOT_USED")) or 1 in set_gil
            used = (slot_gil and mentions(slot_text, "Py_MOD_GIL_USED")) or 0 in set_gil
            decls.append(ModuleDecl(kind, v.spelling, span_of(v), not_used, used))
        decls += binding_decls(src.text)
        return decls

    @staticmethod
    def _text(c: ci.Cursor, src: Source) -> str:
        ext = c.extent
        return blank_comments_and_strings(src.data[ext.start.offset : ext.end.offset].decode("utf-8", "replace"))


def binding_decls(text: str) -> list[ModuleDecl]:
    """pybind11 and nanobind module macros, found in the text (headers optional)."""
    clean = blank_comments_and_strings(text)
    decls = []
    for use in macro_uses(clean, "PYBIND11_MODULE"):
        declared = any("mod_gil_not_used" in a for a in use.args[2:])
        span = Span(use.line, use.col, use.end_line, use.end_col)
        decls.append(ModuleDecl(DeclKind.PYBIND11, use.args[0] if use.args else "?", span, declared))
    for use in macro_uses(clean, "NB_MODULE"):
        span = Span(use.line, use.col, use.end_line, use.end_col)
        decls.append(ModuleDecl(DeclKind.NANOBIND, use.args[0] if use.args else "?", span, False))
    return decls
