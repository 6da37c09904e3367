"""libclang cursors at the cost of the C calls: what the walk asks of every cursor, without cindex's
per-call Python (null guards, enum lookups, a ctypes callback per `get_children`, a `File` and a
`_CXString` per file name, three calls per line number).

Importing this module patches `clang.cindex.Cursor`: null guards dropped; `kind`, `spelling`, `type`,
`referenced`, `location`... computed once per cursor object and kept in its `__dict__` (a read is then
a dictionary hit, not a property call); children with one callback. Inside `memoised(memo)` (one
function being walked), children are remembered by the cursor's identity (its bytes: kind and the AST
node pointers, what clang_equalCursors compares), so a cursor asked again (`strip_casts`, then
`reduce_arg`, then the walk itself) is visited once and answers with the same Python objects, and
what is kept on them serves every caller; file names are remembered by libclang's file handle.

A memo lives for one function, not one file: kept for a whole file, the cursors it holds made the
cyclic garbage collector's full passes cost more than the memo saved (numpy's multiarray files: 1.4 s
of collections instead of 0.3 s). For the same reason nothing kept on a cursor may refer to the
cursor itself (a cycle only the collector frees, holding the cursor's subtree). A memo must not
outlive its translation unit: the pointers it is keyed by are freed with it.

Inputs are cursors of a live translation unit; nothing here raises for a valid cursor.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from clang import cindex as ci

from ...facts import Span


class _String(ctypes.Structure):
    """A CXString as it comes back, disposed of by hand (cindex's `_CXString` does it in `__del__`)."""

    _fields_ = [("data", ctypes.c_void_p), ("flags", ctypes.c_uint)]


def _raw() -> Any:
    """The libclang functions called here, as function objects of their own (no cindex `errcheck`)."""
    lib = ctypes.CDLL(ci.conf.lib._name)
    uint_p = ctypes.POINTER(ctypes.c_uint)
    void_pp = ctypes.POINTER(ctypes.c_void_p)
    prototypes: list[tuple[str, list[Any], Any]] = [
        ("clang_getCursorSpelling", [ci.Cursor], _String),
        ("clang_getCString", [_String], ctypes.c_char_p),
        ("clang_disposeString", [_String], None),
        ("clang_getCursorReferenced", [ci.Cursor], ci.Cursor),
        ("clang_getCursorSemanticParent", [ci.Cursor], ci.Cursor),
        ("clang_getCursorLocation", [ci.Cursor], ci.SourceLocation),
        ("clang_getCursorExtent", [ci.Cursor], ci.SourceRange),
        ("clang_getRangeEnd", [ci.SourceRange], ci.SourceLocation),
        ("clang_getInstantiationLocation", [ci.SourceLocation, void_pp, uint_p, uint_p, uint_p], None),
        ("clang_Location_isFromMainFile", [ci.SourceLocation], ctypes.c_int),
    ]
    for name, args, result in prototypes:
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


_LIB = _raw()
_location = _LIB.clang_getCursorLocation
_extent = _LIB.clang_getCursorExtent
_range_end = _LIB.clang_getRangeEnd
_expansion = _LIB.clang_getInstantiationLocation
_from_main_file = _LIB.clang_Location_isFromMainFile
_c_string = _LIB.clang_getCString
_dispose = _LIB.clang_disposeString
# Out-parameters of clang_getInstantiationLocation, reused: a walk runs on one thread.
_FILE, _LINE, _COL = ctypes.c_void_p(), ctypes.c_uint(), ctypes.c_uint()
_FILE_P, _LINE_P, _COL_P = ctypes.byref(_FILE), ctypes.byref(_LINE), ctypes.byref(_COL)


@dataclass
class Memo:
    """What cursors of one translation unit answered: children by cursor identity, file names by handle."""

    children: dict[bytes, list[ci.Cursor]] = field(default_factory=dict)
    files: dict[int, str] = field(default_factory=dict)


_ACTIVE: Memo | None = None


@contextmanager
def memoised(memo: Memo) -> Iterator[None]:
    """Answer from `memo` (and fill it) until the block ends; the previous memo, if any, afterwards."""
    global _ACTIVE
    outer, _ACTIVE = _ACTIVE, memo
    try:
        yield
    finally:
        _ACTIVE = outer


_NULL_KIND = 70  # CXCursor_InvalidFile: what clang_getNullCursor() returns, with null data


def _is_null(self: ci.Cursor) -> bool:
    """cindex guards every Cursor method with `is_null()`, a clang_equalCursors call against the null
    cursor: 800 000 ctypes calls for 20 numpy files. The null cursor is {InvalidFile, 0, {0, 0, 0}}."""
    return self._kind_id == _NULL_KIND and not any(self.data)


_KINDS: dict[int, ci.CursorKind] = {k.value: k for k in ci.CursorKind.get_all_kinds()}


def _kind(self: ci.Cursor) -> ci.CursorKind:
    """`Cursor.kind` without the null guard and enum lookup per call (the hottest attribute of a walk)."""
    k = _KINDS.get(self._kind_id)
    return k if k is not None else ci.CursorKind.from_id(self._kind_id)


@ci.cursor_visit_callback  # type: ignore[misc]
def _collect(child: ci.Cursor, _parent: ci.Cursor, children: list[ci.Cursor]) -> int:
    children.append(child)
    return 1  # CXChildVisit_Continue


def _visit(c: ci.Cursor) -> list[ci.Cursor]:
    children: list[ci.Cursor] = []
    ci.conf.lib.clang_visitChildren(c, _collect, children)
    tu = c._tu
    for child in children:
        child._tu = tu  # as cindex does: keeps the translation unit alive while a cursor is
    return children


# Kinds whose cursors never have children (literals, and references and jumps that name no expression):
# a fifth of what a walk of numpy's files asked to visit.
_LEAVES = frozenset(
    k.value
    for k in (
        ci.CursorKind.INTEGER_LITERAL,
        ci.CursorKind.FLOATING_LITERAL,
        ci.CursorKind.CHARACTER_LITERAL,
        ci.CursorKind.STRING_LITERAL,
        ci.CursorKind.TYPE_REF,
        ci.CursorKind.MEMBER_REF,
        ci.CursorKind.LABEL_REF,
        ci.CursorKind.NULL_STMT,
        ci.CursorKind.BREAK_STMT,
        ci.CursorKind.CONTINUE_STMT,
    )
)


def children(c: ci.Cursor) -> list[ci.Cursor]:
    """The children of `c`, as `get_children` gives them, in a list the caller must not change: with
    one ctypes callback for the whole run instead of a new one per call, no per-child null assertion
    (the walk's most frequent call), and inside `memoised` one visit per cursor."""
    kids: list[ci.Cursor] | None = c.__dict__.get("_ft_kids")
    if kids is not None:
        return kids
    if c._kind_id in _LEAVES:
        return []
    memo = _ACTIVE
    if memo is None:
        return _visit(c)
    key = bytes(c)
    kids = memo.children.get(key)
    if kids is None:
        kids = memo.children[key] = _visit(c)
    c._ft_kids = kids
    return kids


def _children(self: ci.Cursor) -> Iterator[ci.Cursor]:
    """`Cursor.get_children` through `children`."""
    return iter(children(self))


_TYPE_REF = ci.CursorKind.TYPE_REF.value


def operands(c: ci.Cursor) -> list[ci.Cursor]:
    """The children of `c` that are not type references (`(T)x` has the TYPE_REF `T` and `x`), kept on
    the cursor; the caller must not change the list."""
    ops: list[ci.Cursor] | None = c.__dict__.get("_ft_ops")
    if ops is None:
        ops = c._ft_ops = [ch for ch in children(c) if ch._kind_id != _TYPE_REF]
    return ops


def arguments(c: ci.Cursor) -> list[ci.Cursor]:
    """`c.get_arguments()` (a call's arguments, a function's parameters) kept on the cursor, each the
    same object as the child it is when it is one (so what is kept on either serves both); the caller
    must not change the list."""
    args: list[ci.Cursor] | None = c.__dict__.get("_ft_argv")
    if args is None:
        args = list(c.get_arguments())
        if args:
            same = {bytes(ch): ch for ch in children(c)}
            args = [same.get(bytes(a), a) if a is not None else a for a in args]
        c._ft_argv = args
    return args


def kind_ids(kinds: Iterable[ci.CursorKind]) -> frozenset[int]:
    """The ids of cursor kinds, for membership tests on `Cursor._kind_id` (an enum's hash is Python code)."""
    return frozenset(k.value for k in kinds)


def _unguarded(f: Any) -> Any:
    """The method under cindex's `cursor_null_guard` wrapper (`f` itself when it has none)."""
    cells = getattr(f, "__closure__", None) or ()
    if getattr(f, "__name__", "") != "inner" or len(cells) != 1 or not callable(cells[0].cell_contents):
        return f
    return cells[0].cell_contents


def _drop_null_guards() -> None:
    """Every Cursor method and property without its null guard: a Python wrapper and an `is_null` call
    on each `location`, `extent`, `spelling`, `type`, `referenced`... (numpy's multiarray files: 215 000
    calls). The walk never holds a null cursor: the bindings hand out None instead of one."""
    for name, attr in list(vars(ci.Cursor).items()):
        if isinstance(attr, property) and attr.fget is not None and _unguarded(attr.fget) is not attr.fget:
            setattr(ci.Cursor, name, property(_unguarded(attr.fget)))
        elif callable(attr) and _unguarded(attr) is not attr:
            setattr(ci.Cursor, name, _unguarded(attr))


def _text(fn: Any) -> Any:
    """A cursor's string from libclang function `fn`, decoded as cindex does ("" for none)."""

    def text(c: ci.Cursor) -> str:
        res = fn(c)
        try:
            raw = _c_string(res)
            return raw.decode("utf8") if raw is not None else ""
        finally:
            _dispose(res)

    return text


def _cursor(fn: Any) -> Any:
    """A cursor's related cursor from libclang function `fn` (None for the null cursor), as cindex's
    `Cursor.from_result` gives it: holding the translation unit."""

    def related(c: ci.Cursor) -> ci.Cursor | None:
        res = fn(c)
        if res._kind_id == _NULL_KIND and not any(res.data):
            return None
        res._tu = c._tu
        return res

    return related


class _Kept:
    """A property of a cursor computed on first use and kept in the cursor's `__dict__` under its own name,
    where later reads find it without a call (a non-data descriptor). For what cindex already keeps per
    cursor object (`spelling`, `type`, `referenced`...) and `kind`: all fixed for a cursor."""

    def __init__(self, name: str, fget: Any) -> None:
        self.name, self.fget = name, fget

    def __get__(self, obj: ci.Cursor | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fget(obj)
        return value


_KEPT = (
    "binary_operator",
    "exception_specification_kind",
    "extent",
    "linkage",
    "location",
    "storage_class",
    "tls_kind",
    "type",
)
_FAST = {
    "kind": _kind,
    "spelling": _text(_LIB.clang_getCursorSpelling),
    "referenced": _cursor(_LIB.clang_getCursorReferenced),
    "semantic_parent": _cursor(_LIB.clang_getCursorSemanticParent),
}
_drop_null_guards()
for _name in _KEPT:
    setattr(ci.Cursor, _name, _Kept(_name, vars(ci.Cursor)[_name].fget))
for _name, _get in _FAST.items():
    setattr(ci.Cursor, _name, _Kept(_name, _get))
ci.Cursor.is_null = _is_null  # type: ignore[method-assign]
ci.Cursor.get_children = _children  # type: ignore[method-assign]


def start_of(c: ci.Cursor) -> tuple[int, int]:
    """(line, column) of the cursor's location (as `c.location.line, c.location.column`), kept on the cursor."""
    pos: tuple[int, int] | None = getattr(c, "_ft_start", None)
    if pos is None:
        _expansion(_location(c), None, _LINE_P, _COL_P, None)
        pos = c._ft_start = (_LINE.value, _COL.value)
    return pos


def span_of(c: ci.Cursor) -> Span:
    """From the cursor's location to the end of its extent, never ending before it starts."""
    span: Span | None = getattr(c, "_ft_span", None)
    if span is not None:
        return span
    line, col = start_of(c)
    _expansion(_range_end(_extent(c)), None, _LINE_P, _COL_P, None)
    end_line, end_col = _LINE.value, _COL.value
    if end_line < line:
        end_line = line
    if end_line == line and end_col <= col:
        end_col = col + 1
    span = c._ft_span = Span(line, col, end_line, end_col)
    return span


def from_main_file(c: ci.Cursor) -> bool:
    """Is the cursor's location in the translation unit's main file (`clang_Location_isFromMainFile`)?"""
    return bool(_from_main_file(_location(c)))


def file_of(c: ci.Cursor, names: dict[int, str] | None = None) -> str | None:
    """The name of the file of the cursor's location (`c.location.file.name`), None when it has none.
    Names are remembered by libclang's file handle in `names` when given, else in the active memo."""
    _expansion(_location(c), _FILE_P, None, None, None)
    handle = _FILE.value
    if not handle:
        return None
    memo = _ACTIVE if names is None else Memo(files=names)
    if memo is not None:
        name = memo.files.get(handle)
        if name is not None:
            return name
    name = ci.File(ctypes.cast(ctypes.c_void_p(handle), ci.c_object_p)).name
    if memo is not None:
        memo.files[handle] = name
    return name
