"""Text edits of one file: what `ftaudit scan --fix` writes and `--diff` shows.

An `Edit` replaces `length` characters (code points, not bytes) at `offset` of a file's text with
`text`. Edits of one file must not overlap; they are applied back to front, so every offset refers
to the original text. Files are read as UTF-8 (a file that is not is never edited) and written back
with the newline style they had.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from ..safeio import UnsafeFileError, read_regular, within, write_atomic

MAX_BYTES = 8 * 1024 * 1024  # files the scan reads are smaller than this by default


class EditError(Exception):
    """A file cannot be edited safely (outside the scanned roots, not a regular file, not UTF-8,
    changed since it was read, or edits that overlap); the message says which."""


@dataclass(frozen=True)
class Edit:
    """Replace `length` code points at `offset` (0-based, in the text as read) with `text`."""

    offset: int
    length: int
    text: str


@dataclass(frozen=True)
class FileText:
    """A file as read for editing: its path, its text, and its newline (`\\n` or `\\r\\n`)."""

    path: Path
    text: str
    newline: str


def read_text(path: Path, roots: list[Path]) -> FileText:
    """The text of a scanned file that may be edited. Raises EditError."""
    real = os.path.realpath(path)
    if not any(within(real, os.path.realpath(r)) for r in roots):
        raise EditError(f"{path}: outside the scanned directories, not edited")
    if os.path.islink(path):
        raise EditError(f"{path}: a symbolic link, not edited")
    try:
        data = read_regular(path, MAX_BYTES)
    except UnsafeFileError as err:
        raise EditError(f"{path}: {err.strerror}, not edited") from err
    except OSError as err:
        raise EditError(f"{path}: cannot read it ({err.strerror or err}), not edited") from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise EditError(f"{path}: not UTF-8, not edited") from err
    newline = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    return FileText(path, text, newline)


def apply(text: str, edits: list[Edit]) -> str:
    """`text` with `edits` applied. Raises EditError when two edits overlap."""
    out = text
    last = len(text) + 1
    for e in sorted(edits, key=lambda e: (e.offset, e.length), reverse=True):
        if e.offset + e.length > last or e.offset < 0 or e.offset + e.length > len(text):
            raise EditError("overlapping edits")
        out = out[: e.offset] + e.text + out[e.offset + e.length :]
        last = e.offset
    return out


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff of one file (`a/PATH`, `b/PATH` headers, as git and ruff print them; an absolute
    PATH loses its leading slash there, as `git diff --no-index` writes it)."""
    shown = path.replace(os.sep, "/").lstrip("/")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
    )
    out = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return out


def write(ft: FileText, after: str) -> None:
    """Write the edited text back, unless the file changed since it was read. Raises EditError."""
    try:
        now = read_regular(ft.path, MAX_BYTES).decode("utf-8", "replace")
    except OSError as err:
        raise EditError(f"{ft.path}: cannot read it again ({err}), not edited") from err
    if now != ft.text:
        raise EditError(f"{ft.path}: changed while ftaudit ran, not edited")
    try:
        mode = os.stat(ft.path).st_mode & 0o777
        write_atomic(ft.path, after.encode("utf-8"), mode)
    except OSError as err:
        raise EditError(f"{ft.path}: cannot write it ({err.strerror or err})") from err
