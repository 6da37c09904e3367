"""The `-D`/`-U` options a build description gives the files it compiles, read without running it.

numpy's `core/meson.build` compiles every source of its modules with `c_args_common`
(`-DNPY_INTERNAL_BUILD`, `-DHAVE_NPY_CONFIG_H`): without them `PyArray_DTypeMeta` is undeclared
in `ctors.h`, and an unbuilt checkout's parse loses every declaration of that type. The build
readers (meson.py, setuppy.py, cmake.py) record, per compiled target, the options of its C and
C++ sources (`CompiledSources`); `BuildDefines` answers which a file gets:

- a file a target lists (or whose template it lists: `x.c` from `x.c.src`) gets the options every
  target listing it agrees on (the intersection, in the first one's order: a file two modules
  compile differently gets what both give it);
- any other file (a header, a source of no known target) gets those of the targets that list its
  nearest sources, as clangd infers a header's flags: the same directory and stem (`x.h` from
  `x.c`), else the same directory, else the deepest directory shared with a listed source, and
  only from targets whose build file's directory holds the file (a build file speaks for its
  directory and below); again the intersection;
- and, first, project-wide options (meson's `add_project_arguments`, CMake's `add_definitions`)
  of every build file whose directory holds it.

Only options written as literals outside any conditional are recorded (the readers' job): a
feature check's `-DHAVE_CBLAS` is the configuration's choice, not the code's. Each option is one
whole compiler argument (`-DNAME`, `-DNAME=VALUE`, `-UNAME`), never an option of another kind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

_OPTION = re.compile(r"-(?:D[A-Za-z_][A-Za-z0-9_]*(?:=[^\x00-\x1f]*)?|U[A-Za-z_][A-Za-z0-9_]*)")
# A template's generated file is analysed under the template's name without this suffix (templates/).
_TEMPLATE_SUFFIXES = (".src", ".in")


def define_options(values: Iterable[str]) -> tuple[str, ...]:
    """The `-D`/`-U` options among `values` (compiler arguments as a build file writes them), in
    order, without repeats; a value of a str subclass (meson's `Branched`: read inside an `if`) is
    left out, and so is anything else that is not a whole `-DNAME[=VALUE]` or `-UNAME`."""
    out = [v for v in values if type(v) is str and _OPTION.fullmatch(v)]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class CompiledSources:
    """What a build file at `path` (`line`) compiles with which options: `sources` (absolute,
    normalised) get `c` when C and `cpp` when C++. With `directory` set (and no sources), the
    options of every file under that directory (project-wide arguments)."""

    path: str
    line: int
    sources: tuple[str, ...]
    c: tuple[str, ...]
    cpp: tuple[str, ...]
    directory: str = ""


def cap_defines(entries: Sequence[CompiledSources], limit: int) -> tuple[list[CompiledSources], int, str]:
    """`entries` with at most `limit` options in all (an entry counts its longer list, C or C++: a file
    gets one), in order: the entry that crosses the limit keeps its first options, the later ones none.
    Also how many were dropped, and the build file of the first one dropped ("" when none was)."""
    kept: list[CompiledSources] = []
    left, dropped, where = limit, 0, ""
    for e in entries:
        n = max(len(e.c), len(e.cpp))
        if n <= left:
            kept.append(e)
            left -= n
            continue
        if left:
            kept.append(replace(e, c=e.c[:left], cpp=e.cpp[:left]))
        dropped += n - left
        left = 0
        where = where or e.path
    return kept, dropped, where


def _generated(path: str) -> str:
    """`path` as the file it generates when it is a template (`x.c.src` -> `x.c`), else itself."""
    for suffix in _TEMPLATE_SUFFIXES:
        if path.endswith(suffix) and os.path.splitext(path[: -len(suffix)])[1]:
            return path[: -len(suffix)]
    return path


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _intersection(lists: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    if not lists:
        return ()
    rest = [set(x) for x in lists[1:]]
    return tuple(o for o in lists[0] if all(o in r for r in rest))


@dataclass
class BuildDefines:
    """The options each file gets from the build description (see the module docstring). Picklable:
    the scan's workers receive it with the flags. Answers are memoised per file and language."""

    entries: tuple[CompiledSources, ...] = ()
    _listed: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _by_dir: dict[str, list[tuple[int, str]]] = field(default_factory=dict, repr=False)
    _under: dict[str, set[int]] = field(default_factory=dict, repr=False)
    _homes: list[str] = field(default_factory=list, repr=False)  # each entry's build file directory
    _memo: dict[tuple[str, bool], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._homes = [os.path.dirname(os.path.realpath(e.path)) for e in self.entries]
        for i, e in enumerate(self.entries):
            for s in e.sources:
                real = _generated(os.path.realpath(s))
                self._listed.setdefault(real, []).append(i)
                d = os.path.dirname(real)
                self._by_dir.setdefault(d, []).append((i, _stem(real)))
                while True:
                    self._under.setdefault(d, set()).add(i)
                    parent = os.path.dirname(d)
                    if parent == d:
                        break
                    d = parent

    def describe(self) -> list[list[object]]:
        """The entries as JSON-ready data (for the cache digest and `--show-settings`)."""
        return [[e.path, e.line, list(e.sources), list(e.c), list(e.cpp), e.directory] for e in self.entries]

    def for_file(self, path: str, cxx: bool) -> tuple[str, ...]:
        """The `-D`/`-U` options of the file at `path` compiled as C++ (`cxx`) or C: project-wide
        ones first, then its targets' (or its nearest sources' targets'); () when the build says
        nothing of it."""
        real = _generated(os.path.realpath(path))
        key = (real, cxx)
        hit = self._memo.get(key)
        if hit is None:
            wide = [o for e in self.entries if e.directory and _inside(real, e.directory) for o in _of(e, cxx)]
            own = [_of(self.entries[i], cxx) for i in self._donors(real)]
            hit = self._memo[key] = tuple(dict.fromkeys([*wide, *_intersection(own)]))
        return hit

    def _donors(self, real: str) -> list[int]:
        """The entries whose options `real` gets: those listing it, else those listing its nearest
        sources (same directory and stem, same directory, deepest shared directory) whose build file's
        directory holds it."""
        listed = self._listed.get(real)
        if listed:
            return list(dict.fromkeys(listed))
        here, stem = os.path.dirname(real), _stem(real)
        covering = [(i, s) for i, s in self._by_dir.get(here, ()) if self._covers(i, real)]
        same_stem = [i for i, s in covering if s == stem]
        if same_stem or covering:
            return list(dict.fromkeys(same_stem or [i for i, _ in covering]))
        d = here
        while True:
            found = [i for i in sorted(self._under.get(d, ())) if self._covers(i, real)]
            if found:
                return found
            parent = os.path.dirname(d)
            if parent == d:
                return []
            d = parent

    def _covers(self, i: int, real: str) -> bool:
        return _inside(real, self._homes[i])


def _of(e: CompiledSources, cxx: bool) -> tuple[str, ...]:
    return e.cpp if cxx else e.c


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip(os.sep) + os.sep)
