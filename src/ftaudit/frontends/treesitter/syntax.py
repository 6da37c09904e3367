"""Small helpers over tree-sitter nodes (C and C++ grammars)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ...facts import Arg, ArgKind, Span
from ..recorder import RAW_POINTER_ACCESSORS

Node = Any  # tree_sitter.Node

_DECLARATORS = {
    "pointer_declarator",
    "array_declarator",
    "init_declarator",
    "parenthesized_declarator",
    "reference_declarator",
    "attributed_declarator",
    "function_declarator",
}
_TRANSPARENT = {"parenthesized_expression", "cast_expression", "comma_expression"}
_LITERAL = {"number_literal", "null", "true", "false", "char_literal", "string_literal", "concatenated_string"}
_TEMPLATE = re.compile(r"<.*>", re.S)
# C and C++ integer literals: hex, binary, octal (a leading 0), decimal; digit separators (C23,
# C++14) and the u/l/ll/z suffixes. `int(text, 0)` reads "0644" as an error, not 420.
_NUMBER = re.compile(
    r"^(?:0[xX](?P<hex>[0-9a-fA-F']+)|0[bB](?P<bin>[01']+)|(?P<dec>[1-9][0-9']*)|(?P<oct>0[0-7']*))[uUlLzZ]*$"
)


def c_int_literal(text: str) -> int | None:
    """The value of a C/C++ integer literal's text (`0644` is 420, `0x1F'FF` 8191), None if it is not one."""
    m = _NUMBER.match(text)
    if m is None:
        return None
    for group, base in (("hex", 16), ("bin", 2), ("dec", 10), ("oct", 8)):
        digits = m.group(group)
        if digits is not None:
            digits = digits.replace("'", "")
            return int(digits, base) if digits else 0
    return None


class Source:
    """The parsed bytes, for node text."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        # C++ methods returning the member a holder was constructed with (getters.py): `h.Get()` is `h`'s object;
        # and the method names every class read declares const (a call of one rebinds no holder).
        self.getters: frozenset[str] = frozenset()
        self.const_methods: frozenset[str] = frozenset()
        # Most C files are ASCII: byte offsets are then string offsets, and a slice needs no decoding.
        self._ascii = data.decode("ascii") if data.isascii() else None

    def text(self, n: Node) -> str:
        if self._ascii is not None:
            return self._ascii[n.start_byte : n.end_byte]
        return self.data[n.start_byte : n.end_byte].decode("utf-8", "replace")


def span(n: Node) -> Span:
    (r0, c0), (r1, c1) = n.start_point, n.end_point
    return Span(r0 + 1, c0 + 1, r1 + 1, c1 + 1)


def named(n: Node) -> list[Node]:
    return [c for c in n.named_children if c.type != "comment"]


def declarator_name(d: Node | None) -> Node | None:
    """The identifier a declarator declares (`*const names[]` -> `names`)."""
    for _ in range(16):
        if d is None:
            return None
        if d.type in (
            "identifier",
            "field_identifier",
            "qualified_identifier",
            "destructor_name",
            "operator_name",
            "type_identifier",
        ):
            return d
        if d.type in _DECLARATORS:
            d = d.child_by_field_name("declarator") or next(iter(named(d)), None)
        else:
            return None
    return None


def declarator_chain(d: Node | None) -> list[Node]:
    """The declarator nodes from the outside in (`*const names[]`: pointer, array)."""
    out = []
    for _ in range(16):
        if d is None or d.type not in _DECLARATORS:
            break
        out.append(d)
        d = d.child_by_field_name("declarator") or next(iter(named(d)), None)
    return out


def strip(n: Node) -> Node:
    """Under parentheses and casts."""
    if n.type not in _TRANSPARENT:
        return n
    for _ in range(32):
        if n.type == "parenthesized_expression":
            kids = named(n)
            if not kids:
                break
            n = kids[-1]
        elif n.type == "cast_expression":
            v = n.child_by_field_name("value")
            if v is None:
                break
            n = v
        else:
            break
    return n


def member_base_cast(n: Node, src: Source) -> str | None:
    """The type the variable under the innermost member access of lvalue `n` is cast to, as written:
    `Buffer *` in `((Buffer *)self)->data`; None when it is not cast there (`b->data`) or `n` is no
    member access of a variable."""
    for _ in range(32):
        n = strip(n)
        if n.type == "field_expression":
            arg = n.child_by_field_name("argument")
            if arg is None:
                return None
            if strip(arg).type == "identifier":
                return _written_cast(arg, src)
            n = arg
        elif n.type in ("subscript_expression", "pointer_expression"):
            arg = n.child_by_field_name("argument")
            if arg is None:
                return None
            n = arg
        else:
            return None
    return None


def _written_cast(n: Node, src: Source) -> str | None:
    """The type of the outermost cast of `n` under its parentheses, as written."""
    for _ in range(32):
        if n.type == "parenthesized_expression":
            kids = named(n)
            if not kids:
                return None
            n = kids[-1]
        elif n.type == "cast_expression":
            t = n.child_by_field_name("type")
            return src.text(t) if t is not None else None
        else:
            return None
    return None


def int_value(n: Node, src: Source) -> int | None:
    n = strip(n)
    if n.type == "null":
        return 0
    if n.type == "number_literal":
        return c_int_literal(src.text(n))
    if n.type == "unary_expression" and src.text(n.child_by_field_name("operator") or n).strip() == "-":
        v = int_value(n.child_by_field_name("argument"), src)
        return -v if v is not None else None
    if n.type == "identifier" and (src.text(n) == "NULL" or _NULL_MACRO.fullmatch(src.text(n))):
        return 0  # a library's null handle (`SQL_NULL_HANDLE`), whose header tree-sitter does not read
    return None


# Null constants of C libraries, by name: ODBC's SQL_NULL_HANDLE/SQL_NULL_HENV, `FOO_NULL`, `NULL_PTR`.
_NULL_MACRO = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_NULL(_[A-Z0-9]+)*|NULL_(PTR|HANDLE|POINTER)")


_MACRO_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _macro_built_name(inner: Node, src: Source) -> str:
    """The name in `LIB(sgesv)` / `BLAS_FUNC(dgemm)`: the one identifier argument of an upper-case
    macro (the macro adds a prefix or suffix tree-sitter cannot know); "" for anything else, such as
    `get_handler(kind)(x)`, a call of the function a call returned."""
    macro = inner.child_by_field_name("function")
    args = inner.child_by_field_name("arguments")
    if macro is None or macro.type != "identifier" or not _MACRO_NAME.fullmatch(src.text(macro)) or args is None:
        return ""
    words = named(args)
    return src.text(words[0]) if len(words) == 1 and words[0].type == "identifier" else ""


def callee_name(call: Node, src: Source) -> str:
    f = call.child_by_field_name("function")
    if f is None:
        return ""
    f = strip(f)
    if f.type == "identifier":
        return src.text(f)
    if f.type == "field_expression":
        field = f.child_by_field_name("field")
        return src.text(field) if field is not None else ""
    if f.type == "call_expression":  # `LIB(sgesv)(...)`: a function-like macro builds the callee's name
        return _macro_built_name(f, src)
    if f.type in ("qualified_identifier", "template_function"):
        name = f.child_by_field_name("name")
        while name is not None and name.type in ("qualified_identifier", "template_function"):
            name = name.child_by_field_name("name")
        return src.text(name) if name is not None else src.text(f).split("::")[-1]
    return ""


def call_arguments(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    return named(args) if args is not None else []


def _held_object(call: Node, src: Source) -> Arg | None:
    """`t.get()` on a local holder `t` (recorder.RAW_POINTER_ACCESSORS, or a getter of the classes read:
    `Source.getters`): the local, else None."""
    f = call.child_by_field_name("function")
    args = call.child_by_field_name("arguments")
    if f is None or f.type != "field_expression" or (args is not None and named(args)):
        return None
    field = f.child_by_field_name("field")
    if field is None or (src.text(field) not in RAW_POINTER_ACCESSORS and src.text(field) not in src.getters):
        return None
    base = reduce_arg(f.child_by_field_name("argument"), src)
    return base if base.kind == ArgKind.NAME else None


def reduce_arg(n: Node, src: Source) -> Arg:
    """The same reduction as the libclang frontend: a path, a call, or a literal."""
    for _ in range(32):
        t = n.type
        if t == "identifier":
            name = src.text(n)
            return Arg(ArgKind.LITERAL, value=0) if name == "NULL" else Arg(ArgKind.NAME, name, name)
        if t in _TRANSPARENT:
            kids = named(n)
            if t == "cast_expression":
                v = n.child_by_field_name("value")
                kids = [v] if v is not None else kids
            if not kids:
                break
            n = kids[-1]
            continue
        if t == "pointer_expression":
            arg = n.child_by_field_name("argument")
            if arg is None:
                break
            n = arg
            continue
        if t == "field_expression":
            base = reduce_arg(n.child_by_field_name("argument"), src)
            field = n.child_by_field_name("field")
            if base.kind in (ArgKind.NAME, ArgKind.MEMBER) and field is not None:
                return Arg(ArgKind.MEMBER, f"{base.path}.{src.text(field)}", base.root)
            return Arg(ArgKind.OTHER, src.text(field) if field is not None else "")
        if t == "subscript_expression":
            base = reduce_arg(n.child_by_field_name("argument"), src)
            if base.kind in (ArgKind.NAME, ArgKind.MEMBER):
                return Arg(ArgKind.MEMBER, f"{base.path}[]", base.root)
            return Arg(ArgKind.OTHER)
        if t == "call_expression":
            held = _held_object(n, src)
            return held if held is not None else Arg(ArgKind.CALL, callee_name(n, src))
        if t == "string_literal":
            return Arg(ArgKind.LITERAL, src.text(n))
        if t in _LITERAL:
            return Arg(ArgKind.LITERAL, value=int_value(n, src) if t in ("number_literal", "null") else None)
        if t == "this":
            return Arg(ArgKind.NAME, "this", "this")
        break
    return Arg(ArgKind.OTHER)


def designated(init: Node, src: Source) -> list[tuple[str, Arg, tuple[Arg, ...]]] | None:
    """The members an aggregate initialiser (`{.list = NULL, .n = 0}`, `{0}`) names, with their values
    (member path, value, a call value's arguments), when each element is designated by member names alone
    (`.inner.list = v`) or is zero; None for any other initialiser (positional values, array designators, a
    nested list that is not all zero, no list at all). The libclang frontend reads the same (`_designated`)."""
    if init.type != "initializer_list":
        return None
    out: list[tuple[str, Arg, tuple[Arg, ...]]] = []
    for el in named(init):
        if el.type == "initializer_pair":
            marks = el.children_by_field_name("designator")
            value = el.child_by_field_name("value")
            if value is None or not marks or any(m.type != "field_designator" for m in marks):
                return None
            if value.type == "initializer_list" and not _all_zero(value, src):
                return None
            fields = [f for m in marks for f in named(m)]
            a = reduce_arg(value, src)
            call = strip(value)
            made = a.kind == ArgKind.CALL and call.type == "call_expression"
            args = tuple(reduce_arg(x, src) for x in call_arguments(call)) if made else ()
            out.append((".".join(src.text(f) for f in fields), a, args))
        elif not _all_zero(el, src):
            return None
    return out


def _all_zero(n: Node, src: Source, depth: int = 0) -> bool:
    """Is `n` a zero (`0`, `NULL`) or an initialiser list of zeros, nested at most 8 deep?"""
    if n.type == "initializer_list":
        return depth < 8 and all(_all_zero(k, src, depth + 1) for k in named(n))
    a = reduce_arg(n, src)
    return a.kind == ArgKind.LITERAL and a.value == 0


@lru_cache(maxsize=4096)
def type_words(text: str) -> str:
    return _TEMPLATE.sub("", text).replace("const ", "").replace("struct ", "").strip()
