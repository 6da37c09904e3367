"""Per module: the findings in its files and the verdict on declaring free-threading support.

In: the modules of a scan (membership.Module) and its findings; out: one `Readiness` each, in
module order. A hazard is a warning- or error-level FT1-FT3 finding in one of the module's files
(or, for a global, written in one), suppressed neither inline nor as vendored code; a baselined
hazard still counts, as it does for FT405. Verdicts:

- READY: declared, no hazard left;
- READY_TO_DECLARE: no hazard left, not declared (or declared Py_MOD_GIL_USED);
- BLOCKED: hazards left, not declared;
- DECLARED_HAZARDOUS: declared while hazards remain (what FT405 reports).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .findings import Finding
from .membership import DECLARED, Module

READY = "ready"
READY_TO_DECLARE = "ready to declare"
BLOCKED = "blocked"
DECLARED_HAZARDOUS = "declared but hazardous"
VERDICTS = (READY, READY_TO_DECLARE, BLOCKED, DECLARED_HAZARDOUS)

HAZARD_FAMILIES = ("FT1", "FT2", "FT3")
FAMILY_NAMES = {"FT1": "shared state", "FT2": "C API", "FT3": "unsafe calls"}
_HAZARD_LEVELS = {"warning", "error"}


def is_hazard(f: Finding) -> bool:
    """A warning- or error-level FT1-FT3 finding: what keeps a module from declaring support."""
    return f.rule.startswith(HAZARD_FAMILIES) and f.level in _HAZARD_LEVELS


def still_counts(f: Finding) -> bool:
    """Not suppressed inline and not vendored code set aside (a baselined finding still counts)."""
    return f.suppression is None or f.suppression.origin == "baseline"


def touches(f: Finding, files: frozenset[str]) -> bool:
    """In one of the files (absolute paths), or (a global declared elsewhere) written in one of them."""
    if os.path.abspath(f.path) in files:
        return True
    return any(r.path and os.path.abspath(r.path) in files for r in f.related)


def hazards_in(module: Module, findings: Sequence[Finding]) -> list[Finding]:
    """The hazards among `findings` in the module's files, sorted."""
    files = module.paths()
    return sorted((f for f in findings if is_hazard(f) and touches(f, files)), key=Finding.sort_key)


def verdict(declared: bool, hazards: int) -> str:
    if hazards:
        return DECLARED_HAZARDOUS if declared else BLOCKED
    return READY if declared else READY_TO_DECLARE


@dataclass(frozen=True)
class Readiness:
    """One module, the findings that still count in its files, its hazards and its verdict."""

    module: Module
    findings: tuple[Finding, ...]
    hazards: tuple[Finding, ...]
    verdict: str

    def by_rule(self) -> dict[str, int]:
        """Findings per rule id, sorted by id."""
        return dict(sorted(Counter(f.rule for f in self.findings).items()))

    def by_family(self) -> dict[str, int]:
        """Hazards per family (FT1, FT2, FT3), every family present."""
        counts = Counter(f.rule[:3] for f in self.hazards)
        return {fam: counts.get(fam, 0) for fam in HAZARD_FAMILIES}

    def hazard_places(self) -> list[tuple[str, str, int]]:
        """(rule, file, count) of the hazards, by rule then file."""
        return sorted((rule, path, n) for (rule, path), n in Counter((f.rule, f.path) for f in self.hazards).items())


def readiness(modules: Sequence[Module], findings: Sequence[Finding]) -> list[Readiness]:
    """The readiness of each module (see the module docstring)."""
    counting = [f for f in findings if still_counts(f)]
    out = []
    for module in modules:
        files = module.paths()
        mine = tuple(f for f in counting if touches(f, files))
        hazards = tuple(f for f in mine if is_hazard(f))
        out.append(Readiness(module, mine, hazards, verdict(module.state == DECLARED, len(hazards))))
    return out
