"""The text a template expands to, and where each piece of it came from in the template.

An `Emitter` collects the output of a template expander piece by piece: text
copied from the template (`verbatim`: each output column maps to its template
column) and substituted values (`value`: every column maps to the position of
the placeholder). `Expansion.position` maps an output (line, column) back to
the template, and `remap` moves every `Span` of a fact (and the generated
file's name) back onto the template, so findings point at template lines.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import cache
from typing import Any, NamedTuple

from ..facts import Span


class TemplateError(Exception):
    """A template ftaudit cannot expand (malformed, or using a construct it refuses to evaluate).

    `line` is the template line it concerns (1-based), when known; `limit` marks an
    expansion that grew past the size allowed (a `limit` problem, not a malformed file)."""

    def __init__(self, message: str, line: int | None = None, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.limit = limit


class _Segment(NamedTuple):
    """A run of one output line: from output column `out` on, template (line, column) `line`, `col`
    (0-based column); `verbatim` runs advance with the output, substituted ones stay at the placeholder."""

    out: int
    line: int
    col: int
    verbatim: bool


@dataclass
class Expansion:
    """The expanded text and, per output line, its segments (in output column order)."""

    text: str
    segments: list[list[_Segment]]
    # each output line's segment starts, built on first use (a template's facts ask the same lines often)
    _starts: dict[int, list[int]] = field(default_factory=dict, repr=False, compare=False)

    def position(self, line: int, col: int) -> tuple[int, int]:
        """The template (line, column), both 1-based, of output `line`, `col` (1-based)."""
        if not self.segments:
            return line, col
        n = min(max(line, 1), len(self.segments)) - 1
        segs = self.segments[n]
        starts = self._starts.get(n)
        if starts is None:
            starts = self._starts[n] = [s.out for s in segs]
        c = max(col - 1, 0)
        i = bisect_right(starts, c) - 1
        s = segs[max(i, 0)]
        return s.line, s.col + 1 + (c - s.out if s.verbatim and c >= s.out else 0)

    def span(self, span: Span) -> Span:
        line, col = self.position(span.line, span.col)
        end_line, end_col = self.position(span.end_line, max(span.end_col - 1, 1))
        end_col += 1
        if (end_line, end_col) <= (line, col):
            end_line, end_col = line, col + 1
        return Span(line, col, end_line, end_col)


class Emitter:
    """Builds an `Expansion` from pieces of `source` (the template's text). Raises TemplateError
    (limit) when the output passes `limit` characters: nested repeats multiply."""

    def __init__(self, source: str, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.starts = [0]
        at = source.find("\n")
        while at != -1:
            self.starts.append(at + 1)
            at = source.find("\n", at + 1)
        self.lines: list[str] = []
        self.segments: list[list[_Segment]] = []
        self._cur: list[str] = []
        self._cur_len = 0
        self._cur_segs: list[_Segment] = []
        self._size = 0

    def where(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based column) of a template offset."""
        i = bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i]

    def verbatim(self, lo: int, hi: int) -> None:
        """Copy the template's text `source[lo:hi]`."""
        pos = lo
        line = self.where(lo)[0]
        source, starts = self.source, self.starts
        while pos < hi:
            nl = source.find("\n", pos, hi)
            end = hi if nl == -1 else nl
            if end > pos:
                self._piece(source[pos:end], pos, True, line, pos - starts[line - 1])
            if nl == -1:
                break
            self.newline(nl, line)
            pos = nl + 1
            line += 1

    def value(self, text: str, at: int) -> None:
        """Emit a substituted value, mapped to the placeholder at template offset `at`."""
        for i, part in enumerate(text.split("\n")):
            if i:
                self.newline(at)
            if part:
                self._piece(part, at, False)

    def _piece(self, text: str, at: int, verbatim: bool, line: int = 0, col: int = 0) -> None:
        self._size += len(text)
        if self._size > self.limit:
            raise TemplateError(f"the expansion is larger than {self.limit} characters", self.where(at)[0], True)
        if not line:
            line, col = self.where(at)
        self._cur_segs.append(_Segment(self._cur_len, line, col, verbatim))
        self._cur.append(text)
        self._cur_len += len(text)

    def newline(self, at: int, line: int = 0) -> None:
        """End the output line; a line with nothing on it maps to template offset `at` (on `line`)."""
        if not self._cur_segs:
            if not line:
                line = self.where(at)[0]
            self._cur_segs.append(_Segment(0, line, at - self.starts[line - 1], False))
        self.lines.append("".join(self._cur))
        self.segments.append(self._cur_segs)
        self._cur, self._cur_len, self._cur_segs = [], 0, []
        self._size += 1

    def finish(self) -> Expansion:
        if self._cur:
            self.newline(len(self.source))
        return Expansion("\n".join(self.lines) + "\n", self.segments)


def remap(obj: Any, expansion: Expansion, generated: str, template: str) -> Any:
    """A copy of a fact (or a list, tuple or dict of facts) with every Span moved onto the template
    and every `path` field naming the generated file renamed to the template."""
    if obj is None or type(obj) in _LEAVES:  # most fields: nothing to move, so no test below needed
        return obj
    if isinstance(obj, Span):
        return expansion.span(obj)
    if isinstance(obj, list):
        return [remap(x, expansion, generated, template) for x in obj]
    if isinstance(obj, tuple):
        moved = (remap(x, expansion, generated, template) for x in obj)
        return type(obj)(*moved) if hasattr(obj, "_fields") else tuple(moved)  # named tuples keep their type
    if isinstance(obj, dict):
        return {k: remap(v, expansion, generated, template) for k, v in obj.items()}
    if is_dataclass(obj) and not isinstance(obj, type):
        changes = {name: remap(getattr(obj, name), expansion, generated, template) for name in _field_names(type(obj))}
        if changes.get("path") == generated:
            changes["path"] = template
        if "line" in changes and isinstance(changes["line"], int) and not isinstance(changes["line"], bool):
            changes["line"] = expansion.position(changes["line"], 1)[0]  # Problem.line
        return replace(obj, **changes)
    return obj


_LEAVES = frozenset({str, int, float, bool, bytes})


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    """The field names of the dataclass `cls`, looked up once per class."""
    return tuple(f.name for f in fields(cls))
