"""What a rule reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from .facts import Span


@dataclass(frozen=True)
class Related:
    span: Span
    message: str
    path: str = ""  # another file than the finding's (a write to a global declared elsewhere)


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not count: an inline ignore (`inSource`), the baseline or vendored code
    (`external`, SARIF's kind for a suppression stated outside the source)."""

    kind: str
    justification: str = ""
    origin: str = ""  # "vendored": third-party or generated code set aside (vendored.py)


@dataclass(frozen=True)
class Finding:
    """`message` says what and where in one short clause (the concise text format shows it alone);
    `detail` says why it is a hazard and how to fix it. `text` is both: the full message of the
    full text format, JSON, SARIF and the annotations."""

    rule: str
    path: str
    span: Span
    message: str
    level: str
    function: str = ""
    related: tuple[Related, ...] = field(default=())
    suppression: Suppression | None = None
    fingerprint: str = ""  # stable across unrelated edits (set by the scan, see fingerprint.py)
    detail: str = ""
    # The edit `--fix` may make (FT206: the positions of the calls whose names become their PyMem_* forms),
    # or why none is offered (`no_fix`); both empty for a rule without fixes.
    fix: tuple[Span, ...] = ()
    no_fix: str = ""

    @property
    def text(self) -> str:
        """The full message: `message; detail`."""
        return f"{self.message}; {self.detail}" if self.detail else self.message

    @property
    def counts(self) -> bool:
        return self.suppression is None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.col, self.rule)
