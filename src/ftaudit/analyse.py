"""Turn source files into facts: in parallel (`--jobs`), and from a cache when nothing changed.

Each file is analysed on its own (the cross-file judgements happen later, in
the rules, over all units), so files go to a process pool and come back in
their original order whatever the number of jobs. A unit is cached under its
content, the settings that shape the analysis (catalogue, configuration,
flags, frontend choice, ftaudit version), and the headers libclang read for it
(their size and modification time are checked on every hit).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, generated_cython
from . import facts as facts_module
from .catalogue import Catalogue, catalogue_root
from .discover import SourceFile
from .facts import Problem, Unit
from .frontends.flags import FlagSettings
from .frontends.includes import missing_header_problem
from .names import utf8_safe
from .safeio import UnsafeFileError, read_regular
from .source import Source, read_source
from .suppress import Ignore, parse_ignores
from .templates import Template, TemplateError, expand, remap, template_for
from .vendored import Vendoring, f2c_or, generator_of
from .workers import Limits, WorkerPool

if TYPE_CHECKING:
    from .cache import Cache

_CACHE_FORMAT = "3"  # 2: msgpack entries authenticated by an HMAC (cache.py), no pickles; 3: Ignore spans (suppress.py)
_FALLBACK = frozenset({"missing-header", "syntax-error", "parse-failed", "parse-time-limit"})
FALLBACK_NOTE = "analysed with tree-sitter instead of libclang (no headers needed, types from this file only)"


def parse_limit_problem(path: str, seconds: float) -> Problem:
    """Why a file was analysed by tree-sitter after libclang was stopped on it (a fallback, not an error)."""
    message = f"libclang took longer than the {seconds:g}-second parse time limit (--parse-timeout) and was stopped"
    return Problem(path, "warning", "parse-time-limit", message)


@dataclass
class FileRecord:
    path: str
    language: str
    frontend: str  # "clang", "treesitter", "cython", or "skipped"
    generator: str = ""  # the tool whose banner opens the file (f2c, SWIG...): generated code
    template: str = ""  # "numpy" or "tempita": the file is a template, analysed through its expansion


@dataclass
class FileResult:
    record: FileRecord
    unit: Unit | None
    problems: list[Problem] = field(default_factory=list)
    ignores: list[Ignore] = field(default_factory=list)
    tool_errors: int = 0


@dataclass(frozen=True)
class Settings:
    """Everything a worker process needs to build its frontends (picklable)."""

    catalogue: Catalogue
    flags: FlagSettings
    frontend: str  # auto | clang | treesitter
    cython_directives: dict[str, str]
    max_bytes: int
    # Per-file time and per-worker memory: not in the digest, they change no fact.
    limits: Limits = field(default_factory=Limits)
    # Vendored and generated files go to tree-sitter in auto mode (vendored.py); None: every file is
    # parsed deeply (--include-vendored). `vendored`: the files vendored by path, for the digest.
    vendoring: Vendoring | None = None
    vendored: tuple[str, ...] = ()

    def digest(self, config_values: dict[str, Any]) -> str:
        """What, besides a file's bytes, decides its facts."""
        h = hashlib.sha256()
        h.update(f"{__version__}\0{_CACHE_FORMAT}\0{self.frontend}\0{self.max_bytes}\0".encode())
        # ftaudit's own code: a changed frontend, rule or facts model must not be answered from entries
        # made by the old one (an editable install, a patched release keep the version number).
        h.update(_code_digest())
        root = catalogue_root()
        for node in sorted(_walk(root), key=lambda n: n[0]):
            h.update(node[0].encode() + b"\0" + node[1] + b"\0")
        f = self.flags
        db = f.compile_db
        flags = {
            "include": f.include_dirs,
            "defines": f.defines,
            "build-defines": f.build_defines.describe(),
            "python": f.python_dirs,
            "gil-disabled": f.python_headers.free_threaded,
            "db": [db.path, os.stat(db.path).st_mtime_ns] if db is not None and db.path else None,
            "roots": [str(r) for r in f.roots],
        }
        v = self.vendoring
        shallow = [v.describe(), list(self.vendored)] if v is not None else None
        shaping = [flags, config_values, self.cython_directives, shallow]
        h.update(json.dumps(shaping, sort_keys=True, default=str).encode())
        return h.hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """A digest of every source file of the installed ftaudit package (its .py files and the shim)."""
    package = Path(facts_module.__file__ or "").parent
    h = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".h") and p.is_file()):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def _walk(node: Any, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    for child in node.iterdir():
        name = f"{prefix}/{child.name}"
        if child.is_dir():
            yield from _walk(child, name)
        elif child.name.endswith(".toml"):
            yield name, child.read_bytes()


class FrontendChooser:
    """Which frontend analyses a file: Cython's for Cython; for C/C++ libclang, tree-sitter, or (auto)
    libclang unless it cannot parse the file well (headers missing, syntax errors), then tree-sitter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.choice = settings.frontend
        self.stopped_after = 0.0  # > 0: libclang ran past this many seconds on the file before (workers.py)

    def after_parse_limit(self, seconds: float) -> FrontendChooser:
        """This chooser (its frontends shared) for a file whose libclang parse ran past the parse time
        limit of `seconds` and was stopped: C and C++ go to tree-sitter, with a `parse-time-limit` problem."""
        other = copy.copy(self)
        other.stopped_after = seconds
        return other

    # Each frontend is imported and built on first use: a warm, cached scan loads none, a
    # tree-sitter scan never loads libclang.
    @cached_property
    def clang(self) -> Any:
        from .frontends.clang import ClangFrontend

        return ClangFrontend(self.settings.catalogue, self.settings.flags)

    @cached_property
    def headers(self) -> Any:
        from .frontends.includes import MissingHeaders

        return MissingHeaders(self.settings.flags.header_index)

    @cached_property
    def ts(self) -> Any:
        from .frontends.treesitter import TreeSitterFrontend

        return TreeSitterFrontend(self.settings.catalogue, self.settings.flags.header_index, self.settings.flags.roots)

    @cached_property
    def cython(self) -> Any:
        from .frontends.cython import CythonFrontend

        return CythonFrontend(self.settings.catalogue, self._embedded_c, self.settings.cython_directives)

    def _embedded_c(self) -> Any:
        """The frontend for C verbatim in Cython (`cdef extern from *`): libclang, None when it cannot load."""
        from .frontends.availability import libclang_missing

        return None if libclang_missing() else self.clang

    def analyse(self, sf: SourceFile, src: Any) -> Unit:
        if sf.language == "cython":
            return self.cython.analyse(sf, src)
        path = str(sf.path)
        flags = self.settings.flags
        language = flags.language_of(sf.path, src.text, sf.language)
        if language != sf.language:
            sf = replace(sf, language=language)
        if self.choice == "treesitter":
            return self.ts.analyse(sf, src)
        vendoring = self.settings.vendoring
        if self.choice == "auto" and vendoring is not None and vendoring.shallow(path, src.text):
            return self.ts.analyse(sf, src)  # third-party code: its summaries suffice (vendored.py)
        if self.stopped_after:
            return self._fall_back(sf, src, [parse_limit_problem(path, self.stopped_after)])
        if not utf8_safe(path):
            return self._undecodable_name(sf, src)
        args = flags.args_for(sf.path, src.text, sf.language)
        plan = self.headers.plan(path, src.text, args)
        if not flags.standins:
            plan = replace(plan, standins=())
        if self.choice == "clang":
            return self._with_inactive(sf, src, self.clang.analyse(sf, src, args, plan))
        if plan.missing and not plan.standins:  # libclang would parse the file only to fail: straight to tree-sitter
            missing = missing_header_problem(path, list(plan.missing), plan.line, dict(plan.hints))
            return self._fall_back(sf, src, [missing])
        unit = self.clang.analyse(sf, src, args, plan, unwalked=_FALLBACK)
        if not any(p.code in _FALLBACK for p in unit.problems):
            return self._with_inactive(sf, src, unit)
        standin = next((p for p in unit.problems if p.code == "stand-in-header"), None)
        if standin is None:
            return self._fall_back(sf, src, unit.problems)
        # The stand-ins were not enough: the missing headers are the cause, the syntax errors their effect.
        missing = missing_header_problem(path, unit.missing_headers, standin.line, dict(plan.hints))
        rest = [p for p in unit.problems if p.code not in ("stand-in-header", "missing-header", "syntax-error")]
        return self._fall_back(sf, src, [missing, *rest])

    def generated_declaration(self, sf: SourceFile, max_bytes: int) -> Unit | None:
        """The module declaration of Cython-generated C whose source is not beside it, judged with the
        file's compile arguments (generated_cython.py); None otherwise or when it cannot be read."""
        if sf.language not in ("c", "cpp") or generated_cython.source_beside(sf.path):
            return None
        try:
            text = read_regular(sf.path, max_bytes).decode("utf-8", errors="replace")
        except (OSError, UnsafeFileError):
            return None
        args = self.settings.flags.args_for(sf.path, text, sf.language)
        return generated_cython.unit_of(sf.path, text, args)

    def _fall_back(self, sf: SourceFile, src: Any, problems: list[Problem]) -> Unit:
        """tree-sitter's unit of the file, with libclang's `problems`: the first that made libclang's
        result unusable says so (one problem per fallback, not two). libclang's errors in included
        headers go: tree-sitter reads no header, so no declaration of theirs is missing from its unit
        (on numpy, 104 of 111 `header-syntax-error` lines were of files that fell back: effects of
        the missing headers, which their `missing-header` problem already names)."""
        ts_unit = self.ts.analyse(sf, src)
        first = next(p for p in problems if p.code in _FALLBACK)
        told = replace(first, message=f"{first.message}; {FALLBACK_NOTE}")
        ts_unit.problems = [told if p is first else p for p in problems if p.code != "header-syntax-error"]
        return ts_unit

    def _with_inactive(self, sf: SourceFile, src: Any, unit: Unit) -> Unit:
        """libclang's unit plus what tree-sitter reads in the `#if` branches libclang's configuration
        left out (frontends/inactive.py); tree-sitter runs only for files that have such branches."""
        from .frontends import inactive

        branches = inactive.conditional_branches(src.text)
        if not branches:
            return unit
        candidates = inactive.uncovered(branches, src.text, unit)
        inner = inactive.inner_uncovered(branches, src.text, unit)
        if candidates or inner:
            other = self.ts.analyse(sf, src, only=inactive.lines_merged(candidates, inner))
            inactive.merge_inner(unit, other, inner)
            inactive.merge(unit, other, candidates, branches)
        return unit

    def _undecodable_name(self, sf: SourceFile, src: Any) -> Unit:
        """A C/C++ file whose name is not UTF-8 (a hostile tree's `caf\\xff.c`): libclang takes
        UTF-8 names only, tree-sitter takes the text, so tree-sitter analyses it."""
        unit = self.ts.analyse(sf, src)
        note = "file name is not UTF-8, which libclang cannot take: analysed with tree-sitter"
        unit.problems = [*unit.problems, Problem(str(sf.path), "note", "frontend-fallback", note)]
        return unit


GENERATED_ALONE = (
    "generated by Cython and its source is not in the tree: its code is not analysed, only whether its module "
    "declares free-threading support (FT402)"
)


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def analyse_file(sf: SourceFile, chooser: FrontendChooser, max_bytes: int) -> FileResult:
    """One file to facts; a failure of ftaudit itself is a problem of the file, not of the scan."""
    path = str(sf.path)
    src, problems = read_source(sf.path, max_bytes)
    if src is None:
        generated = chooser.generated_declaration(sf, max_bytes) if _codes(problems) == ["generated"] else None
        if generated is not None:
            problems = [replace(p, message=GENERATED_ALONE) for p in problems]
        return FileResult(FileRecord(path, sf.language, "skipped"), generated, problems)
    ignores, ignore_problems = parse_ignores(path, src.text, sf.language)
    problems += ignore_problems
    template = template_for(sf.path.name, src.text)
    try:
        if template is not None:
            unit, refused = _analyse_template(sf, src, template, chooser, max_bytes)
            if unit is None:
                return FileResult(FileRecord(path, sf.language, "skipped"), None, problems + refused, ignores)
        else:
            unit = chooser.analyse(sf, src)
    except Exception as err:
        limit = _limit_reached(err)
        if limit:  # nesting deeper than the walkers follow, or a memory bomb: the file, not ftaudit
            problems.append(Problem(path, "error", "limit", f"{limit}: not analysed"))
            return FileResult(FileRecord(path, sf.language, "skipped"), None, problems, ignores, 1)
        problems.append(
            Problem(path, "error", "internal-error", f"ftaudit failed on this file: {type(err).__name__}: {err}")
        )
        return FileResult(FileRecord(path, sf.language, "skipped"), None, problems, ignores, 1)
    problems += unit.problems
    record = FileRecord(path, unit.language, unit.frontend, generator_of(src.text), template.kind if template else "")
    unit.generator = f2c_or(record.generator, src.text)
    return FileResult(record, unit, problems, ignores)


def _analyse_template(
    sf: SourceFile, src: Source, template: Template, chooser: FrontendChooser, max_bytes: int
) -> tuple[Unit | None, list[Problem]]:
    """A template's facts: its expansion analysed as the file it generates (from memory), every
    position moved back onto the template. (None, [why]) when it cannot be expanded; the expansion
    is bounded to four times the size a source file may have."""
    path = str(sf.path)
    try:
        expansion = expand(template, src.text, path, 4 * max_bytes)
    except TemplateError as err:
        code, what = ("too-large", "template expands too far") if err.limit else ("template-error", "template")
        message = f"{what}: {err.message}; not analysed"
        return None, [Problem(path, "warning", code, message, err.line)]
    generated = str(sf.path.with_name(template.generated))
    text = expansion.text
    unit = chooser.analyse(SourceFile(Path(generated), sf.language), Source(text, text.encode("utf-8"), in_memory=True))
    unit = remap(unit, expansion, generated, path)
    unit.conditional = [(expansion.position(a, 1)[0], expansion.position(b, 1)[0], c) for a, b, c in unit.conditional]
    return unit, []


def analyse_files(
    files: list[SourceFile],
    settings: Settings,
    jobs: int,
    cache: Cache | None,
    progress: Callable[[int, int, str, int], None] | None = None,
    plan: list[tuple[str | None, bool]] | None = None,
) -> list[FileResult]:
    """Results in the order of `files`, whatever `jobs` is. `progress(done, total, path, problems)` is
    called as each file completes, in the order they complete (`problems`: how many it has)."""
    results: list[FileResult | None] = [None] * len(files)
    keys: list[str | None] = [None] * len(files)
    todo: list[int] = []
    done = 0
    if cache is not None and plan is None:
        plan = cache.plan(files)
    for i, sf in enumerate(files):
        if cache is not None and plan is not None:
            keys[i], valid = plan[i]
            hit = cache.load(keys[i]) if valid and keys[i] is not None else None
            if hit is not None:
                results[i] = hit
                done += 1
                if progress is not None:
                    progress(done, len(files), str(sf.path), _troubles(hit))
                continue
        todo.append(i)
    if settings.frontend != "treesitter" and any(files[i].language in ("c", "cpp") for i in todo):
        settings.flags.header_index.prepare()  # once, here: the workers inherit it

    def completed(i: int, result: FileResult) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(files), str(files[i].path), _troubles(result))

    for i, result in zip(todo, _run(files, todo, settings, jobs, completed), strict=True):
        results[i] = result
        key = keys[i]
        if cache is not None and key is not None and result.tool_errors == 0 and not _load_dependent(result):
            cache.put(key, result)
    return [r for r in results if r is not None]


def _load_dependent(result: FileResult) -> bool:
    """A result the machine's load decided (libclang stopped by the clock): not cached, so that the next
    scan, on a quieter machine, may parse the file with libclang."""
    return any(p.code == "parse-time-limit" for p in result.problems)


def _troubles(result: FileResult) -> int:
    return len(result.problems)


def _limit_reached(err: BaseException) -> str:
    """What limit `err` says the file reached ("" for none): Python's recursion depth or memory. A
    RecursionError raised inside a ctypes callback arrives as a ctypes.ArgumentError naming it."""
    if isinstance(err, RecursionError) or "RecursionError" in str(err):
        return "nesting too deep to analyse (Python's recursion limit)"
    if isinstance(err, MemoryError):
        return "out of memory (the per-worker memory limit)"
    return ""


def _run(
    files: list[SourceFile],
    todo: list[int],
    settings: Settings,
    jobs: int,
    completed: Callable[[int, FileResult], None] | None = None,
) -> Iterator[FileResult]:
    """Results of the files of `todo`, in that order (`completed(i, result)` hears of each as it
    arrives, in any order). Every file is analysed in a worker process under
    the scan's limits (workers.py), never in this one: a file that crashes or exhausts its parser costs
    that file alone. Workers take the biggest files first, in chunks."""
    if not todo:
        return
    pool = WorkerPool(settings, min(jobs, len(todo)), settings.limits, analyse_file, _lost)
    results: dict[int, FileResult] = {}
    emitted = 0
    for i, result in pool.run(files, _chunks(files, todo)):
        results[i] = result
        if completed is not None:
            completed(i, result)
        while emitted < len(todo) and todo[emitted] in results:
            yield results.pop(todo[emitted])
            emitted += 1


def _lost(sf: SourceFile, code: str, message: str) -> FileResult:
    """The result of a file whose worker died on it (`crash`) or was stopped (`limit`): a tool error."""
    path = str(sf.path)
    return FileResult(FileRecord(path, sf.language, "skipped"), None, [Problem(path, "error", code, message)], [], 1)


def _chunks(files: list[SourceFile], todo: list[int], budget: int = 96_000) -> list[list[int]]:
    """The files, biggest first, in chunks of about `budget` bytes (one big file is a chunk of its own)."""

    def size(i: int) -> int:
        try:
            return os.stat(files[i].path).st_size
        except OSError:
            return 0

    sized = sorted(((size(i), i) for i in todo), reverse=True)
    chunks: list[list[int]] = []
    current: list[int] = []
    total = 0
    for n, i in sized:
        if current and (total + n > budget or len(current) >= 32):
            chunks.append(current)
            current, total = [], 0
        current.append(i)
        total += n
    if current:
        chunks.append(current)
    return chunks
