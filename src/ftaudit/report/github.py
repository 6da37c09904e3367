"""GitHub Actions workflow commands: findings as annotations on the pull request diff.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from ..catalogue import Catalogue
from ..scan import ScanResult

_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, catalogue: Catalogue) -> str:
    lines = []
    for f in result.counted:
        s = f.span
        props = ",".join(
            [
                f"file={_prop(f.path)}",
                f"line={s.line}",
                f"col={s.col}",
                f"endLine={s.end_line}",
                f"endColumn={s.end_col}" if s.end_line == s.line else f"endColumn={s.col}",
                f"title={_prop(f'{f.rule} {catalogue.rules[f.rule].name}')}",
            ]
        )
        lines.append(f"::{_COMMAND[f.level]} {props}::{_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
