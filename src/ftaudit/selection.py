"""Which rules run, and where they are not reported: ruff's rule selection and per-file-ignores.

Selection is resolved in layers, the configuration's first and the command line's
second. A layer that sets `select` starts from the rules it matches, one that does
not keeps what the layer before left; `extend-select` adds and `ignore` (with
`extend-ignore`) removes, and within a layer the most specific selector (the longest
prefix) decides a rule, an ignore winning a tie. So `--select FT101` runs FT101 even
where the configuration ignores it, and `select = ["FT1"]` with `ignore = ["FT101"]`
runs FT1 without FT101, as in ruff.

A selector that matches no rule of the catalogue is an error (exit 2), wherever it
is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .catalogue import Catalogue
from .findings import Finding, Suppression

_MAX_ALTERNATIVES = 64  # `{a,b}` expansions of one glob


@dataclass(frozen=True)
class RuleLayer:
    """One layer's selectors (upper case); `select` None: the layer does not set it."""

    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


def resolve(catalogue: Catalogue, layers: Iterable[RuleLayer]) -> list[str]:
    """The rule ids that run, in catalogue order (see the module docstring)."""
    on = {rid for rid, info in catalogue.rules.items() if info.enabled}
    for layer in layers:
        chosen = set() if layer.select is not None else set(on)
        selectors = [*(layer.select or []), *layer.extend_select]
        for rid in catalogue.rules:
            best_on = max((len(s) for s in selectors if rid.startswith(s)), default=-1)
            best_off = max((len(s) for s in layer.ignore if rid.startswith(s)), default=-1)
            if best_off >= 0 and best_off >= best_on:
                chosen.discard(rid)
            elif best_on >= 0:
                chosen.add(rid)
        on = chosen
    return [rid for rid in catalogue.rules if rid in on]


def unknown_selector(catalogue: Catalogue, selectors: Iterable[str]) -> str | None:
    """The first selector that is the prefix of no rule id (None when all match one)."""
    for s in selectors:
        if not s or not any(rid.startswith(s.upper()) for rid in catalogue.rules):
            return s
    return None


def config_selectors(values: dict[str, Any]) -> dict[str, list[str]]:
    """Every rule selector a configuration (or the command line's values) writes, by the key that
    writes it: `select`, `per-file-ignores "tests/**"`, `severity`..."""
    out: dict[str, list[str]] = {}
    for key in ("select", "extend-select", "ignore", "extend-ignore"):
        if values.get(key):
            out[key] = list(values[key])
    for key in ("per-file-ignores", "extend-per-file-ignores"):  # the second: the command line's only
        for glob, rules in (values.get(key) or {}).items():
            out[f"{key} {glob!r}"] = list(rules)
    if values.get("severity"):
        out["severity"] = list(values["severity"])
    return out


def layer_of(values: dict[str, Any]) -> RuleLayer:
    """The rule layer of a configuration's values."""
    select = values.get("select")
    return RuleLayer(
        [s.upper() for s in select] if select is not None else None,
        [s.upper() for s in values.get("extend-select") or []],
        [s.upper() for s in [*(values.get("ignore") or []), *(values.get("extend-ignore") or [])]],
    )


def expand_braces(pattern: str) -> list[str]:
    """`a/{b,c}/*.c` as `a/b/*.c` and `a/c/*.c` (not nested; at most _MAX_ALTERNATIVES), and each
    `**/` also as nothing, so `**/x.c` matches `x.c` at the top as globset's does."""
    out = [pattern]
    brace = re.compile(r"\{([^{}]*)\}")
    while any(brace.search(p) for p in out) and len(out) <= _MAX_ALTERNATIVES:
        nxt = []
        for p in out:
            m = brace.search(p)
            if m is None:
                nxt.append(p)
                continue
            nxt += [p[: m.start()] + alt + p[m.end() :] for alt in m.group(1).split(",")]
        out = nxt
    expanded = []
    for p in out[:_MAX_ALTERNATIVES]:
        expanded.append(p)
        if "**/" in p:
            expanded.append(p.replace("**/", ""))
    return expanded


@dataclass(frozen=True)
class FileIgnore:
    """`pattern` (as written) ignores `rules` (prefixes) in the files it matches, relative to `base`."""

    base: str
    pattern: str
    rules: tuple[str, ...]

    def matches(self, path: str) -> bool:
        negated = self.pattern.startswith("!")
        glob = self.pattern[1:] if negated else self.pattern
        globs = expand_braces(glob.removeprefix("./"))
        absolute = os.path.abspath(path)
        rel = os.path.relpath(absolute, self.base).replace(os.sep, "/")
        name = os.path.basename(absolute)
        inside = not rel.startswith("..")
        hit = any((inside and fnmatchcase(rel, g)) or fnmatchcase(name, g) for g in globs)
        return hit != negated


@dataclass(frozen=True)
class PerFileIgnores:
    """The per-file-ignores of a scan: the configuration's and the command line's."""

    entries: tuple[FileIgnore, ...] = ()

    @classmethod
    def of(cls, table: dict[str, list[str]], base: Path | str) -> PerFileIgnores:
        root = os.path.abspath(base)
        return cls(tuple(FileIgnore(root, glob, tuple(r.upper() for r in rules)) for glob, rules in table.items()))

    def __add__(self, other: PerFileIgnores) -> PerFileIgnores:
        return PerFileIgnores(self.entries + other.entries)

    def pattern_for(self, rule: str, path: str) -> str | None:
        """The pattern that ignores `rule` in `path`, or None."""
        for entry in self.entries:
            if any(rule.startswith(r) for r in entry.rules) and entry.matches(path):
                return entry.pattern
        return None

    def apply(self, f: Finding) -> Finding:
        """`f`, suppressed (kind `external`, origin `per-file-ignores`) when a pattern ignores its rule
        in its file; a finding already suppressed stays as it is."""
        if not self.entries or not f.counts:
            return f
        pattern = self.pattern_for(f.rule, f.path)
        if pattern is None:
            return f
        return replace(f, suppression=Suppression("external", f"per-file-ignores: {pattern}", "per-file-ignores"))

    def describe(self) -> list[dict[str, Any]]:
        return [{"pattern": e.pattern, "rules": list(e.rules), "relative-to": e.base} for e in self.entries]


def parse_cli_ignores(values: Sequence[str]) -> dict[str, list[str]]:
    """`--per-file-ignores GLOB:RULE[,RULE]` values as a table. Raises ValueError for one without `:`."""
    out: dict[str, list[str]] = {}
    for value in values:
        glob, sep, rules = value.rpartition(":")
        if not sep or not glob or not rules.strip():
            raise ValueError(f"{value!r} is not GLOB:RULES (e.g. 'tests/**:FT1,FT204')")
        out.setdefault(glob, []).extend(r.strip() for r in rules.split(",") if r.strip())
    return out
