"""Headers a file is sure to miss, found by following its unconditional `#include "..."` lines
through the include directories, before any parse.

libclang parses a file whose headers are missing anyway (keep-going), and only
then does auto mode hand it to tree-sitter: for numpy without a build, 600
files and 45 s of parses thrown away. A quoted include that no directory of the
file's flags holds cannot be found by libclang either, so such a file goes to
tree-sitter straight away. Includes inside `#if` blocks (other than include
guards) are not followed, and `<...>` names that are not found are never called
missing (the compiler's own system directories are not all known here): when
in doubt, libclang still parses the file and reports for itself.
"""

from __future__ import annotations

import glob
import os
import re

from ..facts import Problem
from ..source import read_tree_text
from .textscan import blank_comments_and_strings

_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(include|import|if|ifdef|ifndef|elif|else|endif|define)\b", re.M)
_NAME = re.compile(r'[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>)')
_SEARCH_FLAGS = {"-I": "angle", "-isystem": "angle", "-idirafter": "angle", "-iquote": "quote"}
SYSTEM_DIRS = ["/usr/local/include", *sorted(glob.glob("/usr/include/*-linux-gnu")), "/usr/include"]


def missing_header_problem(path: str, missing: list[str], line: int | None) -> Problem:
    """The one wording, whether libclang found the headers missing or this module did."""
    return Problem(
        path,
        "warning",
        "missing-header",
        f"header(s) not found: {', '.join(missing)}; the rest of the file was analysed without "
        "their declarations (pass -I or --compile-commands for a complete parse)",
        line,
    )


def unconditional_includes(text: str) -> list[tuple[str, bool, int]]:
    """(name, quoted, line) of the `#include` lines outside any `#if` block but an include guard."""
    clean = blank_comments_and_strings(text)
    directives = list(_DIRECTIVE.finditer(clean))
    guards: list[bool] = []  # per open #if: is it an include guard?
    out: list[tuple[str, bool, int]] = []
    for i, m in enumerate(directives):
        kind = m.group(1)
        if kind in ("if", "ifdef", "ifndef"):
            guards.append(kind == "ifndef" and not guards and _defines_next(text, m, directives[i + 1 :]))
        elif kind == "endif":
            if guards:
                guards.pop()
        elif kind in ("include", "import") and all(guards):
            name = _NAME.match(text, m.end())
            if name is not None:
                quoted = name.group(1) is not None
                out.append((name.group(1) or name.group(2), quoted, clean.count("\n", 0, m.start()) + 1))
    return out


def _defines_next(text: str, m: re.Match[str], rest: list[re.Match[str]]) -> bool:
    """`#ifndef X` directly followed by `#define X`."""
    if not rest or rest[0].group(1) != "define":
        return False
    guard = text[m.end() : text.find("\n", m.end())].split()
    defined = text[rest[0].end() : text.find("\n", rest[0].end())].split()
    return bool(guard) and bool(defined) and guard[0] == defined[0]


def search_dirs(args: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The quote-only and the angle directories of compiler arguments, in search order."""
    quote: list[str] = []
    angle: list[str] = []
    for i, a in enumerate(args):
        for flag, kind in _SEARCH_FLAGS.items():
            value = None
            if a == flag and i + 1 < len(args):
                value = args[i + 1]
            elif a.startswith(flag) and len(a) > len(flag) and flag == "-I":
                value = a[2:]
            if value is not None:
                (quote if kind == "quote" else angle).append(value)
                break
    return tuple(quote), (*angle, *SYSTEM_DIRS)


class MissingHeaders:
    """Memoised per process: a header's verdict depends on the file system and the directories only."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], bool] = {}
        self._verdict: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}

    def of_file(self, path: str, text: str, args: list[str]) -> tuple[list[str], int | None]:
        """The headers the file certainly lacks, and the line of its first include that leads to one."""
        quote, angle = search_dirs(args)
        missing: list[str] = []
        line: int | None = None
        for name, quoted, at in unconditional_includes(text):
            lacks = self._include(os.path.dirname(path), name, quoted, quote, angle, set())
            if lacks and line is None:
                line = at
            missing += [m for m in lacks if m not in missing]
        return missing, line

    def _include(
        self, here: str, name: str, quoted: bool, quote: tuple[str, ...], angle: tuple[str, ...], seen: set[str]
    ) -> tuple[str, ...]:
        dirs = ((here, *quote) if quoted else ()) + angle
        found = next((os.path.join(d, name) for d in dirs if self._is_file(d, name)), None)
        if found is None:
            return (name,) if quoted else ()
        return self._header(os.path.normpath(found), quote, angle, seen)

    def _header(self, header: str, quote: tuple[str, ...], angle: tuple[str, ...], seen: set[str]) -> tuple[str, ...]:
        key = (header, quote, angle)
        known = self._verdict.get(key)
        if known is not None:
            return known
        if header in seen:  # an include cycle: the guard stops it, and so do we
            return ()
        seen.add(header)
        try:  # a header in the tree may be a FIFO or a link to /dev/zero
            text = read_tree_text(header)
        except OSError:
            text = ""
        lacks: list[str] = []
        for name, quoted, _ in unconditional_includes(text):
            for m in self._include(os.path.dirname(header), name, quoted, quote, angle, seen):
                if m not in lacks:
                    lacks.append(m)
        self._verdict[key] = tuple(lacks)
        return self._verdict[key]

    def _is_file(self, directory: str, name: str) -> bool:
        key = (directory, name)
        hit = self._found.get(key)
        if hit is None:
            hit = self._found[key] = os.path.isfile(os.path.join(directory, name))
        return hit
