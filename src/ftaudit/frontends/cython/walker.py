"""Turn Cython's parse tree (before type analysis) into ftaudit facts.

Cython's own parser gives every statement and expression with positions; the
declarations a file makes (`cdef` globals, `cimport`s, `cdef extern` blocks,
`cdef class` attributes) say what a name is, so the walker can tell a C
global from a module-dict variable and `strtok` from a Python function.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...catalogue import Catalogue
from ...facts import (
    LOOP_REGION,
    Access,
    AccessKind,
    Arg,
    ArgKind,
    Assignment,
    Call,
    ContainerMutation,
    FieldWrite,
    Function,
    FunctionRef,
    Lock,
    LockKind,
    MutationKind,
    Operand,
    OriginKind,
    Param,
    Span,
    StaticVar,
    Storage,
    Store,
    param_key,
)
from ..recorder import Recorder, holds_named_value, mark_abort_path, pointer_params, static_arg_kind, union

Node = Any  # Cython.Compiler.Nodes.Node: untyped
State = tuple[Lock, ...]

# Object types of `cdef` declarations (`cdef int` / `cdef float` are C types in Cython).
PYTHON_TYPES = {
    "object", "list", "dict", "tuple", "set", "frozenset", "str", "bytes", "unicode", "bytearray", "type", "slice",
}  # fmt: skip
# Containers whose augmented assignment (`self.items += more`) modifies them in place and stores the same
# object back: the field is not replaced (its items are CPython's to lock).
IN_PLACE_TYPES = {"list", "dict", "set", "bytearray"}
LOCK_TYPES = {"pymutex", "pythread_type_lock", "PyThread_type_lock", "PyMutex", "FastRLock"}
_LOCKISH = re.compile(r"lock|mutex", re.I)
_LOCK_FACTORIES = {"Lock", "RLock", "allocate_lock", "FastRLock"}
_LOCK_DECORATOR = re.compile(r"with_\w+|synchronized|locked")
# Python builtins a `from X cimport *` module cannot have declared.
_SPECIAL = {
    "__dealloc__": "PyTypeObject.tp_dealloc",
    "__cinit__": "PyTypeObject.tp_new",
    "__init__": "PyTypeObject.tp_init",
    # pickle and copy call it on the object they just rebuilt from `__reduce__` (the data model's
    # "object.__setstate__"): construction, as `__init__` is (which Python code could call again as well)
    "__setstate__": "unpickle",
}
_BUILTINS = frozenset(dir(builtins))  # `len()`, `print()`: never from a star cimport
_FRESH = {"ListNode": "PyList_New", "DictNode": "PyDict_New", "TupleNode": "PyTuple_New", "SetNode": "PySet_New"}
# What an instance allocated without `__init__` is recorded as (`x = Cls.__new__(Cls)`): the C call Cython makes, one of
# the catalogue's fresh constructors, so the object's fields are judged as a C object's from tp_alloc.
_NEW_INSTANCE = "tp_alloc"
# A module-level Python name bound to one of these is a container the module shares (`_cache = []`).
_CONTAINER_LITERALS = {"ListNode": "list", "DictNode": "dict", "SetNode": "set", "ComprehensionNode": "list"}
_CONTAINER_FACTORIES = {
    "list": "list", "dict": "dict", "set": "set", "defaultdict": "dict", "OrderedDict": "dict", "deque": "deque",
    "WeakValueDictionary": "dict", "WeakKeyDictionary": "dict", "WeakSet": "set",
}  # fmt: skip
# Cython's comparison operators, as the C frontends spell them (`x is NULL` compares pointers).
_COMPARE = {"==": "==", "!=": "!=", "is": "==", "is_not": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_LOOPS = {"ForInStatNode", "ForFromStatNode", "WhileStatNode"}
_END_OF_LINE = 1 << 20  # an end column past any line
_EXITS = {"ReturnStatNode", "RaiseStatNode", "ReraiseStatNode"}
_ESCAPES = _EXITS | {"BreakStatNode", "ContinueStatNode"}
# Statements whose node kind does not end in StatNode (a loop body's assignments are walked as statements).
_STATEMENTS = {
    "SingleAssignmentNode",
    "CascadedAssignmentNode",
    "InPlaceAssignmentNode",
    "CVarDefNode",
    "GlobalNode",
    "NonlocalNode",
    "DefNode",
    "CFuncDefNode",
    "PyClassDefNode",
    "CClassDefNode",
}


def kind(n: Node) -> str:
    return type(n).__name__


def span(n: Node, length: int = 1) -> Span:
    pos = getattr(n, "pos", None) or (None, 1, 0)
    line, col = pos[1], pos[2] + 1
    return Span(line, col, line, col + max(1, length))


def declarator_name(d: Node) -> str:
    for _ in range(16):
        if d is None:
            return ""
        if kind(d) == "CNameDeclaratorNode":
            return str(d.name)
        d = getattr(d, "base", None)
    return ""


def declarator_default(d: Node) -> Node | None:
    for _ in range(16):
        if d is None:
            return None
        if kind(d) == "CNameDeclaratorNode":
            return getattr(d, "default", None)
        d = getattr(d, "base", None)
    return None


def declarator_shape(d: Node) -> str:
    """`*`, `[]` suffixes of a declarator, outermost first."""
    out = ""
    for _ in range(16):
        k = kind(d)
        if k == "CPtrDeclaratorNode":
            out += "*"
        elif k == "CArrayDeclaratorNode":
            out += "[]"
        elif k in ("CNameDeclaratorNode", "NoneType"):
            break
        d = getattr(d, "base", None)
    return out


def base_type(t: Node) -> tuple[str, bool]:
    """(type name, const) of a CBaseTypeNode."""
    const = False
    for _ in range(8):
        k = kind(t)
        if k in ("CConstOrVolatileTypeNode", "CConstTypeNode", "CQualifierTypeNode"):
            const = const or bool(getattr(t, "is_const", True))
            t = t.base_type
        elif k == "MemoryViewSliceTypeNode":
            return "memoryview", const
        else:
            break
    name = str(getattr(t, "name", None) or "")
    if name in ("int", "char", "double") and kind(t) == "CSimpleBaseTypeNode":
        longness = getattr(t, "longness", 0) or 0
        name = " ".join(["unsigned"] * (getattr(t, "signed", 1) == 0) + ["long"] * longness + [name])
        name = name.replace("long int", "long")
    return name, const


@dataclass
class ModuleInfo:
    """What the module's declarations say names are."""

    path: str
    cimported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (real name, module)
    cimported_modules: dict[str, str] = field(default_factory=dict)  # alias -> module
    externs: dict[str, str] = field(default_factory=dict)  # C function -> header ("" for verbatim C)
    statics: dict[str, StaticVar] = field(default_factory=dict)  # cdef global name -> fact
    object_globals: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)  # cdef/def functions of this module
    classes: dict[str, dict[str, bool]] = field(default_factory=dict)  # cdef class -> field -> is object
    pointer_fields: dict[str, set[str]] = field(default_factory=dict)  # cdef class -> its C pointer fields
    in_place_fields: dict[str, set[str]] = field(default_factory=dict)  # cdef class -> list/dict/set fields
    field_types: dict[str, str] = field(default_factory=dict)  # cdef class attribute -> its C type
    # cdef class -> attribute -> the type it is declared as (`cdef _XPathContext _context`), for receivers
    attribute_types: dict[str, dict[str, str]] = field(default_factory=dict)
    bases: dict[str, list[str]] = field(default_factory=dict)  # class -> its base classes, as written
    extern_headers: set[str] = field(default_factory=set)  # every `cdef extern from "h"` header
    locks: set[str] = field(default_factory=set)  # names and paths known to hold locks
    star_cimports: list[str] = field(default_factory=list)  # modules of `from X cimport *`
    imported: set[str] = field(default_factory=set)  # names bound by Python `from X import name`
    # Module-level Python names bound to a list/dict/set (`_registry = {}`): shared containers, which
    # FT101 judges when code after import changes them in place (StaticVars of their own).
    py_containers: dict[str, StaticVar] = field(default_factory=dict)
    exposed: set[str] = field(default_factory=set)  # `cdef public`/`readonly` class attributes
    parallel_names: set[str] = field(default_factory=lambda: {"prange", "parallel"})


def _cvar_names(stat: Node) -> Iterable[tuple[Node, str]]:
    for d in getattr(stat, "declarators", None) or []:
        name = declarator_name(d)
        if name and kind(d) != "CFuncDeclaratorNode":
            yield d, name


def collect_module(tree: Node, path: str, exempt_types: frozenset[str]) -> ModuleInfo:
    """First pass: declarations at module level (and cdef class attributes)."""
    info = ModuleInfo(path)
    for stat in _flatten(tree.body):
        k = kind(stat)
        if k == "FromCImportStatNode":
            for _, name, as_name in stat.imported_names or []:
                if name == "*":  # `from .defs cimport *`: unknown names may be the .pxd's C functions
                    info.star_cimports.append(stat.module_name)
                else:
                    info.cimported[as_name or name] = (name, stat.module_name)
        elif k == "FromImportStatNode":
            for item in getattr(stat, "items", None) or []:
                target = item[1] if isinstance(item, tuple) and len(item) > 1 else None
                if kind(target) == "NameNode":
                    info.imported.add(target.name)
        elif k == "CImportStatNode":
            info.cimported_modules[stat.as_name or stat.module_name.split(".")[0]] = stat.module_name
        elif k == "CDefExternNode":
            header = stat.include_file or ""
            if header:
                info.extern_headers.add(header)
            for decl in _flatten(stat.body):
                for d in getattr(decl, "declarators", None) or []:
                    if kind(d) == "CFuncDeclaratorNode":
                        info.externs[declarator_name(d)] = header
        elif k == "CVarDefNode" and stat.visibility != "extern":
            tname, const = base_type(stat.base_type)
            for d, name in _cvar_names(stat):
                shape = declarator_shape(d)
                is_object = not shape and (tname in PYTHON_TYPES or tname in info.classes)
                exempt = f"{tname} is exempt" if tname in LOCK_TYPES or tname in exempt_types else ""
                if tname in LOCK_TYPES:
                    info.locks.add(name)
                if is_object:
                    info.object_globals.add(name)
                info.statics[name] = StaticVar(
                    key=f"cython:{path}:{name}",
                    name=name,
                    path=path,
                    span=span(d, len(name)),
                    storage=Storage.FILE,
                    type=f"{tname}{shape}",
                    const=const and not shape,
                    exempt=exempt,
                )
        elif k == "CClassDefNode":
            info.bases[stat.class_name] = class_bases(stat)
            typed = info.attribute_types.setdefault(stat.class_name, {})
            fields: dict[str, bool] = {}
            pointers: set[str] = set()
            in_place: set[str] = set()
            for member in _flatten(stat.body):
                if kind(member) == "CVarDefNode":
                    tname, _ = base_type(member.base_type)
                    for d, name in _cvar_names(member):
                        if getattr(member, "visibility", "private") in ("public", "readonly"):
                            info.exposed.add(name)
                        fields[name] = not declarator_shape(d) and (tname in PYTHON_TYPES or tname in info.classes)
                        if declarator_shape(d).startswith("*"):
                            pointers.add(name)
                        elif not declarator_shape(d) and tname in IN_PLACE_TYPES:
                            in_place.add(name)
                        info.field_types.setdefault(name, f"{tname} {declarator_shape(d)}".strip())
                        if not declarator_shape(d):
                            typed[name] = tname
                        if tname in LOCK_TYPES:
                            info.locks.add(f"self.{name}")
            info.classes[stat.class_name] = fields
            info.pointer_fields[stat.class_name] = pointers
            info.in_place_fields[stat.class_name] = in_place
        elif k == "PyClassDefNode":
            info.bases[stat.name] = class_bases(stat)
        elif k in ("CFuncDefNode", "DefNode"):
            info.functions.add(function_name(stat))
        elif k == "SingleAssignmentNode" and _is_lock_factory(stat.rhs):
            info.locks.add(_path(stat.lhs))
        elif k == "SingleAssignmentNode" and kind(stat.lhs) == "NameNode" and stat.lhs.name not in info.statics:
            ctype = _container_type(stat.rhs)
            if ctype:
                name = stat.lhs.name
                info.py_containers.setdefault(
                    name,
                    StaticVar(
                        f"cython:{path}:{name}",
                        name,
                        path,
                        span(stat.lhs, len(name)),
                        Storage.FILE,
                        ctype,
                        module_attribute=True,
                    ),
                )
    return info


def _container_type(n: Node) -> str:
    """ "list", "dict", "set"... when `n` builds a new container (`[]`, `{}`, `dict()`, `defaultdict(list)`)."""
    k = kind(n)
    if k in _CONTAINER_LITERALS:
        return _CONTAINER_LITERALS[k]
    if k in ("SimpleCallNode", "GeneralCallNode"):
        f = n.function
        name = f.attribute if kind(f) == "AttributeNode" else getattr(f, "name", "")
        return _CONTAINER_FACTORIES.get(str(name), "")
    return ""


def _is_lock_factory(n: Node) -> bool:
    if kind(n) not in ("SimpleCallNode", "GeneralCallNode"):
        return False
    f = n.function
    name = f.attribute if kind(f) == "AttributeNode" else getattr(f, "name", "")
    return name in _LOCK_FACTORIES


def _flatten(body: Node) -> list[Node]:
    if body is None:
        return []
    if kind(body) == "StatListNode":
        out: list[Node] = []
        for s in body.stats:
            out += _flatten(s)
        return out
    return [body]


def function_name(n: Node) -> str:
    if kind(n) == "CFuncDefNode":
        return declarator_name(n.declarator)
    return str(getattr(n, "name", "") or "")


def _path(n: Node) -> str:
    k = kind(n)
    if k == "NameNode":
        return str(n.name)
    if k == "AttributeNode":
        base = _path(n.obj)
        return f"{base}.{n.attribute}" if base else ""
    if k == "IndexNode":
        base = _path(n.base)
        return f"{base}[]" if base else ""
    return ""


def _root(n: Node) -> Node | None:
    for _ in range(16):
        k = kind(n)
        if k == "NameNode":
            return n
        if k == "AttributeNode":
            n = n.obj
        elif k == "IndexNode":
            n = n.base
        elif k in ("TypecastNode", "CastNode"):
            n = n.operand
        else:
            return None
    return None


class CythonWalker(Recorder):
    """Facts of one Cython function (or of the module body)."""

    def __init__(
        self, catalogue: Catalogue, info: ModuleInfo, fn: Function, klass: str = "", out: list[Function] | None = None
    ) -> None:
        self.cat = catalogue
        self.vocab = catalogue.locks
        self.containers = catalogue.containers
        self.info = info
        self.fn = fn
        self.klass = klass
        self.out = out if out is not None else []
        self.state: State = ()
        self.gil_released = False
        self.parallel = 0
        self.globals: set[str] = set()
        self.locals: set[str] = {p.name for p in fn.params}
        self.ptr_params = pointer_params(fn.params)
        # Names typed as a cdef class of this module: parameters (`cdef int _acquire(FastLock self)`)
        # and `cdef FastLock lk` locals, so writes through them are field writes of that class.
        self.typed: dict[str, str] = {p.name: p.type for p in fn.params if p.type in info.classes}
        # Every name declared with a plain type (a class of another `.pxi` of the module too): receivers.
        self.declared: dict[str, str] = {p.name: p.type for p in fn.params if p.type.isidentifier()}
        self.receiver_name = "self"  # a method's first parameter (build_function)
        self.pending: list[tuple[str, Span, State]] = []
        self.stored: set[str] = set()
        self.static_values: dict[Span, Assignment] = {}
        self.early_marks: dict[Span, tuple[int, int]] = {}
        self.early_inits: list[tuple[int, int, int]] = []
        self.parallel_gil: list[Span] = []
        self.died = False  # the if statement just walked certainly ends the process

    # statements -------------------------------------------------------------
    def body(self, n: Node) -> bool:
        live = True
        pending = len(self.pending)
        stmts = _flatten(n)
        starts: list[int] = []
        dies: list[bool] = []
        for s in stmts:
            starts.append(len(self.fn.calls))
            if not self.stmt(s):
                live = False
            dies.append(self.dies(s))
        self.died = mark_abort_path(self.fn.calls, starts, dies, lambda i: _escapes(stmts[i]))
        del self.pending[pending:]
        return live

    def dies(self, n: Node) -> bool:
        """Whether statement `n`, just walked, certainly ends the process: a call of a cimported no-return C
        function (`abort()` from libc.stdlib; `sys.exit()` raises, so Python calls never count), or an
        if statement whose every branch does (read from `self.died`)."""
        k = kind(n)
        if k == "IfStatNode":
            return self.died
        if k != "ExprStatNode" or kind(n.expr) not in ("SimpleCallNode", "GeneralCallNode"):
            return False
        name, _declared_in, own = self.resolve(n.expr.function)
        nr = self.cat.noreturn
        return not own and name in nr.functions and name not in nr.resumable

    def stmt(self, n: Node) -> bool:
        k = kind(n)
        if k == "GlobalNode":
            self.globals.update(n.names)
            return True
        if k in ("SingleAssignmentNode", "CascadedAssignmentNode"):
            self.expr(n.rhs)
            targets = n.lhs_list if k == "CascadedAssignmentNode" else [n.lhs]
            for t in targets:
                self.stored_elsewhere(t, n.rhs)
                self.store(t, AccessKind.WRITE, n, "=")
                self.origin(t, n.rhs)
                self.publish(t, n.rhs)
            return True
        if k == "InPlaceAssignmentNode":
            self.expr(n.rhs)
            op = getattr(n, "operator", "") + "="
            ref = self.container_ref(n.lhs)
            if ref is not None and op in ("+=", "|=", "-=", "&=", "^="):
                self.mutation(ref, MutationKind.AUGMENTED, op, span(n.lhs, len(ref[2]) or 1))
            self.store(n.lhs, AccessKind.RMW, n, op)
            return True
        if k == "DelStatNode":
            for t in n.args or []:
                self.delete(t)
            return True
        if k == "ReturnStatNode" and getattr(n, "value", None) is not None:
            self.fn.returns.append(self.value_origin(n, n.value))
            ref = self.container_ref(n.value)
            if ref is not None:  # handed to the caller: any code may change it from there
                self.mutation(ref, MutationKind.ESCAPED, "return", span(n.value, len(ref[2]) or 1))
        if k == "CVarDefNode":
            tname, _ = base_type(n.base_type)
            for d in n.declarators or []:
                name = declarator_name(d)
                self.locals.add(name)
                if tname in self.info.classes and not declarator_shape(d):
                    self.typed[name] = tname
                if tname.isidentifier() and not declarator_shape(d):
                    self.declared[name] = tname
                default = declarator_default(d)
                if default is not None:
                    self.expr(default)
                    if name and not declarator_shape(d):
                        self.define_local(name, d, default)  # `cdef Frame c = Frame.__new__(Frame)`
            return True
        if k == "IfStatNode":
            return self.if_stat(n)
        if k in _LOOPS:
            return self.loop(n)
        if k == "WithStatNode":
            return self.with_stat(n)
        if k == "GILStatNode":
            return self.gil_stat(n)
        if k in _EXITS:
            self.children(n)
            if k == "ReturnStatNode":
                self.returning()
            return False
        if k in ("TryFinallyStatNode", "TryExceptStatNode"):
            outer_exits, self.fn.exit_locks = self.fn.exit_locks, ()
            live = self.body(n.body)
            for clause in getattr(n, "except_clauses", None) or []:
                self.body(clause.body)
            if getattr(n, "else_clause", None) is not None:
                self.body(n.else_clause)
            inner_exits, self.fn.exit_locks = self.fn.exit_locks, outer_exits
            if getattr(n, "finally_clause", None) is not None:
                before = self.state
                self.body(n.finally_clause)
                released = {lk for lk in before if lk not in self.state}
                inner_exits = tuple(lk for lk in inner_exits if lk not in released)  # a return runs it too
            self.fn.exit_locks = union(self.fn.exit_locks, inner_exits)
            return live
        if k in ("DefNode", "CFuncDefNode", "LambdaNode", "GeneratorExpressionNode"):
            self.nested(n)
            return True
        if k in ("PyClassDefNode", "CClassDefNode"):
            return True
        self.children(n)
        return True

    def children(self, n: Node) -> None:
        for attr in getattr(n, "child_attrs", ()):
            v = getattr(n, attr, None)
            for c in v if isinstance(v, list) else [v]:
                if c is None or not hasattr(c, "child_attrs"):
                    continue
                if hasattr(c, "stats") or kind(c).endswith("StatNode") or kind(c) in _STATEMENTS:
                    self.stmt(c)
                else:
                    self.expr(c)

    def if_stat(self, n: Node) -> bool:
        start, outer, group = self.state, self.regions, self.new_group()
        ends: list[State] = []
        any_live = False
        all_die = True
        clauses = list(n.if_clauses)
        for i, clause in enumerate(clauses):
            tests = self.static_tests(clause.condition)
            self.expr(clause.condition)
            self.state = start
            first = len(self.fn.accesses)
            first_call = len(self.fn.calls)
            self.regions = self.new_region(group)  # each elif arm excludes the others
            live = self.body(clause.body)
            all_die = all_die and self.died
            self.regions = outer
            branch = self.fn.accesses[first:]
            for key, unset in tests:
                if unset:
                    self.lazy_init(key, span(clause.condition), start, branch, self.fn.calls[first_call:])
                elif not live and i == 0 and len(clauses) == 1 and n.else_clause is None:
                    self.early_return(key, span(clause.condition), start)
            if live:
                ends.append(self.state)
                any_live = True
        self.state = start
        if n.else_clause is not None:
            first = len(self.fn.accesses)
            self.regions = self.new_region(group)
            live = self.body(n.else_clause)
            all_die = all_die and self.died
            self.regions = outer
            for key, unset in self.static_tests(clauses[0].condition) if len(clauses) == 1 else []:
                if not unset:
                    self.lazy_init(key, span(clauses[0].condition), start, self.fn.accesses[first:])
            if live:
                ends.append(self.state)
                any_live = True
        else:
            self.new_region(group)  # the implicit empty else, as the C walkers record it: no arm defines there
            ends.append(start)
            any_live = True
            all_die = False
        merged: State = ()
        for e in ends:
            merged += tuple(x for x in e if x not in merged)
        self.state = merged if any_live else start
        self.died = all_die
        return any_live

    def static_tests(self, c: Node, negate: bool = False) -> list[tuple[str, bool]]:
        """cdef globals a condition tests for unset (`x is None`, `not x`, `x == NULL`) or set."""
        k = kind(c)
        if k == "NotNode":
            return self.static_tests(c.operand, not negate)
        if k == "BoolBinopNode":
            return self.static_tests(c.operand1, negate) + self.static_tests(c.operand2, negate)
        if k == "PrimaryCmpNode" and getattr(c, "cascade", None) is None:
            op = c.operator
            lhs, rhs = c.operand1, c.operand2
            if kind(lhs) in ("NoneNode", "NullNode", "IntNode"):
                lhs, rhs = rhs, lhs
            if kind(rhs) not in ("NoneNode", "NullNode", "IntNode", "BoolNode"):
                return []
            var = self.global_of(lhs)
            if var is None or op not in ("is", "is_not", "==", "!="):
                return []
            return [(var.key, (op in ("is", "==")) != negate)]
        var = self.global_of(c)
        return [(var.key, negate)] if var is not None else []

    def global_of(self, n: Node) -> StaticVar | None:
        if kind(n) != "NameNode" or n.name in self.locals:
            return None
        return self.info.statics.get(n.name)

    def loop(self, n: Node) -> bool:
        entry, outer = self.state, self.regions
        parallel = self.is_parallel(getattr(getattr(n, "iterator", None), "sequence", None))
        self.parallel += parallel
        self.regions = self.new_region(LOOP_REGION)
        self.children(n)
        self.regions = outer
        self.parallel -= parallel
        self.state = entry + tuple(x for x in self.state if x not in entry)
        return True

    def is_parallel(self, call: Node) -> bool:
        if call is None or kind(call) not in ("SimpleCallNode", "GeneralCallNode"):
            return False
        f = call.function
        name = f.attribute if kind(f) == "AttributeNode" else getattr(f, "name", "")
        return name in self.info.parallel_names

    def with_stat(self, n: Node) -> bool:
        manager = n.manager
        self.expr(manager)
        parallel = self.is_parallel(manager)
        lock = self.lock_of(manager)
        if lock is not None:
            self.state = (*self.state, lock)
        self.parallel += parallel
        live = self.body(n.body)
        self.parallel -= parallel
        # The manager's lock ends with the block; one the body takes (`with nogil:` around an acquire) does not.
        self.state = tuple(lk for lk in self.state if lk != lock) if lock is not None else self.state
        return live

    def lock_of(self, manager: Node) -> Lock | None:
        k = kind(manager)
        if k in ("SimpleCallNode", "GeneralCallNode"):
            f = manager.function
            name = f.attribute if kind(f) == "AttributeNode" else getattr(f, "name", "")
            if name == "critical_section":
                args = manager.args if k == "SimpleCallNode" else list(manager.positional_args.args)
                objects = tuple(p for p in (_path(a) for a in args) if p)
                return Lock(LockKind.CRITICAL_SECTION, ",".join(objects) or "critical_section", objects)
            return None
        path = _path(manager)
        if path and (path in self.info.locks or _LOCKISH.search(path.rsplit(".", 1)[-1])):
            return Lock(LockKind.MUTEX, path)
        if k == "NameNode" and path in self.info.imported:
            # A module-level object of another module used bare as a context manager: a shared lock
            # (h5py's `from ._objects import phil` ... `with phil:`); files and scopes are made by calls.
            return Lock(LockKind.MUTEX, path)
        return None

    def gil_stat(self, n: Node) -> bool:
        saved = self.gil_released
        if n.state == "gil":
            if self.parallel:
                self.fn_parallel_gil(n)
            self.gil_released = False
        else:
            self.gil_released = True
        live = self.body(n.body)
        self.gil_released = saved
        return live

    def fn_parallel_gil(self, n: Node) -> None:
        self.parallel_gil.append(span(n, len("gil")))

    def nested(self, n: Node) -> None:
        """A nested def/lambda runs when called: a function of its own, referenced from here."""
        inner = build_function(self.cat, self.info, n, f"{self.fn.name}.{function_name(n) or 'lambda'}", "", self.out)
        if inner is not None:
            self.fn.refs.append(FunctionRef(inner.name, "value", inner.span))

    # expressions ------------------------------------------------------------
    def expr(self, n: Node) -> None:
        if n is None:
            return
        k = kind(n)
        if k == "NameNode":
            var = self.global_of(n)
            if var is not None:
                self.access(var, AccessKind.READ, span(n, len(n.name)), var.name)
            elif n.name in self.info.functions and n.name not in self.locals:
                self.fn.refs.append(FunctionRef(n.name, "value", span(n)))
            return
        if k in ("SimpleCallNode", "GeneralCallNode"):
            self.call(n)
            return
        if k in ("LambdaNode", "GeneratorExpressionNode"):
            self.nested(n)
            return
        if k == "PrimaryCmpNode" and getattr(n, "cascade", None) is None and n.operator in _COMPARE:
            self.compare(_COMPARE[n.operator], self.operand(n.operand1), self.operand(n.operand2), span(n))
        self.children(n)

    def operand(self, n: Node) -> Operand:
        """One side of a comparison, as the C frontends give it: a call, a field, a constant (NULL is 0)."""
        n = _uncast(n)
        k = kind(n)
        if k in ("SimpleCallNode", "GeneralCallNode"):
            name = self.resolve(n.function)[0]
            return Operand(call=name, call_args=tuple(self.arg(a) for a in self.call_args(n))) if name else Operand()
        if k == "NullNode":
            return Operand(value=0)
        if k == "IntNode":
            try:
                return Operand(value=int(str(n.value), 0))
            except ValueError:
                return Operand()
        if k == "AttributeNode":
            return Operand(member=str(n.attribute))
        if k == "NameNode":
            return Operand(name=n.name)
        return Operand()

    def access(
        self, var: StaticVar, akind: AccessKind, where: Span, path: str, detail: str = "", arg: int = -1
    ) -> None:
        self.record(Access(var.key, akind, where, self.state, path, detail, arg))

    def store(self, target: Node, akind: AccessKind, stmt: Node, op: str) -> None:
        k = kind(target)
        if k in ("TupleNode", "ListNode"):
            for t in target.args:
                self.store(t, akind, stmt, op)
            return
        root = _root(target)
        if k != "NameNode":
            for attr in ("index", "start", "stop"):
                sub = getattr(target, attr, None)
                if sub is not None:
                    self.expr(sub)
        if k in ("IndexNode", "SliceIndexNode") and self.item_store(target):
            return
        if root is None:
            self.expr(target)
            return
        name = root.name
        if k != "NameNode" and name in self.ptr_params:  # `out[0] = v`, `p.x = v`: through a pointer parameter
            self.record(
                Access(param_key(self.ptr_params[name]), akind, span(target, len(_path(target)) or 1), self.state)
            )
        var = self.info.statics.get(name) if name not in self.locals or name in self.globals else None
        where = span(target, len(_path(target)) or 1)
        if k == "NameNode":
            if var is not None and name in self.globals:
                self.access(var, akind, where, name)
            elif var is None or name not in self.globals:
                self.locals.add(name)
            return
        path = _path(target)
        if var is not None and name not in self.info.object_globals:
            self.access(var, akind, where, path or name)  # an element or field of a C global
            return
        if var is not None:
            self.access(var, AccessKind.READ, where, name)  # an item of a Python object: locked by CPython
            return
        self.field_write(root, path, where, op, getattr(stmt, "rhs", None) if op == "=" else None)

    def container_ref(self, n: Node) -> tuple[str, str, str, StaticVar | None] | None:
        """(scope, key, path, static) of the container an expression names (ContainerMutation): a module
        global or `cdef` global (static), an attribute (field, by name: `self._map`, `lookup._class_mapping`),
        a parameter or a local; None for anything else (a call's result, a literal)."""
        n = _uncast(n)
        k = kind(n)
        if k == "NameNode":
            name = n.name
            if name not in self.locals or name in self.globals:
                var = self.info.statics.get(name) or self.info.py_containers.get(name)
                if var is not None:
                    return "static", var.key, name, var
            params = {p.name: p.index for p in self.fn.params}
            if name in params:
                return "param", str(params[name]), name, None
            return "local", name, name, None
        if k == "AttributeNode" and _root(n) is not None and _path(n):
            return "field", str(n.attribute), _path(n), None
        return None

    def mutation(
        self, ref: tuple[str, str, str, StaticVar | None], mkind: MutationKind, how: str, where: Span, arg: int = -1
    ) -> None:
        """Record a container change; a change to a module-level container (a Python global bound to a
        list/dict/set, a `cdef dict`/`list`/`set` global) is also a write of that static (FT101). A `cdef
        object` global may hold anything (`.clear()` of a threading.Event): not a write."""
        scope, key, path, var = ref
        if scope == "local" and not holds_named_value(self.fn, key):
            return
        self.fn.mutations.append(ContainerMutation(scope, key, mkind, how, where, self.state, path, arg))
        in_place = mkind in (MutationKind.CALL, MutationKind.METHOD, MutationKind.STORE, MutationKind.DELETE)
        if var is not None and in_place and (var.name in self.info.py_containers or var.type in IN_PLACE_TYPES):
            self.access(var, AccessKind.METHOD_WRITE, where, path, how.lstrip("."))

    def _python_global(self, var: StaticVar) -> bool:
        """A module-level container (`_cache = []`) or an object-typed `cdef` global (`cdef dict _table`)."""
        return var.name in self.info.object_globals or var.name in self.info.py_containers

    def delete(self, target: Node) -> None:
        """`del d[k]`, `del self._map[k]`: the container loses an item."""
        if kind(target) in ("IndexNode", "SliceIndexNode"):
            ref = self.container_ref(target.base)
            for attr in ("index", "start", "stop"):
                self.expr(getattr(target, attr, None))
            if ref is not None:
                self.mutation(ref, MutationKind.DELETE, "del []", span(target, len(_path(target)) or 1))
                return
        self.expr(target)

    def stored_elsewhere(self, target: Node, value: Node) -> None:
        """`other.x = self._map`, `_global = self._map`, `d[k] = self._map`: the container is kept somewhere
        other code may change it from (a local keeps its name: Function.locals; the same-named attribute of
        another object is the same field)."""
        ref = self.container_ref(value)
        if ref is None or ref[0] == "local" or (kind(target) == "NameNode" and target.name not in self.globals):
            return
        if kind(target) == "AttributeNode" and ref[0] == "field" and target.attribute == ref[1]:
            return
        self.mutation(ref, MutationKind.ESCAPED, "stored", span(value, len(ref[2]) or 1))

    def item_store(self, target: Node) -> bool:
        """`d[k] = v` on a Python container (a module-level or object-typed global, an object attribute of a
        cdef class, a local or parameter): a container mutation, not a write of the variable or field
        itself. False for C data (`arr[i] = 0` on a C global or a C array attribute), written as before."""
        ref = self.container_ref(target.base)
        if ref is None or (ref[0] == "param" and ref[2] in self.ptr_params):
            return False  # `out[0] = v` writes through a C pointer parameter
        var = ref[3]
        if var is not None and not self._python_global(var):
            return False  # an element of a C-typed cdef global
        if ref[0] == "field" and not self._object_attribute(target.base):
            return False
        self.mutation(ref, MutationKind.STORE, "[]=", span(target, len(_path(target)) or 1))
        return True

    def _object_attribute(self, n: Node) -> bool:
        """Is `n` (`self._map`, `lk.items`) an attribute holding a Python object, or not a cdef class's own?"""
        root = _root(n)
        if root is None or kind(n) != "AttributeNode" or kind(n.obj) != "NameNode":
            return True
        klass = self.klass if self.klass and root.name == self.self_name() else self.typed.get(root.name, "")
        fields = self.class_fields(klass)
        return n.attribute not in fields or bool(fields[n.attribute])

    def field_write(self, root: Node, path: str, where: Span, op: str, value: Node | None = None) -> None:
        """A write to an attribute of a cdef class instance (`self.hits`, `self.st.has_gauss`, `lk._count`
        through a typed parameter), as the C frontends record `self->st.has_gauss = 0`. A write into an
        attribute that holds a Python object (`self.obj.x = 1`) is that other object's own business."""
        klass = self.klass if self.klass and root.name == self.self_name() else self.typed.get(root.name, "")
        parts = path.split("[", 1)[0].split(".")
        fields = self.class_fields(klass)
        if len(parts) < 2 or parts[1] not in fields or (len(parts) > 2 and fields[parts[1]]):
            return
        field_name = parts[1]
        whole = len(parts) == 2 and "[" not in path  # the field itself, not an item or a member of it
        owner = self.field_owner(klass, field_name)
        in_place = op != "=" and field_name in self.info.in_place_fields.get(owner, ())
        is_object = bool(fields[field_name]) and whole and not in_place
        is_pointer = field_name in self.info.pointer_fields.get(owner, ()) and whole
        value = _uncast(value)
        same = whole and kind(value) == "AttributeNode" and value.attribute == field_name
        stored = self.value_origin(value, value) if whole and op == "=" and value is not None else None
        write = FieldWrite(
            ".".join(parts), root.name, klass, where, self.state, op, is_object, is_pointer, self.regions, same, stored
        )
        self.fn.field_writes.append(write)

    def class_fields(self, klass: str) -> dict[str, bool]:
        """The attributes of cdef class `klass` (field -> holds an object), those of its bases included (a
        subclass method's `self._last = v` writes the base's field), as far as the module declares them."""
        out: dict[str, bool] = {}
        for cls in self.lineage(klass):
            for name, is_object in self.info.classes.get(cls, {}).items():
                out.setdefault(name, is_object)
        return out

    def field_owner(self, klass: str, field_name: str) -> str:
        """The class of `klass`'s lineage that declares `field_name` ("" if none)."""
        return next((c for c in self.lineage(klass) if field_name in self.info.classes.get(c, {})), "")

    def lineage(self, klass: str) -> list[str]:
        """`klass` and its bases, nearest first (at most 16: a cycle or a deep chain ends there)."""
        out: list[str] = []
        todo = [klass] if klass else []
        while todo and len(out) < 16:
            cls = todo.pop(0)
            if cls not in out:
                out.append(cls)
                todo += self.info.bases.get(cls, [])
        return out

    def self_name(self) -> str:
        return self.fn.params[0].name if self.fn.params else "self"

    def origin(self, target: Node, value: Node) -> None:
        if kind(target) != "NameNode":
            return
        self.define_local(target.name, target, value)

    def define_local(self, name: str, target: Node, value: Node) -> None:
        """Record where the local `name` (assigned at `target`: a NameNode, or a declarator with a
        default) gets its value from. `self.__class__(...)` and `type(x)(...)` are recorded as calls of
        `__class__`: a new object of the class the function belongs to (or a subclass)."""
        self.fn.locals.setdefault(name, []).append(self.value_origin(target, value))

    def value_origin(self, at_node: Node, value: Node) -> Assignment:
        """Where `value` (assigned or returned at `at_node`) comes from, as facts.Assignment."""
        value = _uncast(value, ("TypecastNode",))  # `d = <dict>thread_dict`: a cast keeps the object
        k = kind(value)
        # Cython gives start positions only: the definition takes effect from the end of its line.
        where = span(at_node)
        where = Span(where.line, where.col, where.line, _END_OF_LINE)
        at = {"span": where, "regions": self.regions}
        if k in _FRESH:
            o = Assignment(OriginKind.CALL, _FRESH[k], **at)
        elif k in ("SimpleCallNode", "GeneralCallNode") and self.makes_instance(value.function):
            o = Assignment(OriginKind.CALL, _NEW_INSTANCE, **at)
        elif k in ("SimpleCallNode", "GeneralCallNode"):
            f = value.function
            callee = "__class__" if _is_own_class(f) else self.unbound_method(f) or self.resolve(f)[0]
            o = Assignment(OriginKind.CALL, callee, tuple(self.arg(a) for a in self.call_args(value)), **at)
        elif k == "NameNode":
            o = Assignment(OriginKind.NAME, source=value.name, **at)
        elif k in ("NoneNode", "NullNode"):
            o = Assignment(OriginKind.NULL, **at)
        elif k == "AttributeNode" and _path(value):  # `d = self._map`: a change through `d` is the field's
            o = Assignment(OriginKind.OTHER, source=_path(value), **at)
        else:
            o = Assignment(OriginKind.OTHER, **at)
        return o

    def unbound_method(self, f: Node) -> str:
        """`Cls.method` for a call through a class by its own name (`_Base._copy(self)`, not a local of that
        name), a class this file defines or one its classes derive from, whose callee is that class's own
        or inherited method and no override: the origin's callee, so that the return summary asks that
        method alone (callgraph.resolve_unbound); "" for any other call."""
        if kind(f) != "AttributeNode" or kind(f.obj) != "NameNode":
            return ""
        cls = f.obj.name
        named = cls in self.info.classes or any(cls in bases for bases in self.info.bases.values())
        if cls in self.locals or not named:
            return ""
        return f"{cls}.{f.attribute}"

    def makes_instance(self, f: Node) -> bool:
        """Whether calling `f` allocates a new instance without running `__init__`: `Cls.__new__(Cls)`,
        `type(self).__new__(...)` (recorded as the `tp_alloc` it compiles to). A class called (`Frame()`,
        `self.__class__()`) is a call of the class instead: rules/_fresh.py judges whether its constructor
        publishes the object."""
        return kind(f) == "AttributeNode" and f.attribute == "__new__"

    def publish(self, target: Node, value: Node) -> None:
        """`self.f = x`, `d[k] = x`, `g = x` (a global), `self.f = (x, y)`: the locals stored where other
        code can reach them (facts.Store). Stores into another local are origins, not this."""
        k = kind(target)
        if k in ("TupleNode", "ListNode"):
            for t in target.args:
                self.publish(t, value)  # `a, self.f = x, y`: judged as if each target took all of them
            return
        if k == "NameNode" and target.name not in self.globals:
            return
        where = span(target, len(_path(target)) or 1)
        for name in _stored_names(value):
            if name in self.locals and name not in self.globals:
                self.fn.stores.append(Store(name, where, self.regions))

    def call_args(self, n: Node) -> list[Node]:
        if kind(n) == "SimpleCallNode":
            return list(n.args or [])
        pos = getattr(n, "positional_args", None)
        return list(getattr(pos, "args", None) or [])

    def arg(self, a: Node) -> Arg:
        k = kind(a)
        if k in ("TypecastNode", "CastNode"):
            return self.arg(a.operand)
        if k == "AmpersandNode":
            return self.arg(a.operand)
        if k == "NameNode":
            return Arg(ArgKind.NAME, a.name, a.name)
        if k in ("AttributeNode", "IndexNode"):
            root = _root(a)
            path = _path(a)
            return Arg(ArgKind.MEMBER, path, root.name) if root is not None and path else Arg(ArgKind.OTHER)
        if k in ("SimpleCallNode", "GeneralCallNode"):
            return Arg(ArgKind.CALL, self.resolve(a.function)[0])
        if k in ("NoneNode", "NullNode"):
            return Arg(ArgKind.LITERAL, value=0)
        if k == "IntNode":
            try:
                return Arg(ArgKind.LITERAL, value=int(str(a.value), 0))
            except ValueError:
                return Arg(ArgKind.LITERAL)
        if k in ("UnicodeNode", "BytesNode", "StringNode", "FloatNode", "BoolNode"):
            return Arg(ArgKind.LITERAL)
        return Arg(ArgKind.OTHER)

    def resolve(self, f: Node) -> tuple[str, str | None, bool]:
        """(C-level name, where it is declared, is it the project's own code)."""
        k = kind(f)
        if k == "NameNode":
            name = f.name
            if name in self.info.cimported and name not in self.locals:
                real, module = self.info.cimported[name]
                return real, module, False
            if name in self.info.externs:
                header = self.info.externs[name]
                return name, header or "", header == ""
            if self.info.star_cimports and not self._bound(name):
                return name, self.info.star_cimports[0], False
            return name, "", True
        if k == "AttributeNode":
            obj = f.obj
            if kind(obj) == "NameNode" and obj.name in self.info.cimported_modules:
                return f.attribute, self.info.cimported_modules[obj.name], False
            if kind(obj) == "NameNode" and obj.name in self.info.cimported and obj.name not in self.locals:
                real, package = self.info.cimported[obj.name]  # `from lxml.includes cimport xmlparser`
                return f.attribute, f"{package}.{real}", False
            return f.attribute, "", True
        return "", "", True

    def _bound(self, name: str) -> bool:
        """Whether `name` is bound in Python or by this module (so not a `cimport *` C function)."""
        return name in self.locals or name in self.info.functions or name in self.info.imported or name in _BUILTINS

    def call(self, n: Node) -> None:
        f = n.function
        name, declared_in, own = self.resolve(f)
        args = self.call_args(n)
        reduced = tuple(self.arg(a) for a in args)
        method = kind(f) == "AttributeNode" and own  # a Python method, not a cimported C function
        receiver = _uncast(f.obj) if method else None
        self.fn.calls.append(
            Call(
                name,
                span(f, len(name) or 1),
                reduced,
                self.state,
                self.gil_released,
                own,
                declared_in,
                "",
                self.regions,
                receiver=(_path(receiver) or "") if receiver is not None else "",
                receiver_class=self.class_of(f.obj) if method else "",
            )
        )
        if kind(f) == "AttributeNode":
            receiver = f.obj
            if kind(receiver) == "NameNode" and receiver.name in self.locals and receiver.name not in self.globals:
                # `x.method()`: its own method may store `x` anywhere.
                self.fn.stores.append(Store(receiver.name, span(receiver, len(receiver.name)), self.regions))
        if kind(f) == "AttributeNode" and own:
            self.expr(f.obj)
            self.method_lock(f)
            self.method_mutation(f)
        else:  # a C function (`PyThread_acquire_lock(l, 1)`, `python.PyMutex_Lock(&m)`): the C frontends' vocabulary
            if kind(f) == "AttributeNode":
                self.expr(f.obj)
            self.lock_event(name, reduced, None)
        for i, a in enumerate(args):
            self.passed(f".{name}" if method else name, i, a)
            if not self.address_argument(name, i, a):
                self.expr(a)
        if kind(n) == "GeneralCallNode" and getattr(n, "keyword_args", None) is not None:
            self.expr(n.keyword_args)

    def class_of(self, n: Node, depth: int = 0) -> str:
        """The type an expression is declared as, "" if not known: `self` in a cdef class method, a typed
        local or parameter (`cdef _XSLTContext context`), a cast (`<Cls>x`), or an attribute declared with
        a type in the class of its object or a base of it (`self._context` for `cdef _XPathContext
        _context`). Never guessed from an assignment. A name that is no class of the scan (a C struct, a
        class of another module) is returned all the same: the call graph ignores a class it does not know."""
        k = kind(n)
        if depth > 8:
            return ""
        if k in ("TypecastNode", "CastNode"):
            tname, _ = base_type(getattr(n, "base_type", None))
            if tname.isidentifier() and not declarator_shape(getattr(n, "declarator", None)):
                return tname
            return self.class_of(n.operand, depth + 1)
        if k == "NameNode":
            if self.klass and n.name == self.receiver_name and n.name not in self.assigned_names():
                return self.klass
            return self.declared.get(n.name, "")
        if k == "AttributeNode":
            owner = self.class_of(n.obj, depth + 1)
            seen: set[str] = set()
            todo = [owner] if owner else []
            while todo:  # the attribute is declared in the owner's class or one of its bases
                cls = todo.pop()
                if cls in seen:
                    continue
                seen.add(cls)
                tname = self.info.attribute_types.get(cls, {}).get(n.attribute, "")
                if tname:
                    return tname
                todo += self.info.bases.get(cls, [])
        return ""

    def assigned_names(self) -> set[str]:
        """The locals (parameters included) the body rebinds: `self` rebound is no longer the receiver."""
        return set(self.fn.locals)

    def address_argument(self, callee: str, index: int, a: Node) -> bool:
        """`f(&x)` or `f(arr)` on a C-typed cdef global (recorded as the C walkers do: True), or a pointer
        parameter passed on (recorded for the summaries; False, as for any other argument, is walked)."""
        inner = a
        while kind(inner) in ("TypecastNode", "CastNode"):
            inner = inner.operand
        address = kind(inner) == "AmpersandNode"
        target = inner.operand if address else inner
        if kind(target) != "NameNode":
            return False
        where = span(target, len(target.name))
        through = self.ptr_params.get(target.name)
        if not address and through is not None:
            if not callee.startswith(("Py", "_Py")):
                self.record(Access(param_key(through), AccessKind.ADDRESS, where, self.state, "", callee, index))
            return False
        var = self.global_of(target)
        if var is None or target.name in self.info.object_globals:
            return False
        array = "[" in var.type
        if not (address or array):
            return False
        self.access(
            var, static_arg_kind(self.cat.statics, callee, index, address, array), where, var.name, callee, index
        )
        return True

    def method_mutation(self, f: Node) -> None:
        """`x.append(v)`, `self._map.update(d)`: a mutating method changes the container; a reading one
        (`.get`, `.items`) does not; any other method of a module global or attribute may (not a write of
        a static: FT101 needs a known mutation)."""
        if f.attribute in self.containers.reading_methods or _path(f.obj) in self.info.locks:
            return
        ref = self.container_ref(f.obj)
        if ref is None:
            return
        mutating = f.attribute in self.containers.mutating_methods
        if not mutating and ref[0] in ("local", "param"):
            return  # an unknown method of a local object: nothing known of the containers it holds
        mkind = MutationKind.METHOD if mutating else MutationKind.ESCAPED
        self.mutation(ref, mkind, f".{f.attribute}", span(f, len(_path(f)) or 1))

    def passed(self, callee: str, index: int, a: Node) -> None:
        """A container passed to a call: changed by a C-API mutator (`PyDict_SetItem(d, k, v)`), or handed
        to code that may change it (any call that is not a catalogued reader: judged by its callee)."""
        if not callee or callee in self.containers.readers or callee[1:] in self.containers.reading_methods:
            return
        ref = self.container_ref(a)
        if ref is None:
            return
        if callee.startswith("."):  # `other.append(self._map)`: the receiver may keep it
            self.mutation(ref, MutationKind.ESCAPED, callee, span(a, len(ref[2]) or 1))
            return
        mutated = self.containers.mutated_arg(callee)
        if mutated is not None:
            if mutated == index:
                self.mutation(ref, MutationKind.CALL, callee, span(a, len(ref[2]) or 1))
            return
        self.mutation(ref, MutationKind.PASSED, callee, span(a, len(ref[2]) or 1), index)

    def method_lock(self, f: Node) -> None:
        """`lock.acquire()` / `lock.release()`: the member vocabulary the C frontends use."""
        path = _path(f.obj)
        if path:
            self.lock_event(f.attribute, (), Arg(ArgKind.NAME, path, path))


def _escapes(n: Node) -> bool:
    """Whether a statement may leave its block other than by falling through (nested functions aside):
    only asked in a block that ends the process, for the statements before the dying one."""
    stack = [n]
    while stack:
        c = stack.pop()
        k = kind(c)
        if k in _ESCAPES:
            return True
        if k in ("DefNode", "CFuncDefNode", "LambdaNode"):
            continue
        for attr in getattr(c, "child_attrs", ()):
            v = getattr(c, attr, None)
            stack += [x for x in (v if isinstance(v, list) else [v]) if x is not None and hasattr(x, "child_attrs")]
    return False


def _func_declarator(d: Node) -> Node | None:
    """The CFuncDeclaratorNode of `cdef int *f(...)` (under pointer declarators)."""
    for _ in range(16):
        if d is None or kind(d) == "CFuncDeclaratorNode":
            return d
        d = getattr(d, "base", None)
    return None


def _params(n: Node) -> list[Param]:
    if kind(n) == "CFuncDefNode":
        fd = _func_declarator(n.declarator)
        args = list(getattr(fd, "args", None) or [])
    else:
        args = list(getattr(n, "args", None) or [])
    args += [a for a in (getattr(n, "star_arg", None), getattr(n, "starstar_arg", None)) if a is not None]
    out = []
    for i, a in enumerate(args):
        name = declarator_name(getattr(a, "declarator", None)) or str(getattr(a, "name", "") or "")
        tname, _ = base_type(getattr(a, "base_type", None))
        if not name and _untyped(a):
            name, tname = tname, ""  # `cdef f(self, s)`: Cython parses an untyped `s` as a type name, no declarator
        shape = declarator_shape(getattr(a, "declarator", None))
        if name:
            out.append(Param(name, tname + (" " + shape.replace("[]", "*") if shape else ""), i))
    return out


def _untyped(a: Node) -> bool:
    """An argument of a cdef function written as a bare name (`self`, `s`): Cython's parser reads it as a
    base type with an empty declarator and decides later that it is an untyped (object) parameter. A
    function with a body names every parameter, so a bare name that is no C type is the parameter's."""
    t = getattr(a, "base_type", None)
    return (
        kind(t) == "CSimpleBaseTypeNode"
        and not getattr(t, "is_basic_c_type", False)
        and not getattr(t, "module_path", None)
        and bool(getattr(t, "name", None))
        and kind(getattr(a, "declarator", None)) == "CNameDeclaratorNode"
    )


def _receiver_name(n: Node) -> str:
    """The name of a method's first parameter, its receiver: Cython parses a cdef method's untyped `self` as
    a type name with no declarator name (`_untyped`: `_params` names it by that), a def method's as a plain
    argument."""
    if kind(n) == "CFuncDefNode":
        fd = _func_declarator(n.declarator)
        args = list(getattr(fd, "args", None) or [])
    else:
        args = list(getattr(n, "args", None) or [])
    decorators = [getattr(d.decorator, "name", "") for d in getattr(n, "decorators", None) or []]
    if "staticmethod" in decorators:
        return ""
    if not args:
        return "self"
    first = args[0]
    name = declarator_name(getattr(first, "declarator", None)) or str(getattr(first, "name", "") or "")
    return name or str(getattr(getattr(first, "base_type", None), "name", "") or "self")


def _is_python_visible(n: Node) -> bool:
    return kind(n) == "DefNode" or bool(getattr(n, "overridable", False))


def _is_c_api(n: Node) -> bool:
    """`cdef public` / `cdef api` functions: C code outside the module may call them."""
    return bool(getattr(n, "api", False)) or getattr(n, "visibility", "private") == "public"


def _lock_decorator(n: Node) -> str:
    """The name of a decorator that runs the function under a lock (`@with_phil`, `@synchronized`,
    `@locked`), "" if none: by name, as the decorator is usually another module's."""
    for d in getattr(n, "decorators", None) or []:
        dec = d.decorator
        name = dec.attribute if kind(dec) == "AttributeNode" else getattr(dec, "name", "")
        if name and (_LOCK_DECORATOR.match(name) or _LOCKISH.search(name)):
            return str(name)
    return ""


def _critical_section_decorated(n: Node) -> bool:
    for d in getattr(n, "decorators", None) or []:
        dec = d.decorator
        name = dec.attribute if kind(dec) == "AttributeNode" else getattr(dec, "name", "")
        if name == "critical_section":
            return True
    return False


def build_function(
    cat: Catalogue, info: ModuleInfo, n: Node, name: str, klass: str, out: list[Function]
) -> Function | None:
    body = getattr(n, "body", None)
    if body is None:
        return None
    fn = Function(name, span(n, len(name)), _params(n) if kind(n) != "LambdaNode" else [])
    w = CythonWalker(cat, info, fn, klass, out)
    w.receiver_name = _receiver_name(n)
    if _critical_section_decorated(n) and fn.params:
        first = fn.params[0].name
        w.state = (Lock(LockKind.CRITICAL_SECTION, first, (first,)),)
    decorator = _lock_decorator(n)
    if decorator:
        w.state = (*w.state, Lock(LockKind.MUTEX, decorator))
    w.entry_locks = w.state
    if kind(n) == "LambdaNode":
        w.expr(body)
    elif w.body(body):
        w.returning()
    fn.parallel_gil = w.parallel_gil
    out.append(fn)
    return fn


def _members(cls: Node) -> Iterable[tuple[Node, str]]:
    """The methods of a class with their names; an old-style `property x:` block's `__get__`/`__set__`/
    `__del__` are methods named `x.__set__`."""
    for member in _flatten(cls.body):
        k = kind(member)
        if k in ("DefNode", "CFuncDefNode"):
            yield member, function_name(member)
        elif k == "PropertyNode":
            for accessor in _flatten(member.body):
                if kind(accessor) == "DefNode":
                    yield accessor, f"{member.name}.{function_name(accessor)}"


def _is_own_class(f: Node) -> bool:
    """`self.__class__` or `type(x)`: the callee of a call that makes a new object of x's class."""
    if kind(f) == "AttributeNode":
        return f.attribute == "__class__" and kind(f.obj) == "NameNode"
    if kind(f) == "SimpleCallNode" and kind(f.function) == "NameNode" and f.function.name == "type":
        return len(f.args or []) == 1 and kind(f.args[0]) == "NameNode"
    return False


def _uncast(n: Node, casts: tuple[str, ...] = ("TypecastNode", "CastNode")) -> Node:
    """`n` without the casts around it (`<dict>d`, `<object>p`: the same object), at most 8 deep."""
    for _ in range(8):
        if kind(n) not in casts or getattr(n, "operand", None) is None:
            break
        n = n.operand
    return n


def _stored_names(value: Node) -> list[str]:
    """The locals a stored value is, or holds directly: `x`, `<T>x`, `(x, y)`, `[x]`, `{k: x}`."""
    value = _uncast(value)
    k = kind(value)
    if k == "NameNode":
        return [value.name]
    if k in ("TupleNode", "ListNode", "SetNode"):
        return [n for item in value.args or [] for n in _stored_names(item)]
    if k == "DictNode":
        return [
            n for item in value.key_value_pairs or [] for n in (*_stored_names(item.key), *_stored_names(item.value))
        ]
    return []


def class_bases(stat: Node) -> list[str]:
    """The base classes a class statement names (`cdef class B(A)`, `class P(A, mod.B)`: `A`, `B`)."""
    bases = getattr(stat, "bases", None)
    out = []
    for b in getattr(bases, "args", None) or []:
        if kind(b) == "NameNode":
            out.append(str(b.name))
        elif kind(b) == "AttributeNode":
            out.append(str(b.attribute))
    return out


def defined_classes(tree: Node) -> list[str]:
    """The classes a module defines at its top level (`cdef class`, `class`)."""
    out = []
    for stat in _flatten(tree.body):
        k = kind(stat)
        if k == "CClassDefNode":
            out.append(stat.class_name)
        elif k == "PyClassDefNode":
            out.append(stat.name)
    return out


def walk_module(cat: Catalogue, info: ModuleInfo, tree: Node) -> tuple[list[Function], list[FunctionRef]]:
    """Every function of the module, the module body as `<module>`, and how Python reaches them."""
    functions: list[Function] = []
    refs: list[FunctionRef] = []
    module = Function("<module>", Span(1, 1, 1, 2))
    top = CythonWalker(cat, info, module, "", functions)
    top.globals = set(info.statics)  # at module level, names are the globals themselves
    for stat in _flatten(tree.body):
        k = kind(stat)
        if k in ("DefNode", "CFuncDefNode"):
            fn = build_function(cat, info, stat, function_name(stat), "", functions)
            if fn is not None and _is_python_visible(stat):
                refs.append(FunctionRef(fn.name, "python-def", fn.span))
            elif fn is not None and _is_c_api(stat):
                refs.append(FunctionRef(fn.name, "c-api", fn.span))
        elif k in ("CClassDefNode", "PyClassDefNode"):
            cname = stat.class_name if k == "CClassDefNode" else stat.name
            for member, mname in _members(stat):
                fn = build_function(
                    cat, info, member, f"{cname}.{mname}", cname if k == "CClassDefNode" else "", functions
                )
                if fn is None:
                    continue
                fn.receiver = _receiver_name(member)
                context = _SPECIAL.get(mname) or ("python-def" if _is_python_visible(member) else None)
                if context is not None:
                    refs.append(FunctionRef(fn.name, context, fn.span))
        elif k not in ("CVarDefNode", "CDefExternNode", "FromCImportStatNode", "CImportStatNode"):
            top.stmt(stat)
    functions.append(module)
    return functions, refs
