"""Module definitions and whether they declare free-threading support, from facts every
C frontend can produce: the PyModuleDef and slot initialisers (as text, comments and
strings blanked, so a slot inside any `#if` branch counts) and the calls made.
"""

from __future__ import annotations

from ..facts import DeclKind, Function, ModuleDecl, Span
from .textscan import blank_comments_and_strings, macro_uses, mentions

_MODULE_CREATE = {
    "PyModule_Create": DeclKind.SINGLE_PHASE,
    "PyModule_Create2": DeclKind.SINGLE_PHASE,
    "PyModuleDef_Init": DeclKind.MULTI_PHASE,
}


def module_decls(
    defs: list[tuple[str, str, Span]], slots: dict[str, str], functions: list[Function], text: str
) -> list[ModuleDecl]:
    """`defs`: (name, initialiser text, span) of each PyModuleDef; `slots`: slot array name -> text."""
    created: dict[str, DeclKind] = {}
    set_gil: set[int] = set()
    for fn in functions:
        for call in fn.calls:
            if call.name in _MODULE_CREATE and call.args and call.args[0].path:
                created[call.args[0].path] = _MODULE_CREATE[call.name]
            elif call.name == "PyUnstable_Module_SetGIL" and len(call.args) > 1:
                arg = call.args[1]  # a value (libclang expands the macro) or the macro's name (tree-sitter)
                value = {"Py_MOD_GIL_NOT_USED": 1, "Py_MOD_GIL_USED": 0}.get(arg.path, arg.value)
                set_gil.add(value if value is not None else -1)
    decls: list[ModuleDecl] = []
    for name, init, span in defs:
        slot_text = " ".join(t for slot, t in slots.items() if mentions(init, slot))
        kind = created.get(name) or (DeclKind.MULTI_PHASE if slot_text else DeclKind.MODULE_DEF)
        slot_gil = mentions(slot_text, "Py_mod_gil")
        not_used = (slot_gil and mentions(slot_text, "Py_MOD_GIL_NOT_USED")) or 1 in set_gil
        used = (slot_gil and mentions(slot_text, "Py_MOD_GIL_USED")) or 0 in set_gil
        decls.append(ModuleDecl(kind, name, span, not_used, used))
    return decls + binding_decls(text)


def binding_decls(text: str) -> list[ModuleDecl]:
    """pybind11 and nanobind module macros, found in the text (headers optional)."""
    if "PYBIND11_MODULE" not in text and "NB_MODULE" not in text:
        return []
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
