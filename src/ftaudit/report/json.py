"""Machine-readable JSON output (stable keys, documented in docs/output.md)."""

from __future__ import annotations

import json
from dataclasses import asdict

from .. import __version__
from ..catalogue import Catalogue
from ..scan import ScanResult


def render(result: ScanResult, catalogue: Catalogue) -> str:
    doc = {
        "tool": "ftaudit",
        "version": __version__,
        "root": str(result.root),
        "rules": result.rules,
        "files": [asdict(r) for r in result.files],
        "findings": [
            {
                "rule": f.rule,
                "name": catalogue.rules[f.rule].name,
                "level": f.level,
                "path": f.path,
                "line": f.span.line,
                "column": f.span.col,
                "end_line": f.span.end_line,
                "end_column": f.span.end_col,
                "function": f.function,
                "message": f.message,
                "related": [
                    {"path": r.path or f.path, "line": r.span.line, "column": r.span.col, "message": r.message}
                    for r in f.related
                ],
                "fingerprint": f.fingerprint,
                "suppressed": None
                if f.suppression is None
                else {"kind": f.suppression.kind, "justification": f.suppression.justification},
            }
            for f in result.findings
        ],
        "problems": [asdict(p) for p in result.problems],
        "tool_errors": result.tool_errors,
        "summary": {
            "findings": len(result.counted),
            "suppressed": len(result.findings) - len(result.counted),
            "unused_ignores": result.unused_ignores,
            "baseline_fixed": result.baseline_fixed,
        },
    }
    return json.dumps(doc, indent=2) + "\n"
