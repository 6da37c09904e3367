"""Compiler-style text output, with a per-rule summary."""

from __future__ import annotations

from collections import Counter

from ..catalogue import Catalogue
from ..facts import Problem
from ..scan import ScanResult


def problem_line(p: Problem) -> str:
    where = f"{p.path}:{p.line}" if p.line else p.path
    return f"{where}: {p.level}: {p.message} [{p.code}]"


def render(result: ScanResult, catalogue: Catalogue, quiet: bool = False) -> str:
    out = []
    for f in result.findings:
        name = catalogue.rules[f.rule].name
        out.append(f"{f.path}:{f.span.line}:{f.span.col}: {f.rule} {f.message} [{name}]")
        out += [f"    {r.path or f.path}:{r.span.line}:{r.span.col}: note: {r.message}" for r in f.related]
    if quiet:
        return "\n".join(out) + ("\n" if out else "")
    counts = Counter(f.rule for f in result.findings)
    if counts:
        out.append("")
        width = max(len(catalogue.rules[r].name) for r in counts)
        for rid in sorted(counts):
            info = catalogue.rules[rid]
            out.append(f"  {rid} {info.name:<{width}}  {counts[rid]:>5}  {info.level}")
    scanned = sum(1 for r in result.files if r.frontend != "skipped")
    files_with = len({f.path for f in result.findings})
    noun = "finding" if len(result.findings) == 1 else "findings"
    out.append(
        f"{len(result.findings)} {noun} in {files_with} file(s); {scanned} file(s) scanned, "
        f"{len(result.files) - scanned} skipped, {len(result.problems)} problem(s)"
    )
    return "\n".join(out) + "\n"
