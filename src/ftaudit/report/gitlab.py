"""GitLab code quality report (a CodeClimate-style JSON array) for merge request widgets.

https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
"""

from __future__ import annotations

import json

from ..catalogue import Catalogue
from ..names import display
from ..scan import ScanResult

_SEVERITY = {"error": "critical", "warning": "major", "note": "info"}


def render(result: ScanResult, catalogue: Catalogue) -> str:
    issues = [
        {
            "description": f"{f.rule} {f.text}",
            "check_name": f"{f.rule} {catalogue.rules[f.rule].name}",
            "fingerprint": f.fingerprint,
            "severity": _SEVERITY[f.level],
            "location": {"path": display(f.path), "lines": {"begin": f.span.line, "end": f.span.end_line}},
        }
        for f in result.counted
    ]
    return json.dumps(issues, indent=2) + "\n"
