"""C++ member getters for the tree-sitter frontend: which method names return a holder's member.

A getter is a method with no parameters returning a pointer whose body is one `return member;` (or
`return this->member;`), `member` a data member of its class: pyodbc's `Object::Get() { return p; }`.
`h.Get()` on a local holder `h` is then the object `h` was constructed with, as `t.get()` is for the
standard accessors (recorder.RAW_POINTER_ACCESSORS). libclang reads the method's body wherever it is
declared; tree-sitter reads the classes of the file itself and of the headers it includes by a quoted
name under its own directory (`#include "wrapper.h"`): the headers its lock macros come from
(headermacros.py, bounded as docs/security.md says: at most MAX_HEADERS headers of at most
MAX_HEADER_BYTES each, no absolute name, no "..", no symbolic link), and only when the file's
directory lies inside a scan root. With no types to tell
classes apart, a name counts when every method of that name the classes declare is a getter (a
class declaring `Get()` that does something else makes `Get` no getter anywhere), and a method is
taken to keep its holder's object (`MethodNames.const`) only when every method of the name is const.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .headermacros import MAX_HEADER_BYTES, MAX_HEADERS, inside_roots, neighbour_headers, read_header, scan_dirs
from .syntax import Node, Source, named, strip

__all__ = ["MAX_HEADERS", "MAX_HEADER_BYTES", "MethodNames", "class_methods", "scan_dirs", "sibling_headers"]

_MAX_CLASSES = 10_000  # class bodies read per file (a planted header cannot make the walk unbounded)
# Nodes a class definition can sit in: scopes and declarations, never a function body or an expression.
_SCOPES = frozenset(
    {
        "translation_unit", "namespace_definition", "declaration_list", "linkage_specification",
        "template_declaration", "declaration", "type_definition", "field_declaration", "field_declaration_list",
        "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef",
        "class_specifier", "struct_specifier",
    }
)  # fmt: skip


@dataclass
class MethodNames:
    """What the classes read say of each method name: True when every method of it is a getter (`getters`),
    or const (`const`); one that is not makes the name False for good."""

    getters: dict[str, bool] = field(default_factory=dict)
    const: dict[str, bool] = field(default_factory=dict)

    def add(self, name: str, getter: bool, const: bool) -> None:
        self.getters[name] = self.getters.get(name, True) and getter
        self.const[name] = self.const.get(name, True) and const

    def merge(self, other: MethodNames) -> None:
        for name, getter in other.getters.items():
            self.add(name, getter, other.const.get(name, False))

    def getter_names(self) -> frozenset[str]:
        return frozenset(n for n, g in self.getters.items() if g)

    def const_names(self) -> frozenset[str]:
        return frozenset(n for n, c in self.const.items() if c)


def class_methods(root: Node, src: Source) -> MethodNames:
    """The methods the class bodies under `root` define or declare (nested classes and templates included),
    each judged a getter or not, const or not."""
    found = MethodNames()
    for body in _class_bodies(root):
        members = named(body)
        fields = {name for m in members if m.type == "field_declaration" for name in _field_names(m, src)}
        for m in members:
            if m.type in ("function_definition", "field_declaration", "declaration"):
                method = _method(m, src, fields)
                if method is not None:
                    found.add(*method)
    return found


def _class_bodies(root: Node) -> Iterator[Node]:
    """The `field_declaration_list` of each class or struct with a body, through scopes only."""
    stack = [root]
    seen = 0
    while stack and seen < _MAX_CLASSES:
        n = stack.pop()
        if n.type in ("class_specifier", "struct_specifier"):
            body = n.child_by_field_name("body")
            if body is not None:
                seen += 1
                yield body
        stack += [c for c in n.named_children if c.type in _SCOPES]


def _field_names(decl: Node, src: Source) -> list[str]:
    """The data members a field declaration declares (`PyObject *p, *q;`), not its methods."""
    names = []
    for d in decl.children_by_field_name("declarator"):
        for _ in range(16):
            if d.type in ("pointer_declarator", "reference_declarator", "array_declarator", "init_declarator"):
                inner = d.child_by_field_name("declarator") or next(iter(named(d)), None)
                if inner is None:
                    break
                d = inner
                continue
            break
        if d.type == "field_identifier":
            names.append(src.text(d))
    return names


def _method(m: Node, src: Source, fields: set[str]) -> tuple[str, bool, bool] | None:
    """(name, is a getter, is const) of a method a class member defines or declares; None if it is none."""
    declarator = m.child_by_field_name("declarator")
    pointer = False
    for _ in range(16):
        if declarator is None:
            return None
        if declarator.type == "pointer_declarator":
            pointer = True
        elif declarator.type != "reference_declarator":
            break
        declarator = declarator.child_by_field_name("declarator") or next(iter(named(declarator)), None)
    if declarator is None or declarator.type != "function_declarator":
        return None
    name_node = declarator.child_by_field_name("declarator")
    if name_node is None or name_node.type not in ("field_identifier", "identifier"):
        return None  # an operator, a destructor, a qualified name
    const = any(c.type == "type_qualifier" and src.text(c) == "const" for c in declarator.children)
    params = declarator.child_by_field_name("parameters")
    no_params = params is not None and all(src.text(p) == "void" for p in named(params))
    static = any(c.type == "storage_class_specifier" and src.text(c) == "static" for c in m.children)
    body = m.child_by_field_name("body") if m.type == "function_definition" else None
    getter = pointer and no_params and not static and body is not None and _returns_member(body, src, fields)
    return src.text(name_node), getter, const


def _returns_member(body: Node, src: Source, fields: set[str]) -> bool:
    """Is the body one `return m;` or `return this->m;` of a data member `m` of the class?"""
    stmts = named(body)
    if len(stmts) != 1 or stmts[0].type != "return_statement":
        return False
    values = named(stmts[0])
    if len(values) != 1:
        return False
    value = strip(values[0])
    if value.type == "identifier":
        return src.text(value) in fields
    if value.type == "field_expression":
        base, member = value.child_by_field_name("argument"), value.child_by_field_name("field")
        return base is not None and base.type == "this" and member is not None and src.text(member) in fields
    return False


def sibling_headers(path: str, text: str, allowed: Sequence[str]) -> list[tuple[str, str]]:
    """(path, text) of the headers `text` (the file at `path`) includes by a quoted name under its own
    directory, as the lock macros are found (headermacros.neighbour_headers: no absolute name, no "..",
    no symbolic link on the way, at most MAX_HEADERS), each a regular file of at most MAX_HEADER_BYTES
    opened without following a link; none when that directory is not inside one of `allowed` (the scan
    roots' real directories). Unreadable or refused headers are passed over; nothing raises."""
    if not inside_roots(path, allowed):
        return []
    found: list[tuple[str, str]] = []
    for header in neighbour_headers(path, text):
        if os.path.normpath(header) == os.path.normpath(path):
            continue
        header_text = read_header(header)
        if header_text is not None:
            found.append((header, header_text))
    return found
