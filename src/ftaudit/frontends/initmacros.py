"""Module init functions named by a macro of the scanned tree, for tree-sitter.

psycopg2 names its init function through a compatibility macro of one of its headers:

    #define INIT_MODULE(m) PyInit_ ## m          (psycopg/python.h)
    PyMODINIT_FUNC
    INIT_MODULE(_psycopg)(void) { ... }          (psycopg/psycopgmodule.c)

libclang expands it when it finds the header; tree-sitter sees a function named `INIT_MODULE`, so the
module's init and every helper only it calls (`typecast_init`, `basic_errors_init`) were taken as code
that runs after import. The other spelling puts the whole head in the macro:

    #define MOD_INIT(name) PyMODINIT_FUNC PyInit_##name(void)
    MOD_INIT(foo) { ... }

This module finds such macros: a function-like macro of one parameter whose body is only
`[PyMODINIT_FUNC] PyInit_ ## param [(void)]`, defined in the file or in a header it includes with
quotes, found in the includer's directory or through the project header index (headerindex.py), inside
the scan roots only (no absolute name, no `..`, a symlink resolved and checked), read bounded
(MAX_HEADERS headers, MAX_HEADER_BYTES each, MAX_DEPTH includes deep). Headers are followed only when
the file heads a line with an upper-case macro call that could be such a definition, and no definition
of it is in the file. Nothing is expanded or run: the macro's name and its body's shape are all that
is read.
"""

from __future__ import annotations

import os
import re

from ..safeio import within
from ..source import read_tree_text
from .headerindex import HeaderIndex
from .includes import include_lines
from .textscan import blank_comments_and_strings

MAX_HEADERS = 64
MAX_DEPTH = 6
MAX_HEADER_BYTES = 1 << 20

# `#define NAME(p) body`, continuation lines joined before matching.
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\([ \t]*([A-Za-z_]\w*)[ \t]*\)[ \t]+(.*)$", re.M)
_BODY = re.compile(r"(?:PyMODINIT_FUNC\s+)?PyInit_\s*##\s*([A-Za-z_]\w*)\s*(\(\s*(?:void)?\s*\))?")
# A line heading a function definition with an upper-case macro call: `INIT_MODULE(_psycopg)(void)`,
# `PyMODINIT_FUNC INIT_MODULE(x)(void) {`, `MOD_INIT(foo)` (its `{` on this line or the next).
_HEAD = re.compile(
    r"^(?:[A-Za-z_]\w*[ \t]+)*([A-Z][A-Z0-9_]*)\([ \t]*[A-Za-z_]\w*[ \t]*\)[ \t]*"
    r"(?:\([ \t]*(?:void)?[ \t]*\)[ \t]*)?(?:\{[ \t]*)?$",
    re.M,
)


def macros_in(text: str) -> dict[str, bool]:
    """The init-naming macros `text` defines: name -> whether the body holds the parameter list too
    (`MOD_INIT(name) PyMODINIT_FUNC PyInit_##name(void)`: the use is the whole head) or not
    (`INIT_MODULE(m) PyInit_ ## m`: the use is the declarator's name, its `(void)` follows)."""
    clean = blank_comments_and_strings(text).replace("\\\r\n", "  ").replace("\\\n", " ")
    out: dict[str, bool] = {}
    for m in _DEFINE.finditer(clean):
        body = _BODY.fullmatch(m.group(3).strip())
        if body is not None and body.group(1) == m.group(2):
            out[m.group(1)] = body.group(2) is not None
    return out


def _defined_names(text: str) -> set[str]:
    return {m.group(1) for m in _DEFINE.finditer(blank_comments_and_strings(text))}


def _header(includer_dir: str, name: str, index: HeaderIndex) -> str | None:
    """The real path of the quoted include `name` of a file in `includer_dir`: beside it, else where the
    project header index finds it; None outside the scan roots, for an absolute or climbing name."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or os.path.isabs(name):
        return None
    for base in (includer_dir, index.resolve(includer_dir, name)):
        if base is None:
            continue
        path = os.path.realpath(os.path.join(base, *parts))
        if os.path.isfile(path) and any(within(path, b) for b in index.boundaries):
            return path
    return None


def init_macros(path: str, text: str, index: HeaderIndex | None) -> tuple[dict[str, bool], list[str]]:
    """The init-naming macros (see `macros_in`) a C/C++ file at `path` with `text` may use in a function
    head, and the headers read to find them (for the cache: an edit to one changes the unit).
    `index`: the scan's header index, None to read the file alone."""
    clean = blank_comments_and_strings(text)
    heads = {m.group(1) for m in _HEAD.finditer(clean)}
    if not heads:
        return {}, []
    own = macros_in(text)
    wanted = heads - _defined_names(text)
    found = {k: v for k, v in own.items() if k in heads}
    read: list[str] = []
    if not wanted or index is None:
        return found, read
    here = os.path.realpath(path)
    queue = [(os.path.dirname(here), n, 1) for n, quoted, _, _ in include_lines(text) if quoted]
    seen = {here}
    while queue and wanted and len(read) < MAX_HEADERS:
        includer_dir, name, depth = queue.pop(0)
        header = _header(includer_dir, name, index)
        if header is None or header in seen:
            continue
        seen.add(header)
        try:
            htext = read_tree_text(header, MAX_HEADER_BYTES)
        except (OSError, ValueError):
            continue
        read.append(header)
        for macro, whole in macros_in(htext).items():
            if macro in wanted:
                found[macro] = whole
                wanted.discard(macro)
        if depth < MAX_DEPTH:
            queue += [(os.path.dirname(header), n, depth + 1) for n, quoted, _, _ in include_lines(htext) if quoted]
    return found, read


def expanded_name(macros: dict[str, bool], macro: str, argument: str, whole: bool) -> str | None:
    """The function name `macro(argument)` gives, used as a declarator name (`whole` False) or as the
    whole head (`whole` True); None when `macro` is not an init-naming macro of that use."""
    if macro not in macros or macros[macro] != whole or not re.fullmatch(r"[A-Za-z_]\w*", argument):
        return None
    return f"PyInit_{argument}"
