"""Orchestrate a scan: discover, read, parse, run rules, collect problems."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import astuple, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import cachedirs
from . import catalogue as catalogue_mod
from .analyse import FileRecord, Settings, analyse_files
from .baseline import Baseline
from .buildfiles import BuildTarget, Description, read_compiled, read_description
from .buildfiles.defines import BuildDefines
from .built import Built, unbuilt_files
from .built import notes as unbuilt_notes
from .cache import Cache
from .callgraph import CallGraph, never_called_notes, program_only_notes
from .catalogue import Catalogue
from .config import Config
from .discover import SourceFile, discover
from .engine import run_rules
from .facts import Problem
from .findings import Finding
from .fingerprint import with_fingerprints
from .frontends import availability as frontend_availability
from .frontends.flags import CompileDatabase, CompileDatabaseError, FlagSettings, find_compile_database, header_facts
from .lockscope import with_held_locks
from .membership import Module, modules
from .pathfilter import PathFilter, Patterns, compile_patterns
from .rulebudget import RuleClock
from .rulefailures import RuleFailures
from .selection import PerFileIgnores, RuleLayer, layer_of, resolve
from .source import DEFAULT_MAX_BYTES
from .suppress import IgnoreIndex
from .switched import leave_out
from .switches import BuildWords, build_words
from .vendored import SetAside, Vendoring, mark_vendored, set_aside
from .workers import Limits


@dataclass
class ScanOptions:
    paths: list[Path]
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    include_dirs: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    python_include: list[str] | None = None
    target_version: str = ""  # "3.14t"...; "" = the configuration's `target-version`, else any
    compile_commands: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    root: Path | None = None
    config: Config = field(default_factory=Config)
    baseline: Baseline | None = None
    warn_unused_ignores: bool = False
    progress: Callable[[int, int, str, int], None] | None = None  # (done, total, path, problems) per file
    phase: Callable[[str], None] | None = None  # told of each phase as it starts (progress.Progress.phase)
    frontend: str = ""  # auto | clang | treesitter; "" = the configuration's, else auto
    jobs: int = 0  # worker processes analysing files; 0 = one per CPU
    cache: bool = False  # reuse facts of unchanged files from the cache (cache.py)
    cache_dir: Path | None = None  # None: the root's folder in the user's cache directory (cachedirs.py)
    limits: Limits = field(default_factory=Limits)  # per-file time, per-worker memory
    parse_limit: float | None = None  # seconds of libclang per file; None: the configuration's `parse-timeout`
    verbose: bool = False  # also report the compile-database options the allowlist dropped
    include_vendored: bool = False  # judge third-party and generated code too (vendored.py)
    include_unbuilt: bool = False  # judge files no built extension module contains too (built.py)
    # The command line's values of configuration keys (cliopts.overrides): extend-select, exclude...
    overrides: dict[str, Any] = field(default_factory=dict)


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
    set_aside: list[SetAside] = field(default_factory=list)  # findings in vendored code, per directory
    frontend: str = ""  # the C/C++ frontend choice in effect: auto, clang or treesitter
    modules: list[Module] = field(default_factory=list)  # extension modules and their files (membership.py)
    headers: dict[str, Any] = field(default_factory=dict)  # where C/C++ headers came from (flags.header_facts)
    paths: list[Path] = field(default_factory=list)  # the scanned paths as given (edits stay inside them)

    @property
    def counted(self) -> list[Finding]:
        """Findings that are neither suppressed inline nor in the baseline."""
        return [f for f in self.findings if f.counts]

    @property
    def failed(self) -> bool:
        """Findings or unused ignores (when asked for): exit code 1."""
        return bool(self.counted) or self.unused_ignores > 0


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def find_root(paths: list[Path]) -> Path:
    """Where SARIF/JSON paths are relative to: the git work tree, else the cwd."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    for cand in [start, *start.parents]:
        if (cand / ".git").exists():
            return cand
    return Path.cwd().resolve()


_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "meson.build", ".git")


def vendoring_root(root: Path, paths: list[Path]) -> Path:
    """Where vendored directories and `.gitattributes` are judged from: the scan root when the first
    scanned path is inside it, else that path's project directory (the nearest directory above it with
    pyproject.toml, setup.py, meson.build or .git), else the scanned directory itself. An sdist scanned
    from elsewhere (root = the working directory) keeps its `.gitattributes` and `third_party/`."""
    first = (paths[0] if paths else root).resolve()
    if first == root or root in first.parents:
        return root
    start = first if first.is_dir() else first.parent
    for cand in [start, *start.parents]:
        if any((cand / m).exists() for m in _PROJECT_MARKERS):
            return cand
    return start


@lru_cache(maxsize=65536)
def relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    return absolute if rel.startswith("..") else rel.replace(os.sep, "/")


def _phase(opts: ScanOptions, name: str) -> None:
    if opts.phase is not None:
        opts.phase(name)


@dataclass
class Prepared:
    """What a scan uses, decided before any file is read (scan, --show-settings and --show-files)."""

    config: Config
    catalogue: Catalogue
    root: Path
    rule_ids: list[str]
    files: list[SourceFile]
    problems: list[Problem]
    pathfilter: PathFilter
    per_file_ignores: PerFileIgnores
    frontend: str
    flags: FlagSettings
    db_problems: list[Problem]  # the compile database's (an error: exit 2)
    targets: list[BuildTarget]  # the build descriptions' extension modules (buildfiles)
    description: Description = field(default_factory=lambda: Description((), (), ()))  # why it may be incomplete
    build_words: BuildWords = field(default_factory=BuildWords)  # the build files' identifiers (switches.py)


def prepare(opts: ScanOptions) -> Prepared:
    """The configuration layered with the command line: the rules, the files found, the exclusions.
    Raises ConfigError when an exclude pattern set cannot be compiled."""
    config = opts.config
    over = opts.overrides
    cat = config.apply(catalogue_mod.load())
    root = (opts.root or find_root(opts.paths)).resolve()
    cli_layer = RuleLayer(
        [s.upper() for s in opts.select] or None,
        [s.upper() for s in over.get("extend-select", [])],
        [s.upper() for s in [*opts.ignore, *over.get("extend-ignore", [])]],
    )
    rule_ids = resolve(cat, [layer_of(config.values), cli_layer])
    pathfilter = path_filter(config, over)
    _phase(opts, "discovering files")
    build_files: list[Path] = []
    files, problems = discover(opts.paths, pathfilter, build_files)
    description = read_description(build_files)
    targets = list(description.targets)
    problems += description.problems
    _phase(opts, f"found {len(files):,} files; reading flags and the compile database")
    if not opts.verbose:  # which directories were left out, and why: with -v
        problems = [p for p in problems if p.code != "excluded"]
    cwd = Path.cwd()
    if "per-file-ignores" in over:
        ignores = PerFileIgnores.of(over["per-file-ignores"], cwd)
    else:
        ignores = PerFileIgnores.of(config.table("per-file-ignores"), config.base)
    ignores += PerFileIgnores.of(over.get("extend-per-file-ignores", {}), cwd)
    choice = opts.frontend or config.get("frontend")
    db, db_problems = load_database(opts)
    flags = FlagSettings(
        opts.include_dirs + config.paths("include-dirs"),
        opts.defines + config.list("defines"),
        opts.python_include,
        db,
        opts.paths,
        target_version=opts.target_version or config.get("target-version") or "",
        build_defines=BuildDefines(tuple(read_compiled(build_files, problems))),
    )
    return Prepared(
        config,
        cat,
        root,
        rule_ids,
        files,
        problems,
        pathfilter,
        ignores,
        choice,
        flags,
        db_problems,
        targets,
        description,
        build_words(build_files),
    )


def path_filter(config: Config, over: dict[str, Any]) -> PathFilter:
    """`exclude` (the command line's, else the configuration's or the defaults), `extend-exclude`
    (the configuration's, then the command line's) and `respect-gitignore`."""
    cwd = os.getcwd()
    layers: list[Patterns] = config.exclude_patterns()
    if "exclude" in over:
        layers[0] = compile_patterns(over["exclude"], cwd, "--exclude")
    if over.get("extend-exclude"):
        layers.append(compile_patterns(over["extend-exclude"], cwd, "--extend-exclude"))
    respect = over.get("respect-gitignore", config.get("respect-gitignore"))
    return PathFilter(layers, bool(respect))


def scan(opts: ScanOptions) -> ScanResult:
    prep = prepare(opts)
    config, cat, root, rule_ids = prep.config, prep.catalogue, prep.root, prep.rule_ids
    files, problems = prep.files, prep.problems
    problems += prep.db_problems
    setup_errors = sum(1 for p in prep.db_problems if p.level == "error")
    targets = prep.targets
    choice = prep.frontend or "auto"
    if any(sf.language != "cython" for sf in files):
        choice, unavailable = frontend_availability.resolve(choice, str(root))
        if unavailable is not None:
            problems.append(unavailable)
            setup_errors += unavailable.level == "error"
    parse_limit = opts.parse_limit if opts.parse_limit is not None else float(config.get("parse-timeout"))
    limits = replace(opts.limits, parse=parse_limit)
    vendoring = Vendoring(
        vendoring_root(root, opts.paths),
        config.list("vendored"),
        config.list("not-vendored"),
        config.base,
        not opts.include_vendored,
    )
    # By path (directories, .gitattributes, configuration); a generator's banner is found when a file is read.
    by_path = {str(sf.path): why for sf in files if (why := vendoring.reason(str(sf.path)))}
    shallow = vendoring if vendoring.enabled else None  # vendored code to tree-sitter (vendored.py)
    directives = config.cython_directives()
    settings = Settings(cat, prep.flags, choice, directives, opts.max_bytes, limits, shallow, tuple(sorted(by_path)))
    if opts.cache:
        _phase(opts, "checking the cache")
    cache = _open_cache(opts, root, settings, config.values) if opts.cache else None
    plan = cache.plan(files) if cache is not None else None
    # What, besides the files' keys, decides a whole scan's result.
    extra = [
        rule_ids,
        opts.warn_unused_ignores,
        problems,
        opts.include_vendored,
        opts.include_unbuilt,
        config.list("built"),
        list(prep.description.unknown),
        sorted(by_path.items()),
        prep.per_file_ignores.describe(),
        [astuple(t) for t in targets],
        sorted(prep.build_words.words),
        list(prep.build_words.dirs),
    ]
    scan_key = None
    if cache is not None and plan is not None and all(valid and key for key, valid in plan):
        scan_key = cache.scan_key([k for k, _ in plan if k], extra)
    payload = cache.load_scan(scan_key) if cache is not None and scan_key is not None else None
    if payload is None:
        payload = _analyse_and_judge(
            files,
            settings,
            opts,
            cache,
            plan,
            cat,
            rule_ids,
            vendoring,
            by_path,
            prep.per_file_ignores,
            targets,
            None
            if opts.include_unbuilt
            else Built(prep.description, config.list("built"), config.base, prep.build_words),
        )
        if cache is not None and plan is not None and payload[3] == 0 and all(k for k, _ in plan):
            cache.put_scan(cache.scan_key([k for k, _ in plan if k], extra), payload)
    if cache is not None:
        cache.prune()
    records, findings, file_problems, tool_errors, n_unused, modules = payload
    problems = problems + file_problems
    for rec in records:
        rec.path = relative(rec.path, root)
    # Sorted again once relocated: libclang names some files absolutely, the walk relatively.
    findings = with_fingerprints(sorted((_relocate(f, root) for f in findings), key=Finding.sort_key), root)
    fixed = None
    if opts.baseline is not None:
        findings, fixed = opts.baseline.apply(findings)
    problems = [_relocate_problem(p, root) for p in problems]
    return ScanResult(
        root,
        records,
        findings,
        problems,
        rule_ids,
        tool_errors + setup_errors,
        n_unused,
        fixed,
        set_aside(findings),
        choice,
        [_relocate_module(m, root) for m in modules],
        header_facts(prep.flags) if choice != "treesitter" and any(r.language in ("c", "cpp") for r in records) else {},
        list(opts.paths),
    )


def load_database(opts: ScanOptions) -> tuple[CompileDatabase | None, list[Problem]]:
    """The compile database in effect (command line, configuration, or found in the tree), and the
    problems with it: an error when it cannot be used (a tool error: exit 2), and with `verbose` a
    note listing the options the allowlist dropped."""
    path = opts.compile_commands or opts.config.compile_commands() or find_compile_database(opts.paths)
    if path is None:
        return None, []
    try:
        db = CompileDatabase.load(path, opts.paths)
    except CompileDatabaseError as err:
        return None, [Problem(str(path), "error", "compile-commands", f"cannot use compile database: {err}")]
    except OSError as err:
        reason = err.strerror or str(err)
        return None, [Problem(str(path), "error", "compile-commands", f"cannot read compile database: {reason}")]
    if not opts.verbose or not db.dropped:
        return db, []
    return db, [Problem(str(db.path), "note", "compile-flags-dropped", dropped_message(db.dropped))]


def dropped_message(dropped: dict[str, int], limit: int = 40) -> str:
    """One line naming the distinct options dropped (the first `limit`; unprintable ones quoted)."""
    shown = [o if o.isprintable() else repr(o) for o in list(dropped)[:limit]]
    more = f" and {len(dropped) - limit} more" if len(dropped) > limit else ""
    return (
        f"{len(dropped)} distinct compiler option(s) not passed to libclang (only path-free options that shape "
        f"the parse are): {' '.join(shown)}{more}"
    )


def _open_cache(opts: ScanOptions, root: Path, settings: Settings, config_values: dict[str, Any]) -> Cache | None:
    """The cache of this scan: `opts.cache_dir`, else the root's folder in the user's cache directory;
    None when the user's key can be neither read nor created (the scan runs without a cache)."""
    secret = cachedirs.secret()
    if secret is None:
        return None
    digest = settings.digest(config_values)
    if opts.cache_dir is not None:
        return Cache(opts.cache_dir, digest, secret)
    return Cache(cachedirs.location_for(root), digest, secret, shared=cachedirs.roots_folder())


def _analyse_and_judge(
    files: list[SourceFile],
    settings: Settings,
    opts: ScanOptions,
    cache: Cache | None,
    plan: list[tuple[str | None, bool]] | None,
    cat: Catalogue,
    rule_ids: list[str],
    vendoring: Vendoring,
    by_path: dict[str, str],
    per_file: PerFileIgnores,
    targets: list[BuildTarget],
    build: Built | None = None,
) -> tuple[list[FileRecord], list[Finding], list[Problem], int, int, list[Module]]:
    """Facts of every file, then the modules (membership.py) and the rules over all of them (paths
    still as discovered). Findings that `per_file` ignores, and those in vendored files (`by_path`, or
    a generator's banner), are marked before findings rules see them. `build`: the build description
    and the `built` patterns, which decide the files no built module contains (built.py)."""
    jobs = opts.jobs or default_jobs()
    _phase(opts, f"parsing {len(files):,} files with {jobs} worker(s), biggest first")
    results = analyse_files(files, settings, jobs, cache, opts.progress, plan)
    _phase(opts, "call graph and function roles")
    records = [copy.copy(r.record) for r in results]
    units = [r.unit for r in results if r.unit is not None]
    ignores = IgnoreIndex()
    problems: list[Problem] = []
    for r in results:
        problems += r.problems
        ignores.add(r.record.path, r.ignores)
    tool_errors = sum(r.tool_errors for r in results)
    off: dict[str, frozenset[int]] = {}
    if build is not None:  # code only an opt-in switch compiles is left out, as a default build does
        units, switch_notes, off = leave_out(units, build.words, build.description)
        problems += switch_notes
    graph = CallGraph(units)
    units, graph, under_lock = with_held_locks(units, graph, cat)  # locks helpers and callers hold (lockscope.py)
    problems += under_lock
    mods = modules(units, graph, targets)
    unbuilt = unbuilt_files(units, build.description, mods, build.is_built, off) if build is not None else {}
    if build is not None:
        problems += unbuilt_notes(unbuilt, build.description)
    program, never = graph.program_only(), graph.never_called()
    notes = program_only_notes(graph, program) + never_called_notes(graph, never - program)
    problems += [p for p in notes if os.path.abspath(p.path) not in unbuilt]
    not_judged = program | never
    reasons = {os.path.abspath(path): why for path, why in by_path.items()}
    for r in results:
        if r.record.generator and r.record.path not in by_path:
            reasons[os.path.abspath(r.record.path)] = vendoring.reason(r.record.path, r.record.generator)

    def mark(f: Finding) -> Finding:
        return mark_vendored(per_file.apply(ignores.apply(f)), reasons)

    _phase(opts, f"running {len(rule_ids)} rules")
    clock = RuleClock(opts.limits.time)  # the rules' budget per file is the parse's (rulebudget.py)
    failures = RuleFailures()  # a rule that raises on a file is a problem there, not the scan's end
    found = run_rules(units, cat, rule_ids, mark, not_judged, graph, targets, mods, frozenset(unbuilt), clock, failures)
    problems += clock.problems() + failures.problems()
    tool_errors += len(clock.skipped) + len(failures.failed)
    findings, frozen = frozen_notes(sorted(found, key=Finding.sort_key))
    problems += frozen
    unused = ignores.unused(rule_ids) if opts.warn_unused_ignores else []
    return records, findings, problems + unused, tool_errors, len(unused), mods


def frozen_notes(findings: list[Finding]) -> tuple[list[Finding], list[Problem]]:
    """Findings on frozen containers (rules/_containers.py) become `frozen-container` notes (shown with
    -v, in JSON and SARIF notifications), saying which finding is not reported and why."""
    kept: list[Finding] = []
    notes: list[Problem] = []
    for f in findings:
        if f.suppression is not None and f.suppression.origin == "frozen":
            message = f"{f.rule} not reported: {f.message}, but {f.suppression.justification}"
            notes.append(Problem(f.path, "note", "frozen-container", message, f.span.line))
        else:
            kept.append(f)
    return kept, notes


def _relocate(f: Finding, root: Path) -> Finding:
    related = tuple(replace(r, path=relative(r.path, root)) if r.path else r for r in f.related)
    return replace(f, path=relative(f.path, root), related=related)


def _relocate_module(m: Module, root: Path) -> Module:
    files = tuple(replace(f, path=relative(f.path, root)) for f in m.files)
    builds = tuple(replace(b, path=relative(b.path, root), sources=()) for b in m.builds)
    return replace(m, path=relative(m.path, root), files=files, builds=builds)


def _relocate_problem(p: Problem, root: Path) -> Problem:
    return replace(p, path=relative(p.path, root))
