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
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..safeio import read_regular
from .allowlist import clean_args

SHIM = Path(__file__).resolve().parent / "clang" / "shim" / "ftaudit_shim.h"
_CXX_HINT = re.compile(
    r"^\s*(namespace\s+\w+|template\s*<|class\s+\w+\s*[:{]|#include\s*<(vector|string|map|memory|mutex|pybind11|nanobind)[^>]*>)"
    r"|\bstd::",
    re.M,
)
_PY_HINT = re.compile(r"\bPy[A-Z_a-z]|Python\.h|PYBIND11_|NB_MODULE|\bpybind11\b|\bnanobind\b")
_INCLUDE_DIR_NAMES = {"include", "includes", "inc", "src"}
COMPILE_DB_MAX_BYTES = 64 << 20  # numpy's is a few MB


def python_include_dirs() -> list[str]:
    """The running interpreter's C headers (include and platinclude)."""
    dirs: list[str] = []
    for key in ("include", "platinclude"):
        d = sysconfig.get_paths().get(key)
        if d and os.path.isfile(os.path.join(d, "Python.h")) and d not in dirs:
            dirs.append(d)
    return dirs


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
    entries: dict[str, list[str]] = field(default_factory=dict)
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
            db.entries[os.path.realpath(file)] = kept
            for option in dict.fromkeys(dropped):
                db.dropped[option] = db.dropped.get(option, 0) + 1
        return db

    def args_for(self, path: Path) -> list[str] | None:
        return self.entries.get(os.path.realpath(path))


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


def find_compile_database(roots: list[Path]) -> Path | None:
    for root in roots:
        base = root if root.is_dir() else root.parent
        for cand in (base / "compile_commands.json", base / "build" / "compile_commands.json"):
            if cand.is_file():
                return cand
    return None


@dataclass
class FlagSettings:
    include_dirs: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    python_include: list[str] | None = None
    compile_db: CompileDatabase | None = None
    roots: list[Path] = field(default_factory=list)

    @cached_property
    def python_dirs(self) -> list[str]:
        return self.python_include if self.python_include is not None else python_include_dirs()

    @cached_property
    def tree_dirs(self) -> list[str]:
        return tree_include_dirs(self.roots)

    @cached_property
    def external_dirs(self) -> list[str]:
        np_dir = numpy_include_dir()
        return [np_dir] if np_dir else []

    @cached_property
    def libcxx(self) -> str | None:
        return clang_libcxx_dir()

    def args_for(self, path: Path, text: str, language: str) -> list[str]:
        """libclang's arguments for `path`: the language ftaudit judged, the database's allowed flags or
        the tree's include directories, the user's -D/-I, the Python headers and the shim. Every
        attacker-chosen string is one whole argument (`-D<value>`, `-I<absolute dir>`), never an option."""
        cxx = is_cxx(path, text, language)
        args = ["-x", "c++" if cxx else "c", "-ferror-limit=0", "-w"]
        if cxx and self.libcxx:
            args += ["-nostdinc++", "-isystem", self.libcxx]
        from_db = self.compile_db.args_for(path) if self.compile_db else None
        if from_db is not None:
            args += without_language(from_db)
        args += [f"-D{d}" for d in self.defines]
        args += [f"-I{d}" for d in self.include_dirs]
        args += [a for d in self.python_dirs for a in ("-isystem", d)]  # not the project's code
        if from_db is None:
            args += [f"-I{os.path.abspath(path.parent)}"] + [f"-I{d}" for d in self.tree_dirs]
            args += [a for d in self.external_dirs for a in ("-isystem", d)]
        if self.python_dirs and uses_python(text):
            args += ["-include", str(SHIM)]
        return args
