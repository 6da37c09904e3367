"""`ftaudit scan --fix` / `--diff`: the mechanical edits, and the ones refused with the reason.

What is fixed: the free-threading declaration of a module (FT401 C, FT402 Cython, FT403 pybind11,
FT404 nanobind; edits in fix/declare.py), and only for a module that is *ready to declare*
(readiness.py: no hazard left in any of its files, membership.py). A module with hazards is refused,
with the hazards that block it: declaring support while they remain is exactly what FT405 reports.

FT206 (`PyObject_Malloc` for a plain buffer) is fixed when the buffer never leaves its function
(rules/_buffers.py judges the pointer-flow facts: not returned, not stored, passed only to memory
functions): its allocations, reallocations and frees all become the `PyMem_*` forms in one edit
(fix/buffers.py). Otherwise the finding is refused with the flow that lets the pointer escape.

`plan(result)` reads nothing outside the scanned roots and writes nothing; `write(plan)` writes
each edited file atomically (safeio.write_atomic) after checking it did not change meanwhile.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..facts import DeclKind
from ..findings import Finding
from ..membership import Module
from ..readiness import BLOCKED, READY_TO_DECLARE, readiness
from ..scan import ScanResult
from .buffers import edits_for as buffer_edits
from .declare import edits_for, nanobind
from .edits import Edit, EditError, FileText, apply, read_text, unified_diff
from .edits import write as write_file

DECLARATION_RULES = ("FT401", "FT402", "FT403", "FT404")
_IDENT = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Refusal:
    """A module whose declaration was not edited (or, `rule` FT206, a buffer whose allocator was not
    switched), and why (one sentence)."""

    module: str
    path: str
    reason: str
    rule: str = ""


@dataclass
class FixPlan:
    """Edited texts by file, the modules declared, the refusals, and the findings the edits fix."""

    files: dict[str, tuple[FileText, str]] = field(default_factory=dict)  # shown path -> (as read, after)
    declared: list[Module] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    buffers: list[Finding] = field(default_factory=list)  # the FT206 findings whose buffer was switched
    edits: dict[str, list[Edit]] = field(default_factory=dict)  # shown path -> every edit of it
    # id() of each finding in `fixed` -> the edits that fix it, with their file (shown path) and its text
    # as read: what a SARIF result's `fixes` says (report/sarif.py).
    changes: dict[int, list[tuple[str, FileText, Edit]]] = field(default_factory=dict)

    def diff(self) -> str:
        """Every edit as one unified diff, files in path order."""
        return "".join(unified_diff(p, ft.text, after) for p, (ft, after) in sorted(self.files.items()))


def _blockers(hazards: tuple[Finding, ...]) -> str:
    places = Counter((f.rule, f.path) for f in hazards)
    shown = [f"{rule} in {path}" + (f" ({n})" if n > 1 else "") for (rule, path), n in sorted(places.items())]
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return ", ".join(shown[:5]) + more


def _def_name(ft: FileText, module: Module) -> str:
    """The identifier at the module definition's position (the PyModuleDef variable for C)."""
    lines = ft.text.splitlines()
    if not 0 < module.span.line <= len(lines):
        raise EditError("its definition is not where the scan found it (the file changed?)")
    m = _IDENT.match(lines[module.span.line - 1], module.span.col - 1)
    if m is None:
        raise EditError("its definition is not where the scan found it (the file changed?)")
    return m.group(0)


def _edits(module: Module, root: Path, roots: list[Path], texts: dict[str, FileText]) -> tuple[str, list[Edit]]:
    """(shown path, edits) that declare `module`. Raises EditError."""

    def text_of(shown: str) -> FileText:
        if shown not in texts:
            texts[shown] = read_text(root / shown, roots)
        return texts[shown]

    if module.kind == DeclKind.NANOBIND:
        targets = [b for b in module.builds if b.kind == "nanobind"]
        if not targets:
            raise EditError("no nanobind_add_module for it in the scanned tree: add FREE_THREADED there")
        t = targets[0]
        return t.path, nanobind(text_of(t.path), t.line, t.name)
    ft = text_of(module.path)
    name = _def_name(ft, module) if module.kind in (DeclKind.MULTI_PHASE, DeclKind.SINGLE_PHASE) else module.name
    return module.path, edits_for(module.kind, ft, name, module.span.line)


def plan(result: ScanResult, roots: list[Path]) -> FixPlan:
    """The declaration edits for every module of `result` that is ready to declare, and a refusal for
    every module that is not declared and still has hazards. `roots`: the scanned paths (edits stay
    inside them). Paths are shown relative to `result.root`, as findings are."""
    out = FixPlan()
    texts: dict[str, FileText] = {}
    for r in readiness(result.modules, result.findings):
        m = r.module
        if r.verdict == BLOCKED:
            n = len(r.hazards)
            out.refused.append(Refusal(m.name, m.path, f"{n} hazard(s) block the declaration: {_blockers(r.hazards)}"))
            continue
        if r.verdict != READY_TO_DECLARE:
            continue
        try:
            shown, edits = _edits(m, result.root, roots, texts)
            trial = apply(texts[shown].text, [*out.edits.get(shown, []), *edits])
        except EditError as err:
            out.refused.append(Refusal(m.name, m.path, str(err)))
            continue
        out.edits.setdefault(shown, []).extend(edits)
        out.files[shown] = (texts[shown], trial)
        out.declared.append(m)
        here = os.path.normpath(m.path)
        for f in result.findings:
            if f.rule in DECLARATION_RULES and os.path.normpath(f.path) == here:
                out.fixed.append(f)
                out.changes[id(f)] = [(shown, texts[shown], e) for e in edits]
    _buffers(result, roots, out, texts)
    return out


def _buffers(result: ScanResult, roots: list[Path], out: FixPlan, texts: dict[str, FileText]) -> None:
    """The FT206 edits of every finding that has them, and a refusal for every other FT206 finding."""
    for f in result.findings:
        if f.rule != "FT206" or not f.counts:
            continue
        if not f.fix:
            why = f.no_fix or "no edit offered"
            out.refused.append(Refusal("", f.path, f"FT206 at line {f.span.line}: {why}", "FT206"))
            continue
        try:
            if f.path not in texts:
                texts[f.path] = read_text(result.root / f.path, roots)
            ft = texts[f.path]
            new = [e for e in buffer_edits(ft, f) if e.offset not in {x.offset for x in out.edits.get(f.path, [])}]
            trial = apply(ft.text, [*out.edits.get(f.path, []), *new])
        except EditError as err:
            out.refused.append(Refusal("", f.path, f"FT206 at line {f.span.line}: {err}", "FT206"))
            continue
        out.edits.setdefault(f.path, []).extend(new)
        out.files[f.path] = (ft, trial)
        out.fixed.append(f)
        out.buffers.append(f)
        out.changes[id(f)] = [(f.path, ft, e) for e in new]


def write(p: FixPlan) -> list[Refusal]:
    """Write every edited file; the files that could not be written, as refusals."""
    failed = []
    for shown, (ft, after) in sorted(p.files.items()):
        try:
            write_file(ft, after)
        except EditError as err:
            failed.append(Refusal("", shown, str(err)))
    return failed
