"""Find the source files under the given paths, deterministically.

The scanned tree is untrusted (docs/security.md): the walk is iterative (no
depth limit), follows a symbolic link only when its target lies inside the scanned
paths, and yields regular files only: FIFOs, devices and sockets named like source
files are reported, never opened. What is left out (`exclude`, `.gitignore`, a
directory holding `pyvenv.cfg`) is judged by pathfilter.PathFilter; the directories
left out are listed in `excluded` notes (shown with -v).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .buildfiles import BUILD_FILES
from .facts import Problem
from .names import display
from .pathfilter import DEFAULT_EXCLUDES, Excluded, PathFilter, Patterns, compile_patterns
from .safeio import file_kind, within
from .templates import template_of

LANGUAGES = {
    ".c": "c",
    ".h": "c",  # refined to C++ by content in frontends.flags
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".pyx": "cython",
    ".pxd": "cython",
    ".pxi": "cython",
}
_SHOWN_LINKS = 3  # links named in the one note about links out of the tree
_SHOWN_DIRS = 10  # directories named in a note about those left out
_WHY = {
    "default-exclude": "left out by the default `exclude` (set `exclude`, or `extend-exclude` with a `!` "
    "pattern, to scan them)",
    "exclude": "left out by `exclude` ({origin})",
    "gitignore": "left out by {origin} (`--no-respect-gitignore` scans them)",
    "virtualenv": "left out as virtual environments (they hold a pyvenv.cfg)",
}


@dataclass(frozen=True)
class _Dir:
    """A directory to walk: as found, its (device, inode), its real path, the .gitignore patterns above it."""

    path: str
    ident: tuple[int, int]
    real: str
    chain: tuple[Patterns, ...]


@dataclass(frozen=True)
class SourceFile:
    path: Path  # as given or found (may be relative)
    language: str


_TEMPLATE_SUFFIXES = {".src", ".in", ".tp"}  # numpy's and Tempita's templates (templates/)


def language_of(path: Path) -> str | None:
    return language_of_name(path.name)


def language_of_name(name: str) -> str | None:
    """The language of a file by its name: `x.c`, or a template that generates one (`x.c.src`)."""
    ext = os.path.splitext(name)[1].lower()
    lang = LANGUAGES.get(ext)
    if lang is None and ext in _TEMPLATE_SUFFIXES:
        template = template_of(name)
        return template.language if template is not None else None
    return lang


def default_filter() -> PathFilter:
    """The default exclusions, relative to the working directory, and nested .gitignore files."""
    return PathFilter([compile_patterns(DEFAULT_EXCLUDES, os.getcwd(), "default")])


def discover(
    paths: Iterable[Path], pathfilter: PathFilter | None = None, builds: list[Path] | None = None
) -> tuple[list[SourceFile], list[Problem]]:
    """Files to scan (sorted, de-duplicated) and problems met while walking.

    `pathfilter` (exclude patterns, .gitignore files; default: `default_filter()`) prunes
    walked files and directories; a file named on the command line is scanned regardless
    (and may be a symbolic link to anywhere: the user named it), if it is a regular file.
    The directories left out are `excluded` notes among the problems, one per reason.

    `builds`, when given, receives the build descriptions met in the walked directories
    (`buildfiles.BUILD_FILES`: setup.py, meson.build, CMakeLists.txt), in walk order."""
    paths = list(paths)
    walk = _Walk(_roots(paths), pathfilter or default_filter(), builds)
    found: dict[str, SourceFile] = {}
    for top in paths:
        for f in walk.top(top):
            found.setdefault(os.path.realpath(f.path), f)
    problems = walk.problems + walk.pathfilter.problems + walk.outside_note() + walk.excluded_notes()
    return sorted(found.values(), key=lambda f: str(f.path)), problems


def _roots(paths: list[Path]) -> tuple[str, ...]:
    """The resolved scan paths: a link whose target is under one of them stays in the tree."""
    return tuple(os.path.realpath(p) for p in paths if os.path.exists(p))


def _not_regular(path: str, mode: int) -> Problem:
    return Problem(path, "note", "not-regular", f"not a regular file ({file_kind(mode)}): skipped")


@dataclass
class _Walk:
    """One scan's walk over its paths: the problems met and the links out of the tree not followed."""

    roots: tuple[str, ...]
    pathfilter: PathFilter
    builds: list[Path] | None = None  # build descriptions met, when asked for
    problems: list[Problem] = field(default_factory=list)
    outside: list[tuple[str, str]] = field(default_factory=list)  # (link, its target as written)
    skipped: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kind, origin) -> directories

    def top(self, top: Path) -> Iterator[SourceFile]:
        """The source files of one path named on the command line (followed wherever it points)."""
        try:
            st = os.stat(top)
        except OSError as err:
            if os.path.islink(top):
                self.problems.append(Problem(str(top), "warning", "broken-symlink", "broken symbolic link: skipped"))
            elif isinstance(err, FileNotFoundError):
                self.problems.append(Problem(str(top), "error", "not-found", "no such file or directory"))
            else:
                self.problems.append(Problem(str(top), "warning", "unreadable", f"cannot read: {err.strerror}"))
            return
        if stat.S_ISDIR(st.st_mode):
            real = os.path.realpath(top)
            judge = self.pathfilter.for_top(real)
            yield from self._tree(top, (st.st_dev, st.st_ino), judge, judge.chain_for(real))
            return
        lang = language_of(top)
        if lang is None:
            self.problems.append(
                Problem(str(top), "warning", "unknown-language", "not a C, C++ or Cython file: skipped")
            )
        elif not stat.S_ISREG(st.st_mode):
            self.problems.append(_not_regular(str(top), st.st_mode))
        else:
            yield SourceFile(top, lang)

    def _tree(
        self, top: Path, top_id: tuple[int, int], judge: PathFilter, chain: tuple[Patterns, ...]
    ) -> Iterator[SourceFile]:
        """Depth-first, each directory's files before its subdirectories, both sorted (as os.walk did),
        with an explicit stack: 2000 nested directories are no deeper for Python than one. Each
        directory carries its real path and the .gitignore patterns that apply in it."""
        seen: set[tuple[int, int]] = set()
        stack: list[_Dir] = [_Dir(str(top), top_id, os.path.realpath(top), chain)]
        while stack:
            here = stack.pop()
            dirpath, ident = here.path, here.ident
            if ident in seen:
                self.problems.append(
                    Problem(
                        dirpath, "warning", "symlink-loop", "directory already visited (symbolic link loop): skipped"
                    )
                )
                continue
            seen.add(ident)
            subdirs: list[_Dir] = []
            yield from self._directory(here, judge, subdirs)
            stack.extend(reversed(subdirs))

    def _directory(self, here: _Dir, judge: PathFilter, subdirs: list[_Dir]) -> Iterator[SourceFile]:
        """The source files directly in `here`; the subdirectories to walk are appended to `subdirs`."""
        dirpath = here.path
        chain = judge.extend(here.chain, here.real)
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            self.problems.append(
                Problem(str(err.filename or dirpath), "warning", "unreadable", f"cannot read directory: {err.strerror}")
            )
            return
        base = Path(dirpath)
        for entry in entries:
            # Strings, not Paths, until an entry is kept: a warm scan of a big tree is mostly this walk.
            real = os.path.join(here.real, entry.name)
            if _safe_is_dir(entry):
                ident = self._subdir(entry, real, judge, chain)
                if ident is not None:
                    subdirs.append(_Dir(entry.path, ident, real, chain))
                continue
            lang = language_of_name(entry.name)
            if lang is None and self.builds is not None and entry.name in BUILD_FILES:
                if not judge.excluded(real, False, chain) and self._followable(entry) and _safe_is_file(entry):
                    self.builds.append(base / entry.name)
                continue
            if lang is None or judge.excluded(real, False, chain) or not self._followable(entry):
                continue
            path = base / entry.name
            if _safe_is_file(entry):  # no system call for a plain entry: the directory listing says
                yield SourceFile(path, lang)
                continue
            mode = _mode(entry)
            if mode is None:
                self.problems.append(Problem(str(path), "warning", "broken-symlink", "broken symbolic link: skipped"))
            elif not stat.S_ISREG(mode):
                self.problems.append(_not_regular(str(path), mode))

    def _subdir(
        self, entry: os.DirEntry[str], real: str, judge: PathFilter, chain: tuple[Patterns, ...]
    ) -> tuple[int, int] | None:
        """The (device, inode) of a subdirectory to walk, or None when it is skipped."""
        why = judge.excluded(real, True, chain)
        if why is None and os.path.isfile(os.path.join(entry.path, "pyvenv.cfg")):
            why = Excluded("virtualenv", "pyvenv.cfg", "")
        if why is not None:
            self.skipped.setdefault((why.kind, why.origin), []).append(entry.path)
            return None
        if not self._followable(entry):
            return None
        try:
            st = entry.stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _followable(self, entry: os.DirEntry[str]) -> bool:
        """Not a symbolic link, or one whose target is inside the scanned paths (else remembered)."""
        if not entry.is_symlink():
            return True
        real = os.path.realpath(entry.path)
        if any(within(real, root) for root in self.roots):
            return True
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = real
        self.outside.append((str(Path(entry.path)), target))
        return False

    def excluded_notes(self) -> list[Problem]:
        """One note per reason for the directories left out (shown with -v): which, and how to scan them."""
        notes = []
        for (kind, origin), dirs in sorted(self.skipped.items()):
            shown = ", ".join(display(d) + "/" for d in dirs[:_SHOWN_DIRS])
            more = f" and {len(dirs) - _SHOWN_DIRS} more" if len(dirs) > _SHOWN_DIRS else ""
            notes.append(
                Problem(
                    dirs[0],
                    "note",
                    "excluded",
                    f"{len(dirs)} director{'y' if len(dirs) == 1 else 'ies'} "
                    f"{_WHY[kind].format(origin=display(origin))}: {shown}{more}",
                )
            )
        return notes

    def outside_note(self) -> list[Problem]:
        """One note for all the links out of the tree: a hostile tree can hold thousands."""
        if not self.outside:
            return []
        n = len(self.outside)
        shown = ", ".join(f"{display(link)} -> {display(target)}" for link, target in self.outside[:_SHOWN_LINKS])
        more = f" and {n - _SHOWN_LINKS} more" if n > _SHOWN_LINKS else ""
        noun = "symbolic link points" if n == 1 else "symbolic links point"
        message = f"{n} {noun} outside the scanned tree, not followed: {shown}{more}"
        return [Problem(self.outside[0][0], "note", "symlink-outside", message)]


def _safe_is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _safe_is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _mode(entry: os.DirEntry[str]) -> int | None:
    """The file type of what the entry names (a link's target), or None for a broken link."""
    try:
        return entry.stat().st_mode
    except OSError:
        return None
