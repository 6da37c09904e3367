"""The exit code of a scan: 0 clean, 1 findings, 2 usage or tool error.

`--fail-on LEVEL` counts only findings of that level or above (`--fail-on error`: warnings and
notes are reported but do not fail the run); `--exit-zero` turns 1 into 0. Neither hides a tool
error or a path that does not exist: those stay 2.
"""

from __future__ import annotations

from .catalogue import LEVELS
from .scan import ScanResult


def exit_code(result: ScanResult, fail_on: str = "note", exit_zero: bool = False) -> int:
    """0, 1 or 2 for `result` (see the module's docstring); `fail_on` is one of catalogue.LEVELS."""
    if result.tool_errors or any(p.code == "not-found" for p in result.problems):
        return 2
    if exit_zero:
        return 0
    floor = LEVELS.index(fail_on)
    failing = any(LEVELS.index(f.level) >= floor for f in result.counted)
    return 1 if failing or result.unused_ignores > 0 else 0
