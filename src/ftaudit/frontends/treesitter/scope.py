"""What a declaration or a preprocessor branch means, for the tree-sitter frontend.

Shared by the file-level pass (globals, tables) and the function walker (function-local
statics, `#if` inside bodies), so both judge alike.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ...facts import Span, StaticVar, Storage
from ..conditions import evaluate
from .syntax import Node, Source, declarator_chain, named, type_words

if TYPE_CHECKING:
    from .walker import FileFacts

_TLS_WORDS = re.compile(r"\b(_Thread_local|__thread|thread_local|Py_THREAD_LOCAL|_Py_thread_local|NPY_TLS)\b")
_ATOMIC = re.compile(r"\b_Atomic\b|\batomic_\w+\b|\bstd::atomic\b|\batomic<")


def branch_taken(n: Node, src: Source) -> bool | None:
    """Is this #if/#ifdef branch compiled by a free-threaded 3.14 build? None: unknown.
    (Decided conditionals are blanked before parsing; this reads what that left, e.g. a
    directive continued over lines.)"""
    t = n.type
    if t in ("preproc_ifdef", "preproc_elifdef"):
        name = n.child_by_field_name("name")
        word = src.text(name) if name is not None else ""
        negated = src.text(n).lstrip().startswith(("#ifndef", "#elifndef"))
        return evaluate("ifndef" if negated else "ifdef", word)
    cond = n.child_by_field_name("condition")
    text = src.text(cond) if cond is not None else ""
    return evaluate("if", text.replace("\\\n", " "))


def static_of_declaration(f: FileFacts, decl: Node, d: Node, ident: Node, function: str = "") -> StaticVar | None:
    """A StaticVar for one declarator of a declaration at file, namespace or function scope."""
    src = f.src
    name = src.text(ident)
    text = src.text(decl)
    storage_words = {src.text(c) for c in named(decl) if c.type == "storage_class_specifier"}
    chain = declarator_chain(d)
    pointers = [c for c in chain if c.type == "pointer_declarator"]
    arrays = [c for c in chain if c.type == "array_declarator"]
    type_node = decl.child_by_field_name("type")
    type_text = src.text(type_node) if type_node is not None else ""
    qualifiers = {src.text(c) for c in named(decl) if c.type == "type_qualifier"}
    if pointers:
        innermost = pointers[-1]
        const = any(src.text(c) == "const" for c in named(innermost) if c.type == "type_qualifier")
    else:
        const = "const" in qualifiers or "constexpr" in storage_words or "constexpr" in qualifiers
    shape = "*" * len(pointers) + "[]" * len(arrays)
    bare = type_words(type_text).split("::")[-1]
    full = type_words(type_text)
    exempt = ""
    exempt_types = f.catalogue.statics.exempt_types
    if not pointers and (bare in exempt_types or full in exempt_types):
        exempt = f"{full} is exempt"
    if function:
        display, storage = f"{function}()::{name}", Storage.FUNCTION
        key = f"c:{os.path.basename(f.path)}@F@{function}@{name}"
    else:
        display, storage = name, Storage.NAMESPACE if _in_namespace(decl) else Storage.FILE
        ns = _namespace_path(decl, src)
        if ns:
            display = f"{ns}::{name}"
        internal = "static" in storage_words or in_anonymous_namespace(decl)
        key = f"c:{os.path.basename(f.path)}@{display}" if internal else f"c:@{display}"
        if "::" in name:
            storage = Storage.CLASS if _looks_like_member(name, f) else Storage.NAMESPACE
            key = f"c:@{name}"
    return StaticVar(
        key=key,
        name=display,
        path=f.path,
        span=Span(ident.start_point[0] + 1, ident.start_point[1] + 1, ident.end_point[0] + 1, ident.end_point[1] + 1),
        storage=storage,
        type=(type_text + " " + shape).strip() if shape else type_text,
        const=const,
        atomic=bool(_ATOMIC.search(type_text)) or "_Atomic" in qualifiers,
        thread_local=bool(_TLS_WORDS.search(text.split("=")[0])),
        exempt=exempt,
        definition="extern" not in storage_words or d.type == "init_declarator",
    )


def _looks_like_member(name: str, f: FileFacts) -> bool:
    return name.split("::")[0] in f.object_structs or name.split("::")[0][:1].isupper()


def _in_namespace(n: Node) -> bool:
    p = n.parent
    while p is not None:
        if p.type == "namespace_definition":
            return True
        p = p.parent
    return False


def in_anonymous_namespace(n: Node) -> bool:
    p = n.parent
    while p is not None:
        if p.type == "namespace_definition" and p.child_by_field_name("name") is None:
            return True
        p = p.parent
    return False


def _namespace_path(n: Node, src: Source) -> str:
    parts = []
    p = n.parent
    while p is not None:
        if p.type == "namespace_definition":
            name = p.child_by_field_name("name")
            if name is not None:
                parts.append(src.text(name))
        p = p.parent
    return "::".join(reversed(parts))
