"""Machine-readable JSON output (stable keys, documented in docs/output.md).

Paths are shown as in the text output (names.display): a name that is not UTF-8 would
otherwise be a lone surrogate, which JSON parsers reject or mangle."""

from __future__ import annotations

import json
from dataclasses import asdict

from .. import __version__
from ..catalogue import Catalogue
from ..names import clean, display
from ..scan import ScanResult


def render(result: ScanResult, catalogue: Catalogue) -> str:
    doc = {
        "tool": "ftaudit",
        "version": __version__,
        "root": display(result.root),
        "rules": result.rules,
        "files": [{**asdict(r), "path": display(r.path)} for r in result.files],
        "findings": [
            {
                "rule": f.rule,
                "name": catalogue.rules[f.rule].name,
                "level": f.level,
                "path": display(f.path),
                "line": f.span.line,
                "column": f.span.col,
                "end_line": f.span.end_line,
                "end_column": f.span.end_col,
                "function": f.function,
                "message": f.text,
                "short_message": f.message,
                "related": [
                    {"path": display(r.path or f.path), "line": r.span.line, "column": r.span.col, "message": r.message}
                    for r in f.related
                ],
                "fingerprint": f.fingerprint,
                "suppressed": None
                if f.suppression is None
                else {
                    "kind": f.suppression.kind,
                    "justification": f.suppression.justification,
                    "origin": f.suppression.origin,
                },
            }
            for f in result.findings
        ],
        "problems": [{**asdict(p), "path": display(p.path), "message": clean(p.message)} for p in result.problems],
        "tool_errors": result.tool_errors,
        "summary": {
            "findings": len(result.counted),
            "suppressed": len(result.findings) - len(result.counted),
            "unused_ignores": result.unused_ignores,
            "baseline_fixed": result.baseline_fixed,
        },
        "set_aside": [{**asdict(s), "directory": display(s.directory)} for s in result.set_aside],
    }
    return json.dumps(doc, indent=2) + "\n"
