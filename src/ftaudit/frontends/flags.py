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
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

SHIM = Path(__file__).parent / "clang" / "shim" / "ftaudit_shim.h"
_CXX_HINT = re.compile(
    r"^\s*(namespace\s+\w+|template\s*<|class\s+\w+\s*[:{]|#include\s*<(vector|string|map|memory|mutex|pybind11|nanobind)[^>]*>)"
    r"|\bstd::",
    re.M,
)
_PY_HINT = re.compile(r"\bPy[A-Z_a-z]|Python\.h|PYBIND11_|NB_MODULE|\bpybind11\b|\bnanobind\b")
_INCLUDE_DIR_NAMES = {"include", "includes", "inc", "src"}
_DROP_WITH_VALUE = {"-o", "-MF", "-MT", "-MQ", "-c"}


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


@dataclass
class CompileDatabase:
    """compile_commands.json, read as plain JSON (no libclang database API needed)."""

    path: Path
    entries: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> CompileDatabase:
        if path.is_dir():
            path = path / "compile_commands.json"
        db = cls(path)
        for entry in json.loads(path.read_text(encoding="utf-8")):
            directory = Path(entry.get("directory", "."))
            file = Path(entry["file"])
            file = file if file.is_absolute() else directory / file
            args = entry.get("arguments") or shlex.split(entry.get("command", ""))
            db.entries[os.path.realpath(file)] = _clean_args(args[1:], directory, file)
        return db

    def args_for(self, path: Path) -> list[str] | None:
        return self.entries.get(os.path.realpath(path))


def _clean_args(args: list[str], directory: Path, file: Path) -> list[str]:
    """Keep what shapes the parse (-I, -D, -std, -include...), made absolute."""
    out: list[str] = []
    skip = False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in _DROP_WITH_VALUE:
            skip = a != "-c"
            continue
        if os.path.realpath(directory / a) == os.path.realpath(file) or a == str(file):
            continue
        for flag in ("-I", "-isystem", "-iquote", "-include", "-idirafter"):
            if a == flag and i + 1 < len(args):
                out += [flag, str(directory / args[i + 1])]
                skip = True
                break
            if a.startswith(flag) and len(a) > len(flag) and flag == "-I":
                out.append("-I" + str(directory / a[2:]))
                break
        else:
            if a.startswith(("-D", "-U", "-std=", "-f", "-m", "-x", "--target", "-include", "-W")):
                out.append(a)
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
        cxx = is_cxx(path, text, language)
        args = ["-x", "c++" if cxx else "c", "-ferror-limit=0", "-w"]
        if cxx and self.libcxx:
            args += ["-nostdinc++", "-isystem", self.libcxx]
        from_db = self.compile_db.args_for(path) if self.compile_db else None
        if from_db is not None:
            args += [a for a in from_db if not a.startswith("-x")]
        args += [f"-D{d}" for d in self.defines]
        args += [f"-I{d}" for d in self.include_dirs]
        args += [a for d in self.python_dirs for a in ("-isystem", d)]  # not the project's code
        if from_db is None:
            args += [f"-I{path.parent}"] + [f"-I{d}" for d in self.tree_dirs]
            args += [a for d in self.external_dirs for a in ("-isystem", d)]
        if self.python_dirs and uses_python(text):
            args += ["-include", str(SHIM)]
        return args
