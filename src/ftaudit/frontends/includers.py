"""The context an includer gives a header that is not standalone.

Many project headers do not compile alone: numpy's `multiarray/ctors.h` uses
`NPY_NO_EXPORT`, which `npy_config.h` defines, and `simd/avx2/memory.h` uses
`NPY_FINLINE` from `simd.h`, both included first by whoever includes them.
Like clangd for a non-self-contained header, such a header is parsed after
what its includer has before it: the preprocessor directives of the includer
up to its `#include` of the header (its own `#define`s, its earlier includes,
their `#if` blocks), in an in-memory file given with `-include`. The header
stays libclang's main file, so only its own lines give facts.

A source file that another includes (cffi's `_cffi_backend.c` includes
`ffi_obj.c`, `realize_c_type.c`, ...) is compiled as part of its includer: its
context is everything its includer has before the `#include`, code too (the
types, macros and functions it uses are the includer's), when that include is
at file scope (outside any braces); else the directives only, as for a header.
Facts still come from the included file's own lines only, so a finding points
at its line, and the includer's unit never holds them (libclang walks only its
main file).

The includer is chosen deterministically (`HeaderIndex.includer_of`: the first
source file in path order that includes the header, else the first header);
a header included only by headers gets the chain of them, up to MAX_DEPTH,
outermost first: each level's prefix ends by including the next level's.
Every includer is a file of the scanned tree, read as text; nothing runs.
"""

from __future__ import annotations

import os
import re

from ..source import read_tree_text
from .headerindex import HEADER_EXTENSIONS, HeaderIndex, Inclusion
from .textscan import blank_comments_and_strings

MAX_DEPTH = 8
CONTEXT_SUFFIX = ".ftaudit-context.h"
_COMMENT = re.compile(r"""//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""", re.S)
_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*(\w*)")


def _blank_comments(text: str) -> str:
    """`text` with its comments blanked (newlines kept), its string literals kept."""

    def blank(m: re.Match[str]) -> str:
        s = m.group()
        return s if s[0] in "\"'" else re.sub(r"[^\n]", " ", s)

    return _COMMENT.sub(blank, text)


def directive_prefix(text: str, line: int, then: str = "") -> str:
    """The preprocessor directives of `text` before its line `line` (1-based), with their
    continuation lines and without comments; every other line is left empty, so line numbers are
    kept. Then the line `then` (where `line` was: inside the conditionals open there), and an
    `#endif` for each of them (an include inside an `#if`)."""
    lines = _blank_comments(text).split("\n")[: max(0, line - 1)]
    out: list[str] = []
    depth = 0
    continued = False
    for ln in lines:
        m = _DIRECTIVE.match(ln)
        keep = continued or m is not None
        if m is not None and not continued:
            depth = _nested(depth, m.group(1))
        out.append(ln if keep else "")
        continued = keep and ln.rstrip().endswith("\\")
    if continued:
        out.append("")
    return _closed("\n".join(out), then, depth)


def code_prefix(text: str, line: int, then: str = "") -> str | None:
    """All of `text` before its line `line` (1-based), code and directives, then the line `then` (in
    the conditionals open there), and an `#endif` for each of them; None when that point is inside
    braces (an include in a function body or an initialiser: what comes before is no file-scope
    context)."""
    lines = text.split("\n")[: max(0, line - 1)]
    clean = blank_comments_and_strings("\n".join(lines))
    depth = braces = 0
    continued = False
    for ln in clean.split("\n"):
        m = _DIRECTIVE.match(ln)
        if m is not None and not continued:
            depth = _nested(depth, m.group(1))
        elif not continued:
            braces += ln.count("{") - ln.count("}")
        continued = (continued or m is not None) and ln.rstrip().endswith("\\")
    return None if braces else _closed("\n".join(lines), then, depth)


def _nested(depth: int, kind: str) -> int:
    """The depth of open conditionals after a directive of `kind` (`if`, `endif`, `define`...)."""
    if kind in ("if", "ifdef", "ifndef"):
        return depth + 1
    return max(0, depth - 1) if kind == "endif" else depth


def _closed(body: str, then: str, depth: int) -> str:
    """`body`, then the line `then` (if any), then an `#endif` for each of `depth` open conditionals."""
    return body + "\n" + (then + "\n" if then else "") + "#endif\n" * depth


def context_path(includer: str) -> str:
    """The in-memory file standing for `includer`'s lines before its include: in the includer's
    directory, so that its quoted includes resolve as the includer's do."""
    return os.path.join(os.path.dirname(includer), "." + os.path.basename(includer) + CONTEXT_SUFFIX)


def includer_chain(index: HeaderIndex, header: str, source: bool = False) -> list[Inclusion]:
    """The includers of `header`, innermost first: its includer, that one's includer while it is a
    header (`source`: while anything includes it, a source too: cffi's `ffi_obj.c` <-
    `cffi1_module.c` <- `_cffi_backend.c`), up to a source file or MAX_DEPTH levels; [] when
    nothing in the project includes it."""
    chain: list[Inclusion] = []
    seen = {os.path.realpath(header)}
    current = header
    while len(chain) < MAX_DEPTH:
        inc = index.includer_of(current)
        if inc is None or inc.includer in seen:
            break
        chain.append(inc)
        seen.add(inc.includer)
        if not source and os.path.splitext(inc.includer)[1].lower() not in HEADER_EXTENSIONS:
            break
        current = inc.includer
    return chain


def context_files(chain: list[Inclusion], source: bool = False) -> list[tuple[str, str]] | None:
    """(in-memory path, text) of the prefix files of `chain` (innermost first), outermost first:
    each level's directive prefix, which then includes the next level's file. `source`: the file
    the chain leads to is a source file, whose includer's code before the include is its context
    too (`code_prefix`, when at file scope). None when an includer cannot be read."""
    files: list[tuple[str, str]] = []
    inner = ""
    for inc in chain:
        try:
            text = read_tree_text(inc.includer)
        except OSError:
            return None
        then = f'#include "{inner}"' if inner else ""
        whole = code_prefix(text, inc.line, then) if source else None
        prefix = whole if whole is not None else directive_prefix(text, inc.line, then)
        inner = context_path(inc.includer)
        files.append((inner, prefix))
    return files[::-1]
