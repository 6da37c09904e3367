"""The rules phase's time budget per file (docs/security.md: no file may stall the scan).

Parsing is bounded in the workers; the rules run in the main process over every unit, so a file whose
facts make a unit rule slow (a generated function with thousands of stores) is bounded here: each unit
rule's CPU seconds on a unit are charged to that unit, less the time spent building the project-wide
analyses the rules share (`Project.memo`: they serve every unit, so the first unit to ask is not charged
for them). Once a unit has used the limit (the scan's `--timeout`, 0 = none), the unit rules not yet run
on it are skipped and it gets one `limit` problem (an error: exit 2) naming them; the findings already
made, on it and on every other file, are kept. A rule call is not interrupted: the analyses keep each
call bounded themselves (rules/_paths.py caps), the budget stops the sum.

Inputs: the limit, and a clock (CPU seconds of this process by default). Outputs: `allowed`/`charge`
while the rules run, then `problems()`. No errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .facts import Problem


class RuleClock:
    """CPU seconds the unit rules spent on each file, against `limit` seconds per file (0: no limit)."""

    def __init__(self, limit: float, clock: Callable[[], float] = time.process_time) -> None:
        self.limit = limit
        self.clock = clock
        self.spent: dict[str, float] = {}
        self.skipped: dict[str, list[str]] = {}

    def allowed(self, path: str, rule_id: str) -> bool:
        """May `rule_id` still run on the file `path`? A refusal is remembered for its problem."""
        if self.limit <= 0 or self.spent.get(path, 0.0) < self.limit:
            return True
        self.skipped.setdefault(path, []).append(rule_id)
        return False

    def charge(self, path: str, seconds: float) -> None:
        """Count `seconds` of a unit rule against the file `path`."""
        self.spent[path] = self.spent.get(path, 0.0) + max(seconds, 0.0)

    def problems(self) -> list[Problem]:
        """One `limit` error per file whose rules were cut short."""
        return [
            Problem(
                path,
                "error",
                "limit",
                f"rules took longer than the {self.limit:g}-second limit per file ({self.spent[path]:.1f} s):"
                f" {', '.join(rules)} not run on this file; the findings already made are kept",
            )
            for path, rules in self.skipped.items()
        ]
