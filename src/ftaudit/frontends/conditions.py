"""Which preprocessor branches a free-threaded CPython 3.14 build compiles, without a preprocessor.

The syntax-only frontend reads every branch of an `#if`; most are live in some configuration, but
some are dead on the build ftaudit judges for: Python 2 code (`#if PY_MAJOR_VERSION < 3`), code for
older Pythons (`PY_VERSION_HEX < 0x030D0000`), for the GIL build (`#ifndef Py_GIL_DISABLED`), for the
limited API (free-threaded 3.14 has no stable ABI: PEP 703, PEP 803) or for PyPy. Reading those as
live code invents hazards and, worse, hides roles: psutil splits `PyObject *PyInit__psutil_linux(void)`
and Python 2's `void init_psutil_linux(void)` over `#if`/`#else` in front of one body.

`evaluate` is three-valued: a condition that names anything else (a feature macro set by the build)
is unknown, and both its branches stay. `&&`/`||` short-circuit over unknowns (`X && 0` is false).
A macro the file itself defines where that build certainly compiles the `#define` (cffi's
`#if PY_VERSION_HEX >= 0x03080000` / `#define USE_WRITEUNRAISABLEMSG`) is known from there on, so a
later `#ifdef USE_WRITEUNRAISABLEMSG` is decided too; one defined or undefined in an undecided branch
stays unknown.
"""

from __future__ import annotations

import re

# What a free-threaded 3.14 build defines, as the libclang shim does (frontends/clang/shim).
ASSUMED_VERSION_HEX = 0x030E00F0
_VALUES: dict[str, int] = {"PY_MAJOR_VERSION": 3, "PY_MINOR_VERSION": 14, "PY_VERSION_HEX": ASSUMED_VERSION_HEX}
_DEFINED = {"Py_GIL_DISABLED": True, "Py_LIMITED_API": False, "PYPY_VERSION": False, "Py_PYTHON_H": True}
# Values a defined-or-not macro has when used as a number (`#if Py_GIL_DISABLED`).
_AS_NUMBER = {"Py_GIL_DISABLED": 1}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9A-Fa-f]+|\d+)[uUlL]*|(?P<id>[A-Za-z_]\w*)|(?P<op>&&|\|\||==|!=|<=|>=|[<>!()]))"
)
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4}
_MAX_TOKENS = 200
_MAX_CONTINUED = 32  # lines one directive may continue onto
_DEFINE = re.compile(r"^[ \t]*#[ \t]*(define|undef)[ \t]+([A-Za-z_]\w*)(\([^)]*\))?(.*)$")
_NUMBER = re.compile(r"\s*\(?\s*(0[xX][0-9A-Fa-f]+|\d+)[uUlL]*\s*\)?\s*$")

Value = int | None  # None: unknown


class FileMacros:
    """Macros the file defines itself, as far as a free-threaded 3.14 build is known to see them:
    `values` holds each one certainly defined (its number, or None when its replacement is not an
    integer literal), `unknown` each one defined or undefined where the build may or may not compile
    it (its state after that line cannot be told)."""

    def __init__(
        self,
        undefined: frozenset[str] = frozenset(),
        zeros: frozenset[str] = frozenset(),
        defined: frozenset[str] = frozenset(),
    ) -> None:
        # Macros known to be defined before the file starts, value unknown (every includer defines them:
        # includerarms.py).
        self.values: dict[str, int | None] = dict.fromkeys(defined)
        self.unknown: set[str] = set()
        # Macros known to be undefined (opt-in switches nothing in the tree or its build defines: switches.py).
        self.undefined = undefined
        # Macros whose every in-tree definition is 0 and that the build never sets (zstd's DEBUGLEVEL:
        # switches.zero_defaults): 0 as a number wherever they are defined; whether they are is not told.
        self.zeros = zeros

    def record(self, line: str, live: bool | None) -> None:
        """Take one `#define`/`#undef` line compiled when `live` is True (False: never; None: unknown)."""
        m = _DEFINE.match(line)
        if m is None or live is False or m.group(2) in _DEFINED or m.group(2) in _VALUES:
            return
        name = m.group(2)
        if live is None or m.group(1) == "undef" or line.rstrip().endswith("\\"):
            self.values.pop(name, None)
            self.unknown.add(name)
            return
        number = None if m.group(3) else _NUMBER.match(m.group(4) or "")
        if name not in self.unknown:
            self.values[name] = int(number.group(1), 0) if number and not _octal(number.group(1)) else None


def _octal(text: str) -> bool:
    return text.startswith("0") and len(text) > 1 and not text.lower().startswith("0x")


class _Unparsed(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unparsed
        pos = m.end()
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        if len(out) > _MAX_TOKENS:
            raise _Unparsed
    return out


class _Parser:
    """Precedence climbing over the small grammar `#if` lines use; anything else is _Unparsed."""

    def __init__(self, tokens: list[tuple[str, str]], macros: FileMacros | None = None) -> None:
        self.toks = tokens
        self.i = 0
        self.macros = macros

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise _Unparsed
        self.i += 1
        return tok

    def expr(self, floor: int = 1) -> Value:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None or tok[0] != "op" or tok[1] not in _PRECEDENCE or _PRECEDENCE[tok[1]] < floor:
                return left
            op = self.take()[1]
            right = self.expr(_PRECEDENCE[op] + 1)
            left = _apply(op, left, right)

    def unary(self) -> Value:
        kind, text = self.take()
        if kind == "op" and text == "!":
            v = self.unary()
            return None if v is None else int(not v)
        if kind == "op" and text == "(":
            v = self.expr()
            if self.take() != ("op", ")"):
                raise _Unparsed
            return v
        if kind == "num":
            return int(text, 0) if not text.startswith("0") or text.lower().startswith("0x") else int(text, 8)
        if kind == "id" and text == "defined":
            paren = self.peek() == ("op", "(")
            if paren:
                self.take()
            kind, name = self.take()
            if kind != "id" or (paren and self.take() != ("op", ")")):
                raise _Unparsed
            known = _DEFINED.get(name)
            if known is None and self.macros is not None and name in self.macros.undefined:
                return 0
            if known is None:
                return 1 if name in _VALUES or (self.macros is not None and name in self.macros.values) else None
            return int(known)
        if kind == "id":
            if name_value := _VALUES.get(text):
                return name_value
            if text in _DEFINED:
                return _AS_NUMBER.get(text, 0) if _DEFINED[text] else 0
            if self.macros is not None:
                if text in self.macros.undefined or text in self.macros.zeros:
                    return 0
                return self.macros.values.get(text)
            return None
        raise _Unparsed


def _apply(op: str, a: Value, b: Value) -> Value:
    if op == "&&":
        if a == 0 or b == 0:
            return 0
        return None if a is None or b is None else 1
    if op == "||":
        if (a is not None and a != 0) or (b is not None and b != 0):
            return 1
        return None if a is None or b is None else 0
    if a is None or b is None:
        return None
    return int(
        {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]  # type: ignore[index]
    )


def evaluate(directive: str, condition: str, macros: FileMacros | None = None) -> bool | None:
    """Is the branch of `#<directive> <condition>` compiled by a free-threaded 3.14 build?

    `directive` is `if`, `elif`, `ifdef`, `ifndef`, `elifdef` or `elifndef`; `condition` the rest of the
    line with comments removed; `macros` what the file defined before this line (dead_lines). Returns
    True or False when the condition depends only on the Python version, `Py_GIL_DISABLED`,
    `Py_LIMITED_API`, `PYPY_VERSION` or macros `macros` knows (defined there, or in its `undefined`);
    None when it depends on anything else or cannot be read."""
    if directive in ("ifdef", "ifndef", "elifdef", "elifndef"):
        word = condition.strip()
        known = _DEFINED.get(word)
        if known is None and macros is not None and word in macros.undefined:
            known = False
        if known is None:
            known = True if word in _VALUES or (macros is not None and word in macros.values) else None
        if known is None:
            return None
        return known if directive in ("ifdef", "elifdef") else not known
    try:
        parser = _Parser(_tokens(condition), macros)
        value = parser.expr()
        if parser.peek() is not None:
            return None
    except (_Unparsed, ValueError, RecursionError):
        return None
    return None if value is None else value != 0


_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b(.*)$")


class _Conditional:
    """One `#if ... #endif`: the line of each branch's directive and whether the branch is compiled
    (True, False, None: depends on the build)."""

    def __init__(self, line: int, live: bool | None, macros: FileMacros | None = None) -> None:
        self.macros = macros
        self.branches: list[tuple[int, bool | None]] = [(line, live)]
        self.later_dead = live is True  # a branch certainly compiled: every later one is dead
        self.unknown_before = live is None
        self.endif = -1
        self.continuations: list[int] = []  # the lines its directives continue onto (`\\` at a line's end)

    def add(self, line: int, directive: str, rest: str) -> None:
        if self.later_dead:
            live: bool | None = False
        elif directive == "else":
            live = None if self.unknown_before else True
        else:
            value = evaluate(directive, rest, self.macros)
            live = None if value is None or (value and self.unknown_before) else value
            self.later_dead = value is True
            self.unknown_before = self.unknown_before or value is None
        self.branches.append((line, live))

    @property
    def decided(self) -> bool:
        return all(live is not None for _, live in self.branches)


def blank_dead_branches(text: str, clean: str | None = None) -> str:
    """`text` with the branches dead on a free-threaded 3.14 build blanked (spaces; newlines kept, so
    lines and columns stay). A conditional whose every branch is decided loses its directive lines too,
    so what remains reads as the code that build compiles (a function head split over `#if`/`#else`
    becomes one head). Directives are read from `clean`, the same text with comments and strings
    blanked (at the same length), when given. A directive continued with backslashes is read whole; its
    conditional stays undecided only when it runs on past _MAX_CONTINUED lines."""
    if "#" not in text:
        return text
    blank = dead_lines(clean if clean is not None else text)
    if not blank:
        return text
    lines = text.split("\n")
    for i in blank:
        lines[i] = " " * len(lines[i])
    return "\n".join(lines)


def _compiled(stack: list[_Conditional]) -> bool | None:
    """Does the build compile the current line, given the open conditionals? (None: unknown.)"""
    state: bool | None = True
    for cond in stack:
        live = cond.branches[-1][1]
        if live is False:
            return False
        if live is None:
            state = None
    return state


def _continued(lines: list[str], i: int) -> tuple[str, list[int]]:
    """The condition of directive line `i` continued with backslashes over the next lines (joined, at
    most _MAX_CONTINUED of them), and the 0-based lines it continues onto; ("", []) when the
    continuation runs past the bound or the text's end (not read)."""
    text = lines[i].rstrip()
    more: list[int] = []
    while text.endswith("\\"):
        j = i + len(more) + 1
        if j >= len(lines) or len(more) >= _MAX_CONTINUED:
            return "", []
        text = text[:-1] + " " + lines[j].rstrip()
        more.append(j)
    m = _DIRECTIVE.match(text)
    return (m.group(2), more) if m is not None else ("", [])


def dead_lines(
    text: str,
    undefined: frozenset[str] = frozenset(),
    zeros: frozenset[str] = frozenset(),
    defined: frozenset[str] = frozenset(),
) -> set[int]:
    """The 0-based lines `blank_dead_branches` blanks; with `undefined`, also those compiled only when one
    of those macros is defined (`#ifdef X`, `#if defined(X) && ...`, the `#else` of `#ifndef X`); with
    `zeros`, those compiled only when one of those macros is not 0 (`#if X`, `#if X >= 2`); with
    `defined`, those compiled only when one of those macros is not defined (`#ifndef X`, the `#else` of
    `#ifdef X`). A directive
    continued with backslashes is read whole (zstd's `#if defined(DEBUGLEVEL) && (DEBUGLEVEL>=2) \\`)."""
    lines = text.split("\n")
    stack: list[_Conditional] = []
    done: list[_Conditional] = []
    macros = FileMacros(undefined, zeros, defined)
    skip = -1  # the last line a directive continued onto
    for i, line in enumerate(lines):
        if i <= skip:
            continue
        if "define" in line or "undef" in line:
            macros.record(line, _compiled(stack))
        m = _DIRECTIVE.match(line)
        if m is None:
            continue
        word, rest = m.group(1), m.group(2)
        more: list[int] = []
        unread = False
        if line.rstrip().endswith("\\"):
            rest, more = _continued(lines, i)
            unread = not more
            skip = more[-1] if more else skip
        if word in ("if", "ifdef", "ifndef"):
            stack.append(_Conditional(i, None if unread else evaluate(word, rest, macros), macros))
            stack[-1].continuations += more
        elif not stack:
            continue  # an unbalanced #else/#endif: leave the text alone there
        elif word == "endif":
            cond = stack.pop()
            cond.endif = i
            cond.continuations += more
            done.append(cond)
        else:
            stack[-1].add(i, word, "" if unread else rest)
            stack[-1].continuations += more
            if unread:
                stack[-1].unknown_before = True
    blank: set[int] = set()
    for cond in done:
        ends = [line for line, _ in cond.branches[1:]] + [cond.endif]
        for k, ((start, live), end) in enumerate(zip(cond.branches, ends, strict=True)):
            if live is False:
                blank.update(range(start + 1, end))
                if k > 0:
                    blank.add(start)
        if cond.decided:
            blank.update(line for line, _ in cond.branches)
            blank.update(cond.continuations)
            blank.add(cond.endif)
    return blank
