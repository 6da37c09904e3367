"""Stable finding fingerprints: rule, file, function and the code of the line, not its number.

Shared by SARIF (`partialFingerprints`, so GitHub tracks an alert across
commits) and the baseline (so moving code does not resurrect accepted
findings). Identical lines in one function are told apart by occurrence.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from .findings import Finding
from .names import fs_bytes
from .safeio import read_regular
from .source import DEFAULT_MAX_BYTES

_WS = re.compile(r"\s+")


def normalised_code(line_text: str) -> str:
    return _WS.sub(" ", line_text).strip()


def fingerprint(finding: Finding, code: str, occurrence: int) -> str:
    key = "\0".join((finding.rule, finding.path, finding.function, code, str(occurrence)))
    # The name's own bytes: one that is not UTF-8 holds surrogates, which plain UTF-8 refuses.
    return hashlib.sha256(fs_bytes(key)).hexdigest()[:32]


class LineReader:
    """Lines of the files findings point at, read once each. Lines are split at `\n`, `\r\n` and `\r`
    only, as compilers count them (str.splitlines also splits at form feeds and U+2028)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, list[bytes]] = {}

    def raw(self, path: str, line: int) -> bytes:
        """The bytes of 1-based `line` of `path` (relative to the root), b"" when there is none."""
        if path not in self._cache:
            try:
                self._cache[path] = read_regular(self.root / path, DEFAULT_MAX_BYTES).splitlines()
            except OSError:
                self._cache[path] = []
        lines = self._cache[path]
        return lines[line - 1] if 0 < line <= len(lines) else b""

    def line(self, path: str, line: int) -> str:
        """1-based `line` of `path` as text (undecodable bytes replaced), "" when there is none."""
        return self.raw(path, line).decode("utf-8", errors="replace")


def with_fingerprints(findings: list[Finding], root: Path) -> list[Finding]:
    """The findings (in report order, paths relative to `root`) with their fingerprints set."""
    reader = LineReader(root)
    seen: dict[tuple[str, str, str, str], int] = defaultdict(int)
    out = []
    for f in findings:
        code = normalised_code(reader.line(f.path, f.span.line))
        key = (f.rule, f.path, f.function, code)
        out.append(replace(f, fingerprint=fingerprint(f, code, seen[key])))
        seen[key] += 1
    return out
