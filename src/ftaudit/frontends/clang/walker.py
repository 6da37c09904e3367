"""Turn one libclang translation unit into ftaudit facts.

Only cursors of the main file are visited. Lock state is tracked while
walking each function body statement by statement: branches that end in
`return`/`goto` do not leak their unlocks into the code after them, and the
state at a label is what the gotos to it carried.
"""

from __future__ import annotations

import ctypes
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clang import cindex as ci

from ...catalogue import Catalogue
from ...facts import (
    LOOP_REGION,
    Access,
    AccessKind,
    Arg,
    ArgKind,
    Assignment,
    Call,
    FieldWrite,
    Function,
    FunctionRef,
    Lock,
    LockKind,
    Operand,
    Param,
    Span,
    StaticVar,
    param_key,
)
from ..memory import has_allocation
from ..recorder import (
    BRANCH_HINT,
    RAW_POINTER_ACCESSORS,
    Recorder,
    State,
    lock_key,
    mark_abort_path,
    mark_arm_abort_path,
    pointer_params,
    slot_context,
    static_arg_kind,
    union,
)
from ..textscan import Assertions
from .cursors import Memo, arguments, children, file_of, kind_ids, memoised, operands, span_of, start_of
from .types import TypeJudge

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
CASTS = {
    K.UNEXPOSED_EXPR,
    K.PAREN_EXPR,
    K.CSTYLE_CAST_EXPR,
    K.CXX_STATIC_CAST_EXPR,
    K.CXX_REINTERPRET_CAST_EXPR,
    K.CXX_CONST_CAST_EXPR,
    K.CXX_FUNCTIONAL_CAST_EXPR,
}
_TRANSPARENT = CASTS | {K.UNARY_OPERATOR}  # for reduce_arg: `&x` and `*p` name x and p
_LOOPS = {K.FOR_STMT, K.WHILE_STMT, K.DO_STMT, K.CXX_FOR_RANGE_STMT}
_CAST_IDS, _TRANSPARENT_IDS, _LOOP_IDS = kind_ids(CASTS), kind_ids(_TRANSPARENT), kind_ids(_LOOPS)
_FUNCTION_IDS = kind_ids(FUNCTION_KINDS)
_COMPARE = {
    ci.BinaryOperator.EQ: "==",
    ci.BinaryOperator.NE: "!=",
    ci.BinaryOperator.LT: "<",
    ci.BinaryOperator.LE: "<=",
    ci.BinaryOperator.GT: ">",
    ci.BinaryOperator.GE: ">=",
}
_NULL_LITERALS = {K.GNU_NULL_EXPR, K.CXX_NULL_PTR_LITERAL_EXPR}
_LITERALS = {K.INTEGER_LITERAL, K.CHARACTER_LITERAL, K.FLOATING_LITERAL, *_NULL_LITERALS}
# CXUnaryOperatorKind
_POST_INC, _POST_DEC, _PRE_INC, _PRE_DEC, _ADDR_OF, _DEREF, _LNOT = 1, 2, 3, 4, 5, 6, 10
_INC_DEC = {_POST_INC, _POST_DEC, _PRE_INC, _PRE_DEC}
_LAND = ci.BinaryOperator.LAnd
_SHORT_CIRCUIT = (ci.BinaryOperator.LAnd, ci.BinaryOperator.LOr)
_LVALUE_OPERATORS = {"operator[]": "[]", "operator*": "*", "operator->": "."}
_TEMPLATE_ARGS = re.compile(r"<.*>", re.S)


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
        lib.clang_getCursorUnaryOperatorKind.argtypes = [ci.Cursor]
        lib.clang_getCursorUnaryOperatorKind.restype = ctypes.c_int
        lib._ftaudit_ready = True
    return lib


def unary_kind(c: ci.Cursor) -> int:
    return int(_native().clang_getCursorUnaryOperatorKind(c))


def _member_base_type(c: ci.Cursor) -> ci.Type | None:
    """The type of the expression the innermost member access of lvalue `c` is made on, as written:
    `Buffer *` in `((Buffer *)self)->data` (or a macro expanding to that cast), `Buffer *` for a `b->data`
    on a `Buffer *b`; None when the lvalue is no member access of a variable."""
    for _ in range(32):
        c = strip_casts(c)
        if c.kind == K.MEMBER_REF_EXPR:
            kids = children(c)
            if not kids:
                return None
            if strip_casts(kids[0]).kind == K.DECL_REF_EXPR:
                return kids[0].type
            c = kids[0]
        elif c.kind == K.ARRAY_SUBSCRIPT_EXPR or (c.kind == K.UNARY_OPERATOR and unary_kind(c) == _DEREF):
            kids = children(c)
            if not kids:
                return None
            c = kids[0]
        else:
            return None
    return None


def strip_casts(c: ci.Cursor) -> ci.Cursor:
    """The expression under implicit conversions, casts and parentheses (kept on the cursor)."""
    found: ci.Cursor | bool | None = c.__dict__.get("_ft_stripped")
    if found is not None:
        return c if found is True else found  # type: ignore[return-value]
    start = c
    for _ in range(32):
        if c._kind_id not in _CAST_IDS:
            break
        kids = operands(c)
        if not kids:
            break
        c = kids[-1]
    start._ft_stripped = True if c is start else c  # never the cursor itself: a cycle only the GC frees
    return c


_CONSTANT_TYPES = frozenset(
    {ci.TypeKind.BOOL, ci.TypeKind.INT, ci.TypeKind.UINT, ci.TypeKind.LONG, ci.TypeKind.ULONG, ci.TypeKind.SHORT,
     ci.TypeKind.USHORT, ci.TypeKind.LONGLONG, ci.TypeKind.ULONGLONG, ci.TypeKind.CHAR_S, ci.TypeKind.CHAR_U,
     ci.TypeKind.SCHAR, ci.TypeKind.UCHAR}
)  # fmt: skip
_CONSTANT_SCOPES = frozenset({K.TRANSLATION_UNIT, K.NAMESPACE})


def _variable_named(c: ci.Cursor) -> ci.Cursor | None:
    """The variable declaration a name refers to (casts and parentheses stripped), else None."""
    c = strip_casts(c)
    if c.kind != K.DECL_REF_EXPR:
        return None
    ref = c.referenced
    return ref if ref is not None and ref.kind == K.VAR_DECL else None


def _false_constant(cond: ci.Cursor) -> bool:
    """Is `cond` (an `if`'s condition) a name of a file- or namespace-scope `const`/`constexpr` bool or
    integer whose one definition initialises it with the literal `false` or `0` (as spelled: a macro
    that expands to 0 is not taken, what the build sets it to is not known here)?"""
    ref = _variable_named(cond)
    if ref is None:
        return False
    ref = ref.get_definition() or ref
    parent = ref.semantic_parent
    if parent is None or parent.kind not in _CONSTANT_SCOPES:
        return False
    if not ref.type.is_const_qualified() or ref.type.get_canonical().kind not in _CONSTANT_TYPES:
        return False
    init = [k for k in children(ref) if k.kind.is_expression()]
    if len(init) != 1:
        return False
    lit = strip_casts(init[0])
    if lit.kind not in (K.CXX_BOOL_LITERAL_EXPR, K.INTEGER_LITERAL):
        return False
    spelled = [t.spelling for t in itertools.islice(lit.get_tokens(), 2)]
    return spelled in (["false"], ["0"])


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


def callee_name(c: ci.Cursor) -> str:
    name = c.spelling or ""
    if not name:  # unresolved callee (e.g. undeclared in C++): read the reference
        for ch in children(c):
            if ch.kind in (K.DECL_REF_EXPR, K.OVERLOADED_DECL_REF, K.UNEXPOSED_EXPR, K.MEMBER_REF_EXPR):
                name = ch.spelling or ""
            break
    if not name:
        # Declared with a type libclang could not resolve (a header is missing), or a template's dependent
        # call (`setup<T>()`, `ns::setup<T>()`): read `name(` or `name<`, qualifiers skipped.
        tokens = list(itertools.islice(c.get_tokens(), 16))
        i = 0
        while i + 2 < len(tokens) and tokens[i].kind == ci.TokenKind.IDENTIFIER and tokens[i + 1].spelling == "::":
            i += 2
        if i + 1 < len(tokens) and tokens[i].kind == ci.TokenKind.IDENTIFIER and tokens[i + 1].spelling in "(<":
            name = tokens[i].spelling
    return name[len(SHIM_PREFIX) :] if name.startswith(SHIM_PREFIX) else name


def reduce_arg(c: ci.Cursor) -> Arg:
    """Reduce an expression to a path (`self.items`), a call, or a literal (kept on the cursor)."""
    arg: Arg | None = c.__dict__.get("_ft_arg")
    if arg is None:
        arg = c._ft_arg = _reduce(c)
    return arg


def _reduce(c: ci.Cursor) -> Arg:
    for _ in range(32):
        k = c.kind
        if c._kind_id in _TRANSPARENT_IDS:
            kids = operands(c)
            if not kids:
                break
            c = kids[-1]
            continue
        if k == K.DECL_REF_EXPR:
            return Arg(ArgKind.NAME, c.spelling, c.spelling)
        if k == K.MEMBER_REF_EXPR:
            kids = children(c)
            base = reduce_arg(kids[0]) if kids else Arg(ArgKind.NAME, "this", "this")
            if base.kind in (ArgKind.NAME, ArgKind.MEMBER):
                return Arg(ArgKind.MEMBER, f"{base.path}.{c.spelling}", base.root)
            return Arg(ArgKind.OTHER, c.spelling)
        if k == K.ARRAY_SUBSCRIPT_EXPR:
            kids = children(c)
            base = reduce_arg(kids[0]) if kids else Arg(ArgKind.OTHER)
            if base.kind in (ArgKind.NAME, ArgKind.MEMBER):
                return Arg(ArgKind.MEMBER, f"{base.path}[]", base.root)
            return Arg(ArgKind.OTHER)
        if k == K.CALL_EXPR:
            name = callee_name(c)
            held = _held_object(c) if name in RAW_POINTER_ACCESSORS or _calls_getter(c) else None
            return held if held is not None else Arg(ArgKind.CALL, name)
        if k == K.INTEGER_LITERAL:
            return Arg(ArgKind.LITERAL, value=_int_value(c))
        if k in _NULL_LITERALS:
            return Arg(ArgKind.LITERAL, value=0)
        if k == K.STRING_LITERAL:
            return Arg(ArgKind.LITERAL, c.spelling or "")
        if k in (K.FLOATING_LITERAL, K.CHARACTER_LITERAL):
            return Arg(ArgKind.LITERAL)
        break
    return Arg(ArgKind.OTHER)


def _designated(init: ci.Cursor) -> list[tuple[str, Arg, tuple[Arg, ...]]] | None:
    """The members an aggregate initialiser (`{.list = NULL, .n = 0}`, `{0}`) names, with their values
    (member path, value, a call value's arguments), when each element is designated by member names alone
    (libclang's syntactic form: MEMBER_REFs, then the value) or is zero; None for any other initialiser
    (positional values, array designators, a nested list that is not all zero, no list at all)."""
    if init.kind != K.INIT_LIST_EXPR:
        return None
    out: list[tuple[str, Arg, tuple[Arg, ...]]] = []
    for el in children(init):
        kids = children(el)
        if len(kids) >= 2 and all(k.kind == K.MEMBER_REF for k in kids[:-1]):
            value = kids[-1]
            if value.kind == K.INIT_LIST_EXPR and not _all_zero(value):
                return None
            a = reduce_arg(value)
            out.append((".".join(k.spelling for k in kids[:-1]), a, call_args(value) if a.kind == ArgKind.CALL else ()))
        elif not _all_zero(el):
            return None
    return out


def _all_zero(c: ci.Cursor, depth: int = 0) -> bool:
    """Is `c` a zero (`0`, `NULL`) or an initialiser list of zeros, nested at most 8 deep?"""
    if c.kind == K.INIT_LIST_EXPR:
        return depth < 8 and all(_all_zero(k, depth + 1) for k in children(c))
    a = reduce_arg(c)
    return a.kind == ArgKind.LITERAL and a.value == 0


def _member_ref(c: ci.Cursor) -> ci.Cursor | None:
    """The MEMBER_REF_EXPR an argument is, under casts, parentheses and `&` (None if it is not one)."""
    for _ in range(32):
        if c.kind == K.MEMBER_REF_EXPR:
            return c
        if c._kind_id not in _TRANSPARENT_IDS:
            return None
        kids = operands(c)
        if not kids:
            return None
        c = kids[-1]
    return None


def _held_object(call: ci.Cursor) -> Arg | None:
    """`t.get()` on a local holder `t`: the local, else None."""
    if any(True for _ in arguments(call)):
        return None
    member = next((ch for ch in children(call) if ch.kind == K.MEMBER_REF_EXPR), None)
    base = next(iter(children(member)), None) if member is not None else None
    held = reduce_arg(base) if base is not None else None
    return held if held is not None and held.kind == ArgKind.NAME else None


def _assigned_value(c: ci.Cursor) -> ci.Cursor:
    """What a chained assignment stores: `v` in `x = *out = v` or `x = (y = v)` (parentheses and
    implicit casts crossed), else `c` itself. An assignment expression's value is what it assigned."""
    inner = c
    for _ in range(32):
        if inner.kind == K.BINARY_OPERATOR and inner.binary_operator == ci.BinaryOperator.Assign:
            kids = operands(inner)
            if len(kids) != 2:
                return c
            inner = c = kids[1]
        elif inner.kind in (K.PAREN_EXPR, K.UNEXPOSED_EXPR):
            kids = operands(inner)
            if len(kids) != 1:
                return c
            inner = kids[0]
        else:
            return c
    return c


def _calls_getter(call: ci.Cursor) -> bool:
    """Is `call` one of a C++ member getter, a method with no parameters returning a pointer whose
    body is `return member;` (`PyObject *Get() { return p; }`, const or not)? The answer is kept per
    method (by USR) on the translation unit."""
    if arguments(call):
        return False
    first = next(iter(children(call)), None)
    if first is None or first.kind != K.MEMBER_REF_EXPR:  # no member call: C code stops here
        return False
    ref = call.referenced
    if ref is None or ref.kind != K.CXX_METHOD:
        return False
    tu = call.translation_unit
    memo: dict[str, bool] = tu.__dict__.setdefault("_ft_getters", {})
    usr = ref.get_usr()
    if usr not in memo:
        memo[usr] = _is_getter(ref)
    return memo[usr]


def _is_getter(method: ci.Cursor) -> bool:
    """Is the method (any declaration of it) a member getter: no parameters, not static, a pointer
    result, and a definition whose body is one `return` of a data member of `this`?"""
    if method.is_static_method() or any(True for _ in method.get_arguments()):
        return False
    if method.result_type.get_canonical().kind != ci.TypeKind.POINTER:
        return False
    definition = method.get_definition()
    body = next((ch for ch in children(definition) if ch.kind == K.COMPOUND_STMT), None) if definition else None
    stmts = children(body) if body is not None else []
    if len(stmts) != 1 or stmts[0].kind != K.RETURN_STMT:
        return False
    value = next(iter(children(stmts[0])), None)
    for _ in range(32):
        if value is None or value._kind_id not in _CAST_IDS:
            break
        kids = operands(value)
        value = kids[-1] if kids else None
    if value is None or value.kind != K.MEMBER_REF_EXPR:
        return False
    field = value.referenced
    base = next(iter(children(value)), None)
    return field is not None and field.kind == K.FIELD_DECL and (base is None or base.kind == K.CXX_THIS_EXPR)


def call_args(c: ci.Cursor) -> tuple[Arg, ...]:
    """Arguments of the call that `reduce_arg(c)` found under casts and parentheses."""
    for _ in range(32):
        if c.kind == K.CALL_EXPR:
            return tuple(reduce_arg(x) for x in arguments(c))
        kids = operands(c)
        if not kids:
            break
        c = kids[-1]
    return ()


@dataclass(frozen=True)
class MacroEvent:
    """A configured lock macro use (`LOCK_STATE();`), applied by position."""

    line: int
    col: int
    acquire: bool
    key: str


@dataclass
class FileContext:
    """What every function walker of one file shares."""

    catalogue: Catalogue
    main_file: str
    judge: TypeJudge
    statics: dict[str, StaticVar] = field(default_factory=dict)
    functions: list[Function] = field(default_factory=list)  # lambdas, added as they are met
    macro_events: list[MacroEvent] = field(default_factory=list)
    assertions: Assertions | None = None
    cxx: bool = False
    assert_false: set[tuple[int, int]] = field(default_factory=set)  # (line, col) of `assert(0)`-style macros
    noreturn_decls: dict[str, bool] = field(default_factory=dict)  # callee -> its declaration says noreturn
    out_params: dict[bytes, tuple[int, ...]] = field(default_factory=dict)  # declaration cursor -> _out_params
    object_fields: dict[str, str] = field(default_factory=dict)  # Python object field -> its type (FT303)


class FunctionWalker(Recorder):
    """Collect calls, accesses, lock regions and local origins of one function body."""

    def __init__(self, ctx: FileContext, fn: Function, state: State = ()) -> None:
        self.ctx = ctx
        self.assertions = ctx.assertions
        self.vocab = ctx.catalogue.locks
        self.svocab = ctx.catalogue.statics
        self.main_file = ctx.main_file
        self.cs_guards = {n.split("::")[-1] for n in self.vocab.raii_critical_sections}
        self.mutex_guards = {n.split("::")[-1] for n in self.vocab.raii_guards}
        self.fn = fn
        self.ptr_params = pointer_params(fn.params)
        self.state: State = state
        self.gil_released = False
        self.gotos: dict[str, State] = {}
        self.ref_context = "value"
        self.pending: list[
            tuple[str, Span, State, tuple[int, ...]]
        ] = []  # `if (x) return x;` seen, a write to x follows
        self.stored: set[str] = set()
        self.static_values: dict[Span, Assignment] = {}
        self.early_marks: dict[Span, tuple[int, int]] = {}
        self.early_inits: list[tuple[int, int, int]] = []
        self.dest_hint: dict[tuple[int, int], bool | None] = {}  # call position -> stored as object?
        self.died = False  # the compound or if statement just walked certainly ends the process
        span = fn.span
        self.events = [
            e for e in ctx.macro_events if (span.line, span.col) <= (e.line, e.col) <= (span.end_line, span.end_col)
        ]

    # statements -------------------------------------------------------------
    def stmt(self, c: ci.Cursor) -> bool:
        """Walk a statement; False when control never falls out of it."""
        if self.events:
            self.flush_events(c.extent.start)
        k = c.kind
        if k == K.COMPOUND_STMT:
            return self.block(children(c))
        if k == K.IF_STMT:
            return self.if_stmt(children(c))
        if c._kind_id in _LOOP_IDS:
            entry, outer = self.state, self.regions
            self.regions = self.new_region(LOOP_REGION)
            for ch in children(c):
                self.stmt(ch)
            self.state, self.regions = union(entry, self.state), outer
            return True
        if k == K.RETURN_STMT:
            kids = children(c)
            self.exprs(kids)
            if kids:
                a = reduce_arg(kids[-1])
                self.returns_value(a, call_args(kids[-1]) if a.kind == ArgKind.CALL else (), span_of(c))
            self.returning()
            return False
        if k == K.GOTO_STMT:
            for ch in children(c):
                self.gotos[ch.spelling] = union(self.gotos.get(ch.spelling, ()), self.state)
            return False
        if k == K.INDIRECT_GOTO_STMT:
            return False
        if k == K.LABEL_STMT:
            self.state = union(self.state, self.gotos.get(c.spelling, ()))
            return self.block(children(c))
        if k in (K.CASE_STMT, K.DEFAULT_STMT, K.SWITCH_STMT, K.CXX_TRY_STMT, K.CXX_CATCH_STMT):
            self.block(children(c))
            return True
        if k == K.DECL_STMT:
            for ch in children(c):
                if ch.kind == K.VAR_DECL:
                    self.var_decl(ch)
            return True
        if k in (K.BREAK_STMT, K.CONTINUE_STMT, K.NULL_STMT):
            return True
        self.expr(c)
        return True

    def flush_events(self, before: ci.SourceLocation) -> None:
        pos = (before.line, before.column)
        while self.events and (self.events[0].line, self.events[0].col) < pos:
            e = self.events.pop(0)
            if e.acquire:
                self.state = (*self.state, Lock(LockKind.MUTEX, e.key))
            else:
                self.release(LockKind.MUTEX, e.key)

    def block(self, stmts_in: Iterable[ci.Cursor]) -> bool:
        live = True
        entry = self.state
        pending = len(self.pending)
        last: ci.Cursor | None = None
        stmts: list[ci.Cursor] = []
        starts: list[int] = []
        dies: list[bool] = []
        for ch in stmts_in:
            last = ch
            if ch.kind == K.LABEL_STMT and not live:
                self.state = self.gotos.get(ch.spelling, ())
                live = True
            stmts.append(ch)
            starts.append(len(self.fn.calls))
            if not self.stmt(ch):
                live = False
            dies.append(self.dies(ch, starts[-1]))
        self.died = mark_abort_path(self.fn.calls, starts, dies, lambda i: _escapes(stmts[i]))
        if self.events and last is not None:
            self.flush_events(last.extent.end)
        del self.pending[pending:]
        # RAII guards taken in this scope end with it.
        self.state = tuple(lk for lk in self.state if lk.kind != LockKind.GUARD or lk in entry)
        return live

    def if_stmt(self, kids: list[ci.Cursor]) -> bool:
        """libclang gives `cond, then[, else]` (C++17 init-statements are rare in extensions)."""
        if len(kids) < 2:
            self.exprs(kids)
            self.died = False
            return True
        if _false_constant(kids[0]):
            # `if (LOG_ENABLED)` on a constant false: the then-arm is never run, only the else-arm is.
            calls = len(self.fn.calls)
            live = self.stmt(kids[2]) if len(kids) > 2 else True
            self.died = len(kids) > 2 and self.dies(kids[2], calls)
            return live
        # A static this function already stored into (`PyArg_ParseTuple(args, "i", &mode)`) is
        # being normalised, not lazily initialised: FT101 judges those writes.
        stored = self.stored
        tests = [t for t in self.static_tests(kids[0]) if t[0] not in stored]
        gates = [g for g in self.short_circuit_gates(kids[0]) if g[0] not in stored]
        cond_access, cond_call = len(self.fn.accesses), len(self.fn.calls)
        self.stmt(kids[0])
        gated = self.short_circuited(gates, cond_access, cond_call)
        start, outer, group = self.state, self.regions, self.new_group()
        first = len(self.fn.accesses)
        calls = first_call = len(self.fn.calls)
        self.regions = self.new_region(group)
        self.unique_branch(kids[0], True)
        then_live = self.stmt(kids[1])
        then_dies = self.dies(kids[1], calls)
        if then_dies:
            mark_arm_abort_path(self.fn.calls, calls)
        then_state = self.state
        then_end = len(self.fn.accesses)
        then_calls = len(self.fn.calls)
        self.state, self.regions = start, outer
        self.regions = self.new_region(group)
        self.unique_branch(kids[0], False)
        calls = len(self.fn.calls)
        else_live = self.stmt(kids[2]) if len(kids) > 2 else True
        else_dies = len(kids) > 2 and self.dies(kids[2], calls)
        if else_dies:
            mark_arm_abort_path(self.fn.calls, calls)
        self.died = then_dies and else_dies
        else_state = self.state
        self.regions = outer
        for key, unset in tests:
            # `if (!x) { x = ...; }` writes in the then-branch; `if (x) {...} else { x = ...; }` in the else.
            branch = self.fn.accesses[first:then_end] if unset else self.fn.accesses[then_end:]
            made = self.fn.calls[first_call:then_calls] if unset else self.fn.calls[then_calls:]
            if unset and key in gated:
                in_cond, cond_calls = gated.pop(key)
                branch, made = in_cond + branch, cond_calls + made
            self.lazy_init(key, span_of(kids[0]), start, branch, made)
            if not unset and not then_live and len(kids) == 2:
                self.early_return(key, span_of(kids[0]), start)
        for key, (in_cond, cond_calls) in gated.items():  # `if (x || init_x())`: only the condition initialises
            self.lazy_init(key, span_of(kids[0]), start, in_cond, cond_calls)
        return self.merge_branches(start, (then_live, then_state), (else_live, else_state))

    def unique_branch(self, cond: ci.Cursor, holds: bool) -> None:
        """Entering the branch of `cond` where it is `holds`: a uniqueness test that is then true
        (`PyUnstable_Object_IsUniquelyReferenced(x)`, `!...` in the else, either side of `&&`) makes x private."""
        c = strip_casts(cond)
        if c.kind == K.UNARY_OPERATOR and unary_kind(c) == _LNOT:
            kids = children(c)
            if kids:
                self.unique_branch(kids[0], not holds)
            return
        if c.kind == K.BINARY_OPERATOR and c.binary_operator == ci.BinaryOperator.LAnd and holds:
            for ch in children(c):
                self.unique_branch(ch, holds)
            return
        if holds and c.kind == K.CALL_EXPR:
            self.uniquely_referenced(self.ctx.catalogue.uniqueness_tests, callee_name(c), call_args(c), span_of(cond))

    def dies(self, c: ci.Cursor, first_call: int) -> bool:
        """Whether statement `c`, just walked (its calls recorded from `first_call` on), certainly ends the
        process: a call of a no-return function, an `assert(0)`-style macro, or (read from `self.died`) a
        block or an `if` that does."""
        k = c.kind
        if k in (K.COMPOUND_STMT, K.IF_STMT, K.LABEL_STMT):
            return self.died
        if c._kind_id in _LOOP_IDS or k in (K.DECL_STMT, K.RETURN_STMT, K.SWITCH_STMT, K.NULL_STMT):
            return False
        if self.ctx.assert_false and (c.extent.start.line, c.extent.start.column) in self.ctx.assert_false:
            return True
        inner = strip_casts(c)
        if inner.kind != K.CALL_EXPR or first_call >= len(self.fn.calls):
            return False
        return self.ends_process(self.fn.calls[first_call], inner)

    def ends_process(self, call: Call, c: ci.Cursor) -> bool:
        """A call of a catalogued no-return function, or of one its declaration marks noreturn
        (`__attribute__((noreturn))`, `_Noreturn`, `[[noreturn]]`; in C++ only when it cannot throw)."""
        nr = self.ctx.catalogue.noreturn
        if call.name in nr.resumable:
            return False
        if call.name in nr.functions and not call.user_defined:
            return True
        memo = self.ctx.noreturn_decls
        if call.name not in memo:
            memo[call.name] = _declared_noreturn(c.referenced, self.ctx.cxx)
        return memo[call.name]

    def short_circuit_gates(self, c: ci.Cursor) -> list[tuple[str, Span]]:
        """(static, span of an operand evaluated only while it is unset) in a condition: the right of
        `&&` after a test for unset (`x == NULL && init()`), the right of `||` after a test for set."""
        c = strip_casts(c)
        if c.kind != K.BINARY_OPERATOR or c.binary_operator not in _SHORT_CIRCUIT:
            return []
        kids = children(c)
        if len(kids) != 2:
            return []
        op = c.binary_operator
        gates = [(key, span_of(kids[1])) for key, unset in self._operand_tests(kids[0], op) if unset == (op == _LAND)]
        return gates + self.short_circuit_gates(kids[0]) + self.short_circuit_gates(kids[1])

    def _operand_tests(self, c: ci.Cursor, op: ci.BinaryOperator) -> list[tuple[str, bool]]:
        """The tests that hold whenever `c`, the left operand of `op`, makes the right one run (true for
        `&&`, false for `||`); a chain of the other operator implies none of its tests."""
        c = strip_casts(c)
        if c.kind == K.BINARY_OPERATOR and c.binary_operator in _SHORT_CIRCUIT:
            kids = children(c)
            if c.binary_operator != op or len(kids) != 2:
                return []
            return self._operand_tests(kids[0], op) + self._operand_tests(kids[1], op)
        return self.static_tests(c)

    def static_tests(self, c: ci.Cursor, negate: bool = False) -> list[tuple[str, bool]]:
        """Statics a condition tests for being unset (`!x`, `x == NULL`) or set (`x`, `x != NULL`)."""
        c = strip_casts(c)
        k = c.kind
        if k == K.UNARY_OPERATOR and unary_kind(c) == _LNOT:
            kids = children(c)
            return self.static_tests(kids[0], not negate) if kids else []
        if k == K.BINARY_OPERATOR:
            kids = children(c)
            op = c.binary_operator
            if len(kids) != 2:
                return []
            if op in (ci.BinaryOperator.LAnd, ci.BinaryOperator.LOr):
                return self.static_tests(kids[0], negate) + self.static_tests(kids[1], negate)
            if op in (ci.BinaryOperator.EQ, ci.BinaryOperator.NE, ci.BinaryOperator.LT):
                lhs, rhs = strip_casts(kids[0]), strip_casts(kids[1])
                swapped = rhs.kind not in _LITERALS and lhs.kind in _LITERALS
                if swapped:
                    lhs, rhs = rhs, lhs
                if rhs.kind not in _LITERALS:
                    return []
                if op == ci.BinaryOperator.LT and (swapped or _int_value(rhs) != 0):
                    return []  # only the `x < 0` sentinel test
                key = self.tested(lhs)
                if key is None:
                    return []
                unset = op != ci.BinaryOperator.NE
                return [(key, unset != negate)]
            return []
        if k == K.CALL_EXPR and c.spelling == "empty":
            base = self.member_base(c)
            var = self.static_of(base) if base is not None else None
            return [(var.key, not negate)] if var is not None else []
        if k == K.CALL_EXPR and BRANCH_HINT.match(callee_name(c)):  # `NPY_UNLIKELY(x == NULL)`, expanded or not
            args = list(arguments(c))
            return self.static_tests(args[0], negate) if args else []
        if k == K.CALL_EXPR and c.spelling in ("operator==", "operator!="):  # `holder == nullptr`
            args = [strip_casts(a) for a in arguments(c)]
            if len(args) == 2 and (args[0].kind in _LITERALS) != (args[1].kind in _LITERALS):
                operand = args[1] if args[0].kind in _LITERALS else args[0]
                key = self.tested(operand)
                return [(key, (c.spelling == "operator==") != negate)] if key is not None else []
            return []
        if k == K.CALL_EXPR and c.spelling == "operator bool":  # `if (!holder)`
            base = self.member_base(c)
            key = self.tested(base) if base is not None else None
            return [(key, negate)] if key is not None else []
        key = self.tested(c)
        return [(key, negate)] if key is not None else []

    def param_name(self, c: ci.Cursor) -> str | None:
        return c.spelling if _is_param(c) else None

    def static_of(self, c: ci.Cursor) -> StaticVar | None:
        ref = _variable_named(c)
        return self.static(ref) if ref is not None else None

    def static(self, decl: ci.Cursor) -> StaticVar | None:
        var = self.ctx.judge.static_var(decl)
        if var is not None and var.key not in self.ctx.statics:
            self.ctx.statics[var.key] = var
        return var

    def var_decl(self, c: ci.Cursor) -> None:
        type_name = c.type.spelling
        guard = self.guard_kind(type_name, c)
        init = [ch for ch in children(c) if ch.kind not in (K.TYPE_REF, K.NAMESPACE_REF, K.TEMPLATE_REF)]
        is_static = c.storage_class == ci.StorageClass.STATIC
        if is_static:
            self.static(c)
        if init:
            self.hint_destination(init[-1], c.type)
        self.exprs(init)
        if guard is not None:
            args = self.guard_args(c)
            key = ",".join(lock_key(a) for a in args) or c.spelling
            objects = tuple(a.path for a in args if a.path) if guard == LockKind.CRITICAL_SECTION else ()
            self.state = (*self.state, Lock(LockKind.GUARD, key, objects))
            return
        if not is_static and c.type.get_canonical().kind == ci.TypeKind.RECORD:
            self.value_struct(c.spelling)  # a struct value on this call's stack (not a pointer or reference)
        if init and c.semantic_parent is not None and not is_static:
            members = _designated(init[-1]) if c.type.get_canonical().kind == ci.TypeKind.RECORD else None
            if members is not None:
                self.aggregate(c.spelling, members, span_of(c))
            else:
                self.assign(c.spelling, init[-1], span_of(c))

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
                args = [reduce_arg(a) for a in arguments(ch)] if ch.kind == K.CALL_EXPR else []
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
        if k == K.DECL_REF_EXPR:
            self.decl_ref(c)
            return
        if k == K.CALL_EXPR:
            self.call(c)
            return
        if k == K.BINARY_OPERATOR:
            self.binary(c)
            return
        if k == K.COMPOUND_ASSIGNMENT_OPERATOR:
            kids = children(c)
            if len(kids) == 2:
                self.store(kids[0], AccessKind.RMW, span_of(c), c.spelling or "op=")
                self.expr(kids[1])
            return
        if k == K.UNARY_OPERATOR:
            self.unary(c)
            return
        if k == K.LAMBDA_EXPR:
            self.lambda_expr(c)
            return
        if k == K.CONDITIONAL_OPERATOR:
            self.conditional(children(c))
            return
        if k == K.VAR_DECL:
            self.var_decl(c)
            return
        if k == K.MEMBER_REF_EXPR:  # `s.f`, `p->f`: a member read, not the struct used whole
            for ch in c.get_children():
                inner = strip_casts(ch)
                if inner.kind == K.DECL_REF_EXPR:
                    self.decl_ref(inner, whole=False)
                else:
                    self.expr(ch)
            return
        if k == K.ARRAY_SUBSCRIPT_EXPR:
            first = next(iter(c.get_children()), None)
            if first is not None:
                self.param_struct_use(first, span_of(c))
        for ch in children(c):
            self.expr(ch)

    def decl_ref(self, c: ci.Cursor, whole: bool = True) -> None:
        """A name used (`whole`: not as the struct whose member is read)."""
        ref = c.referenced
        if ref is None:
            return
        if ref.kind == K.VAR_DECL:
            var = self.static(ref)
            if var is not None:
                self.access(var, AccessKind.READ, span_of(c))
            elif whole:
                self.whole_local(ref.spelling)
        elif ref._kind_id in _FUNCTION_IDS:
            self.fn.refs.append(FunctionRef(ref.spelling, self.ref_context, span_of(c)))

    def access(
        self, var: StaticVar, kind: AccessKind, span: Span, path: str = "", detail: str = "", arg: int = -1
    ) -> None:
        self.record(Access(var.key, kind, span, self.state, path or var.name, detail, arg))

    def unary(self, c: ci.Cursor) -> None:
        kids = children(c)
        if not kids:
            return
        op = unary_kind(c)
        if op in _INC_DEC:
            self.store(kids[0], AccessKind.RMW, span_of(c), "++" if op in (_POST_INC, _PRE_INC) else "--")
            return
        if op == _ADDR_OF:
            base, path, others = self.lvalue(kids[0])
            self.exprs(others)
            var = self.static_of(base) if base is not None else None
            if var is not None:
                self.access(var, AccessKind.ADDRESS, span_of(c), path)
            elif base is not None:
                self.member_address(path, span_of(c))
                self.decl_ref(base)
            return
        if op == _DEREF:
            self.param_struct_use(kids[0], span_of(c))
        self.exprs(kids)

    def param_struct_use(self, c: ci.Cursor, where: Span) -> None:
        """`*p` or `p[i]` on a pointer parameter to a struct: the struct used whole (StructUse)."""
        c = strip_casts(c)
        ref = c.referenced if c.kind == K.DECL_REF_EXPR else None
        if ref is not None and ref.kind == K.PARM_DECL:
            t = ref.type.get_canonical()
            if t.kind == ci.TypeKind.POINTER and t.get_pointee().get_canonical().kind == ci.TypeKind.RECORD:
                self.struct_use(ref.spelling, "", -1, where, local=False)

    def lvalue(self, c: ci.Cursor) -> tuple[ci.Cursor | None, str, list[ci.Cursor]]:
        """The variable an lvalue expression stores into, its path (`x.count`, `x[]`) and the
        sub-expressions (indexes) still to walk."""
        parts: list[str] = []
        others: list[ci.Cursor] = []
        for _ in range(32):
            c = strip_casts(c)
            k = c.kind
            if k == K.UNARY_OPERATOR and unary_kind(c) == _DEREF:
                kids = children(c)
                if not kids:
                    break
                parts.append("[]")
                c = kids[0]
            elif k == K.MEMBER_REF_EXPR:
                kids = children(c)
                if not kids:
                    return None, "", others
                parts.append("." + c.spelling)
                c = kids[0]
            elif k == K.ARRAY_SUBSCRIPT_EXPR:
                kids = children(c)
                if len(kids) != 2:
                    break
                parts.append("[]")
                others.append(kids[1])
                c = kids[0]
            elif k == K.CALL_EXPR and c.spelling in _LVALUE_OPERATORS:
                args = list(arguments(c))
                if not args:
                    break
                parts.append(_LVALUE_OPERATORS[c.spelling])
                others += args[1:]
                c = args[0]
            elif k == K.DECL_REF_EXPR:
                return c, c.spelling + "".join(reversed(parts)), others
            else:
                break
        return None, "", [*others, c]

    def store(self, target: ci.Cursor, kind: AccessKind, span: Span, op: str) -> None:
        base, path, others = self.lvalue(target)
        self.exprs(others)
        if base is None:
            return
        var = self.static_of(base)
        if var is not None:
            self.access(var, kind, span, var.name + path[len(base.spelling) :])
            return
        through = self.through_param(base.spelling, path) if _is_param(base) else None
        if through is not None:
            self.record(Access(through, kind, span, self.state, path))
            if path == base.spelling + "[]":
                self.param_struct_use(base, span)
        if "." in path or "[" in path:
            self.field_write(base, path, span, op, target)

    def field_write(self, base: ci.Cursor, path: str, span: Span, op: str, target: ci.Cursor) -> None:
        ref = base.referenced
        if ref is None or ref.kind not in (K.PARM_DECL, K.VAR_DECL) or "." not in path:
            return
        written = _member_base_type(target)  # `((Buffer *)self)->data`: the cast's type, not `self`'s
        obj = self.ctx.judge.object_struct((written or ref.type).get_canonical())
        if obj is None:
            return
        field_path = path.split("[", 1)[0]
        # The field itself (not an element or a member of it): does it hold an object or a data pointer?
        whole = path.count(".") == 1 and "[" not in path
        t = strip_casts(target).type.get_canonical()
        data = t.kind == ci.TypeKind.POINTER and t.get_pointee().get_canonical().kind not in _FUNCTION_TYPES
        held = self.ctx.judge.points_to_object(t) if whole and data else None
        self.fn.field_writes.append(
            FieldWrite(field_path, base.spelling, obj, span, self.state, op, held is True, held is False, self.regions)
        )

    def binary(self, c: ci.Cursor) -> None:
        kids = children(c)
        if len(kids) == 2:
            op = c.binary_operator
            if op in _COMPARE:
                self.compare(_COMPARE[op], self.operand(kids[0]), self.operand(kids[1]), span_of(c))
            elif op == ci.BinaryOperator.Assign:
                lhs = reduce_arg(kids[0])
                if lhs.kind == ArgKind.NAME:
                    self.assign(lhs.path, kids[1], span_of(c))
                    if self.static_of(kids[0]) is not None:
                        value = reduce_arg(kids[1])
                        self.static_value(span_of(c), value, call_args(kids[1]) if value.kind == ArgKind.CALL else ())
                value, into_local = reduce_arg(kids[1]), lhs.kind == ArgKind.NAME and self.static_of(kids[0]) is None
                self.publish(value, span_of(c), into_local)
                if lhs.kind == ArgKind.MEMBER or value.kind == ArgKind.MEMBER:
                    target = lhs.path if lhs.kind in (ArgKind.NAME, ArgKind.MEMBER) else self.lvalue(kids[0])[1]
                    args = call_args(kids[1]) if value.kind == ArgKind.CALL else ()
                    self.member_assignment(target, into_local, value, args, span_of(c))
                self.hint_destination(kids[1], kids[0].type)
                keep = self.self_selecting(kids[0], kids[1])
                self.store(kids[0], AccessKind.WRITE, span_of(c), "=")
                if keep is not None:
                    self.lazy_init(keep[0], keep[1], self.state, self.fn.accesses[-1:])
                saved, self.ref_context = self.ref_context, slot_context(lhs, self.ref_context)
                self.expr(kids[1])
                self.ref_context = saved
                return
        self.exprs(kids)

    def conditional(self, kids: list[ci.Cursor]) -> None:
        """`t[k] ? t[k] : (t[k] = build(k))`: a check of a static whose unset arm writes it is lazy init."""
        if len(kids) != 3:
            self.exprs(kids)
            return
        tests = [t for t in self.static_tests(kids[0]) if t[0] not in self.stored]
        start = self.state
        self.expr(kids[0])
        first = len(self.fn.accesses)
        self.expr(kids[1])
        middle = len(self.fn.accesses)
        self.expr(kids[2])
        for key, unset in tests:
            arm = self.fn.accesses[first:middle] if unset else self.fn.accesses[middle:]
            self.lazy_init(key, span_of(kids[0]), start, arm)

    def self_selecting(self, target: ci.Cursor, value: ci.Cursor) -> tuple[str, Span] | None:
        """`x = x ? x : make()` (or `x = !x ? make() : x`): the key of the static x and the check's span."""
        v = strip_casts(value)
        if v.kind != K.CONDITIONAL_OPERATOR:
            return None
        kids = children(v)
        if len(kids) != 3:
            return None
        key = self.tested(target)
        if key is None or key in self.stored:
            return None
        return (key, span_of(kids[0])) if any(k == key for k, _unset in self.static_tests(kids[0])) else None

    def hint_destination(self, value: ci.Cursor, dest: ci.Type) -> None:
        """Remember what type a call's result is stored as (FT206 asks: object or buffer?)."""
        c = value
        for _ in range(32):
            if c.kind == K.CALL_EXPR:
                self.dest_hint[start_of(c)] = self.ctx.judge.points_to_object(dest)
                return
            if c._kind_id not in _CAST_IDS:
                return
            if c.kind in (K.CSTYLE_CAST_EXPR, K.CXX_STATIC_CAST_EXPR, K.CXX_REINTERPRET_CAST_EXPR):
                dest = c.type
            kids = operands(c)
            if not kids:
                return
            c = kids[-1]

    def operand(self, c: ci.Cursor) -> Operand:
        a = reduce_arg(c)
        if a.kind == ArgKind.CALL:
            return Operand(call=a.path, call_args=call_args(c))
        if a.kind == ArgKind.MEMBER:
            return Operand(member=a.path.rsplit(".", 1)[-1])
        if a.kind == ArgKind.LITERAL:
            return Operand(value=a.value)
        if a.kind == ArgKind.NAME:
            return Operand(name=a.path)
        return Operand()

    def assign(self, name: str, value: ci.Cursor, where: Span) -> None:
        value = _assigned_value(value)
        args = list(arguments(value)) if value.kind == K.CALL_EXPR else []
        ref = value.referenced if args else None
        if len(args) == 1 and ref is not None and ref.kind == K.CONSTRUCTOR:
            value = args[0]  # `Ref t(PyTuple_New(2))`: a holder initialised with the object it will hold
        a = reduce_arg(value)
        self.define(name, a, call_args(value) if a.kind == ArgKind.CALL else (), where)

    def lambda_expr(self, c: ci.Cursor) -> None:
        """A lambda body runs when it is called, not here: it becomes a function of its own."""
        body = next((ch for ch in children(c) if ch.kind == K.COMPOUND_STMT), None)
        if body is None:
            return
        span = span_of(c)
        lam = Function(f"{self.fn.name}::lambda@{span.line}", span, internal=True)
        self.fn.refs.append(FunctionRef(lam.name, self.ref_context, span))
        once = tuple(lk for lk in self.state if lk.kind == LockKind.ONCE)
        FunctionWalker(self.ctx, lam, once).stmt(body)
        self.ctx.functions.append(lam)

    def member_base(self, c: ci.Cursor) -> ci.Cursor | None:
        """The object of a member call: `x` in `x.push_back(v)` (None for `this`)."""
        for ch in children(c):
            if ch.kind == K.MEMBER_REF_EXPR:
                kids = children(ch)
                return kids[0] if kids else None
            break
        return None

    def object_fields(self, arg_cursors: list[ci.Cursor], args: tuple[Arg, ...]) -> None:
        """Record the type of each Python object field passed to a call (`self->face`, `&self->zst`),
        for FT303: the field's declaration says its type, its struct whether it is an object."""
        for cur, a in zip(arg_cursors, args, strict=False):
            if a.kind != ArgKind.MEMBER or a.path.count(".") != 1:
                continue
            member = _member_ref(cur)
            ref = member.referenced if member is not None else None
            if ref is None or ref.kind != K.FIELD_DECL:
                continue
            record = ref.semantic_parent
            if record is not None and self.ctx.judge.is_object_record(record.type):
                self.ctx.object_fields.setdefault(ref.spelling, ref.type.spelling)

    def call(self, c: ci.Cursor) -> None:
        name = callee_name(c)
        arg_cursors = list(arguments(c))
        args = tuple(reduce_arg(a) for a in arg_cursors)
        self.object_fields(arg_cursors, args)
        member_base: Arg | None = None
        user_defined = False
        shifted = False
        declared_in: str | None = ""
        ref = c.referenced
        obj: ci.Cursor | None = None
        if ref is not None and ref.kind in (K.CXX_METHOD, K.CONSTRUCTOR, K.CONVERSION_FUNCTION):
            user_defined = True
            f = file_of(ref)  # a member function of a class a header declares: that header (FT302)
            declared_in = "" if f is None or f == self.main_file else f
            if name.startswith("operator") and arg_cursors and ref.kind == K.CXX_METHOD:
                obj, arg_cursors = arg_cursors[0], arg_cursors[1:]
                shifted = True
            else:
                obj = self.member_base(c)
                first = next(iter(children(c)), None)
                if first is not None and first.kind == K.MEMBER_REF_EXPR:
                    member_base = reduce_arg(obj) if obj is not None else Arg(ArgKind.NAME, "this", "this")
        elif ref is not None:
            definition = ref.get_definition()
            user_defined = definition is not None and file_of(definition) == self.main_file
            f = file_of(ref)
            declared_in = "" if f is None or f == self.main_file else f
            if f == self.main_file and _implicit(ref, c):
                declared_in = None
        else:
            declared_in = None
        result = self.dest_hint.get(start_of(c))
        kind = "" if result is None else ("object" if result else "buffer")
        out = (
            self.out_params(ref)
            if ref is not None and ref.kind == K.FUNCTION_DECL and not self.arguments_catalogued(name)
            else ()
        )
        self.fn.calls.append(
            Call(
                name,
                span_of(c),
                args,
                self.state,
                self.gil_released,
                user_defined,
                declared_in,
                kind,
                self.regions,
                out_params=out,
            )
        )
        if obj is not None:
            self.method_object(c, name, obj)
            if ref is not None and ref.kind == K.CXX_METHOD and arg_cursors and not ref.is_const_method():
                self.rebinds(obj, span_of(c))
        self.call_arguments(name, arg_cursors, args[1:] if shifted else args)
        self.lock_event(name, args, member_base)

    def rebinds(self, obj: ci.Cursor, where: Span) -> None:
        """A non-const method given an argument (`t = v`, `t.Attach(o)`, `t.reset(o)`) on a local C++ object
        (a holder): what it holds from here on is unknown, not what it was constructed with."""
        obj = strip_casts(obj)
        var = obj.referenced if obj.kind == K.DECL_REF_EXPR else None
        if var is None or var.kind != K.VAR_DECL or var.storage_class == ci.StorageClass.STATIC:
            return
        if var.semantic_parent is None or var.semantic_parent.kind not in FUNCTION_KINDS:
            return
        if var.type.get_canonical().kind == ci.TypeKind.RECORD:
            self.define(var.spelling, Arg(ArgKind.OTHER), (), where)

    def out_params(self, ref: ci.Cursor) -> tuple[int, ...]:
        """`_out_params` of a function declaration, once per declaration cursor of the file."""
        memo = self.ctx.out_params
        key = bytes(ref)
        if key not in memo:
            memo[key] = _out_params(ref)
        return memo[key]

    def local_struct(self, c: ci.Cursor) -> bool:
        """Does `c` name a local variable (not static) holding a struct?"""
        c = strip_casts(c)
        ref = c.referenced if c.kind == K.DECL_REF_EXPR else None
        return (
            ref is not None
            and ref.kind == K.VAR_DECL
            and ref.storage_class != ci.StorageClass.STATIC
            and self.static_of(c) is None
            and ref.type.get_canonical().kind == ci.TypeKind.RECORD
        )

    def arguments_catalogued(self, name: str) -> bool:
        """Calls whose pointer arguments the prototype does not judge: locks, critical sections and once
        calls (their arguments are the synchronisation) and the catalogue's buffer writers (it lists them)."""
        v = self.vocab
        return (
            name in self.svocab.buffer_writers  # the catalogue says which arguments it writes
            or name in v.mutex
            or name in v.mutex_releases
            or name in v.critical_sections
            or name in v.critical_section_ends
            or name in self.svocab.once_functions
        )

    def method_object(self, c: ci.Cursor, name: str, obj: ci.Cursor) -> None:
        base, path, others = self.lvalue(obj)
        self.exprs(others)
        var = self.static_of(base) if base is not None else None
        if var is None:
            if base is None:
                self.expr(obj)
            return
        sv = self.svocab
        inserting = name == "operator[]" and bare_template(var.type) in sv.inserting_subscript
        kind = AccessKind.METHOD_WRITE if name in sv.mutating_members or inserting else AccessKind.READ
        self.access(var, kind, span_of(c), var.name + path[len(base.spelling) :], name)

    def call_arguments(self, name: str, arg_cursors: list[ci.Cursor], reduced: tuple[Arg, ...]) -> None:
        """Statics and containers passed to `name` (`reduced`: the arguments as call facts, aligned)."""
        sv = self.svocab
        containers = self.ctx.catalogue.containers
        once_index = sv.once_functions.get(name)
        saved_state, saved_context = self.state, self.ref_context
        if once_index is not None:
            self.state = (*self.state, Lock(LockKind.ONCE, name))
        for i, a in enumerate(arg_cursors):
            self.ref_context = "once" if i == once_index else f"call:{name}"
            inner = strip_casts(a)
            address = inner.kind == K.UNARY_OPERATOR and unary_kind(inner) == _ADDR_OF
            target = next(iter(children(inner)), None) if address else inner
            var = self.static_of(target) if target is not None and strip_casts(target).kind == K.DECL_REF_EXPR else None
            if not address:
                self.container_use(containers, name, i, reduced[i], var.key if var is not None else "", span_of(a))
            elif var is None and target is not None and self.local_struct(target):
                self.struct_use(target.spelling, name, i, span_of(a), local=True)  # `helper(&info)`
                continue
            if var is None:
                passed = strip_casts(a)
                if not address and passed.kind == K.DECL_REF_EXPR and _is_param(passed):
                    through = self.ptr_params.get(passed.spelling)
                    if through is not None and not name.startswith(_API_PREFIXES):  # passed on: may be written
                        self.record(Access(param_key(through), AccessKind.ADDRESS, span_of(a), self.state, "", name, i))
                self.expr(a)
                continue
            is_array = target is not None and target.type.get_canonical().kind in (
                ci.TypeKind.CONSTANTARRAY,
                ci.TypeKind.INCOMPLETEARRAY,
            )
            kind = static_arg_kind(sv, name, i, address, is_array, containers)
            self.access(var, kind, span_of(a), var.name, name, i)
        self.state, self.ref_context = saved_state, saved_context


_ESCAPES = {
    K.RETURN_STMT,
    K.GOTO_STMT,
    K.INDIRECT_GOTO_STMT,
    K.BREAK_STMT,
    K.CONTINUE_STMT,
    K.CXX_THROW_EXPR,
}
_NOTHROW = {
    ci.ExceptionSpecificationKind.BASIC_NOEXCEPT,
    ci.ExceptionSpecificationKind.COMPUTED_NOEXCEPT,
    ci.ExceptionSpecificationKind.DYNAMIC_NONE,
    ci.ExceptionSpecificationKind.MS_ANY,
}


def _escapes(c: ci.Cursor) -> bool:
    """Whether a statement may leave its block other than by falling through (lambda bodies aside):
    only asked in a block that ends the process, for the statements before the dying one."""
    stack = [c]
    while stack:
        n = stack.pop()
        k = n.kind
        if k in _ESCAPES:
            return True
        if k != K.LAMBDA_EXPR:
            stack += children(n)
    return False


# `_Noreturn`, `[[noreturn]]`, `[[gnu::noreturn]]`, `__declspec(noreturn)`: the name is among the first tokens.
_ATTRIBUTE_TOKENS = 8


def _declared_noreturn(ref: ci.Cursor | None, cxx: bool) -> bool:
    if ref is None or ref.kind not in FUNCTION_KINDS:
        return False
    # GNU's attribute is in the function type; `_Noreturn` / `[[noreturn]]` only in an attribute cursor
    # that libclang leaves unexposed, so its first tokens say which attribute it is. Only those: an
    # attribute spelled by a macro (`__DEFAULT_FN_ATTRS` in clang's own mmintrin.h) is tokenized from the
    # macro's definition to its use, 141 000 tokens for each of zstd.c's SIMD intrinsics.
    marked = "noreturn" in ref.type.spelling or any(
        ch.kind == K.UNEXPOSED_ATTR
        and any("noreturn" in t.spelling.lower() for t in itertools.islice(ch.get_tokens(), _ATTRIBUTE_TOKENS))
        for ch in children(ref)
    )
    # A C++ `[[noreturn]]` function may throw (pybind11_fail does): only one that cannot ends the process.
    return marked and (not cxx or ref.exception_specification_kind in _NOTHROW)


_FUNCTION_TYPES = (ci.TypeKind.FUNCTIONPROTO, ci.TypeKind.FUNCTIONNOPROTO)
_API_PREFIXES = ("Py", "_Py")  # the Python C API: what it writes through is catalogued (buffer-writers)


def _is_param(c: ci.Cursor) -> bool:
    ref = c.referenced
    return ref is not None and ref.kind == K.PARM_DECL


def _out_params(ref: ci.Cursor) -> tuple[int, ...]:
    """The parameters of a function declaration that point to non-const data (`int *`, `char **`)."""
    if ref.type.kind != ci.TypeKind.FUNCTIONPROTO:
        return ()
    out = []
    for i, t in enumerate(ref.type.argument_types()):
        t = t.get_canonical()
        if t.kind == ci.TypeKind.POINTER and not t.get_pointee().is_const_qualified():
            out.append(i)
    return tuple(out)


def bare_template(type_spelling: str) -> str:
    """`std::map<int, int>` -> `map`."""
    return _TEMPLATE_ARGS.sub("", type_spelling).split("::")[-1].strip()


def _implicit(ref: ci.Cursor, call: ci.Cursor) -> bool:
    """C's implicit declaration of an undeclared function sits at its first call."""
    return start_of(ref) == start_of(call)


def _plain_struct_pointer(ctx: FileContext, t: ci.Type) -> bool:
    """Is `t` a pointer to a struct whose definition is seen and starts with no PyObject header?"""
    t = t.get_canonical()
    if t.kind != ci.TypeKind.POINTER:
        return False
    pointee = t.get_pointee().get_canonical()
    if pointee.kind != ci.TypeKind.RECORD or next(iter(pointee.get_fields()), None) is None:
        return False  # an incomplete struct (defined elsewhere) may be anything
    return not ctx.judge.is_object_record(pointee)


def walk_function(ctx: FileContext, c: ci.Cursor) -> Function | None:
    body = next((ch for ch in children(c) if ch.kind == K.COMPOUND_STMT), None)
    if body is None:
        return None
    params = [Param(p.spelling, p.type.spelling, i) for i, p in enumerate(arguments(c) or [])]
    name = c.spelling
    parent = c.semantic_parent
    if parent is not None and parent.kind in (K.CLASS_DECL, K.STRUCT_DECL, K.CLASS_TEMPLATE):
        name = f"{parent.spelling}::{name}"
    internal = c.linkage in (ci.LinkageKind.INTERNAL, ci.LinkageKind.NO_LINKAGE)
    fn = Function(name, span_of(c), params, internal=internal)
    fn.plain_struct_params = [p.spelling for p in arguments(c) or [] if _plain_struct_pointer(ctx, p.type)]
    with memoised(Memo()):
        walker = FunctionWalker(ctx, fn)
        if walker.stmt(body):
            walker.returning()
        walker.close_struct_uses()
        if has_allocation(call.name for call in fn.calls):
            from .escapes import flows_of  # escapes builds on this module's helpers

            fn.pointer_flows = flows_of(c, body)
    return fn
