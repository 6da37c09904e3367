"""Facts of one C/C++ function body from its tree-sitter syntax tree.

The same walk as the libclang walker (lock state statement by statement,
early returns, gotos, RAII guards to the end of their scope), over syntax:
what libclang learns from types (a typedef's real type, a macro's expansion)
comes here from names the catalogue lists and from declarations in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    Span,
    StaticVar,
    param_key,
)
from ..recorder import (
    BRANCH_HINT,
    Recorder,
    State,
    mark_abort_path,
    mark_arm_abort_path,
    pointer_params,
    slot_context,
    static_arg_kind,
    union,
)
from ..textscan import Assertions, MacroDef, expand_name
from .scope import branch_taken, static_of_declaration
from .syntax import (
    Node,
    Source,
    call_arguments,
    callee_name,
    declarator_name,
    designated,
    int_value,
    member_base_cast,
    named,
    reduce_arg,
    span,
    strip,
    type_words,
)

_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_OPERANDS = {"call_expression", "field_expression"}
_NAME_AND_NUMBER = {"identifier", "number_literal"}
_LOOPS = {"for_statement", "while_statement", "do_statement", "for_range_loop"}
_CS_MACROS = {
    "Py_BEGIN_CRITICAL_SECTION": ("PyCriticalSection_Begin", "_py_cs"),
    "Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST": ("PyCriticalSection_Begin", "_py_cs"),
    "Py_BEGIN_CRITICAL_SECTION2": ("PyCriticalSection2_Begin", "_py_cs2"),
    "Py_END_CRITICAL_SECTION": ("PyCriticalSection_End", "_py_cs"),
    "Py_END_CRITICAL_SECTION_SEQUENCE_FAST": ("PyCriticalSection_End", "_py_cs"),
    "Py_END_CRITICAL_SECTION2": ("PyCriticalSection2_End", "_py_cs2"),
}
GIL_RELEASE_MARK = "GR_"  # Py_BEGIN_ALLOW_THREADS, rewritten to a call of the same length
GIL_ACQUIRE_MARK = "GA_"


@dataclass
class FileFacts:
    """What the whole file declares, shared by its function walkers."""

    catalogue: Catalogue
    src: Source
    path: str
    statics: dict[str, StaticVar] = field(default_factory=dict)  # visible name -> fact
    functions_defined: set[str] = field(default_factory=set)
    functions_declared: set[str] = field(default_factory=set)
    object_structs: dict[str, dict[str, bool]] = field(default_factory=dict)  # struct -> field -> is object
    plain_structs: set[str] = field(default_factory=set)  # structs defined here with no PyObject header
    pointer_fields: dict[str, set[str]] = field(default_factory=dict)  # struct -> its data pointer fields
    object_fields: dict[str, str] = field(default_factory=dict)  # field of an object struct -> its type
    lambdas: list[Function] = field(default_factory=list)
    assertions: Assertions | None = None
    macros: dict[str, MacroDef] = field(default_factory=dict)  # the file's #defines: not library calls
    # Macros whose body takes or releases a lock (`#define LOCK_SOLVER() PyMutex_Lock(&solver_mutex)`):
    # macro -> (the lock function it calls, its first argument).
    lock_macros: dict[str, tuple[str, Arg]] = field(default_factory=dict)
    lock_macro_params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # `ENTER_ZLIB(obj)`: ("obj",)
    cxx: bool = False  # parsed as C++: a local declared as a class value may be a holder
    # File- and namespace-scope names -> whether every definition of the name the file holds (in any
    # namespace or `#if` arm) is a `const`/`constexpr` bool or integer initialised with a literal
    # `false` or `0` (`static constexpr const bool LOG_ENABLED = false;`): an `if` on it is dead code.
    constants: dict[str, bool] = field(default_factory=dict)

    def note_constant(self, name: str, false: bool) -> None:
        """One file- or namespace-scope definition of `name`; `false`: a constant literal false or 0."""
        self.constants[name] = self.constants.get(name, True) and false

    def define_macros(self, macros: dict[str, MacroDef], headers: dict[str, MacroDef] | None = None) -> None:
        """The file's macros, and which of them lock: their body calls a lock function of the vocabulary.
        `headers`: the macros of the headers next to the file (headermacros.py), read for their lock
        macros only (the file's own definition of a name wins)."""
        self.macros = macros
        vocab = self.catalogue.locks
        lockers = set(vocab.mutex) | vocab.mutex_releases | set(vocab.critical_sections) | vocab.critical_section_ends
        for m in [*(headers or {}).values(), *macros.values()]:
            call = _LOCK_CALL.match(m.body)
            if call is not None and call.group(1) in lockers:
                taken: tuple[str, str] | None = (call.group(1), call.group(2))
            else:
                taken = _try_then_block(m.body, set(vocab.mutex))
            if taken is not None:
                path = taken[1].replace("->", ".").replace(" ", "").replace("(", "").replace(")", "")
                kind = ArgKind.MEMBER if "." in path else ArgKind.NAME
                self.lock_macros[m.name] = (taken[0], Arg(kind, path, path.split(".")[0]))
                self.lock_macro_params[m.name] = m.params or ()


def _try_then_block(body: str, acquires: set[str]) -> tuple[str, str] | None:
    """(lock function, its lock argument) of a macro that tries the lock and, failing, blocks on it:
    CPython's `ENTER_ZLIB(obj)`, `if (!PyThread_acquire_lock((obj)->lock, 0)) { Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock((obj)->lock, 1); Py_END_ALLOW_THREADS }`: either way the lock is held after it."""
    m = _TRY_THEN_BLOCK.search(body)
    if m is None or m.group(1) not in acquires:
        return None
    return m.group(1), m.group(2)


# `if (!acquire(L, 0)) { ... acquire(L, 1); ... }`: the same function and lock, tried then waited for.
_TRY_THEN_BLOCK = re.compile(
    r"\bif\s*\(\s*!\s*([A-Za-z_]\w*)\s*\(\s*([^,()]*(?:\([^,()]*\)[^,()]*)*)\s*,\s*0\s*\)\s*\)\s*\{"
    r"[^{}]*\b\1\s*\(\s*\2\s*,\s*1\s*\)[^{}]*\}",
    re.S,
)
# `PyMutex_Lock(&solver_mutex)`, `pthread_mutex_unlock(&self->lock);` as a whole macro body.
# The lock may be a parenthesised macro parameter's member: `PyThread_release_lock((obj)->lock)`.
_LOCK_CALL = re.compile(
    r"\(?\s*([A-Za-z_]\w*)\s*\(\s*&?\s*((?:\(\s*[A-Za-z_]\w*\s*\)|[A-Za-z_])[\w.>-]*)\s*[,)].*", re.S
)


class TsWalker(Recorder):
    def __init__(self, facts: FileFacts, fn: Function, state: State = ()) -> None:
        self.f = facts
        self.src = facts.src
        self.assertions = facts.assertions
        self.cat = facts.catalogue
        self.vocab = facts.catalogue.locks
        self.sv = facts.catalogue.statics
        self.cs_guards = {n.split("::")[-1] for n in self.vocab.raii_critical_sections}
        self.mutex_guards = {n.split("::")[-1] for n in self.vocab.raii_guards}
        self.fn = fn
        self.ptr_params = pointer_params(fn.params)
        self.state = state
        self.gil_released = False
        self.gotos: dict[str, State] = {}
        self.pending = []
        self.stored: set[str] = set()
        self.static_values: dict[Span, Assignment] = {}
        self.early_marks: dict[Span, tuple[int, int]] = {}
        self.early_inits: list[tuple[int, int, int]] = []
        self.ref_context = "value"
        self.local_types: dict[str, str] = {p.name: p.type for p in fn.params}
        self.local_statics: dict[str, StaticVar] = {}
        self.struct_locals: set[str] = set()  # locals declared as a struct value (`RE_JoinInfo info;`)
        self.result_hint: dict[int, str] = {}  # call's start byte -> "object" / "buffer"
        self.macro_release = {r: a for a, r in facts.catalogue.lock_macros.items()}
        self.died = False  # the block, if or label statement just walked certainly ends the process

    # statements -------------------------------------------------------------
    def stmt(self, n: Node) -> bool:
        t = n.type
        if t == "expression_statement":
            self.children(n)
            return True
        if t == "compound_statement" or t == "declaration_list":
            return self.block(n.named_children)  # comments are statements that do nothing
        if t == "if_statement":
            return self.if_stmt(n)
        if t in _LOOPS:
            entry, outer = self.state, self.regions
            self.regions = self.new_region(LOOP_REGION)
            for c in n.named_children:
                self.stmt(c)
            self.state, self.regions = union(entry, self.state), outer
            return True
        if t in ("return_statement", "throw_statement"):
            self.children(n)
            if t == "return_statement":
                value = named(n)
                if value:
                    a = reduce_arg(value[0], self.src)
                    call = strip(value[0])
                    args = call_arguments(call) if a.kind == ArgKind.CALL and call.type == "call_expression" else []
                    self.returns_value(a, tuple(reduce_arg(x, self.src) for x in args), span(n))
                self.returning()
            return False
        if t == "goto_statement":
            label = n.child_by_field_name("label")
            if label is not None:
                key = self.src.text(label)
                self.gotos[key] = union(self.gotos.get(key, ()), self.state)
            return False
        if t == "labeled_statement":
            label = n.child_by_field_name("label")
            if label is not None:
                self.state = union(self.state, self.gotos.get(self.src.text(label), ()))
            return self.block([c for c in named(n) if c.type != "statement_identifier"])
        if t in ("switch_statement", "case_statement", "try_statement", "catch_clause"):
            self.block(named(n))
            return True
        if t.startswith("preproc_"):
            return self.preproc(n)
        if t == "declaration":
            self.declaration(n)
            return True
        if t in ("break_statement", "continue_statement", "comment", "statement_identifier"):
            return True
        self.expr(n)
        return True

    def preproc(self, n: Node) -> bool:
        """`#ifdef Py_GIL_DISABLED` / `#if PY_VERSION_HEX >= ...`: the branch a free-threaded 3.14 build
        compiles; both branches when the condition is unknown."""
        t = n.type
        if t in ("preproc_ifdef", "preproc_if", "preproc_elif", "preproc_elifdef"):
            taken = branch_taken(n, self.src)
            body = [c for c in named(n) if c.type not in ("identifier", "preproc_else", "preproc_elif")]
            body = [c for c in body if c != n.child_by_field_name("condition")]
            alt = n.child_by_field_name("alternative")
            if taken is True:
                return self.block(body)
            if taken is False:
                return self.preproc(alt) if alt is not None else True
            start = self.state
            live = self.block(body)
            end = self.state
            if alt is not None:
                self.state = start
                live = self.preproc(alt) or live
            self.state = union(end, self.state)
            return live
        if t == "preproc_else":
            return self.block(named(n))
        return True

    def block(self, children: Iterable[Node]) -> bool:
        live = True
        entry = self.state
        pending = len(self.pending)
        stmts: list[Node] = []
        starts: list[int] = []
        dies: list[bool] = []
        for c in children:
            if c.type == "labeled_statement" and not live:
                label = c.child_by_field_name("label")
                self.state = self.gotos.get(self.src.text(label), ()) if label is not None else ()
                live = True
            stmts.append(c)
            starts.append(len(self.fn.calls))
            if not self.stmt(c):
                live = False
            dies.append(self.dies(c))
        self.died = mark_abort_path(self.fn.calls, starts, dies, lambda i: _escapes(stmts[i]))
        del self.pending[pending:]
        self.state = tuple(lk for lk in self.state if lk.kind != LockKind.GUARD or lk in entry)
        return live

    def if_stmt(self, n: Node) -> bool:
        cond = n.child_by_field_name("condition")
        if cond is not None and cond.type == "condition_clause":  # C++: `if (init; cond)`
            cond = cond.child_by_field_name("value") or next(iter(named(cond)), cond)
        then = n.child_by_field_name("consequence")
        alt = n.child_by_field_name("alternative")
        if alt is not None and alt.type == "else_clause":
            alt = next(iter(named(alt)), None)
        if cond is not None and self.false_constant(cond):
            # `if (LOG_ENABLED)` on a constant false: the then-arm is never run, only the else-arm is.
            live = self.stmt(alt) if alt is not None else True
            self.died = alt is not None and self.dies(alt)
            return live
        stored = self.stored
        tests = [t for t in self.static_tests(cond) if t[0] not in stored] if cond is not None else []
        gates = [g for g in self.short_circuit_gates(cond) if g[0] not in stored] if cond is not None else []
        cond_access, cond_call = len(self.fn.accesses), len(self.fn.calls)
        if cond is not None:
            self.expr(cond)
        gated = self.short_circuited(gates, cond_access, cond_call)
        start, outer, group = self.state, self.regions, self.new_group()
        first = len(self.fn.accesses)
        first_call = len(self.fn.calls)
        self.regions = self.new_region(group)
        self.unique_branch(cond, True)
        then_live = self.stmt(then) if then is not None else True
        then_dies = then is not None and self.dies(then)
        if then_dies:
            mark_arm_abort_path(self.fn.calls, first_call)
        then_state = self.state
        then_end = len(self.fn.accesses)
        then_calls = len(self.fn.calls)
        self.state, self.regions = start, outer
        self.regions = self.new_region(group)
        self.unique_branch(cond, False)
        else_calls = len(self.fn.calls)
        else_live = self.stmt(alt) if alt is not None else True
        else_dies = alt is not None and self.dies(alt)
        if else_dies:
            mark_arm_abort_path(self.fn.calls, else_calls)
        self.died = then_dies and else_dies
        else_state = self.state
        self.regions = outer
        check = span(strip(cond)) if cond is not None else span(n)
        for key, unset in tests:
            branch = self.fn.accesses[first:then_end] if unset else self.fn.accesses[then_end:]
            made = self.fn.calls[first_call:then_calls] if unset else self.fn.calls[then_calls:]
            if unset and key in gated:
                in_cond, cond_calls = gated.pop(key)
                branch, made = in_cond + branch, cond_calls + made
            self.lazy_init(key, check, start, branch, made)
            if not unset and not then_live and alt is None:
                self.early_return(key, check, start)
        for key, (in_cond, cond_calls) in gated.items():  # `if (x || init_x())`: only the condition initialises
            self.lazy_init(key, check, start, in_cond, cond_calls)
        return self.merge_branches(start, (then_live, then_state), (else_live, else_state))

    def false_constant(self, cond: Node) -> bool:
        """Is condition `cond` a bare name of a file- or namespace-scope constant that every definition the
        file holds sets to a literal false or 0 (FileFacts.constants), not shadowed by a local or a
        parameter?"""
        c = strip(cond)
        if c.type != "identifier":
            return False
        name = self.src.text(c)
        if name in self.local_types or name in self.local_statics or any(p.name == name for p in self.fn.params):
            return False
        return self.f.constants.get(name) is True

    def unique_branch(self, cond: Node | None, holds: bool) -> None:
        """As the libclang walker's: a uniqueness test true in this branch makes its argument private."""
        if cond is None:
            return
        c = strip(cond)
        if c.type == "unary_expression" and self.src.text(c).lstrip().startswith("!"):
            arg = c.child_by_field_name("argument")
            if arg is not None:
                self.unique_branch(arg, not holds)
            return
        if c.type == "binary_expression" and holds and self._op(c) == "&&":
            self.unique_branch(c.child_by_field_name("left"), holds)
            self.unique_branch(c.child_by_field_name("right"), holds)
            return
        if holds and c.type == "call_expression":
            a = reduce_arg(c, self.src)
            args = tuple(reduce_arg(x, self.src) for x in call_arguments(c))
            self.uniquely_referenced(self.cat.uniqueness_tests, a.path, args, span(cond))

    def dies(self, n: Node) -> bool:
        """Whether statement `n`, just walked, certainly ends the process: a call of a no-return function
        (`abort();`, `(void)exit(1);`), an `assert(0)`-style macro, or (read from `self.died`) a block, an
        `if` or a labelled statement that does."""
        t = n.type
        if t in ("compound_statement", "if_statement", "labeled_statement"):
            return self.died
        if t != "expression_statement" or not n.named_children:
            return False
        c = n.named_children[0]
        for _ in range(8):  # `(void)abort()`, `(abort())`
            if c.type == "cast_expression":
                c = c.child_by_field_name("value") or c
            elif c.type == "parenthesized_expression" and c.named_children:
                c = c.named_children[-1]
            else:
                break
        if c.type != "call_expression":
            return False
        name = callee_name(c, self.src)
        nr = self.cat.noreturn
        if name in nr.resumable:
            return False
        if name in nr.functions:
            f = strip(c.child_by_field_name("function") or c)
            return f.type != "field_expression" and name not in self.f.functions_defined  # not a method or own function
        args = call_arguments(c)
        return bool(args) and nr.is_assert_false(name, self.src.text(args[0]))

    def short_circuit_gates(self, c: Node) -> list[tuple[str, Span]]:
        """(static, span of an operand evaluated only while it is unset) in a condition: the right of
        `&&` after a test for unset (`x == NULL && init()`), the right of `||` after a test for set."""
        c = strip(c)
        if c.type != "binary_expression" or (op := self._op(c)) not in ("&&", "||"):
            return []
        lhs, rhs = c.child_by_field_name("left"), c.child_by_field_name("right")
        if lhs is None or rhs is None:
            return []
        gates = [(key, span(rhs)) for key, unset in self._operand_tests(lhs, op) if unset == (op == "&&")]
        return gates + self.short_circuit_gates(lhs) + self.short_circuit_gates(rhs)

    def _operand_tests(self, c: Node, op: str) -> list[tuple[str, bool]]:
        """The tests that hold whenever `c`, the left operand of `op`, makes the right one run (true for
        `&&`, false for `||`); a chain of the other operator implies none of its tests."""
        c = strip(c)
        if c.type == "binary_expression" and (inner := self._op(c)) in ("&&", "||"):
            lhs, rhs = c.child_by_field_name("left"), c.child_by_field_name("right")
            if inner != op or lhs is None or rhs is None:
                return []
            return self._operand_tests(lhs, op) + self._operand_tests(rhs, op)
        return self.static_tests(c)

    def static_tests(self, c: Node, negate: bool = False) -> list[tuple[str, bool]]:
        c = strip(c)
        t = c.type
        if t == "unary_expression" and self._op(c) == "!":
            arg = c.child_by_field_name("argument")
            return self.static_tests(arg, not negate) if arg is not None else []
        if t == "binary_expression":
            op = self._op(c)
            lhs, rhs = c.child_by_field_name("left"), c.child_by_field_name("right")
            if lhs is None or rhs is None:
                return []
            if op in ("&&", "||"):
                return self.static_tests(lhs, negate) + self.static_tests(rhs, negate)
            if op in ("==", "!=", "<"):
                lhs, rhs = strip(lhs), strip(rhs)
                swapped = int_value(rhs, self.src) is None and int_value(lhs, self.src) is not None
                if swapped:
                    lhs, rhs = rhs, lhs
                value = int_value(rhs, self.src)
                if value is None or (op == "<" and (swapped or value != 0)):
                    return []
                key = self.tested(lhs)
                return [(key, (op != "!=") != negate)] if key is not None else []
            return []
        if t == "call_expression" and BRANCH_HINT.match(callee_name(c, self.src)):  # `NPY_UNLIKELY(x == NULL)`
            args = call_arguments(c)
            return self.static_tests(args[0], negate) if args else []
        if t == "call_expression" and callee_name(c, self.src) == "empty":
            f = c.child_by_field_name("function")
            base = f.child_by_field_name("argument") if f is not None and f.type == "field_expression" else None
            var = self.static_named(base) if base is not None else None
            return [(var.key, not negate)] if var is not None else []
        key = self.tested(c)
        return [(key, negate)] if key is not None else []

    def param_name(self, n: Node) -> str | None:
        return self.src.text(n)  # through_param checks it names a pointer parameter

    def _op(self, n: Node) -> str:
        op = n.child_by_field_name("operator")
        return op.type if op is not None else ""  # an operator token's type is its spelling

    def static_named(self, n: Node | None) -> StaticVar | None:
        if n is None:
            return None
        n = strip(n)
        if n.type not in ("identifier", "qualified_identifier"):
            return None
        name = self.src.text(n)
        if name in self.local_statics:
            return self.local_statics[name]
        if name in self.local_types:
            return None
        return self.f.statics.get(name)

    static_of = static_named

    def declaration(self, n: Node) -> None:
        type_node = n.child_by_field_name("type")
        type_text = self.src.text(type_node) if type_node is not None else ""
        if type_text.startswith(GIL_RELEASE_MARK):
            self.gil_released = True
        storage = {self.src.text(c) for c in named(n) if c.type == "storage_class_specifier"}
        for d in n.children_by_field_name("declarator"):
            ident = declarator_name(d)
            if ident is None:
                continue
            name = self.src.text(ident)
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if "static" in storage or "thread_local" in storage:
                var = static_of_declaration(self.f, n, d, ident, self.fn.name)
                if var is not None:
                    self.local_statics[name] = var
                    self.f.statics.setdefault(f"{self.fn.name}()::{name}", var)
                if value is not None:
                    self.expr(value)
                continue
            pointer = d.type == "pointer_declarator" or (
                d.type == "init_declarator" and "*" in self.src.text(d).split("=")[0]
            )
            self.local_types[name] = type_text + (" *" if pointer else "")
            plain = d.type == "identifier" or (
                d.type == "init_declarator" and getattr(d.child_by_field_name("declarator"), "type", "") == "identifier"
            )
            vexing = self.f.cxx and d.type == "function_declarator" and not storage
            built = self.vexing_construction(d) if vexing else None
            if (plain or built is not None) and not pointer and struct_type(type_text):
                self.struct_locals.add(name)
                self.value_struct(name)
            guard = self.guard_kind(type_text)
            if value is not None:
                self.hint_destination(value, self.local_types[name])
                self.expr(value)
            elif d.type == "init_declarator" or guard is not None:
                for c in named(d)[1:]:
                    self.expr(c)
            if guard is not None:
                args = self.guard_args(d)
                key = ",".join(a.path or f"<{a.kind.value}>" for a in args) or name
                objects = tuple(a.path for a in args if a.path) if guard == LockKind.CRITICAL_SECTION else ()
                self.state = (*self.state, Lock(LockKind.GUARD, key, objects))
            elif value is not None:
                members = designated(value, self.src) if name in self.struct_locals else None
                if members is not None:
                    self.aggregate(name, members, span(d))
                else:
                    self.assign(name, value, span(d))
            elif built is not None:
                self.constructed(name, built, span(d))

    def vexing_construction(self, d: Node) -> _Built | None:
        """C++'s most vexing parse read as the construction it is: tree-sitter reads `T x(F(a, b))` and
        `T x(a)` as declarations of a function `x` (F and a as types, `F(G(a))` nested), but when the inner
        names are this function's locals or parameters no type can have those names here, so it is an
        object `x` built from the call `F(a, b)` or from the local `a`."""
        params = d.child_by_field_name("parameters")
        inner = named(params) if params is not None else []
        return self._built(inner[0], 0) if len(inner) == 1 else None

    def _built(self, p: Node, depth: int) -> _Built | None:
        """A parameter declaration of the vexing parse as an expression: a local's name (a type name and no
        declarator) or a call (a type name and a function declarator whose parameters are such)."""
        t = p.child_by_field_name("type")
        declarator = p.child_by_field_name("declarator")
        if p.type != "parameter_declaration" or t is None or t.type != "type_identifier" or depth > 8:
            return None
        if declarator is None:
            return _Built(t, None) if self.src.text(t) in self.local_types else None
        if declarator.type != "abstract_function_declarator" or self.src.text(t) in self.local_types:
            return None
        call_params = declarator.child_by_field_name("parameters")
        args = [self._built(q, depth + 1) for q in (named(call_params) if call_params is not None else [])]
        if not args or any(a is None for a in args):
            return None
        return _Built(t, tuple(a for a in args if a is not None), span(p))

    def constructed(self, name: str, built: _Built, where: Span) -> None:
        """The local `name` built by `vexing_construction`: from a call (recorded as the calls it makes)
        or from a local."""
        arg = self.built_value(built)
        args = tuple(self.built_value(a, record=False) for a in built.args or ())
        self.define(name, arg, args, where)

    def built_value(self, built: _Built, record: bool = True) -> Arg:
        """The value of a vexing-parse expression as an argument; with `record`, the calls it makes (inner
        ones first, as they run) are recorded as the walker records any call of locals."""
        text = self.src.text(built.name)
        if built.args is None:
            if record:
                self.ident(built.name)
            return Arg(ArgKind.NAME, text, text)
        if not record:
            return Arg(ArgKind.CALL, text)
        reduced = tuple(self.built_value(a) for a in built.args)
        defined = text in self.f.functions_defined
        declared = defined or text in self.f.functions_declared or text in self.f.macros
        declared_in = "" if declared or _known_api(text, self.cat) else None
        where = built.where or span(built.name)
        self.fn.calls.append(
            Call(text, where, reduced, self.state, self.gil_released, defined, declared_in, "", self.regions)
        )
        for i, (a, r) in enumerate(zip(built.args, reduced, strict=True)):  # as call_arguments reads a local
            self.container_use(self.cat.containers, text, i, r, "", span(a.name))
            through = self.ptr_params.get(r.path) if r.kind == ArgKind.NAME else None
            if through is not None and not text.startswith(("Py", "_Py")):
                self.record(Access(param_key(through), AccessKind.ADDRESS, span(a.name), self.state, "", text, i))
        self.lock_event(text, reduced, None)
        return Arg(ArgKind.CALL, text)

    def holder(self, n: Node | None) -> str | None:
        """The local C++ object (a class value, not a pointer: a holder) that `n` names, else None."""
        n = strip(n) if n is not None else None
        if n is None or n.type != "identifier" or not self.f.cxx:
            return None
        name = self.src.text(n)
        return name if name in self.struct_locals else None

    def guard_kind(self, type_text: str) -> LockKind | None:
        last = type_words(type_text).split("::")[-1]
        if last in self.cs_guards:
            return LockKind.CRITICAL_SECTION
        if last in self.mutex_guards:
            return LockKind.MUTEX
        return None

    def guard_args(self, d: Node) -> list[Arg]:
        for c in named(d):
            if c.type in ("argument_list", "initializer_list"):
                return [reduce_arg(a, self.src) for a in named(c)]
        return []

    # expressions ------------------------------------------------------------
    def exprs(self, nodes: Iterable[Node]) -> None:
        for n in nodes:
            self.expr(n)

    def expr(self, n: Node) -> None:
        t = n.type
        if t == "identifier":
            self.ident(n)
            return
        if t in _LEAVES:
            return
        handler = _EXPRESSIONS.get(t)
        if handler is not None:
            handler(self, n)
            return
        self.children(n)

    def children(self, n: Node) -> None:
        """The subexpressions of a node with no meaning of its own; leaves are not even visited."""
        for c in n.named_children:
            t = c.type
            if t == "identifier":
                self.ident(c)
            elif t not in _LEAVES:
                self.expr(c)

    def update(self, n: Node) -> None:
        arg = n.child_by_field_name("argument")
        if arg is not None:
            self.store(arg, AccessKind.RMW, span(n), self._op(n))

    def pointer(self, n: Node) -> None:
        if self._op(n) != "&":
            if self._op(n) == "*":
                self.param_struct_use(n.child_by_field_name("argument"), span(n))
            self.children(n)
            return
        arg = n.child_by_field_name("argument")
        if arg is not None:
            base, path, others = self.lvalue(arg)
            self.exprs(others)
            var = self.static_named(base) if base is not None else None
            if var is not None:
                self.access(var, AccessKind.ADDRESS, span(n), path)
            elif base is not None:
                self.member_address(path, span(n))
                self.ident(base)

    def param_struct_use(self, n: Node | None, where: Span) -> None:
        """`*p` or `p[i]` on a pointer parameter to a struct: the struct used whole (StructUse)."""
        n = strip(n) if n is not None else None
        if n is None or n.type != "identifier":
            return
        name = self.src.text(n)
        param = next((p for p in self.fn.params if p.name == name), None)
        if param is not None and param.type.count("*") == 1 and struct_type(param.type.replace("*", "")):
            self.struct_use(name, "", -1, where, local=False)

    def field(self, n: Node) -> None:
        """`s.f`, `p->f`: a member read, not the struct used whole."""
        arg = n.child_by_field_name("argument")
        inner = strip(arg) if arg is not None else None
        if inner is not None and inner.type == "identifier":
            self.ident(inner, whole=False)
        elif arg is not None:
            self.expr(arg)

    def subscript(self, n: Node) -> None:
        self.param_struct_use(n.child_by_field_name("argument"), span(n))
        self.children(n)

    def ident(self, n: Node, whole: bool = True) -> None:
        """A name used (`whole`: not as the struct whose member is read)."""
        name = self.src.text(n)
        var = self.local_statics.get(name) or (None if name in self.local_types else self.f.statics.get(name))
        if var is not None:
            self.access(var, AccessKind.READ, span(n), var.name)
            return
        if whole and name in self.struct_locals:
            self.whole_local(name)
        if name not in self.local_types and (name in self.f.functions_defined or name in self.f.functions_declared):
            self.fn.refs.append(FunctionRef(name, self.ref_context, span(n)))

    def access(
        self, var: StaticVar, kind: AccessKind, where: Span, path: str = "", detail: str = "", arg: int = -1
    ) -> None:
        self.record(Access(var.key, kind, where, self.state, path or var.name, detail, arg))

    def lvalue(self, n: Node) -> tuple[Node | None, str, list[Node]]:
        parts: list[str] = []
        others: list[Node] = []
        for _ in range(32):
            n = strip(n)
            t = n.type
            if t == "pointer_expression" and self._op(n) == "*":
                parts.append("[]")
                n = n.child_by_field_name("argument")
            elif t == "field_expression":
                field_node = n.child_by_field_name("field")
                parts.append("." + (self.src.text(field_node) if field_node is not None else ""))
                n = n.child_by_field_name("argument")
            elif t == "subscript_expression":
                parts.append("[]")
                idx = n.child_by_field_name("index") or n.child_by_field_name("indices")
                if idx is not None:
                    others.append(idx)
                n = n.child_by_field_name("argument")
            elif t in ("identifier", "qualified_identifier"):
                return n, self.src.text(n) + "".join(reversed(parts)), others
            else:
                break
            if n is None:
                break
        return None, "", others + ([n] if n is not None else [])

    def store(self, target: Node, kind: AccessKind, where: Span, op: str) -> None:
        base, path, others = self.lvalue(target)
        self.exprs(others)
        if base is None:
            return
        var = self.static_named(base)
        if var is not None:
            shown = var.name + path[len(self.src.text(base)) :]
            inserting = "[" in path and type_words(var.type).split("::")[-1] in self.sv.inserting_subscript
            self.access(var, AccessKind.METHOD_WRITE if inserting and kind == AccessKind.READ else kind, where, shown)
            return
        through = self.through_param(self.src.text(base), path)
        if through is not None:
            self.record(Access(through, kind, where, self.state, path))
            if path == self.src.text(base) + "[]":
                self.param_struct_use(base, where)
        if "." in path:
            self.field_write(self.src.text(base), path, where, op, member_base_cast(target, self.src))

    def field_write(self, root: str, path: str, where: Span, op: str, cast: str | None = None) -> None:
        """A write to a field of the object `root` points to (`cast`: the type `root` is cast to there,
        `((Buffer *)self)->data`, which names the object instead of `root`'s own type)."""
        written = cast or self.local_types.get(root, "")
        struct = type_words(written).rstrip("* ").strip()
        fields = self.f.object_structs.get(struct)
        if fields is None or "*" not in written:
            return
        field_path = path.split("[", 1)[0]
        name = field_path.split(".")[1] if field_path.count(".") >= 1 else ""
        whole = path.count(".") == 1 and "[" not in path  # the field itself, not an element or a member of it
        pointer = whole and name in self.f.pointer_fields.get(struct, ())
        self.fn.field_writes.append(
            FieldWrite(
                field_path,
                root,
                struct,
                where,
                self.state,
                op,
                fields.get(name, False) and whole,
                pointer,
                self.regions,
            )
        )

    def assignment(self, n: Node) -> None:
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        op = self._op(n)
        if right is not None and left is not None and op == "=":
            target = left
            if target.type == "pointer_expression" and self.src.text(target).lstrip().startswith("*"):
                target = target.child_by_field_name("argument") or target  # `*out = ...`: as args read it
            lt = target.type
            if lt == "identifier":
                name = self.src.text(target)
                self.hint_destination(right, self.local_types.get(name, ""))
                if self.holder(target) is not None and target is left:
                    self.define(name, Arg(ArgKind.OTHER), (), span(n))  # `t = v` on a holder: operator= decides
                elif name in self.local_types:
                    self.assign(name, right, span(n))
                if self.static_named(target) is not None:
                    value, call = reduce_arg(right, self.src), strip(right)
                    args = call_arguments(call) if value.kind == ArgKind.CALL and call.type == "call_expression" else []
                    self.static_value(span(n), value, tuple(reduce_arg(x, self.src) for x in args))
            value, into_local = reduce_arg(right, self.src), lt == "identifier" and self.static_named(target) is None
            self.publish(value, span(n), into_local)
            lhs = reduce_arg(left, self.src)
            if lhs.kind == ArgKind.MEMBER or value.kind == ArgKind.MEMBER:
                stored = lhs.path if lhs.kind in (ArgKind.NAME, ArgKind.MEMBER) else self.lvalue(left)[1]
                call = strip(right)
                args = call_arguments(call) if value.kind == ArgKind.CALL and call.type == "call_expression" else []
                reduced = tuple(reduce_arg(x, self.src) for x in args)
                self.member_assignment(stored, into_local, value, reduced, span(n))
        keep = self.self_selecting(left, right) if left is not None and right is not None and op == "=" else None
        if right is not None:
            saved = self.ref_context
            if left is not None and op == "=":
                self.ref_context = slot_context(reduce_arg(left, self.src), saved)
            self.expr(right)
            self.ref_context = saved
        if left is not None:
            self.store(left, AccessKind.WRITE if op == "=" else AccessKind.RMW, span(n), op)
            if keep is not None:
                self.lazy_init(keep[0], keep[1], self.state, self.fn.accesses[-1:])

    def conditional(self, n: Node) -> None:
        """`t[k] ? t[k] : (t[k] = build(k))`: a check of a static whose unset arm writes it is lazy init."""
        cond = n.child_by_field_name("condition")
        then, alt = n.child_by_field_name("consequence"), n.child_by_field_name("alternative")
        if cond is None or then is None or alt is None:
            self.children(n)
            return
        tests = [t for t in self.static_tests(cond) if t[0] not in self.stored]
        start = self.state
        self.expr(cond)
        first = len(self.fn.accesses)
        self.expr(then)
        middle = len(self.fn.accesses)
        self.expr(alt)
        for key, unset in tests:
            arm = self.fn.accesses[first:middle] if unset else self.fn.accesses[middle:]
            self.lazy_init(key, span(strip(cond)), start, arm)

    def self_selecting(self, target: Node, value: Node) -> tuple[str, Span] | None:
        """`x = x ? x : make()` (or `x = !x ? make() : x`): the key of the static x and the check's span."""
        v = strip(value)
        cond = v.child_by_field_name("condition") if v.type == "conditional_expression" else None
        if cond is None:
            return None
        key = self.tested(target)
        if key is None or key in self.stored:
            return None
        return (key, span(strip(cond))) if any(k == key for k, _unset in self.static_tests(cond)) else None

    def binary(self, n: Node) -> None:
        op = self._op(n)
        lhs, rhs = n.child_by_field_name("left"), n.child_by_field_name("right")
        if (
            op in _COMPARE
            and lhs is not None
            and rhs is not None
            # else nothing worth keeping: a call or a field, or a variable against a number (`n > 2`)
            and (strip(lhs).type in _OPERANDS or strip(rhs).type in _OPERANDS or _name_and_number(lhs, rhs))
        ):
            self.compare(op, self.operand(lhs), self.operand(rhs), span(n))
        self.children(n)

    def operand(self, n: Node) -> Operand:
        a = reduce_arg(n, self.src)
        if a.kind == ArgKind.CALL:
            call = strip(n)
            return Operand(call=a.path, call_args=tuple(reduce_arg(x, self.src) for x in call_arguments(call)))
        if a.kind == ArgKind.MEMBER:
            return Operand(member=a.path.rsplit(".", 1)[-1])
        if a.kind == ArgKind.LITERAL:
            return Operand(value=a.value)
        if a.kind == ArgKind.NAME:
            return Operand(name=a.path)
        return Operand()

    def assign(self, name: str, value: Node, where: Span) -> None:
        value = _assigned_value(value)
        if value.type in ("argument_list", "initializer_list") and len(named(value)) == 1:
            value = named(value)[0]  # `Ref t(PyTuple_New(2))`: a holder initialised with the object it will hold
        a = reduce_arg(value, self.src)
        call = strip(value)
        args = tuple(reduce_arg(x, self.src) for x in call_arguments(call)) if call.type == "call_expression" else ()
        self.define(name, a, args if a.kind == ArgKind.CALL else (), where)

    def hint_destination(self, value: Node, dest_type: str) -> None:
        """FT206: is the result of an allocation stored as an object or a plain buffer?"""
        v = value
        for _ in range(8):
            if v.type == "cast_expression":
                t = v.child_by_field_name("type")
                dest_type = self.src.text(t) if t is not None else dest_type
                v = v.child_by_field_name("value") or v
            elif v.type == "parenthesized_expression" and named(v):
                v = named(v)[-1]
            else:
                break
        if v.type != "call_expression" or "*" not in dest_type:
            return
        base = type_words(dest_type).replace("*", "").strip()
        if base in ("void", ""):
            return
        obj = base in ("PyObject", "PyVarObject") or base in self.f.object_structs
        self.result_hint[v.start_byte] = "object" if obj else "buffer"

    def lambda_expr(self, n: Node) -> None:
        body = n.child_by_field_name("body")
        if body is None:
            return
        where = span(n)
        lam = Function(f"{self.fn.name}::lambda@{where.line}", where)
        self.fn.refs.append(FunctionRef(lam.name, self.ref_context, where))
        once = tuple(lk for lk in self.state if lk.kind == LockKind.ONCE)
        TsWalker(self.f, lam, once).stmt(body)
        self.f.lambdas.append(lam)

    def call(self, n: Node) -> None:
        name = callee_name(n, self.src)
        args = call_arguments(n)
        src = self.src
        if name.startswith(GIL_RELEASE_MARK):
            self.gil_released = True
            return
        if name.startswith(GIL_ACQUIRE_MARK):
            self.gil_released = False
            return
        if name in _CS_MACROS:
            self.critical_section_macro(n, name, args)
            return
        if name in self.sv.assigning_macros and args:
            self.store(args[0], AccessKind.WRITE, span(n), "=")
            reduced = tuple([reduce_arg(a, src) for a in args])
            self.fn.calls.append(
                Call(name, span(n), reduced, self.state, self.gil_released, False, "", "", self.regions)
            )
            self.exprs(args[1:])
            return
        reduced = tuple([reduce_arg(a, src) for a in args])
        member_base: Arg | None = None
        f = n.child_by_field_name("function")
        f = strip(f) if f is not None else None
        if not name and f is not None and f.type == "call_expression":  # `LAPACK(dgesv)(...)`
            name = self.macro_callee(f)
        is_member = f is not None and f.type == "field_expression"
        if is_member:
            obj = f.child_by_field_name("argument")
            member_base = reduce_arg(obj, self.src) if obj is not None else Arg(ArgKind.NAME, "this", "this")
            if obj is not None:
                self.method_object(n, name, obj)
                held = self.holder(obj) if args and name not in self.src.const_methods else None
                if held is not None and self._op(f) == ".":
                    self.define(held, Arg(ArgKind.OTHER), (), span(n))  # `t.Attach(o)`, `t.reset(o)`: rebound
        defined = name in self.f.functions_defined
        declared = defined or name in self.f.functions_declared or is_member or name in self.f.macros
        declared_in = "" if declared or _known_api(name, self.cat) else None
        result = self.result_hint.get(n.start_byte, "")
        self.fn.calls.append(
            Call(
                name,
                span(n),
                reduced,
                self.state,
                self.gil_released,
                defined or is_member,
                declared_in,
                result,
                self.regions,
            )
        )
        self.call_arguments(name, args, reduced)
        self.lock_event(name, reduced, member_base if is_member else None)

    def critical_section_macro(self, n: Node, macro: str, args: list[Node]) -> None:
        func, key = _CS_MACROS[macro]
        reduced = (Arg(ArgKind.NAME, key, key), *(reduce_arg(a, self.src) for a in args))
        self.fn.calls.append(Call(func, span(n), reduced, self.state, self.gil_released, False, "", "", self.regions))
        self.exprs(args)
        if func in self.vocab.critical_sections:
            objects = tuple(a.path for a in reduced[1:] if a.path)
            self.state = (*self.state, Lock(LockKind.CRITICAL_SECTION, key, objects))
        else:
            self.release(LockKind.CRITICAL_SECTION, key)

    def method_object(self, n: Node, name: str, obj: Node) -> None:
        base, path, others = self.lvalue(obj)
        self.exprs(others)  # with no base, `others` ends with what the lvalue stopped at: `obj` is not walked again
        var = self.static_named(base) if base is not None else None
        if var is None:
            return
        kind = AccessKind.METHOD_WRITE if name in self.sv.mutating_members else AccessKind.READ
        self.access(var, kind, span(n), var.name + path[len(self.src.text(base)) :], name)

    def call_arguments(self, name: str, args: list[Node], reduced: tuple[Arg, ...]) -> None:
        """Statics and containers passed to `name` (`reduced`: the arguments as call facts, aligned)."""
        sv = self.sv
        once_index = sv.once_functions.get(name)
        saved_state, saved_context = self.state, self.ref_context
        if once_index is not None:
            self.state = (*self.state, Lock(LockKind.ONCE, name))
        context = f"call:{name}"
        for i, a in enumerate(args):
            if a.type in _LEAVES:
                continue
            self.ref_context = "once" if i == once_index else context
            inner = strip(a)
            address = inner.type == "pointer_expression" and self._op(inner) == "&"
            target = inner.child_by_field_name("argument") if address else inner
            var = self.static_named(target) if target is not None and strip(target).type == "identifier" else None
            if not address:
                static = var.key if var is not None else ""
                self.container_use(self.cat.containers, name, i, reduced[i], static, span(a))
            elif var is None and target is not None and strip(target).type == "identifier":
                local = self.src.text(strip(target))
                if local in self.struct_locals:
                    self.struct_use(local, name, i, span(a), local=True)  # `helper(&info)`
                    continue
            if var is None:
                through = self.ptr_params.get(self.src.text(inner)) if inner.type == "identifier" else None
                if through is not None and not name.startswith(("Py", "_Py")):  # passed on: may be written
                    self.record(Access(param_key(through), AccessKind.ADDRESS, span(a), self.state, "", name, i))
                self.expr(a)
                continue
            is_array = var.type.endswith("]")
            kind = static_arg_kind(sv, name, i, address, is_array, self.cat.containers)
            self.access(var, kind, span(a), var.name, name, i)
        self.state, self.ref_context = saved_state, saved_context

    def macro_callee(self, f: Node) -> str:
        """The function a macro call names (`FNAME(dgesv)` -> `dgesv_` when the file pastes `x##_`, else
        `dgesv`), or ""."""
        args = call_arguments(f)
        if len(args) != 1 or args[0].type != "identifier":
            return ""
        return expand_name(self.f.macros, callee_name(f, self.src), self.src.text(args[0]))

    def lock_event(self, name: str, args: tuple[Arg, ...], member_base: Arg | None) -> None:
        if name in self.f.lock_macros and name not in self.cat.lock_macros and name not in self.macro_release:
            inner, key = self.f.lock_macros[name]  # the file's own lock macro: the lock call it expands to
            params = self.f.lock_macro_params.get(name, ())
            if key.root in params and params.index(key.root) < len(args):  # `ENTER_ZLIB(self)`: self.lock
                given = args[params.index(key.root)]
                if given.kind in (ArgKind.NAME, ArgKind.MEMBER) and given.path:
                    path = given.path + key.path[len(key.root) :]
                    key = Arg(ArgKind.MEMBER if "." in path else ArgKind.NAME, path, given.root or given.path)
            super().lock_event(inner, (key,), None)
        elif name in self.cat.lock_macros:  # configured lock macros, keyed by the acquiring macro
            self.state = (*self.state, Lock(LockKind.MUTEX, name))
        elif name in self.macro_release:
            self.release(LockKind.MUTEX, self.macro_release[name])
        else:
            super().lock_event(name, args, member_base)


@dataclass(frozen=True)
class _Built:
    """An expression tree-sitter read as a declarator (`vexing_construction`): a local's name (`args` None)
    or a call of `name` with `args`, written at `where`."""

    name: Node
    args: tuple[_Built, ...] | None
    where: Span | None = None  # a call's


def _assigned_value(n: Node) -> Node:
    """What a chained assignment stores: `v` in `x = *out = v` or `x = (y = v)`, else `n` itself."""
    inner = n
    for _ in range(32):
        inner = strip(inner)
        op = inner.child_by_field_name("operator") if inner.type == "assignment_expression" else None
        right = inner.child_by_field_name("right") if op is not None and op.type == "=" else None
        if right is None:
            return n
        inner = n = right
    return n


_ESCAPES = frozenset(
    {"return_statement", "goto_statement", "break_statement", "continue_statement", "throw_statement",
     "throw_expression", "co_return_statement"}
)  # fmt: skip


def _escapes(n: Node) -> bool:
    """Whether a statement may leave its block other than by falling through (lambda bodies aside):
    only asked in a block that ends the process, for the statements before the dying one."""
    stack = [n]
    while stack:
        c = stack.pop()
        if c.type in _ESCAPES:
            return True
        if c.type != "lambda_expression":
            stack += c.named_children
    return False


# Nodes that hold no access, call or function reference (`sizeof` does not evaluate its operand).
_LEAVES = frozenset(
    {
        "field_identifier", "type_identifier", "primitive_type", "comment", "string_literal", "number_literal",
        "null", "nullptr", "true", "false", "char_literal", "concatenated_string", "type_descriptor",
        "sizeof_expression", "escape_sequence", "character", "sized_type_specifier", "type_qualifier",
        "abstract_pointer_declarator", "this",
    }
)  # fmt: skip
_EXPRESSIONS = {
    "qualified_identifier": TsWalker.ident,
    "call_expression": TsWalker.call,
    "assignment_expression": TsWalker.assignment,
    "update_expression": TsWalker.update,
    "binary_expression": TsWalker.binary,
    "pointer_expression": TsWalker.pointer,
    "lambda_expression": TsWalker.lambda_expr,
    "conditional_expression": TsWalker.conditional,
    "field_expression": TsWalker.field,
    "subscript_expression": TsWalker.subscript,
}
# Types that are no struct: a local of one is never a struct on the stack (StructUse).
_SCALARS = frozenset(
    {
        "int", "char", "short", "long", "unsigned", "signed", "float", "double", "bool", "_Bool", "void",
        "size_t", "ssize_t", "Py_ssize_t", "Py_hash_t", "Py_UCS1", "Py_UCS2", "Py_UCS4", "Py_uintptr_t",
        "Py_intptr_t", "uintptr_t", "intptr_t", "ptrdiff_t", "wchar_t", "auto",
    }
)  # fmt: skip


def struct_type(type_text: str) -> bool:
    """May a declaration of this type (as written, no pointer) be a struct value?"""
    words = type_words(type_text).replace("*", " ").split()
    return bool(words) and not any(w in _SCALARS or re.fullmatch(r"u?int\d+_t", w) for w in words)


_API = re.compile(r"^_?Py[A-Z_]|^PY_")


def _known_api(name: str, cat: Catalogue) -> bool:
    """Declared in a header tree-sitter cannot read, but not a project library's function."""
    return bool(_API.match(name)) or name in cat.libc or name in cat.locks.mutex or name in cat.statics.buffer_writers


def _name_and_number(lhs: Node, rhs: Node) -> bool:
    return {strip(lhs).type, strip(rhs).type} == _NAME_AND_NUMBER
