"""Turn one libclang translation unit into ftaudit facts.

Only cursors of the main file are visited. Lock state is tracked while
walking each function body statement by statement: branches that end in
`return`/`goto` do not leak their unlocks into the code after them, and the
state at a label is what the gotos to it carried.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterable
from typing import Any

from clang import cindex as ci

from ...catalogue import Catalogue
from ...facts import (
    Arg,
    ArgKind,
    Assignment,
    Call,
    Comparison,
    Function,
    Lock,
    LockKind,
    Operand,
    OriginKind,
    Param,
    Span,
)

K = ci.CursorKind
SHIM_PREFIX = "ftaudit_"
FUNCTION_KINDS = {
    K.FUNCTION_DECL,
    K.CXX_METHOD,
    K.CONSTRUCTOR,
    K.DESTRUCTOR,
    K.FUNCTION_TEMPLATE,
    K.CONVERSION_FUNCTION,
}
_TRANSPARENT = {
    K.UNEXPOSED_EXPR,
    K.PAREN_EXPR,
    K.CSTYLE_CAST_EXPR,
    K.CXX_STATIC_CAST_EXPR,
    K.CXX_REINTERPRET_CAST_EXPR,
    K.CXX_CONST_CAST_EXPR,
    K.CXX_FUNCTIONAL_CAST_EXPR,
    K.UNARY_OPERATOR,
}
_LOOPS = {K.FOR_STMT, K.WHILE_STMT, K.DO_STMT, K.CXX_FOR_RANGE_STMT}
_COMPARE = {
    ci.BinaryOperator.EQ: "==",
    ci.BinaryOperator.NE: "!=",
    ci.BinaryOperator.LT: "<",
    ci.BinaryOperator.LE: "<=",
    ci.BinaryOperator.GT: ">",
    ci.BinaryOperator.GE: ">=",
}
_NULL_LITERALS = {K.GNU_NULL_EXPR, K.CXX_NULL_PTR_LITERAL_EXPR}
_TEMPLATE_ARGS = re.compile(r"<.*>", re.S)

State = tuple[Lock, ...]


def _union(a: State, b: State) -> State:
    return a + tuple(x for x in b if x not in a)


def _native() -> Any:
    """libclang entry points cindex does not wrap, with their real prototypes."""
    lib = ci.conf.lib
    if not getattr(lib, "_ftaudit_ready", False):
        lib.clang_Cursor_Evaluate.argtypes = [ci.Cursor]
        lib.clang_Cursor_Evaluate.restype = ctypes.c_void_p
        lib.clang_EvalResult_getKind.argtypes = [ctypes.c_void_p]
        lib.clang_EvalResult_getKind.restype = ctypes.c_int
        lib.clang_EvalResult_getAsInt.argtypes = [ctypes.c_void_p]
        lib.clang_EvalResult_getAsInt.restype = ctypes.c_int
        lib.clang_EvalResult_dispose.argtypes = [ctypes.c_void_p]
        lib.clang_EvalResult_dispose.restype = None
        lib.clang_Location_isFromMainFile.argtypes = [ci.SourceLocation]
        lib.clang_Location_isFromMainFile.restype = ctypes.c_int
        lib._ftaudit_ready = True
    return lib


def is_from_main_file(c: ci.Cursor) -> bool:
    return bool(_native().clang_Location_isFromMainFile(c.location))


def _int_value(c: ci.Cursor) -> int | None:
    lib = _native()
    res = lib.clang_Cursor_Evaluate(c)
    if not res:
        return None
    try:
        if lib.clang_EvalResult_getKind(res) == 1:  # CXEval_Int
            return int(lib.clang_EvalResult_getAsInt(res))
        return None
    finally:
        lib.clang_EvalResult_dispose(res)


def span_of(c: ci.Cursor) -> Span:
    loc = c.location
    end = c.extent.end
    end_line = end.line if end.line >= loc.line else loc.line
    end_col = end.column if end_line != loc.line or end.column > loc.column else loc.column + 1
    return Span(loc.line, loc.column, end_line, end_col)


def callee_name(c: ci.Cursor) -> str:
    name = c.spelling or ""
    if not name:  # unresolved callee (e.g. undeclared in C++): read the reference
        for ch in c.get_children():
            if ch.kind in (K.DECL_REF_EXPR, K.OVERLOADED_DECL_REF, K.UNEXPOSED_EXPR, K.MEMBER_REF_EXPR):
                name = ch.spelling or ""
            break
    return name[len(SHIM_PREFIX) :] if name.startswith(SHIM_PREFIX) else name


def reduce_arg(c: ci.Cursor) -> Arg:
    """Reduce an expression to a path (`self.items`), a call, or a literal."""
    for _ in range(32):
        k = c.kind
        if k in _TRANSPARENT:
            kids = [ch for ch in c.get_children() if ch.kind != K.TYPE_REF]
            if not kids:
                break
            c = kids[-1]
            continue
        if k == K.DECL_REF_EXPR:
            return Arg(ArgKind.NAME, c.spelling, c.spelling)
        if k == K.MEMBER_REF_EXPR:
            kids = list(c.get_children())
            base = reduce_arg(kids[0]) if kids else Arg(ArgKind.NAME, "this", "this")
            if base.kind in (ArgKind.NAME, ArgKind.MEMBER):
                return Arg(ArgKind.MEMBER, f"{base.path}.{c.spelling}", base.root)
            return Arg(ArgKind.OTHER, c.spelling)
        if k == K.ARRAY_SUBSCRIPT_EXPR:
            kids = list(c.get_children())
            base = reduce_arg(kids[0]) if kids else Arg(ArgKind.OTHER)
            if base.kind in (ArgKind.NAME, ArgKind.MEMBER):
                return Arg(ArgKind.MEMBER, f"{base.path}[]", base.root)
            return Arg(ArgKind.OTHER)
        if k == K.CALL_EXPR:
            return Arg(ArgKind.CALL, callee_name(c))
        if k == K.INTEGER_LITERAL:
            return Arg(ArgKind.LITERAL, value=_int_value(c))
        if k in _NULL_LITERALS:
            return Arg(ArgKind.LITERAL, value=0)
        if k in (K.STRING_LITERAL, K.FLOATING_LITERAL, K.CHARACTER_LITERAL):
            return Arg(ArgKind.LITERAL)
        break
    return Arg(ArgKind.OTHER)


def call_args(c: ci.Cursor) -> tuple[Arg, ...]:
    """Arguments of the call that `reduce_arg(c)` found under casts and parentheses."""
    for _ in range(32):
        if c.kind == K.CALL_EXPR:
            return tuple(reduce_arg(x) for x in c.get_arguments())
        kids = [ch for ch in c.get_children() if ch.kind != K.TYPE_REF]
        if not kids:
            break
        c = kids[-1]
    return ()


def lock_key(arg: Arg) -> str:
    return arg.path or f"<{arg.kind.value}>"


class FunctionWalker:
    """Collect calls, comparisons and local origins of one function body."""

    def __init__(self, catalogue: Catalogue, fn: Function, main_file: str) -> None:
        self.vocab = catalogue.locks
        self.mutex_releases = set(self.vocab.mutex.values())
        self.main_file = main_file
        self.cs_release = {v: k for k, v in self.vocab.critical_sections.items()}
        self.cs_guards = {n.split("::")[-1] for n in self.vocab.raii_critical_sections}
        self.mutex_guards = {n.split("::")[-1] for n in self.vocab.raii_guards}
        self.fn = fn
        self.state: State = ()
        self.gil_released = False
        self.gotos: dict[str, State] = {}

    # statements -------------------------------------------------------------
    def stmt(self, c: ci.Cursor) -> bool:
        """Walk a statement; False when control never falls out of it."""
        k = c.kind
        if k == K.COMPOUND_STMT:
            return self.block(c.get_children())
        if k == K.IF_STMT:
            return self.if_stmt(list(c.get_children()))
        if k in _LOOPS:
            entry = self.state
            for ch in c.get_children():
                self.stmt(ch)
            self.state = _union(entry, self.state)
            return True
        if k == K.RETURN_STMT:
            self.exprs(c.get_children())
            return False
        if k == K.GOTO_STMT:
            for ch in c.get_children():
                self.gotos[ch.spelling] = _union(self.gotos.get(ch.spelling, ()), self.state)
            return False
        if k == K.INDIRECT_GOTO_STMT:
            return False
        if k == K.LABEL_STMT:
            self.state = _union(self.state, self.gotos.get(c.spelling, ()))
            return self.block(c.get_children())
        if k in (K.CASE_STMT, K.DEFAULT_STMT, K.SWITCH_STMT, K.CXX_TRY_STMT, K.CXX_CATCH_STMT):
            self.block(c.get_children())
            return True
        if k == K.DECL_STMT:
            for ch in c.get_children():
                if ch.kind == K.VAR_DECL:
                    self.var_decl(ch)
            return True
        if k in (K.BREAK_STMT, K.CONTINUE_STMT, K.NULL_STMT):
            return True
        self.expr(c)
        return True

    def block(self, children: Iterable[ci.Cursor]) -> bool:
        live = True
        entry = self.state
        for ch in children:
            if ch.kind == K.LABEL_STMT and not live:
                self.state = self.gotos.get(ch.spelling, ())
                live = True
            if not self.stmt(ch):
                live = False
        # RAII guards taken in this scope end with it.
        self.state = tuple(lk for lk in self.state if lk.kind != LockKind.GUARD or lk in entry)
        return live

    def if_stmt(self, kids: list[ci.Cursor]) -> bool:
        """libclang gives `cond, then[, else]` (C++17 init-statements are rare in extensions)."""
        if len(kids) < 2:
            self.exprs(kids)
            return True
        self.stmt(kids[0])
        start = self.state
        then_live = self.stmt(kids[1])
        then_state = self.state
        self.state = start
        else_live = self.stmt(kids[2]) if len(kids) > 2 else True
        else_state = self.state
        if then_live and else_live:
            self.state = _union(then_state, else_state)
        elif then_live or else_live:
            self.state = then_state if then_live else else_state
        else:
            self.state = start
            return False
        return True

    def var_decl(self, c: ci.Cursor) -> None:
        type_name = c.type.spelling
        guard = self.guard_kind(type_name, c)
        init = [ch for ch in c.get_children() if ch.kind not in (K.TYPE_REF, K.NAMESPACE_REF, K.TEMPLATE_REF)]
        self.exprs(init)
        if guard is not None:
            args = self.guard_args(c)
            key = ",".join(lock_key(a) for a in args) or c.spelling
            objects = tuple(a.path for a in args if a.path) if guard == LockKind.CRITICAL_SECTION else ()
            self.state = (*self.state, Lock(LockKind.GUARD, key, objects))
            return
        if init and c.semantic_parent is not None and c.storage_class != ci.StorageClass.STATIC:
            self.assign(c.spelling, init[-1])

    def guard_kind(self, type_name: str, c: ci.Cursor) -> LockKind | None:
        bare = _TEMPLATE_ARGS.sub("", type_name).replace("const ", "").strip()
        if not bare or bare == "int":  # unresolved type (header missing): read the written tokens
            written = []
            for t in c.get_tokens():
                if t.spelling in (c.spelling, "<"):
                    break
                written.append(t.spelling)
            bare = "".join(written)
        last = bare.split("::")[-1]
        if last in self.cs_guards:
            return LockKind.CRITICAL_SECTION
        if last in self.mutex_guards:
            return LockKind.MUTEX
        return None

    def guard_args(self, c: ci.Cursor) -> list[Arg]:
        for ch in c.walk_preorder():
            if ch.kind in (K.CALL_EXPR, K.UNEXPOSED_EXPR) and ch != c:
                args = [reduce_arg(a) for a in ch.get_arguments()] if ch.kind == K.CALL_EXPR else []
                if args:
                    return args
        refs = [reduce_arg(ch) for ch in c.walk_preorder() if ch.kind in (K.DECL_REF_EXPR, K.MEMBER_REF_EXPR)]
        return refs[:1]

    # expressions ------------------------------------------------------------
    def exprs(self, cursors: Iterable[ci.Cursor]) -> None:
        for c in cursors:
            self.expr(c)

    def expr(self, c: ci.Cursor) -> None:
        k = c.kind
        if k == K.CALL_EXPR:
            self.call(c)
            return
        if k == K.BINARY_OPERATOR:
            self.binary(c)
            return
        if k == K.LAMBDA_EXPR:
            saved = self.state
            for ch in c.get_children():
                if ch.kind == K.COMPOUND_STMT:
                    self.state = ()
                    self.stmt(ch)
            self.state = saved
            return
        if k == K.VAR_DECL:
            self.var_decl(c)
            return
        for ch in c.get_children():
            self.expr(ch)

    def binary(self, c: ci.Cursor) -> None:
        kids = list(c.get_children())
        if len(kids) == 2:
            op = c.binary_operator
            if op in _COMPARE:
                self.fn.comparisons.append(
                    Comparison(_COMPARE[op], self.operand(kids[0]), self.operand(kids[1]), span_of(c), self.state)
                )
            elif op == ci.BinaryOperator.Assign:
                lhs = reduce_arg(kids[0])
                if lhs.kind == ArgKind.NAME:
                    self.assign(lhs.path, kids[1])
        self.exprs(kids)

    def operand(self, c: ci.Cursor) -> Operand:
        a = reduce_arg(c)
        if a.kind == ArgKind.CALL:
            return Operand(call=a.path, call_args=call_args(c))
        if a.kind == ArgKind.MEMBER:
            return Operand(member=a.path.rsplit(".", 1)[-1])
        if a.kind == ArgKind.LITERAL:
            return Operand(value=a.value)
        return Operand()

    def assign(self, name: str, value: ci.Cursor) -> None:
        a = reduce_arg(value)
        if a.kind == ArgKind.CALL:
            origin = Assignment(OriginKind.CALL, a.path, call_args(value))
        elif a.kind == ArgKind.NAME:
            origin = Assignment(OriginKind.NAME, source=a.path)
        elif a.kind == ArgKind.LITERAL and a.value == 0:
            origin = Assignment(OriginKind.NULL)
        else:
            origin = Assignment(OriginKind.OTHER)
        self.fn.locals.setdefault(name, []).append(origin)

    def call(self, c: ci.Cursor) -> None:
        name = callee_name(c)
        arg_cursors = list(c.get_arguments())
        args = tuple(reduce_arg(a) for a in arg_cursors)
        member_base: Arg | None = None
        user_defined = False
        ref = c.referenced
        if ref is not None and ref.kind in (K.CXX_METHOD, K.CONSTRUCTOR, K.CONVERSION_FUNCTION):
            user_defined = True
            for ch in c.get_children():
                if ch.kind == K.MEMBER_REF_EXPR:
                    kids = list(ch.get_children())
                    member_base = reduce_arg(kids[0]) if kids else Arg(ArgKind.NAME, "this", "this")
                break
        elif ref is not None:
            definition = ref.get_definition()
            user_defined = (
                definition is not None
                and definition.location.file is not None
                and definition.location.file.name == self.main_file
            )
        self.fn.calls.append(Call(name, span_of(c), args, self.state, self.gil_released, user_defined))
        for a in arg_cursors:
            self.expr(a)
        self.lock_event(name, args, member_base)

    def lock_event(self, name: str, args: tuple[Arg, ...], member_base: Arg | None) -> None:
        v = self.vocab
        if member_base is not None:
            if name in v.member:
                self.state = (*self.state, Lock(LockKind.MUTEX, lock_key(member_base)))
            elif name in v.member.values():
                self.release(LockKind.MUTEX, lock_key(member_base))
            return
        if name in v.mutex and args:
            self.state = (*self.state, Lock(LockKind.MUTEX, lock_key(args[0])))
        elif name in self.mutex_releases and args:
            self.release(LockKind.MUTEX, lock_key(args[0]))
        elif name in v.critical_sections and args:
            objects = tuple(a.path for a in args[1:] if a.path)
            self.state = (*self.state, Lock(LockKind.CRITICAL_SECTION, lock_key(args[0]), objects))
        elif name in self.cs_release and args:
            self.release(LockKind.CRITICAL_SECTION, lock_key(args[0]))
        elif name in v.gil_release:
            self.gil_released = True
        elif name in v.gil_acquire:
            self.gil_released = False

    def release(self, kind: LockKind, key: str) -> None:
        for i in range(len(self.state) - 1, -1, -1):
            lk = self.state[i]
            if lk.kind == kind and lk.key == key:
                self.state = self.state[:i] + self.state[i + 1 :]
                return


def walk_function(catalogue: Catalogue, c: ci.Cursor, main_file: str) -> Function | None:
    body = next((ch for ch in c.get_children() if ch.kind == K.COMPOUND_STMT), None)
    if body is None:
        return None
    params = [Param(p.spelling, p.type.spelling, i) for i, p in enumerate(c.get_arguments() or [])]
    name = c.spelling
    parent = c.semantic_parent
    if parent is not None and parent.kind in (K.CLASS_DECL, K.STRUCT_DECL, K.CLASS_TEMPLATE):
        name = f"{parent.spelling}::{name}"
    fn = Function(name, span_of(c), params)
    FunctionWalker(catalogue, fn, main_file).stmt(body)
    return fn
