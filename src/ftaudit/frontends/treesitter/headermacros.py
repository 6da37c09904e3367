"""Macros of the headers next to a file, for the tree-sitter frontend, which reads no header.

A lock macro is often defined in a header the module shares with its siblings (python-isal's
`isal_shared.h`: `ENTER_ZLIB(obj)` / `LEAVE_ZLIB(obj)`, copied from CPython's zlibmodule.c). libclang
sees it through the preprocessor; tree-sitter sees a call of an unknown name, so the object's lock
is never taken. This reads the `#define`s of the headers a file includes by a quoted name that
resolves under the file's own directory: nothing outside the scanned tree (no absolute name, no
`..`, no symbolic link, the resolved path inside that directory), at most MAX_HEADERS headers of at
most MAX_HEADER_BYTES bytes each, one level (a header's own includes are not followed). Each header
read is listed in the unit's `depends`, so the cache sees an edit to it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

from ...safeio import read_regular, within
from ..includes import include_lines
from ..textscan import MacroDef, blank_comments_and_strings, defined_macros

MAX_HEADERS = 16
MAX_HEADER_BYTES = 1 << 20


def scan_dirs(roots: Sequence[str | os.PathLike[str]]) -> tuple[str, ...]:
    """The real directories of the scan roots (a file root: its directory), inside which headers are read."""
    dirs = []
    for r in roots:
        real = os.path.realpath(r)
        dirs.append(real if os.path.isdir(real) else os.path.dirname(real))
    return tuple(dirs)


def inside_roots(path: str, allowed: Sequence[str]) -> bool:
    """Whether the directory of `path` lies inside one of `allowed` (scan_dirs): only then are the
    headers beside it read."""
    real = os.path.realpath(os.path.dirname(path) or ".")
    return any(within(real, a) for a in allowed)


def read_header(header: str) -> str | None:
    """The text of a header beside a file: a regular file of at most MAX_HEADER_BYTES, opened without
    following a link (safeio.read_regular), undecodable bytes replaced; None when refused or unreadable."""
    try:
        return read_regular(header, MAX_HEADER_BYTES, follow_symlinks=False).decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def neighbour_headers(path: str, text: str) -> list[str]:
    """The headers `text` (the file at `path`) includes by a quoted name found under its directory, as
    normalised paths, in include order, at most MAX_HEADERS; names that would leave it are skipped."""
    folder = os.path.dirname(path) or "."
    real_folder = os.path.realpath(folder)
    out: list[str] = []
    for name, quoted, _line, _conditional in include_lines(text):
        if len(out) >= MAX_HEADERS:
            break
        parts = name.replace("\\", "/").split("/")
        if not quoted or os.path.isabs(name) or ".." in parts or not name:
            continue
        candidate = os.path.normpath(os.path.join(folder, *parts))
        if os.path.realpath(candidate) != os.path.normpath(os.path.join(real_folder, *parts)):
            continue  # a symbolic link on the way (in or out of the tree: not followed)
        if not os.path.isfile(candidate):
            continue
        if candidate not in out:
            out.append(candidate)
    return out


def header_macros(header: str) -> dict[str, MacroDef]:
    """The macros `header` defines (first definition of each name); {} when it cannot be read safely
    (not a regular file, a symbolic link, over MAX_HEADER_BYTES, unreadable)."""
    try:
        st = os.stat(header, follow_symlinks=False)
    except OSError:
        return {}
    return dict(_macros(header, st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=256)
def _macros(header: str, mtime_ns: int, size: int) -> tuple[tuple[str, MacroDef], ...]:
    """Memoised by the header's mtime and size: a scan reads a shared header once per process."""
    text = read_header(header)
    return tuple(defined_macros(blank_comments_and_strings(text)).items()) if text is not None else ()
