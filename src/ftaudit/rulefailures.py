"""A rule that fails on its input is a problem of the scan, not its end (docs/security.md: bad input never
crashes the scan).

The rules run in the main process over facts the frontends made from untrusted files; a shape of code
no rule's author foresaw can still raise inside a rule (a `KeyError` on a fact that names no static).
Each failing call becomes one `rule-error` problem (an error: exit 2, as for a tool error) that names the
rule, the file (or the whole scan, for project- and findings-scope rules) and the exception, and says
which findings are missing; every other rule, and the same rule on every other file, still runs.

Inputs: the rule id, the file path (or None for a rule over the whole scan), the rule call and its arguments.
Outputs: the call's findings, or none when it raised; `problems()` afterwards. No errors: `Exception`
is caught (not `BaseException`: an interrupt still ends the scan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .facts import Problem

T = TypeVar("T")


class RuleFailures:
    """The rule calls that raised, each kept as a `rule-error` problem."""

    def __init__(self) -> None:
        self.failed: list[Problem] = []

    def run(self, rule_id: str, path: str | None, where: str, call: Callable[..., Iterable[T]], *args: Any) -> list[T]:
        """`list(call(*args))`, or [] after recording the exception. `path`: the unit's file, None for a rule
        over the whole scan, whose problem is shown at `where` (the first scanned file)."""
        try:
            return list(call(*args))
        except Exception as exc:  # any fault of a rule on untrusted facts is reported, not raised
            what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            scope = "on this file: its findings in this file" if path is not None else "on the scan: all its findings"
            self.failed.append(
                Problem(
                    path if path is not None else where,
                    "error",
                    "rule-error",
                    f"internal error in rule {rule_id} {scope} are missing ({what}); the other rules ran."
                    " Please report it with the file, or a reduced copy of it",
                )
            )
            return []

    def problems(self) -> list[Problem]:
        """One `rule-error` error per failed rule call, in the order they failed."""
        return list(self.failed)
