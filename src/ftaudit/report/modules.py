"""`ftaudit modules` reports: text, JSON and Markdown (HTML: modules_html.py).

In: the scan's result (its `modules` and findings, paths relative to the root); each writer
returns the report as a string. Modules are listed most urgent first (declared but hazardous,
blocked, ready to declare, ready), then by name. Names and paths go through names.display.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .. import __version__
from ..names import clean, display
from ..readiness import BLOCKED, DECLARED_HAZARDOUS, READY, READY_TO_DECLARE, Readiness, readiness
from ..scan import ScanResult

_ORDER = {DECLARED_HAZARDOUS: 0, BLOCKED: 1, READY_TO_DECLARE: 2, READY: 3}


def ordered(result: ScanResult) -> list[Readiness]:
    """The readiness of every module of the scan, most urgent first, then by name and path."""
    items = readiness(result.modules, result.findings)
    return sorted(items, key=lambda r: (_ORDER[r.verdict], r.module.name, r.module.path, r.module.span.line))


def verdict_text(r: Readiness) -> str:
    """The verdict with its hazard count: `blocked (12 hazards)`."""
    if r.verdict in (BLOCKED, DECLARED_HAZARDOUS):
        return f"{r.verdict} ({len(r.hazards)} hazard{'s' if len(r.hazards) != 1 else ''})"
    return r.verdict


def _rules(counts: dict[str, int]) -> str:
    return ", ".join(f"{rid} x{n}" for rid, n in counts.items()) or "none"


def summary(items: Sequence[Readiness]) -> str:
    counts = {v: sum(1 for r in items if r.verdict == v) for v in _ORDER}
    return f"{len(items)} module(s): " + ", ".join(f"{n} {v}" for v, n in counts.items())


def render_text(result: ScanResult) -> str:
    items = ordered(result)
    lines: list[str] = []
    for r in items:
        m = r.module
        lines.append(
            f"{display(m.name)}  {verdict_text(r)}  [{m.state}; {m.kind.value}; {display(m.path)}:{m.span.line}]"
        )
        lines.append(f"  files ({len(m.files)}):")
        lines += [f"    {display(f.path)}  ({', '.join(f.via)})" for f in m.files]
        for b in m.builds:
            complete = "" if b.complete else ", some sources not literals"
            lines.append(f"  build: {display(b.path)}:{b.line} ({b.kind}{complete})")
        lines.append(f"  findings: {_rules(r.by_rule())}")
        for rule, path, n in r.hazard_places():
            lines.append(f"  hazard: {rule} x{n} in {display(path)}")
        lines += [f"  note: {clean(n)}" for n in m.notes]
    lines.append(summary(items))
    return "\n".join(lines) + "\n"


def as_dict(r: Readiness) -> dict[str, object]:
    m = r.module
    return {
        "name": display(m.name),
        "kind": m.kind.value,
        "path": display(m.path),
        "line": m.span.line,
        "declaration": m.state,
        "verdict": r.verdict,
        "files": [{"path": display(f.path), "via": list(f.via)} for f in m.files],
        "build": [
            {
                "path": display(b.path),
                "line": b.line,
                "kind": b.kind,
                "options": list(b.options),
                "complete": b.complete,
            }
            for b in m.builds
        ],
        "findings": r.by_rule(),
        "hazards": len(r.hazards),
        "hazards_by_family": r.by_family(),
        "hazard_places": [{"rule": rule, "path": display(path), "count": n} for rule, path, n in r.hazard_places()],
        "notes": [clean(n) for n in m.notes],
    }


def render_json(result: ScanResult) -> str:
    doc = {
        "tool": "ftaudit",
        "version": __version__,
        "root": display(result.root),
        "modules": [as_dict(r) for r in ordered(result)],
    }
    return json.dumps(doc, indent=2) + "\n"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: no pipe, no newline, no HTML."""
    return clean(text).replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def render_markdown(result: ScanResult) -> str:
    items = ordered(result)
    lines = [
        "| module | defined in | declaration | files | findings by rule | verdict |",
        "|---|---|---|---:|---|---|",
    ]
    for r in items:
        m = r.module
        lines.append(
            f"| `{_cell(display(m.name))}` | `{_cell(display(m.path))}:{m.span.line}` | {m.state} | {len(m.files)} "
            f"| {_cell(_rules(r.by_rule()))} | **{verdict_text(r)}** |"
        )
    lines += ["", summary(items)]
    blocked = [r for r in items if r.hazards]
    if blocked:
        lines += ["", "### Hazards left, by rule and file"]
        for r in blocked:
            lines += ["", f"**`{_cell(display(r.module.name))}`** ({verdict_text(r)}):", ""]
            lines += [f"- {rule} x{n} in `{_cell(display(path))}`" for rule, path, n in r.hazard_places()]
    return "\n".join(lines) + "\n"
