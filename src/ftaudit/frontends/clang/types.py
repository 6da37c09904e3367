"""Judge declarations and types: static storage, qualifiers, Python objects.

libclang answers these from the semantic parse (canonical types, TLS kind,
record fields), so a typedef or a macro such as `Py_THREAD_LOCAL` cannot hide
what a variable really is. Answers are cached per declaration and per type.
"""

from __future__ import annotations

import re

from clang import cindex as ci

from ...catalogue import StaticsVocabulary
from ...facts import Span, StaticVar, Storage

K = ci.CursorKind
TK = ci.TypeKind
_ARRAYS = {TK.CONSTANTARRAY, TK.INCOMPLETEARRAY, TK.VARIABLEARRAY, TK.DEPENDENTSIZEDARRAY}
_FUNCTIONS = {K.FUNCTION_DECL, K.CXX_METHOD, K.CONSTRUCTOR, K.DESTRUCTOR, K.FUNCTION_TEMPLATE, K.CONVERSION_FUNCTION}
_RECORDS = {K.CLASS_DECL, K.STRUCT_DECL, K.CLASS_TEMPLATE, K.UNION_DECL}
_NOISE = re.compile(r"\b(?:const|volatile|struct|class|union|enum)\b|\b__1::|\b__cxx11::|::__1\b")
_UNNAMED = re.compile(r"(struct|union|enum) \((?:unnamed|anonymous) [^)]*\)")
_OBJECT_HEADS = {"_object", "PyObject", "PyVarObject"}


def bare_type_name(spelling: str) -> str:
    """`const struct PyMethodDef [3]` -> `PyMethodDef`; `std::__1::mutex` -> `std::mutex`."""
    s = re.sub(r"\[[^\]]*\]", "", spelling)
    s = _NOISE.sub("", s)
    return re.sub(r"\s+", " ", s).strip().rstrip("*& ").strip()


def _innermost(t: ci.Type) -> ci.Type:
    for _ in range(8):
        if t.kind not in _ARRAYS:
            break
        t = t.element_type
    return t


def _span(c: ci.Cursor) -> Span:
    loc = c.location
    return Span(loc.line, loc.column, loc.line, loc.column + max(1, len(c.spelling)))


class TypeJudge:
    """Static-storage facts for variable declarations, object-ness for types."""

    def __init__(self, vocab: StaticsVocabulary) -> None:
        self.vocab = vocab
        self.exempt_types = vocab.exempt_types
        self._vars: dict[str, StaticVar | None] = {}
        # The same answers by declaration cursor (its bytes: one judge serves one translation unit), so a
        # variable referenced again costs no USR.
        self._by_cursor: dict[bytes, StaticVar | None] = {}
        self._objects: dict[str, str | None] = {}

    # static storage ---------------------------------------------------------
    def static_var(self, decl: ci.Cursor) -> StaticVar | None:
        """The StaticVar for a VAR_DECL with static storage, else None (locals, params)."""
        ident = bytes(decl)
        if ident in self._by_cursor:
            return self._by_cursor[ident]
        var = self._by_cursor[ident] = self._static_var(decl)
        return var

    def _static_var(self, decl: ci.Cursor) -> StaticVar | None:
        key = decl.get_usr() or f"{decl.location.file}:{decl.location.line}:{decl.spelling}"
        if key in self._vars:
            return self._vars[key]
        var = self._judge(decl, key)
        self._vars[key] = var
        return var

    def _judge(self, decl: ci.Cursor, key: str) -> StaticVar | None:
        parent = decl.semantic_parent
        pk = parent.kind if parent is not None else K.TRANSLATION_UNIT
        sc = decl.storage_class
        if pk in _FUNCTIONS or pk in (K.LAMBDA_EXPR, K.BLOCK_EXPR):
            if sc == ci.StorageClass.STATIC:
                storage = Storage.FUNCTION
            elif sc == ci.StorageClass.EXTERN:
                storage = Storage.FILE
            else:
                return None
        elif pk in _RECORDS:
            storage = Storage.CLASS
        elif pk == K.NAMESPACE:
            storage = Storage.NAMESPACE
        elif pk in (K.TRANSLATION_UNIT, K.LINKAGE_SPEC, K.UNEXPOSED_DECL):
            storage = Storage.FILE
        else:
            return None
        definition = decl.get_definition()
        where = definition if definition is not None else decl
        # `int x;` at file scope is a tentative definition, which clang does not call one.
        defines = definition is not None or sc not in (ci.StorageClass.EXTERN,)
        t = decl.type
        inner = _innermost(t)
        canon = _innermost(t.get_canonical())
        names = {bare_type_name(inner.spelling), bare_type_name(canon.spelling)}
        exempt = next((n for n in sorted(names) if n in self.exempt_types), "")
        atomic = canon.spelling.startswith("_Atomic") or "atomic<" in _NOISE.sub("", canon.spelling)
        loc = where.location
        return StaticVar(
            key=key,
            name=self._display_name(decl, storage),
            path=loc.file.name if loc.file is not None else "",
            span=_span(where),
            storage=storage,
            type=_UNNAMED.sub(r"anonymous \1", t.spelling),
            const=inner.is_const_qualified() or canon.is_const_qualified(),
            atomic=atomic,
            thread_local=decl.tls_kind != ci.TLSKind.NONE,
            exempt=f"{exempt} is exempt" if exempt else "",
            definition=defines,
            system=bool(loc.is_in_system_header),
        )

    @staticmethod
    def _display_name(decl: ci.Cursor, storage: Storage) -> str:
        parts = [decl.spelling]
        p = decl.semantic_parent
        while p is not None and p.kind not in (K.TRANSLATION_UNIT, K.LINKAGE_SPEC):
            if p.kind in _FUNCTIONS:
                parts.append(f"{p.spelling}()")
            elif p.spelling:
                parts.append(p.spelling)
            p = p.semantic_parent
        return "::".join(reversed(parts))

    # Python objects ---------------------------------------------------------
    def object_struct(self, t: ci.Type) -> str | None:
        """The struct name when `t` points to a PyObject subtype (not PyObject itself)."""
        if t.kind != TK.POINTER:
            return None
        pointee = t.get_pointee().get_canonical()
        name = bare_type_name(pointee.spelling)
        if name not in self._objects:
            self._objects[name] = name if name not in _OBJECT_HEADS and self._has_object_head(pointee, 0) else None
        return self._objects[name]

    def points_to_object(self, t: ci.Type) -> bool | None:
        """True for PyObject/subtype pointers, False for other data pointers, None for void* or non-pointers."""
        t = t.get_canonical()
        if t.kind != TK.POINTER:
            return None
        pointee = t.get_pointee().get_canonical()
        if pointee.kind == TK.VOID:
            return None
        name = bare_type_name(pointee.spelling)
        return name in _OBJECT_HEADS or self.object_struct(t) is not None

    def is_object_record(self, record: ci.Type) -> bool:
        """Whether a struct type starts with a PyObject header (a Python object's own layout)."""
        return self._has_object_head(record.get_canonical(), 0)

    def _has_object_head(self, record: ci.Type, depth: int) -> bool:
        if depth > 4 or record.kind != TK.RECORD:
            return False
        first = next(iter(record.get_fields()), None)
        if first is None:
            return False
        ftype = first.type.get_canonical()
        if ftype.kind != TK.RECORD:  # `PyObject *obj` first is a pointer, not an object header
            return False
        if first.spelling == "ob_base" or bare_type_name(ftype.spelling) in _OBJECT_HEADS:
            return True
        return self._has_object_head(ftype, depth + 1)
