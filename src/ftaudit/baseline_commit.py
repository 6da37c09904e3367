"""PR mode, `--baseline-commit REF` (semgrep's name): report only the findings that did not exist at REF.

The files of the scan whose bytes differ from their blob at REF are read from git's objects
(gitobjects.py, no checkout) into a temporary folder outside the scanned tree, at the same
relative paths, and scanned there with the same options; a finding of the current scan whose
fingerprint (rule, file, function, code of the line: fingerprint.py) one of those old findings
has existed at REF. Findings in files identical at REF existed too, unless a related location
lies in a changed or new file (a new write, in this change, to a global declared elsewhere).
Files REF does not have are new: all their findings are reported. Known findings are marked
suppressed (`external`, origin `baseline-commit`), so SARIF and `--show-suppressed` still show them.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .findings import Finding, Suppression
from .gitobjects import Repository, safe_relative
from .safeio import read_regular
from .source import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from .scan import ScanOptions, ScanResult

ORIGIN = "baseline-commit"


@dataclass(frozen=True)
class Comparison:
    """How the scanned files stand against REF (paths relative to the scan's root)."""

    commit: str
    unchanged: set[str]
    changed: dict[str, bytes]  # path -> its content at REF
    new: set[str]


def compare(root: Path, paths: list[str], ref: str, where: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Comparison:
    """Sort the scan's files (relative to `root`) into unchanged, changed (with their old bytes)
    and new at `ref` of the repository holding `where` (a scanned path). Raises gitobjects.GitError."""
    repo = Repository(where.resolve())
    commit = repo.commit(ref)
    tree = repo.tree(commit)
    unchanged: set[str] = set()
    new: set[str] = set()
    wanted: dict[str, str] = {}  # path -> old blob
    for rel in paths:
        if not safe_relative(rel):
            new.add(rel)  # outside the root (an absolute path): never written to the temporary folder
            continue
        absolute = (root / rel).resolve()
        try:
            in_repo = absolute.relative_to(repo.top.resolve()).as_posix()
        except ValueError:
            new.add(rel)  # outside the repository: nothing to compare with
            continue
        entry = tree.get(in_repo)
        if entry is None:
            new.add(rel)
            continue
        try:
            now = read_regular(absolute, max_bytes)
        except OSError:
            now = None
        if now is not None and repo.blob_id(now) == entry.oid:
            unchanged.add(rel)
        else:
            wanted[rel] = entry.oid
    blobs = repo.blobs(sorted(set(wanted.values())), max_bytes)
    changed = {rel: blobs[oid] for rel, oid in wanted.items() if oid in blobs}
    new |= {rel for rel in wanted if rel not in changed}  # too large at REF: judged as new
    return Comparison(commit, unchanged, changed, new)


def known_at_ref(
    findings: list[Finding],
    comparison: Comparison,
    old_findings: list[Finding],
    ref: str,
) -> list[Finding]:
    """`findings` with those that existed at `ref` marked suppressed (see the module's docstring)."""
    left = Counter(f.fingerprint for f in old_findings if f.counts)
    touched = set(comparison.changed) | comparison.new
    why = Suppression("external", f"existed at {ref} ({comparison.commit[:12]})", ORIGIN)
    out = []
    for f in findings:
        if f.counts:
            if f.path in comparison.unchanged and not any((r.path or f.path) in touched for r in f.related):
                f = replace(f, suppression=why)
            elif f.path in comparison.changed and left[f.fingerprint] > 0:
                left[f.fingerprint] -= 1
                f = replace(f, suppression=why)
        out.append(f)
    return out


def old_findings(comparison: Comparison, scan_old: Callable[[list[Path], Path], list[Finding]]) -> list[Finding]:
    """Findings of REF's versions of the changed files, written to a temporary folder (outside the
    scanned tree, removed afterwards) and scanned by `scan_old(paths, root)`."""
    if not comparison.changed:
        return []
    with tempfile.TemporaryDirectory(prefix="ftaudit-baseline-commit-") as tmp:
        root = Path(tmp)
        paths = []
        for rel, data in sorted(comparison.changed.items()):
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            paths.append(target)
        return scan_old(paths, root)


def apply(result: ScanResult, opts: ScanOptions, ref: str) -> ScanResult:
    """`result` (the scan of `opts`) with the findings that existed at `ref` marked suppressed.
    REF's changed files are scanned with the same options, their real directories added to the
    include path so their `#include "..."` resolve as they did. Raises gitobjects.GitError."""
    from .scan import scan

    where = opts.paths[0] if opts.paths else result.root
    comparison = compare(result.root, [rec.path for rec in result.files], ref, where)

    def scan_old(paths: list[Path], root: Path) -> list[Finding]:
        if opts.phase is not None:
            opts.phase(f"scanning {len(paths):,} changed file(s) as they were at {ref}")
        dirs = sorted({str((result.root / rel).parent) for rel in comparison.changed})
        old = replace(
            opts,
            paths=paths,
            root=root,
            baseline=None,
            progress=None,
            phase=None,
            cache=False,
            warn_unused_ignores=False,
            include_dirs=[*opts.include_dirs, *dirs],
        )
        return scan(old).findings

    findings = known_at_ref(result.findings, comparison, old_findings(comparison, scan_old), ref)
    return replace(result, findings=findings)
