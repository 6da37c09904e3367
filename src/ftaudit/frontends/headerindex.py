"""Project header index: where in the project a header lives that no search directory holds.

An unbuilt checkout compiles with `-I` directories its build system knows
(numpy: `numpy/core/src/common`, `.../multiarray`, ...) and ftaudit does not.
Like clangd's header resolution without a compile database, a quoted
`#include "x.h"` or `"sub/x.h"` that the file's flags do not find resolves to
the one file under the project root whose path ends with exactly those
components; the directory above that suffix is then searched (`-iquote`, so it
can never shadow a system header). Two or more matches: ambiguous, unresolved.

The project root is the outermost directory, from the includer upwards, holding
`pyproject.toml`, `setup.py`, `meson.build` or `.git`, but never above the scan
root that holds the includer: the scanned
paths are the trust boundary (docs/security.md), so no header outside them is
indexed, and an includer outside them (an installed Python header) resolves
nothing. The walk is iterative, follows no directory symlink, keeps a file
symlink only when its target is inside the boundary, and stops at MAX_FILES.

Each scan root is walked once per scan, in the main process before the
workers start (`prepare`; forked workers inherit it), or on first use
(numpy's sdist, 7 000 files: 0.2 s on an idle machine; a cache would need
the same walk to be checked, so there is none on disk).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..buildfiles import ConfiguredFile, read_configured_files
from ..safeio import within
from ..source import read_tree_text

MARKERS = ("pyproject.toml", "setup.py", "meson.build", ".git")
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", ".ftaudit_cache", "venv"})
MAX_FILES = 200_000


def boundary_of(path: str, boundaries: Sequence[str]) -> str | None:
    """The innermost of `boundaries` (real directory paths) holding the real `path`, or None."""
    inside = [b for b in boundaries if within(path, b)]
    return max(inside, key=len) if inside else None


def project_root(directory: str, boundary: str) -> str:
    """The project root of `directory` (both real paths): the outermost directory from it up to
    `boundary` holding one of MARKERS. Outermost, not nearest: numpy 1.26 has a `setup.py` in every
    subpackage (`numpy/linalg/setup.py`, numpy.distutils' way) and meson a `meson.build` in every
    subdirectory, yet `numpy/linalg` includes `npy_cblas.h` of `numpy/core`. The boundary when no
    directory has a marker."""
    found = boundary
    d = directory
    while within(d, boundary):
        if any(os.path.exists(os.path.join(d, m)) for m in MARKERS):
            found = d
        parent = os.path.dirname(d)
        if d == boundary or parent == d:
            break
        d = parent
    return found


def walk_files(root: str, boundary: str, limit: int = MAX_FILES) -> dict[str, list[str]]:
    """File name -> real paths of the regular files of that name under `root` (sorted walk, no
    directory symlinks, no hidden or tool directories, file symlinks only into `boundary`)."""
    by_name: dict[str, list[str]] = {}
    stack = [root]
    count = 0
    while stack and count < limit:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    if not e.name.startswith(".") and e.name not in _SKIP_DIRS:
                        subdirs.append(e.path)
                    continue
                if e.is_symlink():
                    real = os.path.realpath(e.path)
                    if not within(real, boundary) or not os.path.isfile(real):
                        continue
                elif not e.is_file(follow_symlinks=False):
                    continue
            except OSError:
                continue
            by_name.setdefault(e.name, []).append(e.path)
            count += 1
        stack += reversed(subdirs)
    return by_name


@dataclass(frozen=True)
class Inclusion:
    """The project file `includer` (a real path) includes a header by `name` (as written) at `line`."""

    includer: str
    line: int
    name: str


class HeaderIndex:
    """Resolves quoted includes inside the scan roots; memoised per project root and per name."""

    def __init__(self, roots: Sequence[str]) -> None:
        """`roots`: the scanned paths (a file counts as its directory)."""
        real = [os.path.realpath(r) for r in roots]
        self.boundaries = list(dict.fromkeys(r if os.path.isdir(r) else os.path.dirname(r) for r in real))
        self._files: dict[str, dict[str, list[str]]] = {}
        self._walks: dict[str, dict[str, list[str]]] = {}
        self._roots: dict[str, str] = {}
        self._includers: dict[str, dict[str, set[str]]] = {}
        self._inclusions: dict[str, dict[str, list[Inclusion]]] = {}
        self._named: dict[tuple[str, str], bool] = {}
        self._configured: dict[str, list[ConfiguredFile]] = {}
        self._outer: dict[str, str | None] = {}
        self._outer_configured_files: dict[tuple[str, str], list[ConfiguredFile]] = {}

    def resolve(self, includer_dir: str, name: str) -> str | None:
        """The directory D such that D/`name` is the one file of the includer's project whose path ends
        with `name`'s components; None when the includer is outside the scan roots, the name is
        absolute or climbs (`..`), or no file or several match."""
        if not name or os.path.isabs(name) or "\\" in name:
            return None
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            return None
        root = self.root_for(os.path.realpath(includer_dir))
        if root is None:
            return None
        files = self.files_of(root)
        suffix = os.sep + os.path.join(*parts)
        matches = [p for p in files.get(parts[-1], ()) if p.endswith(suffix)]
        if len(matches) != 1:
            return None
        return matches[0][: -len(suffix)] or os.sep

    def prepare(self) -> None:
        """Walk every boundary now (the scan's main process does, before its workers start: they
        inherit the walk instead of each repeating it)."""
        for b in self.boundaries:
            self._walk(b)

    def files_of(self, root: str) -> dict[str, list[str]]:
        """File name -> real paths under the project root `root` (from its boundary's one walk)."""
        files = self._files.get(root)
        if files is None:
            boundary = boundary_of(root, self.boundaries) or root
            walked = self._walk(boundary)
            if root == boundary:
                files = walked
            else:
                files = {}
                for name, paths in walked.items():
                    inside = [p for p in paths if within(p, root)]
                    if inside:
                        files[name] = inside
            self._files[root] = files
        return files

    def _walk(self, boundary: str) -> dict[str, list[str]]:
        walked = self._walks.get(boundary)
        if walked is None:
            walked = self._walks[boundary] = walk_files(boundary, boundary)
        return walked

    def root_for(self, directory: str) -> str | None:
        """The project root of a real directory, or None outside every boundary."""
        hit = self._roots.get(directory)
        if hit is None:
            boundary = boundary_of(directory, self.boundaries)
            if boundary is None:
                return None
            hit = self._roots[directory] = project_root(directory, boundary)
        return hit

    def template_of(self, includer_dir: str, name: str) -> ConfiguredFile | None:
        """The template the build writes the header `name` (included from `includer_dir`, found
        nowhere) from: the one `configure_file` of the project's meson.build or CMakeLists.txt files
        whose output has `name`'s file name, else the one `x.h.in`, `x.h.cmake` or `x.h.meson.in`
        whose path ends like `name` (`numpy/_numpyconfig.h` from `.../numpy/_numpyconfig.h.in`), or
        numpy's `x.h.src` (syntax NUMPY_SRC: the header is its expansion). A template of the scan
        roots comes first; when they have none, one of the project above them (`outer_root`:
        numpy's `meson_cpu/main_config.h.in` when `numpy/` is scanned), never one outside it. None
        when there is none, or several."""
        root = self.root_for(os.path.realpath(includer_dir))
        if root is None or not name or os.path.isabs(name) or ".." in name.split("/") or "\\" in name:
            return None
        found = _template_among(self.files_of(root), self.configured_in(root), name)
        if found is not None:
            return found
        boundary = boundary_of(root, self.boundaries) or root
        outer = self.outer_root(boundary)
        if outer is None:
            return None
        return _template_among(self._walk(outer), self._outer_configured(outer, boundary), name)

    def outer_root(self, boundary: str) -> str | None:
        """The project a scan root is part of, above it: from the root's parent upwards, the
        outermost directory reached through directories that each hold one of MARKERS (numpy's
        sdist for its scanned `numpy/`); None when the parent holds none. Only templates are looked
        for there (`template_of`), and no file outside it is read (its walk follows file symlinks
        only into it)."""
        if boundary in self._outer:
            return self._outer[boundary]
        found: str | None = None
        d = os.path.dirname(boundary)
        while d != os.path.dirname(d) and any(os.path.exists(os.path.join(d, m)) for m in MARKERS):
            found = d
            d = os.path.dirname(d)
        self._outer[boundary] = found
        return found

    def _outer_configured(self, outer: str, boundary: str) -> list[ConfiguredFile]:
        """The `configure_file` calls of the build files of the outer project root `outer` that are not
        under `boundary` (whose own are `configured_in`'s)."""
        key = (outer, boundary)
        found = self._outer_configured_files.get(key)
        if found is None:
            files = self._walk(outer)
            paths = (p for b in _BUILD_FILES for p in files.get(b, ()) if not within(p, boundary))
            found = self._outer_configured_files[key] = read_configured_files(paths)
        return found

    def configured_in(self, root: str) -> list[ConfiguredFile]:
        """The `configure_file` calls of the build files under the project root `root` (read on first
        use, per root)."""
        found = self._configured.get(root)
        if found is None:
            files = self.files_of(root)
            found = self._configured[root] = read_configured_files(p for b in _BUILD_FILES for p in files.get(b, ()))
        return found

    def origin(self, includer_dir: str, name: str) -> str:
        """Why a header found nowhere is missing, when the project says so: "generated by the build from
        `T`" (a template `x.h.in`, `x.h.src`, `x.h.cmake` whose path ends like `name`), or "generated by
        the build, an output in `meson.build`" (a meson.build or CMakeLists.txt naming it), followed
        by how to get it: "run `meson setup build`" or "run cmake with
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON", then "or pass --compile-commands". "" when neither."""
        root = self.root_for(os.path.realpath(includer_dir))
        if root is None or not name or os.path.isabs(name) or ".." in name.split("/"):
            return ""
        files = self.files_of(root)
        base = name.rsplit("/", 1)[-1]
        why = ""
        for suffix in _TEMPLATE_SUFFIXES:
            hits = [p for p in files.get(base + suffix, ()) if p.endswith(os.sep + name + suffix)]
            if hits:
                why = f"generated by the build from `{os.path.relpath(hits[0], root)}`"
                break
        if not why:
            for build_file in _BUILD_FILES:
                for p in files.get(build_file, ()):
                    if self._names(p, base):
                        why = f"generated by the build, an output in `{os.path.relpath(p, root)}`"
                        break
                if why:
                    break
        if not why:
            return ""
        if "meson.build" in files and os.path.join(root, "meson.build") in files["meson.build"]:
            how = "run `meson setup build`"
        elif os.path.join(root, "CMakeLists.txt") in files.get("CMakeLists.txt", ()):
            how = "run cmake with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON"
        else:
            return f"{why}: pass --compile-commands"
        return f"{why}: {how} or pass --compile-commands"

    def _names(self, build_file: str, base: str) -> bool:
        """Does `build_file` name `base` as a quoted string (meson `output : ['x.h']`, CMake
        `configure_file(... x.h)` is written with quotes or without: both count)?"""
        key = (build_file, base)
        hit = self._named.get(key)
        if hit is None:
            try:
                text = read_tree_text(build_file, INCLUDER_MAX_BYTES)
            except OSError:
                text = ""
            hit = self._named[key] = bool(re.search(rf"['\"/\s]{re.escape(base)}['\"\s)]", text))
        return hit

    def includer_languages(self, header: str) -> set[str]:
        """The languages (`c`, `cpp`) of the project's source files that `#include` a file named like
        `header`, quoted or not (`<kiwi/kiwi.h>` is the project's own too), by file name: what the
        includers' flags would find is not known here. Read on first use per project root: every
        C/C++ source and header of it up to INCLUDER_MAX_BYTES (`_read_includers`)."""
        real = os.path.realpath(header)
        root = self.root_for(os.path.dirname(real))
        if root is None:
            return set()
        if root not in self._includers:
            self._read_includers(root)
        return self._includers[root].get(os.path.basename(real), set())

    def includer_of(self, header: str) -> Inclusion | None:
        """The first project file that includes the file `header`, deterministically: the first C/C++
        source in path order with an `#include` that names it (the name, relative to the includer's
        directory, is the header; or the header's path ends with the name's components and no other
        file of the project's does), else the first header in path order that does. None outside
        the scan roots, or when nothing includes it. Read with `includer_languages`' one pass."""
        real = os.path.realpath(header)
        root = self.root_for(os.path.dirname(real))
        if root is None:
            return None
        if root not in self._inclusions:
            self._read_includers(root)
        files = self.files_of(root)
        for inc in self._inclusions[root].get(os.path.basename(real), ()):
            if inc.includer == real:
                continue
            if os.path.normpath(os.path.join(os.path.dirname(inc.includer), inc.name)) == real:
                return inc
            parts = [p for p in inc.name.split("/") if p not in ("", ".")]
            if not parts or ".." in parts:
                continue
            suffix = os.sep + os.path.join(*parts)
            if real.endswith(suffix) and sum(1 for p in files.get(parts[-1], ()) if p.endswith(suffix)) == 1:
                return inc
        return None

    def _read_includers(self, root: str) -> None:
        """Every C/C++ source and header of the project root, up to INCLUDER_MAX_BYTES each: the
        languages of the sources that include each file name, and every inclusion (sources first,
        each group in path order)."""
        files = self.files_of(root)
        langs: dict[str, set[str]] = {}
        sources: list[tuple[str, str | None]] = []
        for name, paths in files.items():
            ext = os.path.splitext(name)[1].lower()
            lang = _SOURCE_LANGUAGES.get(ext)
            if lang is not None or ext in HEADER_EXTENSIONS:
                sources += [(p, lang) for p in paths]
        inclusions: dict[str, list[Inclusion]] = {}
        for p, lang in sorted(sources, key=lambda s: (s[1] is None, s[0])):
            try:
                text = read_tree_text(p, INCLUDER_MAX_BYTES)
            except OSError:
                continue
            line, pos = 1, 0
            for m in _INCLUDE.finditer(text):
                base = m.group(1).rsplit("/", 1)[-1]
                if lang is not None:
                    langs.setdefault(base, set()).add(lang)
                line, pos = line + text.count("\n", pos, m.start()), m.start()
                inclusions.setdefault(base, []).append(Inclusion(p, line, m.group(1)))
        self._includers[root] = langs
        self._inclusions[root] = inclusions


def _template_among(files: dict[str, list[str]], configured: list[ConfiguredFile], name: str) -> ConfiguredFile | None:
    """`HeaderIndex.template_of`'s choice among `files` (name -> paths) and the `configure_file`
    calls `configured` of their build files."""
    base = name.rsplit("/", 1)[-1]
    named = [
        c
        for c in configured
        if c.output.rsplit("/", 1)[-1] == base and c.template in files.get(os.path.basename(c.template), ())
    ]
    if len({c.template for c in named}) == 1:
        return named[0]
    for suffix, syntax in _CONFIG_SUFFIXES:
        hits = [p for p in files.get(base + suffix, ()) if p.endswith(os.sep + name + suffix)]
        if len(hits) == 1:
            return ConfiguredFile(hits[0], base, syntax, hits[0], 0)
    return None


_SOURCE_LANGUAGES = {".c": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp"}
HEADER_EXTENSIONS = frozenset({".h", ".hh", ".hpp", ".hxx"})
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*["<]([^">\n]+)[">]', re.M)
INCLUDER_MAX_BYTES = 1 << 20
_TEMPLATE_SUFFIXES = (".in", ".src", ".cmake", ".meson")
# Templates a configure step writes a header from (not `.src`: numpy's own generator), and their syntax.
# numpy's `x.h.src` (`NUMPY_SRC`): expanded as ftaudit expands the scanned ones (templates/numpy_src.py).
_CONFIG_SUFFIXES = ((".in", "meson"), (".cmake", "cmake"), (".meson.in", "meson"), (".src", "numpy-src"))
NUMPY_SRC = "numpy-src"
_BUILD_FILES = ("meson.build", "CMakeLists.txt")
