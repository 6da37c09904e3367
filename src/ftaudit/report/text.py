"""Compiler-style text output in two forms, as ruff's, with summaries by rule and by directory.

`concise`: one line a finding, the short message (Finding.message) without the rule's name.
`full` (the default): that line with the rule's name, the code frame with a caret under the
span, the why-and-fix (Finding.detail) as `= help:` and the related locations.
Colour only when asked for or on a terminal (cli.use_colour); the words never depend on it.
"""

from __future__ import annotations

import posixpath
import textwrap
from collections import Counter
from dataclasses import dataclass

import click

from ..catalogue import Catalogue
from ..facts import Problem
from ..findings import Finding
from ..fingerprint import LineReader
from ..names import clean, display
from ..scan import ScanResult
from .causes import cause_lines

_LEVEL_COLOURS = {"error": "red", "warning": "yellow", "note": "cyan"}
_MAX_DIRS = 15
FORMS = ("full", "concise")
_TAB = "    "
_HELP_WIDTH = 100


@dataclass(frozen=True)
class Style:
    colour: bool = False

    def level(self, level: str, text: str) -> str:
        return click.style(text, fg=_LEVEL_COLOURS.get(level), bold=True) if self.colour else text

    def dim(self, text: str) -> str:
        return click.style(text, dim=True) if self.colour else text

    def bold(self, text: str) -> str:
        return click.style(text, bold=True) if self.colour else text


def problem_line(p: Problem, style: Style = Style()) -> str:
    """One line whatever the file's name or the message quotes (names are escaped: see names.py)."""
    where = f"{display(p.path)}:{p.line}" if p.line else display(p.path)
    return f"{style.bold(where)}: {style.level(p.level, p.level)}: {clean(p.message)} [{p.code}]"


def _finding_lines(f: Finding, catalogue: Catalogue, style: Style, frame: Frames | None) -> list[str]:
    """The lines of one finding: one (concise, `frame` None) or the full form."""
    where = style.bold(f"{display(f.path)}:{f.span.line}:{f.span.col}:")
    tail = ""
    if f.suppression is not None:
        why = f.suppression.justification or f.suppression.kind
        tail = style.dim(f" (suppressed: {why})")
    head = f"{where} {style.level(f.level, f.rule)} {clean(f.message)}"
    if frame is None:
        return [f"{head}{clean(tail)}"]
    lines = [f"{head} [{catalogue.rules[f.rule].name}]{clean(tail)}"]
    lines += frame.lines(f, style)
    if f.detail:
        wrapped = textwrap.wrap(clean(f.detail), _HELP_WIDTH, break_on_hyphens=False, break_long_words=False)
        lines += [f"  = help: {wrapped[0]}", *(f"          {w}" for w in wrapped[1:])]
    lines += [
        style.dim(f"    {display(r.path or f.path)}:{r.span.line}:{r.span.col}: note: {clean(r.message)}")
        for r in f.related
    ]
    return [*lines, ""]


class Frames:
    """Code frames: the finding's line with a caret under its span (to the end of the line when the
    span goes on). Columns are UTF-8 bytes for C and C++, code points for Cython (see columns.py);
    tabs print as four spaces, so the caret stays under the code."""

    def __init__(self, reader: LineReader, code_point_paths: set[str]) -> None:
        self.reader = reader
        self.code_points = code_point_paths

    def _chars(self, path: str, raw: bytes, col: int) -> int:
        """How many characters of the line come before 1-based `col`."""
        if path in self.code_points:
            return col - 1
        return len(raw[: max(0, col - 1)].decode("utf-8", errors="replace"))

    def lines(self, f: Finding, style: Style) -> list[str]:
        raw = self.reader.raw(f.path, f.span.line)
        text = raw.decode("utf-8", errors="replace").rstrip()
        if not text.strip():
            return []
        start = self._chars(f.path, raw, f.span.col)
        end = self._chars(f.path, raw, f.span.end_col) if f.span.end_line == f.span.line else len(text)
        shown = clean(text.replace("\t", _TAB))
        before = clean(text[:start].replace("\t", _TAB))
        marked = clean(text[start : max(end, start + 1)].replace("\t", _TAB))
        gutter = " " * len(str(f.span.line))
        caret = " " * len(before) + "^" * max(1, min(len(marked), len(shown) - len(before)))
        return [
            f"{gutter} |",
            f"{f.span.line} | {shown}",
            f"{gutter} | {style.level(f.level, caret)}",
            f"{gutter} |",
        ]


def _by_rule(findings: list[Finding], catalogue: Catalogue, style: Style) -> list[str]:
    counts = Counter(f.rule for f in findings)
    if not counts:
        return []
    width = max(len(catalogue.rules[r].name) for r in counts)
    out = ["", style.bold("By rule:")]
    for rid in sorted(counts):
        info = catalogue.rules[rid]
        out.append(f"  {rid} {info.name:<{width}}  {counts[rid]:>5}  {style.level(info.level, info.level)}")
    return out


def _by_directory(findings: list[Finding], style: Style) -> list[str]:
    counts = Counter(display(posixpath.dirname(f.path) or ".") for f in findings)
    if len(counts) < 2:
        return []
    width = min(60, max(len(d) for d in counts))
    out = ["", style.bold("By directory:")]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out += [f"  {d:<{width}}  {n:>5}" for d, n in ranked[:_MAX_DIRS]]
    if len(ranked) > _MAX_DIRS:
        rest = sum(n for _, n in ranked[_MAX_DIRS:])
        out.append(f"  {f'({len(ranked) - _MAX_DIRS} more)':<{width}}  {rest:>5}")
    return out


def render(
    result: ScanResult,
    catalogue: Catalogue,
    quiet: bool = False,
    show_suppressed: bool = False,
    style: Style = Style(),
    form: str = "full",
) -> str:
    """The text report in `form` (FORMS): findings, then (unless `quiet`) the summaries."""
    shown = [f for f in result.findings if f.counts or show_suppressed]
    frames = None
    if form == "full":
        frames = Frames(LineReader(result.root), {r.path for r in result.files if r.frontend == "cython"})
    out = [line for f in shown for line in _finding_lines(f, catalogue, style, frames)]
    if quiet:
        return "\n".join(out) + ("\n" if out else "")
    counted = result.counted
    out += _by_rule(counted, catalogue, style)
    out += _by_directory(counted, style)
    out += _set_aside(result)
    causes = cause_lines(result.problems, result.files, str(result.root))
    if causes:
        out += ["", *causes]
    out.append(summary(result))
    return "\n".join(out) + "\n"


def _set_aside(result: ScanResult) -> list[str]:
    """One line per directory of vendored or generated code whose findings were not reported."""
    if not result.set_aside:
        return []
    out = [""]
    for s in result.set_aside[:_MAX_DIRS]:
        out.append(f"set aside: {s.count} finding(s) in {display(s.directory)} ({s.reason})")
    if len(result.set_aside) > _MAX_DIRS:
        rest = result.set_aside[_MAX_DIRS:]
        out.append(f"set aside: {sum(s.count for s in rest)} finding(s) in {len(rest)} more directories")
    out.append("  third-party or generated code: --include-vendored reports it, `not-vendored` in the configuration")
    return out


def summary(result: ScanResult) -> str:
    counted = result.counted
    scanned = sum(1 for r in result.files if r.frontend != "skipped")
    noun = "finding" if len(counted) == 1 else "findings"
    parts = [
        f"{len(counted)} {noun} in {len({f.path for f in counted})} file(s); {scanned} file(s) scanned, "
        f"{len(result.files) - scanned} skipped, {len(result.problems)} problem(s)"
    ]
    inline = sum(1 for f in result.findings if f.suppression is not None and f.suppression.kind == "inSource")
    if inline:
        parts.append(f"{inline} suppressed inline")
    if result.baseline_fixed is not None:
        known = sum(1 for f in result.findings if f.suppression is not None and f.suppression.origin == "baseline")
        fixed = result.baseline_fixed
        parts.append(f"{known} in the baseline, {fixed} baseline entr{'y' if fixed == 1 else 'ies'} fixed")
    since = [
        f.suppression.justification
        for f in result.findings
        if f.suppression and f.suppression.origin == "baseline-commit"
    ]
    if since:
        parts.append(f"{len(since)} {since[0]}")
    if result.unused_ignores:
        parts.append(f"{result.unused_ignores} unused ignore comment(s)")
    return "; ".join(parts)
