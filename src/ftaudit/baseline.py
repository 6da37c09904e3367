"""The baseline: today's findings, accepted, so that only new ones are reported.

`ftaudit baseline write` stores the fingerprints of the findings that count;
`ftaudit scan --baseline FILE` marks findings whose fingerprint is in it as
suppressed (`external`) and counts the entries no finding matched any more:
those hazards were fixed, and the baseline can be rewritten.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import __version__
from .findings import Finding, Suppression
from .names import display
from .safeio import read_regular, write_atomic

DEFAULT_NAME = ".ftaudit-baseline.json"
FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024  # some 250,000 findings: a bound on what a planted file can cost


class BaselineError(Exception):
    """A baseline file that cannot be used."""


@dataclass(frozen=True)
class Baseline:
    path: Path
    fingerprints: Counter[str]

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            # The baseline usually lives in the scanned tree: it may be a FIFO or a link to /dev/zero.
            doc = json.loads(read_regular(path, MAX_BYTES).decode("utf-8"))
        except OSError as err:
            raise BaselineError(f"{display(path)}: cannot read baseline: {err.strerror or err}") from err
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise BaselineError(f"{display(path)}: not a baseline file (invalid JSON: {err})") from err
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
            raise BaselineError(
                f"{display(path)}: not an ftaudit baseline (format {FORMAT}); rewrite it with `ftaudit baseline write`"
            )
        prints = Counter(str(e.get("fingerprint", "")) for e in doc["findings"] if isinstance(e, dict))
        return cls(path, prints)

    def apply(self, findings: list[Finding]) -> tuple[list[Finding], int]:
        """Findings with the baselined ones suppressed, and how many entries matched nothing (fixed)."""
        left = Counter(self.fingerprints)
        out = []
        for f in findings:
            if f.counts and left[f.fingerprint] > 0:
                left[f.fingerprint] -= 1
                f = replace(f, suppression=Suppression("external", f"in the baseline {self.path.name}", "baseline"))
            out.append(f)
        return out, sum(n for n in left.values() if n > 0)


def write(path: Path, findings: list[Finding]) -> int:
    """Store the findings that count at `path` (replacing whatever is there, a planted symbolic
    link included, never writing through it); returns how many. Raises OSError when it cannot."""
    entries: list[dict[str, Any]] = [
        {
            "fingerprint": f.fingerprint,
            "rule": f.rule,
            "path": display(f.path),  # informative only: entries match by fingerprint
            "function": f.function,
            "line": f.span.line,
            "message": f.text,
        }
        for f in findings
        if f.counts
    ]
    doc = {"tool": "ftaudit", "version": __version__, "format": FORMAT, "findings": entries}
    write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
    return len(entries)
