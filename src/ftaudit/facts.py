"""Normalised facts that frontends produce and rules consume.

Frontends know syntax, rules know hazards; this module is the contract
between them, so a rule written once works for every frontend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based source range; end_col is exclusive, like clang's extents."""

    line: int
    col: int
    end_line: int
    end_col: int


class ArgKind(str, Enum):
    NAME = "name"  # a plain variable: `l`
    MEMBER = "member"  # a field path: `self->items`
    CALL = "call"  # the result of a call: `PyTuple_GET_ITEM(args, 0)`
    LITERAL = "literal"  # a number, string or NULL
    OTHER = "other"


@dataclass(frozen=True)
class Arg:
    """One call argument, reduced to what rules need to judge privacy."""

    kind: ArgKind
    path: str = ""  # `self.items` for members, the name for NAME, callee for CALL
    root: str = ""  # the variable at the base of the path
    value: int | None = None  # integer literals (0 for NULL)


class LockKind(str, Enum):
    MUTEX = "mutex"  # PyMutex, pthread, C11, Windows, C++ mutex members
    CRITICAL_SECTION = "critical-section"  # Py_BEGIN_CRITICAL_SECTION and friends
    GUARD = "guard"  # C++ RAII guards (lock_guard, scoped_lock, ...)


@dataclass(frozen=True)
class Lock:
    """A held lock; `objects` are the paths a critical section protects."""

    kind: LockKind
    key: str
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """A call (or an API macro use) inside a function body."""

    name: str
    span: Span
    args: tuple[Arg, ...]
    locks: tuple[Lock, ...] = ()
    gil_released: bool = False
    # True when the callee is declared in the scanned file itself (a user
    # function that merely shares a libc name) or is a C++ member function.
    user_defined: bool = False


@dataclass(frozen=True)
class Operand:
    call: str | None = None
    call_args: tuple[Arg, ...] = ()
    member: str | None = None
    value: int | None = None


@dataclass(frozen=True)
class Comparison:
    op: str
    lhs: Operand
    rhs: Operand
    span: Span
    locks: tuple[Lock, ...] = ()


class OriginKind(str, Enum):
    CALL = "call"  # x = f(...)
    NAME = "name"  # x = y
    NULL = "null"  # x = NULL / 0
    OTHER = "other"


@dataclass(frozen=True)
class Assignment:
    """Where a local variable's value comes from (for container privacy)."""

    kind: OriginKind
    callee: str = ""
    args: tuple[Arg, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    index: int


@dataclass
class Function:
    name: str
    span: Span
    params: list[Param] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    locals: dict[str, list[Assignment]] = field(default_factory=dict)


class DeclKind(str, Enum):
    MULTI_PHASE = "multi-phase"  # PyModuleDef with m_slots (PyModuleDef_Init)
    SINGLE_PHASE = "single-phase"  # PyModuleDef used by PyModule_Create
    MODULE_DEF = "module-def"  # a PyModuleDef whose init style is unknown here
    PYBIND11 = "pybind11"
    NANOBIND = "nanobind"


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
