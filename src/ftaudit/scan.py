"""Orchestrate a scan: discover, read, parse, run rules, collect problems."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import catalogue as catalogue_mod
from .baseline import Baseline
from .config import Config
from .discover import SourceFile, discover
from .engine import run_rules, selected_rules
from .facts import Problem, Unit
from .findings import Finding
from .fingerprint import with_fingerprints
from .frontends.clang import ClangFrontend
from .frontends.clang.flags import CompileDatabase, FlagSettings, find_compile_database
from .frontends.cython import CythonFrontend
from .frontends.treesitter import TreeSitterFrontend
from .source import DEFAULT_MAX_BYTES, read_source
from .suppress import IgnoreIndex, parse_ignores


@dataclass
class ScanOptions:
    paths: list[Path]
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    include_dirs: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    python_include: list[str] | None = None
    compile_commands: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    root: Path | None = None
    config: Config = field(default_factory=Config)
    baseline: Baseline | None = None
    warn_unused_ignores: bool = False
    progress: Callable[[int, int, str], None] | None = None  # (done, total, path) after each file
    frontend: str = ""  # auto | clang | treesitter; "" = the configuration's, else auto


@dataclass
class FileRecord:
    path: str
    language: str
    frontend: str  # "clang", or "skipped"


@dataclass
class ScanResult:
    root: Path
    files: list[FileRecord]
    findings: list[Finding]
    problems: list[Problem]
    rules: list[str]
    tool_errors: int = 0
    unused_ignores: int = 0
    baseline_fixed: int | None = None  # baseline entries no finding matched (None: no baseline)

    @property
    def counted(self) -> list[Finding]:
        """Findings that are neither suppressed inline nor in the baseline."""
        return [f for f in self.findings if f.counts]

    @property
    def failed(self) -> bool:
        """Findings or unused ignores (when asked for): exit code 1."""
        return bool(self.counted) or self.unused_ignores > 0


def find_root(paths: list[Path]) -> Path:
    """Where SARIF/JSON paths are relative to: the git work tree, else the cwd."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    for cand in [start, *start.parents]:
        if (cand / ".git").exists():
            return cand
    return Path.cwd().resolve()


def relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    return absolute if rel.startswith("..") else rel.replace(os.sep, "/")


def scan(opts: ScanOptions) -> ScanResult:
    config = opts.config
    cat = config.apply(catalogue_mod.load())
    root = (opts.root or find_root(opts.paths)).resolve()
    select = opts.select or [s.upper() for s in config.list("select")]
    rule_ids = selected_rules(cat, select, opts.ignore + [s.upper() for s in config.list("ignore")])
    files, problems = discover(opts.paths, config.excluded)
    db_path = opts.compile_commands or config.compile_commands() or find_compile_database(opts.paths)
    db = None
    if db_path is not None:
        try:
            db = CompileDatabase.load(db_path)
        except (OSError, ValueError, KeyError) as err:
            problems.append(Problem(str(db_path), "error", "compile-commands", f"cannot read compile database: {err}"))
    flags = FlagSettings(
        opts.include_dirs + config.paths("include-dirs"),
        opts.defines + config.list("defines"),
        opts.python_include,
        db,
        opts.paths,
    )
    clang = ClangFrontend(cat, flags)
    choice = opts.frontend or config.values.get("frontend", "auto")
    chooser = FrontendChooser(
        choice, clang, TreeSitterFrontend(cat), CythonFrontend(cat, clang, config.cython_directives())
    )
    records: list[FileRecord] = []
    units: list[Unit] = []
    ignores = IgnoreIndex()
    tool_errors = 0
    for i, sf in enumerate(files):
        rec, unit, errs = _scan_file(sf, chooser, opts.max_bytes, problems, ignores)
        records.append(rec)
        tool_errors += errs
        if unit is not None:
            units.append(unit)
        if opts.progress is not None:
            opts.progress(i + 1, len(files), str(sf.path))
    findings = sorted(run_rules(units, cat, rule_ids, ignores.apply), key=Finding.sort_key)
    unused = ignores.unused(rule_ids) if opts.warn_unused_ignores else []
    problems += unused
    for rec in records:
        rec.path = relative(rec.path, root)
    findings = with_fingerprints([_relocate(f, root) for f in findings], root)
    fixed = None
    if opts.baseline is not None:
        findings, fixed = opts.baseline.apply(findings)
    problems = [_relocate_problem(p, root) for p in problems]
    return ScanResult(root, records, findings, problems, rule_ids, tool_errors, len(unused), fixed)


class FrontendChooser:
    """Which frontend analyses a file: Cython's for Cython; for C/C++ libclang, tree-sitter, or (auto)
    libclang unless it cannot parse the file well (headers missing, syntax errors), then tree-sitter."""

    def __init__(self, choice: str, clang: ClangFrontend, ts: TreeSitterFrontend, cython: CythonFrontend) -> None:
        self.choice, self.clang, self.ts, self.cython = choice, clang, ts, cython

    def analyse(self, sf: SourceFile, src: Any) -> Unit:
        if sf.language == "cython":
            return self.cython.analyse(sf, src)
        if self.choice == "treesitter":
            return self.ts.analyse(sf, src)
        unit = self.clang.analyse(sf, src)
        if self.choice == "clang":
            return unit
        trouble = [p for p in unit.problems if p.code in _FALLBACK]
        if not trouble:
            return unit
        ts_unit = self.ts.analyse(sf, src)
        why = "; ".join(p.code for p in trouble)
        note = f"analysed with tree-sitter instead of libclang ({why}): no headers needed, types from this file only"
        ts_unit.problems = [*unit.problems, Problem(unit.path, "note", "frontend-fallback", note, trouble[0].line)]
        return ts_unit


_FALLBACK = {"missing-header", "syntax-error", "parse-failed"}


def _scan_file(
    sf: SourceFile,
    frontend: FrontendChooser,
    max_bytes: int,
    problems: list[Problem],
    ignores: IgnoreIndex,
) -> tuple[FileRecord, Unit | None, int]:
    path = str(sf.path)
    src, read_problems = read_source(sf.path, max_bytes)
    problems += read_problems
    if src is None:
        return FileRecord(path, sf.language, "skipped"), None, 0
    found, ignore_problems = parse_ignores(path, src.text, sf.language)
    ignores.add(path, found)
    problems += ignore_problems
    try:
        unit = frontend.analyse(sf, src)
    except Exception as err:
        problems.append(
            Problem(path, "error", "internal-error", f"ftaudit failed on this file: {type(err).__name__}: {err}")
        )
        return FileRecord(path, sf.language, "skipped"), None, 1
    problems += unit.problems
    return FileRecord(path, unit.language, unit.frontend), unit, 0


def _relocate(f: Finding, root: Path) -> Finding:
    related = tuple(replace(r, path=relative(r.path, root)) if r.path else r for r in f.related)
    return replace(f, path=relative(f.path, root), related=related)


def _relocate_problem(p: Problem, root: Path) -> Problem:
    return replace(p, path=relative(p.path, root))
