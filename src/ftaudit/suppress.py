"""Inline suppressions: `// ftaudit: ignore[FT101, FT2] -- reason` (C/C++), `# ftaudit: ignore[...]` (Cython).

A trailing comment suppresses matching findings on its own line; a comment
alone on a line, those on the next line (so one comment never hides two
lines). Suppressed findings are kept (SARIF reports them as `inSource`
suppressions with the reason) but do not count: not in the exit code, not
for FT405. A comment that suppresses nothing can be reported
(`--warn-unused-ignores`), and a bare `ftaudit: ignore` (no ids) always is,
because it hides every rule, present and future, on that line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from .facts import Problem
from .findings import Finding, Suppression
from .source import read_tree_text

_COMMENT = {
    "c": re.compile(r"(?://|/\*)\s*ftaudit:\s*ignore\b(\[[^\]\n]*\])?([^\n]*)"),
    "cython": re.compile(r"#\s*ftaudit:\s*ignore\b(\[[^\]\n]*\])?([^\n]*)"),
}
_REASON = re.compile(r"^\s*--\s*(.*?)\s*(?:\*/.*)?$")
_ID = re.compile(r"^FT\d{0,3}$")


@dataclass(frozen=True)
class Ignore:
    """One `ftaudit: ignore` comment."""

    path: str
    line: int  # where the comment is
    target: int  # the line it speaks of: its own, or the next when the comment is alone
    rules: tuple[str, ...]  # empty: every rule
    reason: str
    text: str  # the comment as written, for messages

    def covers(self, rule: str) -> bool:
        return not self.rules or any(rule.startswith(r) for r in self.rules)


def parse_ignores(path: str, text: str, language: str) -> tuple[list[Ignore], list[Problem]]:
    """The ignore comments of one file, and problems with malformed ones."""
    pattern = _COMMENT["cython" if language == "cython" else "c"]
    ignores: list[Ignore] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if "ftaudit" not in line:
            continue
        m = pattern.search(line)
        if m is None:
            continue
        ids = [i.strip().upper() for i in (m.group(1) or "").strip("[]").split(",") if i.strip()]
        bad = [i for i in ids if not _ID.match(i)]
        if bad:
            problems.append(
                Problem(path, "warning", "bad-ignore", f"`ftaudit: ignore` names no rule id: {', '.join(bad)}", lineno)
            )
            ids = [i for i in ids if _ID.match(i)]
            if not ids:
                continue
        reason_match = _REASON.match(m.group(2) or "")
        reason = reason_match.group(1) if reason_match else ""
        written = m.group(0).rstrip().removesuffix("*/").rstrip()
        target = lineno + 1 if line[: m.start()].strip() in ("", "/*") else lineno
        ignores.append(Ignore(path, lineno, target, tuple(ids), reason, written))
        if not ids:
            problems.append(
                Problem(
                    path,
                    "warning",
                    "bare-ignore",
                    "`ftaudit: ignore` without rule ids hides every rule on this line; name them: "
                    "`ftaudit: ignore[FT101] -- reason`",
                    lineno,
                )
            )
    return ignores, problems


def _key(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


@dataclass
class IgnoreIndex:
    """Every ignore comment of the scanned files, and which of them were used."""

    by_path: dict[str, list[Ignore]] = field(default_factory=dict)
    used: set[Ignore] = field(default_factory=set)

    def add(self, path: str, ignores: list[Ignore]) -> None:
        self.by_path.setdefault(_key(path), []).extend(ignores)

    def load(self, path: str, language: str) -> None:
        """Ignores of a file that was not scanned itself (a header declaring a reported global)."""
        if _key(path) in self.by_path:
            return
        try:
            text = read_tree_text(path)
        except OSError:
            text = ""
        self.add(path, parse_ignores(path, text, language)[0])

    def apply(self, f: Finding) -> Finding:
        """The finding, marked suppressed when an ignore on its line or the line above covers it."""
        self.load(f.path, "c")
        for ig in self.by_path.get(_key(f.path), []):
            if ig.target == f.span.line and ig.covers(f.rule):
                self.used.add(ig)
                return replace(f, suppression=Suppression("inSource", ig.reason or ig.text))
        return f

    def unused(self, rules_run: list[str]) -> list[Problem]:
        """Ignores that suppressed nothing, among those naming only rules that ran."""
        out = []
        for ignores in self.by_path.values():
            for ig in ignores:
                if ig in self.used:
                    continue
                if ig.rules and not all(any(r.startswith(x) for r in rules_run) for x in ig.rules):
                    continue  # names a rule that did not run: cannot tell
                what = ", ".join(ig.rules) if ig.rules else "any rule"
                out.append(
                    Problem(
                        ig.path,
                        "warning",
                        "unused-ignore",
                        f"`ftaudit: ignore` for {what} suppresses nothing here; remove it",
                        ig.line,
                    )
                )
        return sorted(out, key=lambda p: (p.path, p.line or 0))
