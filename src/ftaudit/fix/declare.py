"""The edit that declares free-threading support for one module, by the way its kind declares it.

- multi-phase C module: a `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` slot before the terminator of the
  `PyModuleDef_Slot` array its `PyModuleDef` names (FT401);
- single-phase C module: `PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)` right after
  `m = PyModule_Create(&def);`, only when `m` is not NULL (FT401);
- both inside `#ifdef Py_GIL_DISABLED`, so the module still builds on Pythons before 3.13, where
  neither name exists (the C API HOWTO for free-threading, "Multi-Phase Initialization" and
  "Single-Phase Initialization": https://docs.python.org/3/howto/free-threading-extensions.html);
- Cython: the `# cython: freethreading_compatible = True` header comment (FT402; Cython 3.1);
- pybind11: `pybind11::mod_gil_not_used()` as the third argument of `PYBIND11_MODULE` (FT403;
  pybind11 2.13);
- nanobind: `FREE_THREADED` after the target's name in its `nanobind_add_module` (FT404).

A module already declared `Py_MOD_GIL_USED` gets that value turned into `Py_MOD_GIL_NOT_USED`.
Anything that does not have the expected shape raises EditError: an edit is made only where it is
mechanical, never guessed.
"""

from __future__ import annotations

import re

from ..facts import DeclKind
from ..frontends.textscan import blank_comments_and_strings
from .edits import Edit, EditError, FileText

GUARD = "#ifdef Py_GIL_DISABLED"
SLOT = "{Py_mod_gil, Py_MOD_GIL_NOT_USED},"
CYTHON_DIRECTIVE = "# cython: freethreading_compatible = True"
PYBIND11_TAG = "pybind11::mod_gil_not_used()"

_TERMINATOR = re.compile(r"\{\s*0\s*(?:,\s*(?:NULL|0|nullptr)\s*)?\}")
_GIL_USED = re.compile(r"\bPy_MOD_GIL_USED\b")
# `PyObject *m = ` / `m = ` / `m = (PyObject *)` in front of PyModule_Create: the variable it fills.
_ASSIGNED = re.compile(r"\s*(?:[A-Za-z_][\w\s*]*?[\s*])?([A-Za-z_]\w*)\s*=\s*(?:\(\s*PyObject\s*\*\s*\)\s*)?")


def _matching(clean: str, open_at: int) -> int:
    """The offset of the bracket closing the one at `open_at`, or -1."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack = [pairs[clean[open_at]]]
    for i in range(open_at + 1, len(clean)):
        ch = clean[i]
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in ")}]":
            if not stack or ch != stack.pop():
                return -1
            if not stack:
                return i
    return -1


def _initialiser(clean: str, type_name: str, var: str) -> tuple[int, int]:
    """(offset of `{`, offset of its `}`) of `TYPE VAR[...] = {...}`; raises EditError."""
    m = re.search(rf"\b{re.escape(type_name)}\s+{re.escape(var)}\s*(?:\[[^\]]*\])?\s*=\s*\{{", clean)
    if m is None:
        raise EditError(f"no `{type_name} {var} = {{...}}` initialiser in the file")
    close = _matching(clean, m.end() - 1)
    if close < 0:
        raise EditError(f"the initialiser of `{var}` has unbalanced braces")
    return m.end() - 1, close


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _indent(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    return re.match(r"[ \t]*", text[start:]).group(0)  # type: ignore[union-attr]


def _guarded_lines(ft: FileText, at: int, body: str) -> Edit:
    """Insert `#ifdef Py_GIL_DISABLED / body / #endif` as lines before offset `at`."""
    nl, text = ft.newline, ft.text
    start = _line_start(text, at)
    indent = _indent(text, at)
    block = f"{GUARD}{nl}{indent}{body}{nl}#endif{nl}"
    if text[start:at].strip() == "":
        return Edit(start, 0, block)
    return Edit(at, 0, f"{nl}{block}{indent}")


def multi_phase(ft: FileText, def_name: str) -> list[Edit]:
    """Declare through the slot array the `PyModuleDef def_name` names."""
    clean = blank_comments_and_strings(ft.text)
    open_at, close = _initialiser(clean, "PyModuleDef", def_name)
    init = clean[open_at:close]
    for slots in re.findall(r"\b[A-Za-z_]\w*\b", init):
        m = re.search(rf"\bPyModuleDef_Slot\s+{re.escape(slots)}\s*\[[^\]]*\]\s*=\s*\{{", clean)
        if m is None:
            continue
        s_open, s_close = _initialiser(clean, "PyModuleDef_Slot", slots)
        body = clean[s_open:s_close]
        used = [m for m in _GIL_USED.finditer(body)]
        if used:
            return [Edit(s_open + u.start(), u.end() - u.start(), "Py_MOD_GIL_NOT_USED") for u in used]
        ends = list(_TERMINATOR.finditer(body))
        if not ends:
            raise EditError(f"the slot array `{slots}` has no {{0, NULL}} terminator")
        return [_guarded_lines(ft, s_open + ends[-1].start(), SLOT)]
    raise EditError(f"`{def_name}` names no PyModuleDef_Slot array defined in this file")


def single_phase(ft: FileText, def_name: str) -> list[Edit]:
    """Declare with PyUnstable_Module_SetGIL on the module PyModule_Create made from `def_name`."""
    clean = blank_comments_and_strings(ft.text)
    used = list(re.finditer(r"\bPyUnstable_Module_SetGIL\s*\([^;]*?\bPy_MOD_GIL_USED\b", clean))
    if used:
        m = _GIL_USED.search(clean, used[0].start())
        assert m is not None
        return [Edit(m.start(), m.end() - m.start(), "Py_MOD_GIL_NOT_USED")]
    creates = list(re.finditer(rf"\bPyModule_Create2?\s*\(\s*&\s*{re.escape(def_name)}\b", clean))
    if len(creates) != 1:
        raise EditError(f"`{def_name}` is passed to PyModule_Create {len(creates)} times, not once")
    call = creates[0]
    close = _matching(clean, clean.index("(", call.start()))
    end = clean.find(";", close) if close >= 0 else -1
    if end < 0 or clean[close + 1 : end].strip():
        raise EditError("PyModule_Create is not a whole statement")
    start = max(clean.rfind(c, 0, call.start()) for c in ";{}") + 1
    head = clean[start : call.start()]
    nl, indent = ft.newline, _indent(ft.text, call.start())
    assign = re.fullmatch(
        r"\s*(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\s*=\s*(?:\(\s*PyObject\s*\*\s*\)\s*)?", head
    )
    if assign is not None:
        var = assign.group(1)
        body = f"if ({var} != NULL) PyUnstable_Module_SetGIL({var}, Py_MOD_GIL_NOT_USED);"
        return [Edit(end + 1, 0, f"{nl}{GUARD}{nl}{indent}{body}{nl}#endif")]
    ret = re.search(r"\breturn\s*$", head)
    if ret is not None:
        return [_split_return(ft, clean, start + ret.start(), call.start(), end)]
    raise EditError("the module PyModule_Create returns is neither assigned to a variable nor returned")


def _split_return(ft: FileText, clean: str, stmt: int, create: int, end: int) -> Edit:
    """`return PyModule_Create(&def);` becomes: keep the module in a variable, declare, return it."""
    nl, text = ft.newline, ft.text
    var = next(v for v in ("module", "mod", "created_module", "ftaudit_module") if not re.search(rf"\b{v}\b", clean))
    line_start = _line_start(text, stmt)
    own_line = text[line_start:stmt].strip() == ""
    outer = _indent(text, stmt)
    before = clean[:stmt].rstrip()
    block = bool(before) and before[-1] not in ";{}"  # `if (x) return ...;`: the statements need braces
    inner = outer + ("    " if block or not own_line else "")
    body = [
        f"{inner}PyObject *{var} = {text[create:end]};",
        GUARD,
        f"{inner}if ({var} != NULL) PyUnstable_Module_SetGIL({var}, Py_MOD_GIL_NOT_USED);",
        "#endif",
        f"{inner}return {var};",
    ]
    if block:
        body = [f"{outer}{{", *body, f"{outer}}}"]
    new = nl.join(body)
    rest_end = text.find("\n", end)
    rest = text[end + 1 : rest_end if rest_end >= 0 else len(text)].rstrip("\r")
    if own_line:
        return Edit(line_start, end + 1 - line_start, new)
    # `{ return PyModule_Create(&def); }` on one line: the statements go on lines of their own.
    begin = len(text[:stmt].rstrip(" \t"))
    if rest.strip():
        return Edit(begin, end + 1 - begin + (len(rest) - len(rest.lstrip())), nl + new + nl + outer)
    return Edit(begin, end + 1 - begin, nl + new)


_HEADER_LINE = re.compile(r"#!|#.*coding[:=]|#\s*cython\s*:|#\s*distutils\s*:")


def cython(ft: FileText) -> list[Edit]:
    """Declare with the `freethreading_compatible` header directive."""
    m = re.search(r"^(#\s*cython\s*:.*\bfreethreading_compatible\s*=\s*)(False)\b", ft.text, re.M)
    if m is not None:
        return [Edit(m.start(2), len("False"), "True")]
    offset = 0
    for line in ft.text.splitlines(keepends=True):
        if not _HEADER_LINE.match(line):
            break
        offset += len(line)
    prefix = ft.newline if offset and not ft.text[:offset].endswith("\n") else ""
    return [Edit(offset, 0, f"{prefix}{CYTHON_DIRECTIVE}{ft.newline}")]


def pybind11(ft: FileText, line: int) -> list[Edit]:
    """Declare with `pybind11::mod_gil_not_used()` in the `PYBIND11_MODULE` on `line` (1-based)."""
    clean = blank_comments_and_strings(ft.text)
    line_start = 0
    for _ in range(line - 1):
        line_start = clean.index("\n", line_start) + 1
    m = re.compile(r"\bPYBIND11_MODULE\s*\(").search(clean, line_start)
    if m is None:
        raise EditError(f"no PYBIND11_MODULE on line {line}")
    close = _matching(clean, m.end() - 1)
    if close < 0:
        raise EditError("PYBIND11_MODULE( has no closing parenthesis")
    args = clean[m.end() : close]
    if args.count(",") != 1:
        raise EditError("PYBIND11_MODULE already has options: add pybind11::mod_gil_not_used() by hand")
    return [Edit(close, 0, f", {PYBIND11_TAG}")]


def nanobind(ft: FileText, line: int, target: str) -> list[Edit]:
    """Add FREE_THREADED to `nanobind_add_module(target ...)` on `line` (1-based) of a CMake file."""
    lines = ft.text.splitlines(keepends=True)
    offset = sum(len(x) for x in lines[: line - 1])
    m = re.compile(rf"\bnanobind_add_module\s*\(\s*{re.escape(target)}\b", re.I).search(ft.text, offset)
    if m is None:
        raise EditError(f"no nanobind_add_module({target} ...) on line {line}")
    return [Edit(m.end(), 0, " FREE_THREADED")]


def edits_for(kind: DeclKind, ft: FileText, name: str, line: int) -> list[Edit]:
    """The declaration edits of a module of `kind` named `name` (its PyModuleDef variable for C),
    defined on `line` of `ft`. Raises EditError."""
    if kind == DeclKind.MULTI_PHASE:
        return multi_phase(ft, name)
    if kind == DeclKind.SINGLE_PHASE:
        return single_phase(ft, name)
    if kind == DeclKind.CYTHON:
        return cython(ft)
    if kind == DeclKind.PYBIND11:
        return pybind11(ft, line)
    if kind == DeclKind.CYTHON_GENERATED:
        raise EditError("generated by Cython from a .pyx not in the tree: regenerate it from a declaring .pyx")
    raise EditError("its initialisation style is not known (a PyModuleDef used by neither PyModule_Create nor slots)")
