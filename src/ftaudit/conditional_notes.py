"""Findings from code libclang's configuration left out say which condition that code depends on.

A function under `#ifdef HAVE_LIBFOO` is analysed although the build flags
ftaudit was given do not define `HAVE_LIBFOO` (frontends/inactive.py); its
finding is real only in builds that do, so the message says so. The regions
come from `Unit.conditional`; a finding counts as from one when its own
location or one of its related locations (a write in such a function) lies in
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .facts import Span, Unit
from .findings import Finding


def name_conditions(findings: list[Finding], units: Sequence[Unit]) -> list[Finding]:
    """`findings`, those from conditional code with ` (in code compiled only under `#ifdef X`)` added."""
    regions: dict[str, list[tuple[int, int, str]]] = {u.path: u.conditional for u in units if u.conditional}
    if not regions:
        return findings
    out = []
    for f in findings:
        conds = _conditions(regions.get(f.path, []), f.span)
        for r in f.related:
            conds += [c for c in _conditions(regions.get(r.path or f.path, []), r.span) if c not in conds]
        if conds:
            where = " / ".join(f"`{c}`" for c in conds)
            f = replace(f, message=f"{f.message} (in code compiled only under {where})")
        out.append(f)
    return out


def _conditions(regions: list[tuple[int, int, str]], span: Span) -> list[str]:
    found: list[str] = []
    for first, last, cond in regions:
        if first <= span.line <= last and cond not in found:
            found.append(cond)
    return found
