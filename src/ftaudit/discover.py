"""Find the source files under the given paths, deterministically."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .facts import Problem

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
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "build",
    "dist",
    "node_modules",
    "__pycache__",
    "venv",
    ".venv",
    "env",
    ".tox",
    ".nox",
    "site-packages",
    ".ftaudit_cache",
}


@dataclass(frozen=True)
class SourceFile:
    path: Path  # as given or found (may be relative)
    language: str


def language_of(path: Path) -> str | None:
    return LANGUAGES.get(path.suffix.lower())


def _never(path: Path) -> bool:
    return False


def discover(
    paths: Iterable[Path], excluded: Callable[[Path], bool] = _never
) -> tuple[list[SourceFile], list[Problem]]:
    """Files to scan (sorted, de-duplicated) and problems met while walking.

    `excluded` (the configuration's `exclude` patterns) prunes walked files and
    directories; a file named on the command line is scanned regardless."""
    found: dict[str, SourceFile] = {}
    problems: list[Problem] = []
    for top in paths:
        if top.is_symlink() and not top.exists():
            problems.append(Problem(str(top), "warning", "broken-symlink", "broken symbolic link: skipped"))
        elif top.is_file():
            lang = language_of(top)
            if lang is None:
                problems.append(
                    Problem(str(top), "warning", "unknown-language", "not a C, C++ or Cython file: skipped")
                )
            else:
                found.setdefault(os.path.realpath(top), SourceFile(top, lang))
        elif top.is_dir():
            for f in _walk(top, problems, excluded):
                found.setdefault(os.path.realpath(f.path), f)
        else:
            problems.append(Problem(str(top), "error", "not-found", "no such file or directory"))
    return sorted(found.values(), key=lambda f: str(f.path)), problems


def _walk(top: Path, problems: list[Problem], excluded: Callable[[Path], bool]) -> Iterator[SourceFile]:
    seen: set[str] = set()

    def onerror(err: OSError) -> None:
        problems.append(Problem(str(err.filename), "warning", "unreadable", f"cannot read directory: {err.strerror}"))

    for dirpath, dirnames, filenames in os.walk(top, followlinks=True, onerror=onerror):
        real = os.path.realpath(dirpath)
        if real in seen:
            problems.append(
                Problem(dirpath, "warning", "symlink-loop", "directory already visited (symbolic link loop): skipped")
            )
            dirnames[:] = []
            continue
        seen.add(real)
        base = Path(dirpath)
        # Strings, not Paths, for every entry: a warm scan of a big tree is mostly this walk.
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not d.startswith(".")
            and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg"))
            and not excluded(base / d)
        )
        for name in sorted(filenames):
            lang = LANGUAGES.get(os.path.splitext(name)[1].lower())
            if lang is not None and not excluded(path := base / name):
                yield SourceFile(path, lang)
