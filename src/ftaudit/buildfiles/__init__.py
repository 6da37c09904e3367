"""Extension modules as the build descriptions of the scanned tree name them, read statically.

`read_targets(paths)` reads every `setup.py`, `meson.build` and `CMakeLists.txt` the scan's walk
found (`discover(..., builds=...)`) and returns one `BuildTarget` per extension module it can
name: `setup.py` `Extension(name, sources=[...])` calls (Python's `ast`, never executed),
meson `X.extension_module('name', ...)` calls, CMake `pybind11_add_module`,
`nanobind_add_module` and `Python_add_library`. Only literals, and variables assigned literals
in the same file, are understood; anything else (a computed list, a generator expression) makes
the target `complete=False`, never an error. A file that cannot be read or parsed is one
`build-file` note; nothing in it is trusted, run, or followed outside the tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..facts import Problem
from ..safeio import read_regular
from .defines import CompiledSources, cap_defines

BUILD_FILES = frozenset({"setup.py", "meson.build", "CMakeLists.txt"})
MAX_BUILD_BYTES = 4 * 2**20
# Items of a list or dict, characters of a string a build-file reader keeps: `S += S` doubles a value per line,
# so past the bound the value is not understood.
MAX_VALUE = 100_000
# -D/-U options taken from all the build files of a scan together (each one is an argument of every parse
# it applies to: 250 000 made each file's parse take 2 s); past it the rest are dropped, with a warning.
MAX_DEFINES = 10_000


@dataclass(frozen=True)
class BuildTarget:
    """One extension module of a build description.

    `name`: as written (`pkg.sub._mod` in setup.py, `_mod` in meson/CMake); `module` is its last part,
    the name its init function carries. `kind`: setup.py | meson | pybind11 | nanobind | python
    (CMake's Python_add_library). `path`/`line`: where the build file names it. `sources`: absolute,
    normalised paths (they need not exist). `options`: CMake keywords given (FREE_THREADED...).
    `complete`: every source argument was understood. `opt_in`: a setup.py adds it only when these
    environment variables are set (buildfiles.environ); "" when a default build builds it."""

    name: str
    kind: str
    path: str
    line: int
    sources: tuple[str, ...]
    options: tuple[str, ...] = ()
    complete: bool = True
    opt_in: str = ""  # the environment variables without which a default build leaves it out ("": built)

    @property
    def module(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class ConfiguredFile:
    """A file the build writes from a template: meson's `configure_file(input: ..., output: ...)` or
    CMake's `configure_file(<input> <output>)`. `template`: absolute, normalised path (it need not
    exist); `output`: as written, relative to the build directory; `syntax`: `meson`, `cmake`
    (`${VAR}` substituted too), `cmake@` (CMake's @ONLY) or `copy` (copied as is);
    `path`/`line`: where the build file says so; `values`: (name, text) the build file sets in the
    configuration for certain (meson.ConfigData; None: set false, meson.UNKNOWN_VALUE: set to
    something not known here)."""

    template: str
    output: str
    syntax: str
    path: str
    line: int
    values: tuple[tuple[str, str | None], ...] = ()


def source_path(base: str, rel: str) -> str:
    """`rel` (as written in a build file in directory `base`) as an absolute, normalised path."""
    return os.path.normpath(os.path.join(os.path.abspath(base), rel))


@dataclass(frozen=True)
class Description:
    """What the build files of a scan say: their targets, the notes on files that could not be read,
    and `unknown`: why the targets may not be all the build compiles (buildfiles.unknowns; a file
    that could not be read or parsed is one). `known` when files were read and nothing is unknown."""

    targets: tuple[BuildTarget, ...]
    problems: tuple[Problem, ...]
    unknown: tuple[str, ...]
    # Per build file: (its directory, absolute; read completely; how many targets it names).
    files: tuple[tuple[str, bool, int], ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.targets) and not self.unknown

    def covers(self, path: str) -> bool:
        """Does the build description say all that is built of the file at `path`? A build file speaks
        for its own directory and below (an example's setup.py does not describe the package above it):
        the build files above `path` must all have been read completely and one must name a target."""
        here = os.path.abspath(path)
        above = [(ok, n) for d, ok, n in self.files if here.startswith(d.rstrip(os.sep) + os.sep)]
        return bool(above) and all(ok for ok, _ in above) and any(n for _, n in above)


def read_targets(files: Iterable[Path]) -> tuple[list[BuildTarget], list[Problem]]:
    """The extension modules named by the build files (in the order given) and one note per file
    that could not be read or parsed."""
    description = read_description(files)
    return list(description.targets), list(description.problems)


def read_description(files: Iterable[Path]) -> Description:
    """The build files' targets and notes (as `read_targets`) and why they may be incomplete."""
    from . import cmake, meson, setuppy, unknowns

    readers = {"setup.py": setuppy.targets, "meson.build": meson.targets, "CMakeLists.txt": cmake.targets}
    targets: list[BuildTarget] = []
    problems: list[Problem] = []
    unknown: list[str] = []
    read: list[tuple[str, bool, int]] = []
    for path in files:
        reader = readers.get(path.name)
        if reader is None:
            continue
        try:
            text = _read_text(path)
        except OSError as err:
            problems.append(Problem(str(path), "note", "build-file", f"cannot read build file: {err.strerror or err}"))
            unknown.append(f"{path}: cannot be read")
            read.append((os.path.dirname(os.path.abspath(path)), False, 0))
            continue
        try:
            found = reader(text, str(path))
            why = unknowns.reasons(path.name, text, str(path), found)
            if unknowns.may_add_modules(why):  # an environment-only target may not be its module's only build
                found = [replace(t, opt_in="") for t in found]
            if path.name == "setup.py" and not found:
                why.append("setup.py: names no extension module (cffi, another builder?)")
            unknown += [f"{path.parent}/{w}" for w in why]
            read.append((os.path.dirname(os.path.abspath(path)), not why, len(found)))
            targets += found
        except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
            why = type(err).__name__ if isinstance(err, (RecursionError, MemoryError)) else str(err).splitlines()[0]
            problems.append(Problem(str(path), "note", "build-file", f"cannot parse build file ({why}): skipped"))
            unknown.append(f"{path}: cannot be parsed")
            read.append((os.path.dirname(os.path.abspath(path)), False, 0))
    return Description(tuple(targets), tuple(problems), tuple(unknown), tuple(read))


def read_compiled(files: Iterable[Path], problems: list[Problem] | None = None) -> list[CompiledSources]:
    """The `-D`/`-U` options the build files among `files` give what they compile (buildfiles.defines),
    in the order given, at most `MAX_DEFINES` of them in all: past it the rest are dropped and one
    `too-many-defines` warning, appended to `problems`, says how many. A file that cannot be read or
    parsed gives none (its note is `read_description`'s)."""
    from . import cmake, meson, setuppy

    readers = {
        "setup.py": setuppy.compiled_sources,
        "meson.build": meson.compiled_sources,
        "CMakeLists.txt": cmake.compiled_sources,
    }
    out: list[CompiledSources] = []
    for path in files:
        reader = readers.get(path.name)
        try:
            out += reader(_read_text(path), str(path)) if reader is not None else []
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    kept, dropped, where = cap_defines(out, MAX_DEFINES)
    if dropped and problems is not None:
        total = sum(max(len(e.c), len(e.cpp)) for e in out)
        problems.append(
            Problem(
                where,
                "warning",
                "too-many-defines",
                f"the build files give {total:,} -D/-U options, more than the {MAX_DEFINES:,} used: the last"
                f" {dropped:,} (from here on, in the order the files were read) are dropped",
            )
        )
    return kept


def _read_text(path: Path | str) -> str:
    """A build file's text (bounded, regular files only). Raises OSError."""
    return read_regular(path, MAX_BUILD_BYTES).decode("utf-8", errors="replace")


def read_configured_files(files: Iterable[str]) -> list[ConfiguredFile]:
    """The templated files (`configure_file`) the meson.build and CMakeLists.txt among `files` name, in
    the order given. A file that cannot be read or parsed names none (its targets' note, if it is
    scanned, is `read_description`'s); one that never says `configure_file` is not parsed."""
    from . import cmake, meson

    readers = {"meson.build": meson.configured_files, "CMakeLists.txt": cmake.configured_files}
    out: list[ConfiguredFile] = []
    for path in files:
        reader = readers.get(os.path.basename(path))
        if reader is None:
            continue
        try:
            text = _read_text(path)
        except OSError:
            continue
        if "configure_file" not in text:
            continue
        try:
            out += reader(text, path)
        except (ValueError, RecursionError, MemoryError):
            continue
    return out
