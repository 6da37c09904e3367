"""Inline suppressions: `// ftaudit: ignore[FT101, FT2] -- reason` (C/C++), `# ftaudit: ignore[...]` (Cython).

A trailing comment suppresses matching findings on its own line; a comment
alone on a line, those on the next line (so one comment never hides two
lines). `ftaudit: ignore-file[FT1] -- reason` anywhere in a file covers the
whole file (anywhere, as ruff's `# ruff: noqa`: a header of licence text must
not push it out of reach); `ftaudit: ignore-begin[FT2] -- reason` ...
`ftaudit: ignore-end` covers the lines between (an unclosed begin runs to the
end of the file and is warned about, as is an end without a begin). Rules are
named by id, id prefix (`FT2`) or catalogue name (`borrowed-reference`).

Markers written for other tools are honoured too, in C and C++ only (Cython
comments are `#`, and neither tool reads them there):

- clang-tidy's `NOLINT`, `NOLINTNEXTLINE`, `NOLINTBEGIN`/`NOLINTEND`, with
  its semantics (own line, next line, range), for FT301, the rule that mirrors
  clang-tidy's `concurrency-mt-unsafe`. A check list counts when one of its
  globs matches that check (`concurrency-*`, `*`); other checks are
  clang-tidy's business and ignored silently. A bare `NOLINT` means every
  clang-tidy check, so it covers FT301 and nothing else: it was written for
  clang-tidy's checks, not ftaudit's.
- numpy's `// noqa: borrowed-ref OK` and `// noqa: borrowed-ref - manual fix
  needed` on a line cover the rules that flag the calls numpy's checker lists
  (PyList_GetItem, PyDict_GetItem*, PyList_GET_ITEM, PySequence_Fast,
  PyDict_Next): FT201, FT202 and FT203. "manual fix needed" admits the hazard
  rather than justifying it, but numpy's CI accepts it, so it suppresses too;
  the justification (SARIF `inSource`, `--show-suppressed`) is the marker as
  written, so those findings stay easy to find.

Suppressed findings are kept (SARIF reports them as `inSource` suppressions
with the reason) but do not count: not in the exit code, not for FT405. Any
of these that suppresses nothing can be reported (`--warn-unused-ignores`),
and a bare `ftaudit: ignore` (no ids) always is, because it hides every rule,
present and future, on that line.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import lru_cache

from . import catalogue
from .facts import Problem
from .findings import Finding, Suppression
from .source import read_tree_text

_COMMENT = {
    "c": re.compile(r"(?://|/\*)\s*ftaudit:\s*ignore(?:-(file|begin|end))?\b(\[[^\]\n]*\])?([^\n]*)"),
    "cython": re.compile(r"#\s*ftaudit:\s*ignore(?:-(file|begin|end))?\b(\[[^\]\n]*\])?([^\n]*)"),
}
_REASON = re.compile(r"^\s*--\s*(.*?)\s*(?:\*/.*)?$")
_ID = re.compile(r"^FT\d{0,3}$")
_NOLINT = re.compile(r"\bNOLINT(NEXTLINE|BEGIN|END)?(?![A-Za-z0-9_])(\([^)\n]*\))?")
_NOQA = re.compile(r"(?://|/\*)\s*(noqa:\s*borrowed-ref\b[^\n]*)")
# clang-tidy checks that an ftaudit rule mirrors.
_CLANG_TIDY = {"concurrency-mt-unsafe": "FT301"}
_BARE_NOLINT = ("FT301",)
# numpy's `noqa: borrowed-ref`: the rules flagging the functions numpy's checker lists.
_BORROWED_REF = ("FT201", "FT202", "FT203")
_EOF = sys.maxsize  # the last line of a file-wide or unclosed ignore


@dataclass(frozen=True)
class Ignore:
    """One suppression marker: `ftaudit: ignore` (any form), `NOLINT...` or `noqa: borrowed-ref`."""

    path: str
    line: int  # where the comment is
    target: int  # the first line it speaks of: its own, or the next when the comment is alone
    rules: tuple[str, ...]  # ids or id prefixes; empty: every rule
    reason: str
    text: str  # the comment as written, for messages
    last: int = 0  # the last line it speaks of (ranges, files); 0: the target only
    form: str = "ftaudit: ignore"  # the marker's kind, for messages: `ftaudit: ignore-file`, `NOLINT`, ...

    @property
    def end(self) -> int:
        return self.last or self.target

    def covers(self, rule: str) -> bool:
        return not self.rules or any(rule.startswith(r) for r in self.rules)

    def covers_line(self, line: int) -> bool:
        return self.target <= line <= self.end


@lru_cache(maxsize=1)
def _rule_names() -> dict[str, str]:
    """Catalogue name -> rule id (`borrowed-reference` -> FT201); names never depend on configuration."""
    return {info.name: rid for rid, info in catalogue.load().rules.items()}


def _rule_ids(listed: str, path: str, lineno: int, problems: list[Problem]) -> list[str]:
    """The ids of a `[FT101, borrowed-reference]` list; an unknown entry is a `bad-ignore` problem."""
    ids, bad = [], []
    names = _rule_names()
    for item in (i.strip() for i in listed.strip("[]").split(",")):
        if not item:
            continue
        if _ID.match(item.upper()):
            ids.append(item.upper())
        elif item.lower() in names:
            ids.append(names[item.lower()])
        else:
            bad.append(item)
    if bad:
        problems.append(
            Problem(
                path, "warning", "bad-ignore", f"`ftaudit: ignore` names no rule id or name: {', '.join(bad)}", lineno
            )
        )
    return ids


def _written(text: str) -> str:
    return text.rstrip().removesuffix("*/").rstrip()


def _nolint_rules(checks: str | None) -> tuple[str, ...]:
    """ftaudit rules a NOLINT check list speaks of: bare, FT301; else those whose clang-tidy check a glob matches."""
    if checks is None:
        return _BARE_NOLINT
    globs = [g.strip() for g in checks.strip("()").split(",") if g.strip()]
    return tuple(sorted({rid for check, rid in _CLANG_TIDY.items() if any(fnmatchcase(check, g) for g in globs)}))


def parse_ignores(path: str, text: str, language: str) -> tuple[list[Ignore], list[Problem]]:
    """The suppression markers of one file (ranges closed, file-wide ones spanning it), and problems with malformed
    ones (unknown rule, bare ignore, unclosed range, end without begin)."""
    cython = language == "cython"
    pattern = _COMMENT["cython" if cython else "c"]
    ignores: list[Ignore] = []
    problems: list[Problem] = []
    open_ranges: list[Ignore] = []  # `ftaudit: ignore-begin`, innermost last
    open_nolint: list[Ignore] = []  # NOLINTBEGIN speaking of an ftaudit rule, innermost last
    lines = text.splitlines()

    def close(stack: list[Ignore], lineno: int, form: str) -> None:
        if stack:
            ignores.append(replace(stack.pop(), last=lineno))
        else:
            msg = f"`{form}` without a matching begin before it: it closes nothing"
            problems.append(Problem(path, "warning", "unmatched-ignore-end", msg, lineno))

    for lineno, line in enumerate(lines, start=1):
        if "ftaudit" in line and (m := pattern.search(line)) is not None:
            kind = m.group(1)
            form = f"ftaudit: ignore-{kind}" if kind else "ftaudit: ignore"
            if kind == "end":
                close(open_ranges, lineno, form)
            else:
                before = len(problems)
                ids = _rule_ids(m.group(2) or "", path, lineno, problems)
                if ids or len(problems) == before:  # only unknown rules named: nothing to honour
                    reason_match = _REASON.match(m.group(3) or "")
                    reason = reason_match.group(1) if reason_match else ""
                    written = _written(m.group(0))
                    if kind == "file":
                        ignores.append(Ignore(path, lineno, 1, tuple(ids), reason, written, _EOF, form))
                    elif kind == "begin":
                        open_ranges.append(Ignore(path, lineno, lineno, tuple(ids), reason, written, 0, form))
                    else:
                        target = lineno + 1 if line[: m.start()].strip() in ("", "/*") else lineno
                        ignores.append(Ignore(path, lineno, target, tuple(ids), reason, written))
                    if not ids:
                        where = {"file": "in this file", "begin": "in this range"}.get(kind or "", "on this line")
                        problems.append(
                            Problem(
                                path,
                                "warning",
                                "bare-ignore",
                                f"`{form}` without rule ids hides every rule {where}; name them: "
                                f"`{form}[FT101] -- reason`",
                                lineno,
                            )
                        )
        if cython:
            continue  # NOLINT and noqa live in C/C++ comments
        if "NOLINT" in line:
            for m in _NOLINT.finditer(line):
                if "//" not in line[: m.start()] and "/*" not in line[: m.start()]:
                    continue  # not in a comment
                kind = m.group(1) or ""
                rules = _nolint_rules(m.group(2))
                if not rules:
                    continue  # clang-tidy checks ftaudit has no rule for
                if kind == "END":
                    # Lenient where clang-tidy is strict: any NOLINTEND for FT301 closes the innermost open BEGIN.
                    close(open_nolint, lineno, "NOLINTEND")
                    continue
                ig = Ignore(path, lineno, lineno + (kind == "NEXTLINE"), rules, "", _written(line[m.start() :]))
                ig = replace(ig, form=f"NOLINT{kind}")
                (open_nolint if kind == "BEGIN" else ignores).append(ig)
        if "noqa" in line and (m := _NOQA.search(line)) is not None:
            ignores.append(
                Ignore(path, lineno, lineno, _BORROWED_REF, "", _written(m.group(1)), 0, "noqa: borrowed-ref")
            )
    for ig in open_ranges + open_nolint:
        ignores.append(replace(ig, last=max(len(lines), ig.line)))
        msg = f"`{ig.form}` has no matching end: it covers the rest of the file"
        problems.append(Problem(path, "warning", "unclosed-ignore", msg, ig.line))
    return ignores, problems


def _key(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


@dataclass
class IgnoreIndex:
    """Every suppression marker of the scanned files, and which of them were used."""

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
        """The finding, marked suppressed when a marker covering its line and rule exists; the narrowest one
        (a line before a range before the file) is the justification and counts as used."""
        self.load(f.path, "c")
        best: Ignore | None = None
        for ig in self.by_path.get(_key(f.path), []):
            narrower = best is None or ig.end - ig.target < best.end - best.target
            if narrower and ig.covers_line(f.span.line) and ig.covers(f.rule):
                best = ig
        if best is None:
            return f
        self.used.add(best)
        return replace(f, suppression=Suppression("inSource", best.reason or best.text))

    def unused(self, rules_run: list[str]) -> list[Problem]:
        """Markers that suppressed nothing, among those naming only rules that ran."""
        out = []
        for ignores in self.by_path.values():
            for ig in ignores:
                if ig in self.used:
                    continue
                if ig.rules and not all(any(r.startswith(x) for r in rules_run) for x in ig.rules):
                    continue  # names a rule that did not run: cannot tell
                what = ", ".join(ig.rules) if ig.rules else "any rule"
                if ig.last == _EOF:
                    where = "in this file"
                elif ig.last:
                    where = f"in lines {ig.target}-{ig.end}"
                else:
                    where = "here"
                out.append(
                    Problem(
                        ig.path,
                        "warning",
                        "unused-ignore",
                        f"`{ig.form}` for {what} suppresses nothing {where}; remove it",
                        ig.line,
                    )
                )
        return sorted(out, key=lambda p: (p.path, p.line or 0))
