"""GitHub Actions workflow commands: findings as annotations on the pull request diff.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from ..catalogue import Catalogue
from ..names import clean, display
from ..scan import ScanResult

_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def _data(text: str) -> str:
    """A command's message: the runner decodes %25, %0D, %0A; other control characters are escaped."""
    return clean(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """A property value (file=, title=): also `:` and `,`, which would end it."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, catalogue: Catalogue) -> str:
    lines = []
    for f in result.counted:
        s = f.span
        props = ",".join(
            [
                # Escaped as in every other output: a newline in a name is `\n`, not a line break.
                f"file={_prop(display(f.path))}",
                f"line={s.line}",
                f"col={s.col}",
                f"endLine={s.end_line}",
                f"endColumn={s.end_col}" if s.end_line == s.line else f"endColumn={s.col}",
                f"title={_prop(f'{f.rule} {catalogue.rules[f.rule].name}')}",
            ]
        )
        lines.append(f"::{_COMMAND[f.level]} {props}::{_data(f.text)}")
    return "\n".join(lines) + ("\n" if lines else "")
