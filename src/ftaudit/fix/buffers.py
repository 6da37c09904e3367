"""The FT206 edit: an object-allocator buffer's calls renamed to their `PyMem_*` forms.

The rule decides (rules/_buffers.py, from the pointer-flow facts) whether the buffer stays inside its
function and lists the position of every call on it (`Finding.fix`); here each position must hold,
in the file as read now, one of the object-domain names of `PYMEM_FORM` followed by `(`. That check
is also what keeps an edit of a template (numpy `.c.src`) to positions that map exactly onto the
template's own text: a position that lands on a substituted value or elsewhere is refused.
"""

from __future__ import annotations

import re

from ..findings import Finding
from ..rules._buffers import PYMEM_FORM
from .edits import Edit, EditError, FileText

_CALLEE = re.compile(r"([A-Za-z_]\w*)\s*\(")


def _line_offsets(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def edits_for(ft: FileText, finding: Finding, starts: list[int] | None = None) -> list[Edit]:
    """The renaming edits of one FT206 finding in `ft` (positions: 1-based lines, byte columns).
    Raises EditError when a position does not hold an object-allocator call (the file changed, or a
    template maps it elsewhere)."""
    starts = starts if starts is not None else _line_offsets(ft.text)
    out = []
    for s in finding.fix:
        if not 0 < s.line <= len(starts):
            raise EditError(f"line {s.line} is not where the scan found it (the file changed?)")
        end = starts[s.line] if s.line < len(starts) else len(ft.text)
        line = ft.text[starts[s.line - 1] : end].encode("utf-8")
        if not 0 < s.col <= len(line):
            raise EditError(f"line {s.line} is not where the scan found it (the file changed?)")
        try:  # columns count bytes (libclang, tree-sitter); the text counts code points
            at = starts[s.line - 1] + len(line[: s.col - 1].decode("utf-8"))
        except UnicodeDecodeError as err:
            raise EditError(f"line {s.line}: the position found falls inside a character") from err
        m = _CALLEE.match(ft.text, at)
        if m is None or m.group(1) not in PYMEM_FORM:
            raise EditError(
                f"line {s.line}: no object-allocator call at the position the scan found (a macro or template?)"
            )
        out.append(Edit(at, len(m.group(1)), PYMEM_FORM[m.group(1)]))
    return out
