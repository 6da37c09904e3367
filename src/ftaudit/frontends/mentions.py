"""Static functions a source file never mentions: the facts behind "never called" (callgraph.py).

A `static` function of a `.c`/`.cpp` file can only be called or have its address taken from that file
(and from the files it includes or that include it, which the call graph resolves). libclang sees every
call and value use of the configuration it compiles, but not those in `#if` branches it leaves out (a
Windows-only caller), nor the text of macros used there. So a function is judged never called only when,
besides having no caller in the scan, its name appears nowhere in the file's code (comments and string
literals blanked) but where the file declares or defines a function of that name: its own definition, its
prototypes, and same-named functions of other namespaces (simdjson's per-CPU copies of one helper, also
those in `#if` branches libclang leaves out: a `static ... name(` line), and only when the file spells
the name there at all: a name made by a macro (`NB_MODULE`'s `nb_init_##name`) may be called by a macro
too. Any other occurrence, in an inactive branch, a macro body, a recursive call, keeps the function
judged. Only libclang's units are marked: tree-sitter's cannot say which file includes which (a unity
build's `#include "inner.c"`), nor tell a function's name in another file's table from a variable's, so a
static function it reads may be called from a file that includes it. Headers are never marked: a `static
inline` helper of a header may be called by the files of another project that include it (a public C API
header).

In: the unit's functions, the file's text (as parsed: an expanded template's text), and the 1-based
(line, byte column) of each function name libclang declared. Out: `Function.mentioned` set to False on
the internal functions so found. No errors.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..facts import Function
from .headerindex import HEADER_EXTENSIONS
from .textscan import blank_comments_and_strings

# the header index's extensions, templates of headers, and the files C++ code includes for inline parts
_HEADER_SUFFIXES = (*sorted(HEADER_EXTENSIONS), ".h.src", ".inc", ".inl", ".ipp", ".tcc")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `static char *` right before a name and its `(`: a static function declared on this line, also one
# libclang did not read (the copy of a per-CPU helper in an `#if` branch it leaves out); no `=` or `(`
# between, so `static int x = f(` is a call
_HEAD_CHARS = re.compile(r"[\w\s*&:<>,]*")
_CALLED = re.compile(r"\s*\(")
_MAX_HEAD = 200  # characters between `static` and the name: a declaration's head is short


def is_header(path: str) -> bool:
    """Is the file a header (its static functions may serve includers outside the scan)?"""
    return path.lower().endswith(_HEADER_SUFFIXES)


def _base(name: str) -> str:
    return name.rsplit("::", 1)[-1].split("<", 1)[0]


def mark_unmentioned(functions: list[Function], text: str, declared: set[tuple[int, int]]) -> None:
    """Set `mentioned = False` on each internal non-member function whose name the text holds only at
    `declared` positions (see the module docstring)."""
    wanted = {_base(fn.name) for fn in functions if fn.internal and "::" not in fn.name}
    if not wanted:
        return
    others: dict[str, int] = defaultdict(int)  # occurrences outside declarations, by name
    named: set[str] = set()  # names the text spells where a function is declared
    previous = ""
    for lineno, line in enumerate(blank_comments_and_strings(text).split("\n"), start=1):
        last, previous = previous, line
        for m in _IDENT.finditer(line):
            name = m.group(0)
            if name not in wanted:
                continue
            column = len(line[: m.start()].encode("utf-8", "surrogatepass")) + 1
            if (lineno, column) in declared or _static_head(line, m.start(), m.end()):
                named.add(name)
            elif not line[: m.start()].strip() and _static_head(
                f"{last} {line}", len(last) + 1 + m.start(), len(last) + 1 + m.end()
            ):
                # `static PyObject *` on the line before, the name at the start of this one
                named.add(name)
            else:
                others[name] += 1
    for fn in functions:
        name = _base(fn.name)
        # a name the text never spells where it is declared was made by a macro (NB_MODULE's
        # `nb_init_##name`): its callers may be made by one too
        if fn.internal and "::" not in fn.name and name in named and not others.get(name):
            fn.mentioned = False


def _static_head(line: str, start: int, end: int) -> bool:
    """Is the name at line[start:end] declared as a static function there: `static <type words> name(`?
    Bounded: only the last `static` at most _MAX_HEAD characters before the name is tried."""
    at = line.rfind("static", max(0, start - _MAX_HEAD - 6), start)
    if at < 0 or (at > 0 and (line[at - 1].isalnum() or line[at - 1] == "_")):
        return False
    head = line[at + 6 : start]
    return (not head or not (head[0].isalnum() or head[0] == "_")) and bool(
        _HEAD_CHARS.fullmatch(head) and _CALLED.match(line, end)
    )
