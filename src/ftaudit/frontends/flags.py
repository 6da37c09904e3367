"""Compiler arguments for libclang that work without user configuration, and C/C++ detection
(outside the libclang package: the tree-sitter and Cython frontends ask too, and importing
this must not load libclang).

Order of precedence: a compile_commands.json entry for the file, then the
user's -I/-D, then what ftaudit finds itself (Python and numpy headers, the
scanned tree's include directories, clang's own builtin and libc++ headers).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..buildfiles.defines import BuildDefines
from ..safeio import read_regular, within
from .allowlist import clean_args
from .headerindex import HeaderIndex
from .includes import clang_resource_include
from .pythonheaders import PythonHeaders, find_python_headers

SHIM = Path(__file__).resolve().parent / "clang" / "shim" / "ftaudit_shim.h"
# C++ by its text: a namespace, a template, a class, `std::`, or an include of a C++ standard header
# (`<vector>`, `<cstdio>`: no extension, unlike every C header: `<string.h>` is C) or of a C++ library.
_CXX_HINT = re.compile(
    r"^\s*(namespace\s+\w+|template\s*<|class\s+\w+\s*[:{]"
    r"|#\s*include\s*<(\w+|(pybind11|nanobind|boost|Eigen)/[^>]*)>)"
    r"|\bstd::",
    re.M,
)
_PY_HINT = re.compile(r"\bPy[A-Z_a-z]|Python\.h|PYBIND11_|NB_MODULE|\bpybind11\b|\bnanobind\b")
_INCLUDE_DIR_NAMES = {"include", "includes", "inc", "src"}
COMPILE_DB_MAX_BYTES = 64 << 20  # numpy's is a few MB


def numpy_include_dir() -> str | None:
    """numpy's headers, when numpy is installed, found without importing it."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    for sub in ("_core/include", "core/include"):
        if (root / sub / "numpy" / "arrayobject.h").is_file():
            return str(root / sub)
    return None


# Binding libraries whose headers ship inside their Python package: (package, include dir in it, a header).
_BINDING_HEADERS = (
    ("pybind11", "include", "pybind11/pybind11.h"),
    ("nanobind", "include", "nanobind/nanobind.h"),
    ("cppy", "include", "cppy/cppy.h"),
)


def binding_include_dirs() -> list[str]:
    """numpy's, pybind11's, nanobind's and cppy's headers when they are installed in the running
    environment, found by their package's location without importing them (nor anything of the
    scanned project)."""
    dirs = [d] if (d := numpy_include_dir()) else []
    for package, sub, probe in _BINDING_HEADERS:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        inc = os.path.join(next(iter(spec.submodule_search_locations)), sub)
        if os.path.isfile(os.path.join(inc, probe)):
            dirs.append(inc)
    return dirs


def clang_libcxx_dir() -> str | None:
    """libclang-ng's bundled libc++ (its own libstdc++ mix does not parse)."""
    try:
        import clang

        d = Path(clang.__file__).parent / "native" / "libcxx"
    except ImportError:  # pragma: no cover - libclang is a dependency
        return None
    return str(d) if (d / "vector").is_file() else None


def is_cxx(path: Path, text: str, language: str) -> bool:
    if language == "cpp":
        return True
    return path.suffix.lower() == ".h" and looks_like_cxx(text)


def looks_like_cxx(text: str) -> bool:
    """C++ by its text (headers, and Cython's verbatim C blocks, do not say)."""
    return bool(_CXX_HINT.search(text))


def uses_python(text: str) -> bool:
    return bool(_PY_HINT.search(text))


def tree_include_dirs(roots: list[Path], max_depth: int = 4) -> list[str]:
    """Include-ish directories of the scanned trees: the roots, include/, src/."""
    found: list[str] = []
    for root in roots:
        if not root.is_dir():
            continue
        base = root.resolve()
        found.append(str(base))
        for dirpath, dirnames, _ in os.walk(base):
            depth = len(Path(dirpath).relative_to(base).parts)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in {"build", "node_modules"})
            if depth >= max_depth:
                dirnames[:] = []
            for d in dirnames:
                if d in _INCLUDE_DIR_NAMES:
                    found.append(os.path.join(dirpath, d))
    return list(dict.fromkeys(found))


class CompileDatabaseError(ValueError):
    """A compile database that is not a JSON list of entries; the message names the file."""


@dataclass
class CompileDatabase:
    """compile_commands.json: per source file, the allowed compiler arguments (see allowlist.py).

    Read as plain JSON, not with `clang.cindex.CompilationDatabase`: that opens the file again by
    path itself (the size and regular-file checks of `safeio.read_regular` would not cover what it
    reads), only takes a directory holding a file of that exact name, says no more than "could not
    load" when the file is bad, and would load libclang in scans that never parse with it."""

    path: Path
    entries: dict[str, list[list[str]]] = field(default_factory=dict)  # real path -> every entry's arguments
    dropped: dict[str, int] = field(default_factory=dict)  # option as written -> how many entries had it

    @classmethod
    def load(cls, path: Path, roots: Sequence[Path] = ()) -> CompileDatabase:
        """The database at `path` (a file, or a directory holding compile_commands.json).

        `roots`: the scanned paths; an `-include` file must lie inside one of them (a file root
        counts as its directory) or inside the database's own directory.
        Raises UnsafeFileError (not a regular file, over COMPILE_DB_MAX_BYTES), OSError
        (unreadable) and CompileDatabaseError (not JSON, or not a list of entries)."""
        if path.is_dir():
            path = path / "compile_commands.json"
        data = _parse_json(path, read_regular(path, COMPILE_DB_MAX_BYTES))
        inside = _allowed_dirs(path, roots)
        db = cls(path)
        base = os.path.dirname(os.path.abspath(path))
        for n, item in enumerate(data):
            directory, file, args = _entry(path, n, item, base)
            kept, dropped = clean_args(args[1:], directory, inside)
            db.entries.setdefault(os.path.realpath(file), []).append(kept)
            for option in dict.fromkeys(dropped):
                db.dropped[option] = db.dropped.get(option, 0) + 1
        return db

    def args_for(self, path: Path) -> list[str] | None:
        """The arguments of the file's own entry: of its baseline entry when the build compiles it
        several times (numpy's dispatch sources, once per CPU target: the entry with the fewest
        target `-m` options, the first of those), since the facts of one compilation are the facts of
        all but the code under `#if` of a CPU feature, and analysing each would report each static
        as many times. Else those of a sibling (`inferred_for`); None when the database has none."""
        own = self.entries.get(os.path.realpath(path))
        if own is not None:
            return min(own, key=lambda a: sum(1 for x in a if x.startswith("-m") and x[2:4] != "64"))
        return self.inferred_for(path)

    def inferred_for(self, path: Path) -> list[str] | None:
        """clangd's inference for a file the database does not list (a header, a source it skipped):
        the arguments of the entry nearest to it: same directory and stem (`x.h` from `x.c`), then
        the same directory, then the deepest common directory. None for an empty database, or when no
        entry shares more than the file system's root with the file. (A donor of the other language
        may bring a `-std=` that `FlagSettings.args_for` then drops.)"""
        real = os.path.realpath(path)
        here, stem = os.path.dirname(real), os.path.splitext(os.path.basename(real))[0]
        best: tuple[int, str] | None = None
        for donor in self._donors:
            d = os.path.dirname(donor)
            same_stem = d == here and os.path.splitext(os.path.basename(donor))[0] == stem
            common = len(os.path.commonpath([d, here]).split(os.sep))
            score = (2 if same_stem else 1 if d == here else 0) * 10_000 + common
            if common > 2 and (best is None or score > best[0]):
                best = (score, donor)
        return None if best is None else self.args_for(Path(best[1]))

    @cached_property
    def _donors(self) -> list[str]:
        return sorted(self.entries)


def _parse_json(path: Path, raw: bytes) -> list[Any]:
    """The top-level list of a compile database. Raises CompileDatabaseError."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CompileDatabaseError(f"{path}: not valid JSON: {err}") from err
    except RecursionError as err:  # a hundred thousand nested `[`
        raise CompileDatabaseError(f"{path}: not valid JSON: nested too deeply") from err
    if not isinstance(data, list):
        raise CompileDatabaseError(f"{path}: must be a JSON list of entries, not {type(data).__name__}")
    return data


def _entry(path: Path, n: int, item: Any, base: str) -> tuple[str, str, list[str]]:
    """(absolute directory, absolute file, argument list) of entry `n`. Raises CompileDatabaseError."""
    where = f"{path}: entry {n}"
    if not isinstance(item, dict):
        raise CompileDatabaseError(f"{where}: must be an object, not {type(item).__name__}")
    directory, file = item.get("directory", "."), item.get("file")
    if not isinstance(directory, str) or not isinstance(file, str):
        raise CompileDatabaseError(f"{where}: `directory` and `file` must be strings")
    directory = os.path.join(base, directory)  # a relative one is taken from the database's directory
    args = item.get("arguments")
    if args is None:
        command = item.get("command", "")
        if not isinstance(command, str):
            raise CompileDatabaseError(f"{where}: `command` must be a string")
        try:
            args = shlex.split(command)
        except ValueError as err:
            raise CompileDatabaseError(f"{where}: `command` cannot be split: {err}") from err
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise CompileDatabaseError(f"{where}: `arguments` must be a list of strings")
    return directory, os.path.join(directory, file), args


def _allowed_dirs(path: Path, roots: Sequence[Path]) -> list[str]:
    """Real paths of the scan roots (a file's directory for a file) and of the database's directory."""
    dirs = [os.path.realpath(r if r.is_dir() else r.parent) for r in roots]
    return list(dict.fromkeys([*dirs, os.path.realpath(path.parent)]))


def without_language(args: list[str]) -> list[str]:
    """`args` without their `-x LANGUAGE` pairs (ftaudit judges the language itself)."""
    out: list[str] = []
    skip = False
    for a in args:
        if not skip and a != "-x":
            out.append(a)
        skip = a == "-x" and not skip
    return out


# Where build systems leave compile_commands.json, relative to a scan root: meson-python's
# `build/cp311/`, meson's `builddir/` and `build/`, CMake's `build*/` (`build-release/`, `cmake-build-*`),
# scikit-build's `_skbuild/<platform>/cmake-build/`.
BUILD_DIR_PATTERNS = (
    "compile_commands.json",
    "build/compile_commands.json",
    "build/cp3*/compile_commands.json",
    "builddir/compile_commands.json",
    "build*/compile_commands.json",
    "cmake-build-*/compile_commands.json",
    "_skbuild/*/cmake-build/compile_commands.json",
)


def build_databases(roots: Sequence[Path]) -> list[Path]:
    """Every compile_commands.json of the build directories of the scan roots (BUILD_DIR_PATTERNS),
    newest first (by modification time, then path). Only names under a root are looked at, and a
    symbolic link whose target is outside the roots is passed over (docs/security.md)."""
    found: dict[str, tuple[int, Path]] = {}
    inside = [os.path.realpath(r if r.is_dir() else r.parent) for r in roots]
    for root in roots:
        base = root if root.is_dir() else root.parent
        for pattern in BUILD_DIR_PATTERNS:
            for cand in sorted(base.glob(pattern)):
                real = os.path.realpath(cand)
                if real in found or not any(within(real, r) for r in inside):
                    continue
                try:
                    st = cand.stat()
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found[real] = (st.st_mtime_ns, cand)
    return [p for _, p in sorted(found.values(), key=lambda t: (-t[0], str(t[1])))]


def _other_language_std(arg: str, cxx: bool) -> bool:
    """`-std=c++17` for a file judged C, `-std=c99` for one judged C++ (a database entry inferred
    from a sibling of the other language): clang refuses the parse."""
    if not arg.startswith("-std="):
        return False
    return ("++" in arg) != cxx


def find_compile_database(roots: list[Path]) -> Path | None:
    """The compile database a scan uses when none is given: the newest of the build directories'
    (`build_databases`); a tree configured for two Pythons has one per `build/cp3*`, and the one
    built last is the one the user works with."""
    found = build_databases(roots)
    return found[0] if found else None


@dataclass
class FlagSettings:
    include_dirs: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    python_include: list[str] | None = None
    compile_db: CompileDatabase | None = None
    roots: list[Path] = field(default_factory=list)
    # An in-memory stand-in (its template configured, or empty) for each quoted include found
    # nowhere (includes.py, configheaders.py); off: such a file goes to tree-sitter without a
    # libclang parse (measured in docs/architecture.md).
    standins: bool = True
    target_version: str = ""  # the Python to analyse for ("3.14t"), "" for any (pythonheaders.py)
    # The -D/-U options the scanned build files give each file (buildfiles/defines.py); used where
    # no compile database entry speaks for the file.
    build_defines: BuildDefines = field(default_factory=BuildDefines)

    @cached_property
    def python_headers(self) -> PythonHeaders:
        """The Python headers parsed against and where they come from (pythonheaders.py)."""
        return find_python_headers(self.python_include, self.target_version, self.roots)

    @cached_property
    def python_dirs(self) -> list[str]:
        return list(self.python_headers.dirs)

    @cached_property
    def tree_dirs(self) -> list[str]:
        return tree_include_dirs(self.roots)

    @cached_property
    def external_dirs(self) -> list[str]:
        return binding_include_dirs()

    @cached_property
    def libcxx(self) -> str | None:
        return clang_libcxx_dir()

    @cached_property
    def header_index(self) -> HeaderIndex:
        """The project header index of the scan roots (headerindex.py): built on first use, in the
        process that uses it, once per scan."""
        return HeaderIndex([str(r) for r in self.roots])

    def language_of(self, path: Path, text: str, language: str) -> str:
        """`cpp` or `c` for a C/C++ file that discovery called `language`: a `.h` is C++ by its text
        (`is_cxx`), else when every project source that includes it is C++ (a header's language
        follows its includers); C otherwise."""
        if is_cxx(path, text, language):
            return "cpp"
        if path.suffix.lower() == ".h" and self.header_index.includer_languages(str(path)) == {"cpp"}:
            return "cpp"
        return language

    def args_for(self, path: Path, text: str, language: str) -> list[str]:
        """libclang's arguments for `path`: the language ftaudit judged, the database's allowed flags or
        the tree's include directories, the user's -D/-I, the Python headers and the shim. Every
        attacker-chosen string is one whole argument (`-D<value>`, `-I<absolute dir>`), never an option.
        Without a database entry, the build files' `-D`/`-U` options for the file come before the user's."""
        cxx = is_cxx(path, text, language)
        args = ["-x", "c++" if cxx else "c", "-ferror-limit=0", "-w"]
        if cxx and self.libcxx:
            args += ["-nostdinc++", "-isystem", self.libcxx]
        from_db = self.compile_db.args_for(path) if self.compile_db else None
        if from_db is not None:
            args += [a for a in without_language(from_db) if not _other_language_std(a, cxx)]
        else:
            args += self.build_defines.for_file(str(path), cxx)
        args += [f"-D{d}" for d in self.defines]
        args += [f"-I{d}" for d in self.include_dirs]
        args += [a for d in self.python_dirs for a in ("-isystem", d)]  # not the project's code
        if from_db is None:
            args += [f"-I{os.path.abspath(path.parent)}"] + [f"-I{d}" for d in self.tree_dirs]
            args += [a for d in self.external_dirs for a in ("-isystem", d)]
        if self.python_dirs and uses_python(text):
            if self.python_headers.free_threaded:  # as the build defines it (Windows' pyconfig.h does not)
                args.append("-DPy_GIL_DISABLED=1")
            args += ["-include", str(SHIM)]
        return args


def header_facts(flags: FlagSettings) -> dict[str, Any]:
    """Where a scan's headers come from, as data (for `--show-settings` and run properties): the
    Python headers parsed against, the binding libraries' headers found in the environment, the
    scanned tree's include directories, the user's -I/-D, the -D/-U options the build files give,
    the compile database in effect and every build directory's database found, the project roots
    the header index serves, clang's resource directory, and whether generated headers get stand-ins."""
    db = flags.compile_db
    index = flags.header_index
    return {
        "python-include": list(flags.python_dirs),
        "python-headers": flags.python_headers.describe(),
        "binding-include": list(flags.external_dirs),
        "tree-include": list(flags.tree_dirs),
        "include-dirs": list(flags.include_dirs),
        "defines": list(flags.defines),
        "build-defines": sorted({o for e in flags.build_defines.entries for o in (*e.c, *e.cpp)}),
        "compile-commands": str(db.path) if db is not None else None,
        "compile-commands-files": len(db.entries) if db is not None else 0,
        "build-databases": [str(p) for p in build_databases(flags.roots)],
        "header-index-roots": sorted({r for b in index.boundaries if (r := index.root_for(b)) is not None}),
        "clang-resource-include": clang_resource_include(),
        "stand-ins": flags.standins,
    }
