"""Which walked files and directories are left out: `exclude` patterns and `.gitignore` files.

Both are gitignore patterns (git's own rules, through `pathspec`): `tests/*.c` matches
`tests/u.c` and not `tests/sub/u.c`, a leading `/` anchors a pattern to its base
directory, a trailing `/` matches directories only, `!keep` re-includes, and the last
matching pattern decides. Two independent judgements, as ruff makes them:

- **exclude**: `exclude` (default: DEFAULT_EXCLUDES; setting it replaces them) then
  `extend-exclude`, from the configuration (relative to its file) and the command line
  (relative to the working directory), read as one list in that order;
- **gitignore** (`respect-gitignore`, on by default), inside a git work tree only (a
  `.git` at or above the scanned directory; an unpacked sdist has none, and its
  .gitignore describes a checkout, not what the sdist ships: ujson's `lib/` pattern
  would drop its own lib/*.c): the `.gitignore` of every directory walked, and of the
  directories between the work tree's top and a scanned directory; a deeper
  file's verdict beats a shallower one's, and a file git tracks (`.git/index`, read by
  gitindex.py) is never left out by them. Git is never run: the files are read with
  `safeio.read_regular` (a symbolic link is not followed, as git does not), bounded in size
  and pattern count, since the scanned tree may have planted them.

Matching uses pathspec's re2 backend (linear time); a pattern set re2 cannot compile is
dropped with a note rather than handed to Python's backtracking `re`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import pathspec

from . import gitindex
from .facts import Problem
from .safeio import read_regular, within

# Ruff's way: these are what `exclude` is when the configuration does not set it.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".*/",  # .git, .hg, .svn, .venv, .tox, .nox, .ftaudit_cache, .eggs ...
    "build/",
    "dist/",
    "node_modules/",
    "__pycache__/",
    "venv/",
    "env/",
    "site-packages/",
)
GITIGNORE_MAX_BYTES = 256 * 1024
GITIGNORE_MAX_PATTERNS = 1000  # per file: re2 compiles a few thousand, in about a second per thousand
GITIGNORE_TOTAL_PATTERNS = 10_000  # per scan: a planted .gitignore in every directory cannot stall the walk
GITIGNORE_MAX_DEPTH = 64  # nested .gitignore files that apply to one path


@dataclass(frozen=True)
class Patterns:
    """Gitignore patterns relative to the directory `base` (an absolute real path), from `origin`."""

    base: str
    spec: pathspec.PathSpec
    origin: str
    lines: tuple[str, ...] = ()

    def verdict(self, path: str, is_dir: bool) -> tuple[bool | None, str]:
        """(True: left out, False: re-included by `!`, None: no pattern matched; the deciding pattern),
        for the absolute real `path`; a path outside `base` matches nothing."""
        if not within(path, self.base) or path == self.base:
            return None, ""
        rel = path[len(self.base.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
        res = self.spec.check_file(matchable(rel + "/" if is_dir else rel))
        if res.include is None or res.index is None:
            return None, ""
        return res.include, self.lines[res.index] if res.index < len(self.lines) else ""


def matchable(rel: str) -> str:
    """`rel` as pathspec's re2 backend can take it: an undecodable name (surrogate escapes) has its
    undecodable bytes as U+FFFD, which `*` and `?` match (re2 takes UTF-8 only)."""
    if rel.isascii():
        return rel
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def compile_patterns(lines: Sequence[str], base: str, origin: str) -> Patterns:
    """Patterns from gitignore lines. Raises ValueError when re2 cannot compile them."""
    kept = tuple(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(kept)
    except Exception as err:  # re2's own error type: a set too big or a pattern it refuses
        raise ValueError(f"patterns cannot be compiled: {err}") from err
    # check_file's index counts the patterns pathspec kept, in order; blank and comment lines are gone.
    return Patterns(base, spec, origin, kept)


def git_work_tree(directory: str) -> str | None:
    """The nearest of `directory` and the directories above it that holds a `.git` (a directory, or
    the file of a linked work tree or submodule); None outside any. Only names are looked at."""
    probe = directory
    while True:
        if os.path.lexists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


@dataclass(frozen=True)
class Excluded:
    """Why a path is left out: `kind` is `exclude`, `default-exclude`, `gitignore` or `virtualenv`."""

    kind: str
    pattern: str
    origin: str


@dataclass
class PathFilter:
    """The exclusion judgement of one scan (see the module docstring).

    `exclude`: the exclude pattern sets, in order (the last definite verdict wins).
    `gitignore`: read `.gitignore` files (inside a git work tree). `root`: the top of the work
    tree a scanned directory is in (set by `for_top`); `.gitignore` files above a scanned
    directory are read up to it, never above."""

    exclude: Sequence[Patterns] = ()
    gitignore: bool = True
    root: str = ""
    problems: list[Problem] = field(default_factory=list)
    _budget: int = GITIGNORE_TOTAL_PATTERNS
    _over_budget: bool = False
    tracked: frozenset[str] | None = None  # what git tracks in the work tree `root` (gitindex.py)

    def excluded(self, path: str, is_dir: bool, chain: Sequence[Patterns]) -> Excluded | None:
        """Why the absolute real `path` is left out, or None. `chain`: the .gitignore patterns that apply
        where it lies, outermost first (from `chain_for`/`extend`)."""
        decided: tuple[bool | None, str, str] = (None, "", "")
        for patterns in self.exclude:
            verdict, pattern = patterns.verdict(path, is_dir)
            if verdict is not None:
                decided = (verdict, pattern, patterns.origin)
        if decided[0]:
            kind = "default-exclude" if decided[2] == "default" else "exclude"
            return Excluded(kind, decided[1], decided[2])
        for patterns in reversed(chain):
            verdict, pattern = patterns.verdict(path, is_dir)
            if verdict is not None:
                if not verdict or self._tracked(path, is_dir):
                    return None
                return Excluded("gitignore", pattern, patterns.origin)
        return None

    def _tracked(self, path: str, is_dir: bool) -> bool:
        """Does git track `path` (a directory: something below it)? Ignore rules do not apply to it."""
        if self.tracked is None or not within(path, self.root) or path == self.root:
            return False
        rel = path[len(self.root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
        return (rel + "/" if is_dir else rel) in self.tracked

    def for_top(self, top: str) -> PathFilter:
        """This filter as it applies under the scanned directory `top` (a real path). An exclude
        pattern set that would leave out `top` itself (or a directory above it, such as a `.cache`
        the project lives in) is re-based at `top`: the user named it, and its patterns still
        apply below it. `.gitignore` files count only inside a git work tree, read up to its top."""
        rebased = [Patterns(top, p.spec, p.origin, p.lines) if self._covers(p, top) else p for p in self.exclude]
        work_tree = git_work_tree(top) if self.gitignore else None
        tracked = gitindex.tracked(work_tree) if work_tree is not None else None
        return PathFilter(rebased, work_tree is not None, work_tree or "", self.problems, self._budget, tracked=tracked)

    @staticmethod
    def _covers(patterns: Patterns, top: str) -> bool:
        if not within(top, patterns.base):
            return True
        probe = top
        while probe != patterns.base and within(probe, patterns.base):
            if patterns.verdict(probe, True)[0]:
                return True
            probe = os.path.dirname(probe)
        return False

    def chain_for(self, top: str) -> tuple[Patterns, ...]:
        """The .gitignore patterns of the directories from the scan root down to above `top`, each
        kept only when it does not leave out `top` itself (the user named it)."""
        if not self.gitignore or not self.root or not within(top, self.root) or top == self.root:
            return ()
        parents: list[str] = []
        probe = os.path.dirname(top)
        while within(probe, self.root):
            parents.append(probe)
            if probe == self.root:
                break
            probe = os.path.dirname(probe)
        chain: tuple[Patterns, ...] = ()
        for directory in reversed(parents):
            chain = self.extend(chain, directory)
        return tuple(p for p in chain if not p.verdict(top, True)[0])

    def extend(self, chain: tuple[Patterns, ...], directory: str) -> tuple[Patterns, ...]:
        """`chain` plus the patterns of `directory/.gitignore`, when it exists and can be used."""
        if not self.gitignore:
            return chain
        path = os.path.join(directory, ".gitignore")
        if not os.path.lexists(path):
            return chain
        if len(chain) >= GITIGNORE_MAX_DEPTH:
            self._note(path, f"more than {GITIGNORE_MAX_DEPTH} nested .gitignore files: not read")
            return chain
        if self._budget <= 0:
            if not self._over_budget:
                self._over_budget = True
                self._note(path, f"over {GITIGNORE_TOTAL_PATTERNS} .gitignore patterns in the scan: not read")
            return chain
        if os.path.islink(path):
            self._note(path, "a symbolic link: not followed (as git does not)")
            return chain
        try:
            raw = read_regular(path, GITIGNORE_MAX_BYTES, follow_symlinks=False)
        except OSError as err:
            self._note(path, f"not read: {err.strerror or err}")
            return chain
        lines = raw.decode("utf-8", "replace").splitlines()
        kept = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if len(kept) > GITIGNORE_MAX_PATTERNS:
            self._note(path, f"{len(kept)} patterns, over the limit of {GITIGNORE_MAX_PATTERNS}: not read")
            return chain
        if not kept:
            return chain
        self._budget -= len(kept)
        try:
            patterns = compile_patterns(kept, directory, path)
        except ValueError as err:
            self._note(path, f"not used: {err}")
            return chain
        return (*chain, patterns)

    def _note(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, "note", "gitignore", message))
