"""Which report goes where: the formats, `--report FORMAT:PATH`, and `--statistics`.

One run writes one main report (stdout, or `-o`) in `--format`, plus any number of extra
reports, each `--report FORMAT:PATH` (repeatable): `--format sarif -o a.sarif --report json:b.json`.
Each writer module is imported only when its format is asked for.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import Catalogue
from ..scan import ScanResult
from .text import Style

# `text` is the name of the full form before there were two: kept as its alias.
FORMATS = ("full", "concise", "text", "json", "sarif", "github", "gitlab")
ALIASES = {"text": "full"}
TEXT_FORMS = ("full", "concise")
STATISTICS_FORMATS = ("full", "concise", "json")


class ReportSpecError(ValueError):
    """A `--report` value that is not FORMAT:PATH with a known format."""


@dataclass(frozen=True)
class ReportSpec:
    fmt: str
    path: Path

    @classmethod
    def parse(cls, value: str) -> ReportSpec:
        """`sarif:out/ftaudit.sarif` -> ReportSpec("sarif", Path(...)); raises ReportSpecError."""
        fmt, sep, path = value.partition(":")
        fmt = ALIASES.get(fmt.strip().lower(), fmt.strip().lower())
        if not sep or not path:
            raise ReportSpecError(f"{value!r} is not FORMAT:PATH (e.g. sarif:ftaudit.sarif)")
        if fmt not in FORMATS:
            raise ReportSpecError(f"{value!r}: unknown format {fmt!r} (one of {', '.join(FORMATS)})")
        return cls(fmt, Path(path))


def render(
    fmt: str,
    result: ScanResult,
    cat: Catalogue,
    category: str | None = None,
    quiet: bool = False,
    show_suppressed: bool = False,
    style: Style | None = None,
) -> str:
    """The report in `fmt` (FORMATS); text forms use `style` (colour), the others never do."""
    fmt = ALIASES.get(fmt, fmt)
    if fmt == "json":
        from . import json as json_report

        return json_report.render(result, cat)
    if fmt == "sarif":
        from . import sarif as sarif_report

        return sarif_report.render(result, cat, category)
    if fmt == "github":
        from . import github as github_report

        return github_report.render(result, cat)
    if fmt == "gitlab":
        from . import gitlab as gitlab_report

        return gitlab_report.render(result, cat)
    from . import text as text_report

    return text_report.render(result, cat, quiet, show_suppressed, style or Style(), fmt)


def statistics(fmt: str, result: ScanResult, cat: Catalogue) -> str:
    """Counts only, as `ruff --statistics`: one line a rule (count, id, name, level), most frequent
    first; with `json`, a list of {rule, name, level, count}. Findings that count only."""
    counts = Counter(f.rule for f in result.counted)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if ALIASES.get(fmt, fmt) == "json":
        rows = [{"rule": r, "name": cat.rules[r].name, "level": cat.rules[r].level, "count": n} for r, n in ranked]
        return json.dumps(rows, indent=2) + "\n"
    if not ranked:
        return ""
    width = len(str(ranked[0][1]))
    name_width = max(len(cat.rules[r].name) for r, _ in ranked)
    lines = [f"{n:>{width}}\t{r}\t{cat.rules[r].name:<{name_width}}\t{cat.rules[r].level}" for r, n in ranked]
    return "\n".join(lines) + "\n"
