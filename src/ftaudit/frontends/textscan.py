"""Preprocessor-independent scans of C/C++ text.

Some facts must be found whatever the preprocessor configuration or the
headers at hand: `PYBIND11_MODULE(...)` needs pybind11's headers to expand,
and a `Py_mod_gil` slot may sit in an `#ifdef` branch. These helpers read the
text with comments and string literals blanked out, positions unchanged.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""",
    re.S,
)


@functools.lru_cache(maxsize=8)
def blank_comments_and_strings(text: str) -> str:
    """Replace comments and string/char literals with spaces, keeping newlines. The last few answers
    are kept: one file's text is blanked by the lock macros, assertions, member tables, `#if` scan and
    tree-sitter's macro scan in turn (numpy's multiarray files: 460 regex passes over 64 texts)."""
    return _TOKEN.sub(_blank, text)


def _blank(m: re.Match[str]) -> str:
    s = m.group(0)
    if s[0] in "\"'":
        return s[0] + _spaces(s[1:-1]) + s[-1] if len(s) >= 2 else s
    return _spaces(s)


def _spaces(s: str) -> str:
    """As many spaces as `s` has characters, its newlines kept (a regex per token is 3x slower)."""
    if "\n" not in s:
        return " " * len(s)
    return "\n".join(" " * len(part) for part in s.split("\n"))


@dataclass(frozen=True)
class MacroUse:
    name: str
    line: int
    col: int
    end_line: int
    end_col: int
    args: tuple[str, ...]


class LineIndex:
    """1-based (line, column) of character offsets into one text, by binary search over its line
    starts: counting newlines per offset was quadratic (numpy's expanded lowlevel_strided_loops.c.src,
    3 000 asserts in 2 MB: 27 s)."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def macro_uses(clean: str, name: str) -> list[MacroUse]:
    """Invocations `name(...)` outside #define lines, with top-level args."""
    uses: list[MacroUse] = []
    lines: LineIndex | None = None
    for m in re.finditer(rf"\b{re.escape(name)}\s*\(", clean):
        line_start = clean.rfind("\n", 0, m.start()) + 1
        if re.match(r"\s*#", clean[line_start : m.start()]):
            continue
        depth, i, args, cur = 1, m.end(), [], m.end()
        while i < len(clean) and depth:
            ch = clean[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch == "," and depth == 1:
                args.append(clean[cur:i].strip())
                cur = i + 1
            i += 1
        args.append(clean[cur : i - 1].strip())
        lines = lines or LineIndex(clean)
        line, col = lines.at(m.start())
        end_line, end_col = lines.at(i)
        uses.append(MacroUse(name, line, col, end_line, end_col, tuple(a for a in args if a)))
    return uses


def mentions(clean: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", clean) is not None


# `assert(...)`, `NPY_ASSERT(...)`, `g_assert(...)`, `assert_refcnt(...)`: an assertion by its name.
_ASSERT_CALL = re.compile(r"\b\w*(?:assert|ASSERT|Assert)\w*\s*\(")


_PUNCTUATION = re.compile(r"[(),]")


class Assertions:
    """The assert-like calls and macros of a file, found in its text (the preprocessor may have compiled
    them away, NDEBUG, or expanded them beyond recognition): where their arguments lie (FT204's sanity
    checks) and what their first argument says (`assert(0)` ends the process: abort paths)."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.ranges: list[tuple[int, int]] = []  # [start, end) offsets into `text`, from the name
        self.uses: list[tuple[str, str, tuple[int, int]]] = []  # name, first argument, (line, col) of the name
        blanked = blank_comments_and_strings(text) if "ssert" in text or "SSERT" in text else ""
        lines = LineIndex(blanked)
        for m in _ASSERT_CALL.finditer(blanked):
            # to the closing parenthesis (or the end of the text), noting the first argument's end
            depth, i, first_end = 1, len(blanked), -1
            for p in _PUNCTUATION.finditer(blanked, m.end()):
                c = p.group()
                if depth == 1 and first_end < 0 and c != "(":
                    first_end = p.start()
                depth += 1 if c == "(" else -1 if c == ")" else 0
                if not depth:
                    i = p.end()
                    break
            # From the name: libclang places what a macro's arguments expand to at the macro's name.
            self.ranges.append((m.start(), i))
            first = blanked[m.end() : first_end if first_end >= 0 else i]
            self.uses.append((m.group(0).rstrip("( \t\n"), first, lines.at(m.start())))
        starts = [0]
        for line in self.lines:
            starts.append(starts[-1] + len(line) + 1)
        self.starts = starts

    def contains(self, line: int, byte_col: int) -> bool:
        """Is the 1-based `line`, 1-based UTF-8 byte column `byte_col` inside an assertion (its name or
        its arguments)?"""
        if not self.ranges or not 0 < line <= len(self.lines):
            return False
        text = self.lines[line - 1]
        col = (
            len(text.encode("utf-8")[: byte_col - 1].decode("utf-8", "replace")) if not text.isascii() else byte_col - 1
        )
        offset = self.starts[line - 1] + col
        return any(a <= offset < b for a, b in self.ranges)


_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)\n]*\))?((?:[^\n\\]|\\.|\\\n)*)", re.M)


@dataclass(frozen=True)
class MacroDef:
    """A `#define` of the file: its parameters (None for an object-like macro) and its body on one line."""

    name: str
    params: tuple[str, ...] | None
    body: str


def defined_macros(clean: str) -> dict[str, MacroDef]:
    """The macros `clean` (comments and strings blanked) defines, the first definition of each name."""
    out: dict[str, MacroDef] = {}
    for m in _DEFINE.finditer(clean):
        params = None if m.group(2) is None else tuple(p.strip() for p in m.group(2)[1:-1].split(",") if p.strip())
        body = " ".join(m.group(3).replace("\\\n", " ").split())
        out.setdefault(m.group(1), MacroDef(m.group(1), params, body))
    return out


_IDENT = re.compile(r"[A-Za-z_]\w*")


def expand_name(macros: dict[str, MacroDef], name: str, arg: str, depth: int = 0) -> str:
    """The identifier `name(arg)` expands to, for function-building macros (`#define FNAME(x) x##_`,
    `#define LAPACK(f) FNAME(f)`); a macro this file does not define (its header's, named in capitals)
    is taken to keep the argument's name. "" when the expansion is no identifier."""
    m = macros.get(name)
    if m is None:  # a header's macro: by convention in capitals (a call returning a function is not one)
        return arg if re.fullmatch(r"[A-Z][A-Z0-9_]*", name) else ""
    if m.params is None or len(m.params) != 1 or depth > 8:
        return ""
    body = re.sub(rf"\b{re.escape(m.params[0])}\b", arg, m.body)
    body = re.sub(r"\s*##\s*", "", body)
    if _IDENT.fullmatch(body):
        return body
    inner = re.fullmatch(r"([A-Za-z_]\w*)\s*\(\s*([A-Za-z_]\w*)\s*\)", body)
    if inner:
        return expand_name(macros, inner.group(1), inner.group(2), depth + 1)
    return ""


# A PyMemberDef entry of an object member: `{"name", T_OBJECT, offsetof(Type, field), flags, doc}` (also
# `Py_T_OBJECT_EX`, `_Py_T_OBJECT`, and PyMemberDef written with designated or positional initialisers).
_OBJECT_MEMBER = re.compile(
    r"\b(?:_?Py_)?T_OBJECT(?:_EX)?\b[^{};]*?\boffsetof\s*\(\s*[\w\s:]+?\s*,\s*([\w.]+)\s*\)",
)


def member_object_fields(text: str) -> list[str]:
    """Fields a PyMemberDef table hands to Python as objects (T_OBJECT, Py_T_OBJECT_EX...), READONLY or
    not: Python code gets the container itself and may change it (by their last name: `a.b` gives `b`)."""
    if "T_OBJECT" not in text:  # what every match spells: the regex's lazy scan is slow on any text
        return []
    found = (m.group(1).rsplit(".", 1)[-1] for m in _OBJECT_MEMBER.finditer(blank_comments_and_strings(text)))
    return sorted(set(found))
