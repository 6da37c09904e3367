"""`ftaudit modules --format html`: one self-contained page (inline CSS and SVG, no script, nothing
fetched), one row per module: its name, verdict, declaration, a bar of its hazards coloured by family
(FT1 shared state, FT2 C API, FT3 unsafe calls) and, folded, its files and hazards by rule and file.

Built with the standard library's `html.escape` (every name and path from the scanned tree is
escaped); no template library is needed for one table.
"""

from __future__ import annotations

from html import escape

from .. import __version__
from ..names import clean, display
from ..readiness import FAMILY_NAMES, HAZARD_FAMILIES, Readiness
from ..scan import ScanResult
from .modules import ordered, summary, verdict_text

COLOURS = {"FT1": "#d9480f", "FT2": "#1971c2", "FT3": "#9c36b5"}
VERDICT_CLASSES = {
    "ready": "ready",
    "ready to declare": "todeclare",
    "blocked": "blocked",
    "declared but hazardous": "hazardous",
}
BAR_WIDTH = 320

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#212529;background:#fff}
h1{font-size:1.4em;margin:0 0 .2em}
.meta{color:#495057;margin-bottom:1em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #dee2e6;vertical-align:top}
th{background:#f1f3f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,monospace;font-size:.95em}
.verdict{display:inline-block;padding:.1em .5em;border-radius:.8em;font-weight:600;white-space:nowrap}
.ready{background:#d3f9d8;color:#2b8a3e}.todeclare{background:#e7f5ff;color:#1864ab}
.blocked{background:#fff3bf;color:#8f5b00}.hazardous{background:#ffe3e3;color:#c92a2a}
.legend span{margin-right:1.2em}.sw{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-1px}
details summary{cursor:pointer;color:#495057}
ul{margin:.3em 0;padding-left:1.2em}
"""


def _bar(r: Readiness, most: int) -> str:
    """An inline SVG bar: one segment per hazard family, scaled to the module with the most hazards."""
    fams = r.by_family()
    total = sum(fams.values())
    label = f"{total} hazard(s): " + ", ".join(f"{f} {n}" for f, n in fams.items())
    if not total:
        rects = '<rect x="0" y="4" width="6" height="6" rx="3" fill="#2b8a3e"/>'
    else:
        rects, x = [], 0.0
        for fam in HAZARD_FAMILIES:
            if fams[fam]:
                w = max(2.0, BAR_WIDTH * fams[fam] / most)
                rects.append(f'<rect x="{x:.1f}" y="1" width="{w:.1f}" height="12" fill="{COLOURS[fam]}"/>')
                x += w
        rects = "".join(rects)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{BAR_WIDTH + 4}" height="14" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{rects}</svg>'
    )


def _row(r: Readiness, most: int) -> str:
    m = r.module
    files = "".join(f"<li><code>{escape(display(f.path))}</code> ({escape(', '.join(f.via))})</li>" for f in m.files)
    places = "".join(
        f"<li>{escape(rule)} x{n} in <code>{escape(display(path))}</code></li>" for rule, path, n in r.hazard_places()
    )
    notes = "".join(f"<li>{escape(clean(n))}</li>" for n in m.notes)
    by_rule = ", ".join(f"{rid} x{n}" for rid, n in r.by_rule().items()) or "none"
    detail = f"<details><summary>{len(m.files)} file(s); findings: {escape(by_rule)}</summary><ul>{files}</ul>"
    if places:
        detail += f"<p>Hazards by rule and file:</p><ul>{places}</ul>"
    if notes:
        detail += f"<ul>{notes}</ul>"
    detail += "</details>"
    return (
        f'<tr class="module"><td><code class="name">{escape(display(m.name))}</code><br>'
        f"<small>{escape(display(m.path))}:{m.span.line} ({escape(m.kind.value)})</small></td>"
        f'<td><span class="verdict {VERDICT_CLASSES[r.verdict]}">{escape(verdict_text(r))}</span></td>'
        f"<td>{escape(m.state)}</td><td class='n'>{len(m.files)}</td>"
        f"<td class='n'>{len(r.hazards)}</td><td>{_bar(r, most)}</td></tr>"
        f'<tr class="detail"><td colspan="6">{detail}</td></tr>'
    )


def render_html(result: ScanResult) -> str:
    items = ordered(result)
    most = max((len(r.hazards) for r in items), default=0) or 1
    legend = "".join(
        f'<span><i class="sw" style="background:{COLOURS[f]}"></i>{f} {escape(FAMILY_NAMES[f])}</span>'
        for f in HAZARD_FAMILIES
    )
    rows = "".join(_row(r, most) for r in items)
    meta = f"{escape(display(result.root))} &middot; ftaudit {escape(__version__)} &middot; {escape(summary(items))}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ftaudit: module readiness</title><style>{_CSS}</style></head>
<body><h1>Module readiness for free-threaded Python</h1>
<div class="meta">{meta}</div>
<p class="legend">Hazards: {legend}</p>
<table><thead><tr><th>module</th><th>verdict</th><th>declaration</th><th>files</th><th>hazards</th>
<th>hazards by family</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
