"""Columns in the unit SARIF declares: UTF-16 code units (`columnKind: utf16CodeUnits`, GitHub's default).

ftaudit's own columns are those of each file's compiler, 1-based: UTF-8 byte
offsets for C and C++ (libclang and tree-sitter count bytes, as clang's
diagnostics do) and code points for Cython (Cython's scanner counts
characters). `/* é日本😀 */` before a token is 15 bytes, 9 code points and
10 UTF-16 code units: each reader needs its own unit, so SARIF gets the one it
declares (SARIF 2.1.0 §3.30.2, `run.columnKind`).
"""

from __future__ import annotations

from ..facts import Span
from ..fingerprint import LineReader


class Utf16Columns:
    """Converts spans of the scanned files to UTF-16 code-unit columns, reading each line once."""

    def __init__(self, reader: LineReader, code_point_paths: set[str]) -> None:
        """`code_point_paths`: files whose columns count code points (Cython); others count UTF-8 bytes."""
        self.reader = reader
        self.code_points = code_point_paths

    def column(self, path: str, line: int, col: int) -> int:
        """The 1-based UTF-16 column of 1-based `col` on 1-based `line` of `path` (as is for ASCII).
        A column past the end of the line (an end column) stays past it by as many units."""
        raw = self.reader.raw(path, line)
        if col <= 1 or raw.isascii():
            return col
        units: bytes | str = raw.decode("utf-8", errors="replace") if path in self.code_points else raw
        before = units[: col - 1]
        text = before if isinstance(before, str) else before.decode("utf-8", errors="replace")
        past_end = max(0, col - 1 - len(units))
        return len(text.encode("utf-16-le", errors="surrogatepass")) // 2 + past_end + 1

    def span(self, path: str, span: Span) -> Span:
        return Span(
            span.line,
            self.column(path, span.line, span.col),
            span.end_line,
            self.column(path, span.end_line, span.end_col),
        )
