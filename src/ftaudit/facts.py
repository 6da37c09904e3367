"""Normalised facts that frontends produce and rules consume.

Frontends know syntax, rules know hazards; this module is the contract
between them, so a rule written once works for every frontend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class Span(NamedTuple):
    """A 1-based source range; end_col is exclusive, like clang's extents.

    Span, Arg, Access and Call are named tuples, not frozen dataclasses: a scan of
    numpy makes half a million of them, and a tuple is built and unpickled 2-3x faster."""

    line: int
    col: int
    end_line: int
    end_col: int

    def contains(self, other: Span) -> bool:
        """Whether `other` lies within this span (its start and end inside, ends included)."""
        return (self.line, self.col) <= (other.line, other.col) and (other.end_line, other.end_col) <= (
            self.end_line,
            self.end_col,
        )


class ArgKind(str, Enum):
    NAME = "name"  # a plain variable: `l`
    MEMBER = "member"  # a field path: `self->items`
    CALL = "call"  # the result of a call: `PyTuple_GET_ITEM(args, 0)`
    LITERAL = "literal"  # a number, string or NULL
    OTHER = "other"


class Arg(NamedTuple):
    """One call argument, reduced to what rules need to judge privacy."""

    kind: ArgKind
    path: str = ""  # `self.items` for members, the name for NAME, callee for CALL, a string literal's text
    root: str = ""  # the variable at the base of the path
    value: int | None = None  # integer literals (0 for NULL)


class LockKind(str, Enum):
    MUTEX = "mutex"  # PyMutex, pthread, C11, Windows, C++ mutex members
    CRITICAL_SECTION = "critical-section"  # Py_BEGIN_CRITICAL_SECTION and friends
    GUARD = "guard"  # C++ RAII guards (lock_guard, scoped_lock, ...)
    ONCE = "once"  # inside a pthread_once / std::call_once callable: runs once


@dataclass(frozen=True)
class Lock:
    """A held lock; `objects` are the paths a critical section protects."""

    kind: LockKind
    key: str
    objects: tuple[str, ...] = ()


class Call(NamedTuple):
    """A call (or an API macro use) inside a function body."""

    name: str
    span: Span
    args: tuple[Arg, ...]
    locks: tuple[Lock, ...] = ()
    gil_released: bool = False
    # True when the callee is declared in the scanned file itself (a user
    # function that merely shares a libc name) or is a C++ member function.
    user_defined: bool = False
    # Where the callee is declared: a header path, "" for the scanned file,
    # None when it is not declared at all (its header is missing).
    declared_in: str | None = ""
    # What the result is stored as: "object" (a PyObject or subtype pointer),
    # "buffer" (any other data pointer) or "" when unknown.
    result: str = ""
    # The nested regions (branch arms, loop bodies: Function.regions) the call sits in, outermost first.
    regions: tuple[int, ...] = ()
    # The rest of its block certainly reaches a call that ends the process (`abort()`, `Py_FatalError`,
    # `assert(0)`): nothing after it runs, so its hidden state races with nothing that matters.
    abort_path: bool = False
    # The arguments the callee's prototype takes as pointers to non-const data, variadic ones excluded
    # (libclang only): what a function defined outside the scan may write through (summaries.py).
    out_params: tuple[int, ...] = ()
    # A method call's receiver (Cython `self._context.register_context(doc)`): its path (`self._context`,
    # "" when it is no variable or attribute) and the class it is declared as (a typed cdef attribute, a
    # typed local or parameter, a `<Cls>x` cast, `self` of a cdef class method; "" when unknown). The call
    # graph resolves the call to that class's method, inherited or overridden (callgraph.resolve_call).
    receiver: str = ""
    receiver_class: str = ""


@dataclass(frozen=True)
class Operand:
    call: str | None = None
    call_args: tuple[Arg, ...] = ()
    member: str | None = None
    value: int | None = None
    name: str | None = None  # a plain variable (`n` in `n > 2`): what it holds is in Function.locals


@dataclass(frozen=True)
class Comparison:
    op: str
    lhs: Operand
    rhs: Operand
    span: Span
    locks: tuple[Lock, ...] = ()
    regions: tuple[int, ...] = ()  # as Call.regions
    in_assertion: bool = False  # inside the arguments of assert() or an assert-like macro


class OriginKind(str, Enum):
    CALL = "call"  # x = f(...)
    NAME = "name"  # x = y
    NULL = "null"  # x = NULL / 0
    OTHER = "other"
    # `S x = {.list = NULL, .n = 0};` / `{0}`: a struct value declared with an initialiser whose every element
    # is designated by member names or is zero; each designated member's value is a MemberStore of `x.member`
    AGGREGATE = "aggregate"


@dataclass(frozen=True)
class Assignment:
    """Where a local variable's value comes from (for container privacy), and where that happens:
    its position and regions, so that only the definitions reaching a use are judged (rules/_protection)."""

    kind: OriginKind
    callee: str = ""
    args: tuple[Arg, ...] = ()
    source: str = ""
    span: Span | None = None  # None: a frontend that does not say (every assignment may reach every use)
    regions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    index: int


class Storage(str, Enum):
    FILE = "file"  # file scope, static or external
    FUNCTION = "function"  # function-local static
    NAMESPACE = "namespace"  # C++ namespace scope (named or anonymous)
    CLASS = "class"  # C++ static data member


@dataclass(frozen=True)
class StaticVar:
    """A variable with static storage, as declared (possibly in a header)."""

    key: str  # stable across translation units (clang's USR)
    name: str  # as written in messages: `counter`, `ns::x`, `f()::cache`
    path: str  # the file that declares it
    span: Span
    storage: Storage
    type: str
    const: bool = False  # the variable itself cannot be written
    atomic: bool = False
    thread_local: bool = False
    exempt: str = ""  # why it is never shared mutable state (a Python table, a lock, a once flag)
    definition: bool = True
    system: bool = False  # declared in a system header: not the project's to fix
    # A Python-level module global (Cython `_cache = []` at module level): a module attribute, which any
    # Python code can reach and change.
    module_attribute: bool = False


class AccessKind(str, Enum):
    READ = "read"
    WRITE = "write"  # `x = ...`, `x.f = ...`, `x[i] = ...`
    RMW = "read-modify-write"  # `x++`, `x += ...`
    ADDRESS = "address"  # `&x` (or an array) passed on to an unknown function
    CALL_WRITE = "call-write"  # a library call that fills the buffer: `snprintf(x, ...)`
    METHOD_WRITE = "method-write"  # a mutating C++ member call: `x.push_back(...)`, `x[k] = v` on a map
    ATOMIC = "atomic"  # through an atomic API: `_Py_atomic_store_int(&x, 1)`

    @property
    def writes(self) -> bool:
        return self in _WRITES


_WRITES = {AccessKind.WRITE, AccessKind.RMW, AccessKind.CALL_WRITE, AccessKind.METHOD_WRITE}


class Access(NamedTuple):
    """One use of a static-storage variable inside a function."""

    var: str  # StaticVar.key
    kind: AccessKind
    span: Span
    locks: tuple[Lock, ...] = ()
    path: str = ""  # `x`, `x.count`, `x[]`
    detail: str = ""  # the callee for CALL_WRITE, METHOD_WRITE, ADDRESS and ATOMIC
    arg: int = -1  # the argument of that call the variable is (by value, address or array), else -1


# Writes through a pointer parameter (`*out = v`, `p->f = v`, `p[i] = v`), checks of what it points to
# (`if (*cache == NULL)`) and its passing on (`helper(out)`, an ADDRESS access with `arg`) are recorded
# as accesses, lazy initialisations and checks of the pseudo-variable `param_key(index)`, which no
# StaticVar has: function summaries (summaries.py) read them, rules about statics never see them.
PARAM_PREFIX = "%param:"


def param_key(index: int) -> str:
    return f"{PARAM_PREFIX}{index}"


def param_index(key: str) -> int | None:
    """The parameter index of a `param_key`, None for a static's key."""
    return int(key[len(PARAM_PREFIX) :]) if key.startswith(PARAM_PREFIX) else None


@dataclass(frozen=True)
class LazyInit:
    """A check of a static (`if (!x)`, `if (x) return x;`) followed by a write to it."""

    var: str
    check: Span
    check_locks: tuple[Lock, ...]
    writes: tuple[Access, ...]  # every static written under the check, the checked one first (may be none)
    # The calls made under the check when it writes nothing itself (`if (!table) init_table();`): a callee
    # that stores the checked static makes it lazy initialisation all the same (summaries.py).
    via: tuple[Call, ...] = ()
    # Every call the guarded branch makes (None: a shape whose branch the frontend does not delimit, such
    # as `if (x) return x;` followed by the write), and what each write stores, aligned with `writes`, when
    # every one is a plain `x = v` (`if (!a || !b) { a = intern("a"); b = intern("b"); }`; else empty): an
    # idempotent lookup is judged from them (rules/_statics.py).
    made: tuple[Call, ...] | None = None
    values: tuple[Assignment | None, ...] = ()
    # `if (x) return ...;` then the write: every statement after the check, to the end of its block, runs
    # only while x is unset (the C frontends; False for a check-then-set block `if (!x) { x = ...; }`).
    early: bool = False
    regions: tuple[int, ...] = ()  # the branch arms and loop bodies the check sits in (as Call.regions)


@dataclass(frozen=True)
class FieldWrite:
    """An assignment to a field of a Python object (`self->count = n`)."""

    path: str  # `self.count`
    root: str  # `self`
    object_type: str  # the struct type of the object
    span: Span
    locks: tuple[Lock, ...] = ()
    op: str = "="
    object_field: bool = False  # the field holds an object reference (a race can free it twice)
    pointer_field: bool = False  # the field is any other data pointer (a buffer the object may own)
    regions: tuple[int, ...] = ()  # as Call.regions
    # The value is the same field of another object (`copy.f = self.f`, Cython): a copy being built shares
    # the container, it brings no new one (rules/_containers.py keeps it frozen).
    same_field: bool = False
    # Where the stored value comes from (a local's origin), recorded by the Cython walker, whose field
    # writes are not MemberStores (the C walkers record the same as `Function.member_stores`); None for
    # an augmented write or an unknown value (rules/_paths.py).
    value: Assignment | None = None


class StaticWrite(NamedTuple):
    """`x = value` on a static `x` itself (not through it, not compound), at `span` (its write's span,
    as the Access): the value as an argument would be, and the arguments when it is a call's result.
    What a helper stores (rules/_lookups.py: is a lazy initialisation through it idempotent?)."""

    span: Span
    value: Arg
    args: tuple[Arg, ...] = ()


class Store(NamedTuple):
    """A local's value stored where other code can reach it (a field, an item, a global: not another
    local), at `span` inside `regions` (as Call.regions): from there on the object is published.
    Passing it to a call is a `Call` argument, not a Store."""

    name: str
    span: Span
    regions: tuple[int, ...] = ()


class FlowKind(str, Enum):
    """What happens to the value of a local pointer that holds an allocation (Function.pointer_flows)."""

    ALLOCATED = "allocated"  # it receives the result of an allocator (`detail`: its name; `span`: the call)
    ASSIGNED = "assigned"  # it receives another value than NULL (`detail`: the local it is copied from, or "")
    FREED = "freed"  # passed to a deallocator (`detail`: its name; `span`: the call)
    REALLOCATED = "reallocated"  # passed to a reallocator (`detail`: its name; `span`: the call)
    RETURNED = "returned"
    STORED = "stored"  # into a field, a static, an array element or through a pointer (`detail`: the target)
    PASSED = "passed"  # an argument of another call (`detail`: the callee, `arg`: the argument's index)
    COPIED = "copied"  # into another local variable (`detail`: its name), which is then followed too
    ADDRESS = "address"  # its address is taken (`&p`): anything may happen through it
    OTHER = "other"  # in an expression the frontend does not follow (`detail`: which)


class Flow(NamedTuple):
    """One place where a local pointer's value comes from or goes to. Pointer arithmetic and casts are
    followed (`memcpy(buf + n, ...)` passes `buf`); reading through it (`buf[i]`, `*buf`, `buf->f`) and
    testing it (`if (!buf)`) are not flows. `used`: for PASSED, the call's own result is used (a
    `memcpy` whose result is kept may hand the pointer on)."""

    kind: FlowKind
    span: Span
    detail: str = ""
    arg: int = -1
    used: bool = False


class MutationKind(str, Enum):
    CALL = "call"  # a C-API mutator: `PyDict_SetItem(d, k, v)`, `PyList_Append(l, x)`, `PyList_SET_ITEM`
    METHOD = "method"  # a mutating method: `d.update(x)`, `l.append(x)`, `s.discard(x)`
    STORE = "store"  # a subscript store: `d[k] = v`
    DELETE = "delete"  # a subscript delete: `del d[k]`
    AUGMENTED = "augmented"  # an in-place operator: `l += more`
    PASSED = "passed"  # passed whole to a call that may mutate or keep it: judged by what the callee does
    ESCAPED = "escaped"  # returned or stored somewhere else: any code may mutate it from there


class ContainerMutation(NamedTuple):
    """A container changed in place (or handed to code that may change it), named by how it is reached.

    `scope` says which container: "static" (`key` is the StaticVar's key: a C static, a Cython module-level
    container), "field" (`key` is the attribute's name: `self._map`, `lookup._class_mapping`, `st->cache`),
    "param" (`key` is the parameter's index: what the caller passed), or "local" (`key` is the local's name:
    what it holds is in Function.locals). Facts of every frontend (recorder.container_use, the Cython walker)."""

    scope: str
    key: str
    kind: MutationKind
    how: str  # the mutator (`PyDict_SetItem`, `.append`, `[]=`, `del []`, `+=`) or the callee it is passed to
    span: Span
    locks: tuple[Lock, ...] = ()
    path: str = ""  # as written: `self._map`, `_registry`
    arg: int = -1  # PASSED: the callee's argument index


class MemberStore(NamedTuple):
    """A value stored into a member of any struct (`info->list = PyList_New(2)`, `s.items = NULL`), a
    member's value stored anywhere but into a local (`g = info->list`, `*out = info->list`), or a member
    whose address is taken (`&info->list`: whatever receives the address may store anything there; `value`
    is then of kind OTHER with no source). `target` is the path stored into, as Arg paths (`info.list`,
    `g`, `out[]`); `value` where the value comes from, as a local's origin (a member's value: OTHER with
    its path as `source`), with the statement's span and regions (rules/_structs.py)."""

    target: str
    value: Assignment


class StructUse(NamedTuple):
    """A struct used whole rather than through its members: a local struct variable (a value on this
    call's stack, `RE_JoinInfo info;`) whose address is passed as argument `arg` of `callee` (`helper(&info)`),
    or, with `callee` "", any other whole use of it (`&info` kept, `copy = info`, `return info`); and a
    pointer parameter dereferenced whole (`*p`, `p[i]`, `*p = v`: callee ""). Member accesses (`info.list`,
    `p->list`) are not uses. Locals are listed only when their address is passed to some call."""

    name: str
    callee: str
    arg: int
    span: Span


@dataclass(frozen=True)
class FunctionRef:
    """A function used as a value: a table entry, a callback, a once routine.

    `context` says where: `PyMethodDef`, `PyTypeObject.tp_dealloc`,
    `PyType_Slot.Py_tp_new`, `PyModuleDef_Slot.Py_mod_exec`, `once`, `call` (an
    argument of some call), or `value` (stored or returned); Cython adds `python-def` (a def/cpdef
    function or method), `c-api` (a `cdef public`/`api` function) and `unpickle` (`__setstate__`)."""

    name: str
    context: str
    span: Span


@dataclass
class Function:
    name: str
    span: Span
    params: list[Param] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    locals: dict[str, list[Assignment]] = field(default_factory=dict)
    accesses: list[Access] = field(default_factory=list)
    lazy_inits: list[LazyInit] = field(default_factory=list)
    field_writes: list[FieldWrite] = field(default_factory=list)
    mutations: list[ContainerMutation] = field(default_factory=list)  # containers changed in place
    refs: list[FunctionRef] = field(default_factory=list)
    internal: bool = True  # `static` (internal linkage): no caller outside this file
    # False: an internal function of a source file whose name the file's code holds only where functions
    # are declared (libclang units; frontends/mentions.py). True: mentioned elsewhere, or not known.
    mentioned: bool = True
    parallel_gil: list[Span] = field(default_factory=list)  # Cython `with gil:` inside prange/parallel
    # Structured control flow, for reaching definitions: region id -> the id of the if/else whose arm it
    # is (arms of one if exclude each other), or LOOP_REGION for a loop body.
    regions: dict[int, int] = field(default_factory=dict)
    # Mutexes and critical sections the body takes and may return still holding (an acquire helper), and
    # those it releases without having taken them (a release helper): lockscope.py extends their callers'
    # lock regions with them.
    exit_locks: tuple[Lock, ...] = ()
    releases: tuple[Lock, ...] = ()
    # Every local pointer that receives an allocation (frontends/memory.ALLOCATORS), and every local a
    # value of one is copied into: where its value comes from and where it goes (the FT206 fix reads it).
    pointer_flows: dict[str, list[Flow]] = field(default_factory=dict)
    # Locals stored into fields, items, globals or through pointers, and receivers of their own method
    # calls (Cython `x.m()`): where an object may be published (rules/_fresh.py).
    stores: list[Store] = field(default_factory=list)
    # Where the value of each `return` with a value comes from, as a local's origin (Assignment: the
    # call, the local or the item returned, at the return's span and regions): what a caller receives
    # (returns.py summarises it).
    returns: list[Assignment] = field(default_factory=list)
    # A method's receiver, its first parameter as named (`self`, also params[0] in Cython and C): "" for a
    # function that is no method.
    receiver: str = ""
    # Stores into members of any struct, and of members' values (MemberStore); whole uses of local structs
    # and of what pointer parameters point to (StructUse): where a container kept in a struct on the
    # stack may come from and go (rules/_structs.py). The C frontends record them; Cython records none.
    member_stores: list[MemberStore] = field(default_factory=list)
    struct_uses: list[StructUse] = field(default_factory=list)
    # Locals declared as a struct, union or class VALUE on this call's stack (`ZstdCompressor self = {0};`),
    # not a pointer, reference or static: their members are this call's own, whatever the struct's type
    # (a Python object struct used as a plain struct is no Python object). The C frontends record them.
    value_structs: list[str] = field(default_factory=list)
    # Pointer parameters to a struct the frontend knows is no Python object (its definition, seen here,
    # starts with no PyObject header: a worker's `State *state`): their members are no object's fields.
    plain_struct_params: list[str] = field(default_factory=list)
    # Every plain `x = value` on a static of the unit (the C frontends record them).
    static_writes: list[StaticWrite] = field(default_factory=list)


LOOP_REGION = -1


def exclusive_regions(fn: Function, a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Do the region paths `a` and `b` (outermost first, as Call.regions) of `fn` part in two arms of one
    if/else, so that never both run?"""
    for ra, rb in zip(a, b, strict=False):
        if ra != rb:
            ga, gb = fn.regions.get(ra, LOOP_REGION), fn.regions.get(rb, LOOP_REGION)
            return ga == gb and ga != LOOP_REGION
    return False


class DeclKind(str, Enum):
    MULTI_PHASE = "multi-phase"  # PyModuleDef with m_slots (PyModuleDef_Init)
    SINGLE_PHASE = "single-phase"  # PyModuleDef used by PyModule_Create
    MODULE_DEF = "module-def"  # a PyModuleDef whose init style is unknown here
    PYBIND11 = "pybind11"
    NANOBIND = "nanobind"
    CYTHON = "cython"  # a .pyx module: declares with the freethreading_compatible directive
    CYTHON_GENERATED = "cython-generated"  # known only by the C Cython generated (generated_cython.py)


@dataclass(frozen=True)
class ModuleDecl:
    """A module definition and whether it declares free-threading support."""

    kind: DeclKind
    name: str
    span: Span
    declares_gil_not_used: bool
    declares_gil_used: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Problem:
    """Something that kept a file from being analysed completely."""

    path: str
    level: str  # "warning" or "error"
    code: str  # short stable slug, e.g. "missing-header"
    message: str
    line: int | None = None


@dataclass
class Unit:
    """All facts about one source file."""

    path: str
    language: str
    frontend: str
    functions: list[Function] = field(default_factory=list)
    module_decls: list[ModuleDecl] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    statics: dict[str, StaticVar] = field(default_factory=dict)  # declared here or used here
    refs: list[FunctionRef] = field(default_factory=list)  # in static initialisers (method tables, slots)
    includes: list[str] = field(default_factory=list)  # files this one includes
    # Other files whose declarations the analysis used without including them (a .pxi's includer):
    # like `includes`, a change to one makes the cached facts stale.
    depends: list[str] = field(default_factory=list)
    missing_headers: list[str] = field(default_factory=list)  # as written in #include
    # Lines (first, last) of facts read from preprocessor branches libclang's configuration left out
    # (frontends/inactive.py), with the condition they are compiled under: `#ifdef HAVE_LIBFOO`.
    conditional: list[tuple[int, int, str]] = field(default_factory=list)
    # Fields of the Python object types declared here (C structs starting with PyObject_HEAD/ob_base,
    # Cython `cdef class` attributes): field name -> its type as written (`FT_Face`, `z_stream`, `CURL *`).
    object_fields: dict[str, str] = field(default_factory=dict)
    # Classes this file defines (Cython `cdef class` and Python `class`): calling one makes a new object.
    classes: list[str] = field(default_factory=list)
    # The base classes of those classes, as written (Cython `cdef class B(A)`, `class B(A, C)`): with the
    # other files' classes, the hierarchy a method call on a typed receiver may dispatch through.
    bases: dict[str, list[str]] = field(default_factory=dict)
    # Fields Python code can reach directly: Cython `cdef public`/`readonly` attributes, C fields named in a
    # PyMemberDef table as objects (T_OBJECT, Py_T_OBJECT_EX...): their containers are Python's to mutate.
    exposed_fields: list[str] = field(default_factory=list)
    generator: str = ""  # the tool whose banner opens the file ("f2c", "SWIG", ...; vendored.generator_of)
    # Parsed only after an includer's lines before its #include: alone it has syntax errors, so no build
    # compiles it on its own (frontends/includers.py; includerarms.py judges it as its includers do)
    in_context: bool = False
