"""Which library a call goes into, and whether the call is a binding call at all (FT302, FT303).

Facts come from the catalogue (`rules/api/libraries.toml`, extended and retracted by
configuration: `unsafe-functions`, `unsafe-headers`, `safe-functions`, `thread-safe-libraries`)
and from the whole scan:

- a library's own implementation is not a binding: a C/C++ file that defines an exported
  function of the library (scipy's bundled qhull sources define `qh_*`), and every file in its
  directory, are the library's sources, whose calls into it are internal;
- f2c's output is not reentrant (Fortran SAVE and DATA locals become static variables): the
  functions f2c-translated files define are unsafe to call from the rest of the project.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..catalogue import Catalogue, Library
from ..engine import Context
from ..facts import Call, Unit


@lru_cache(maxsize=8192)  # a scan asks of the same few headers for every call (numpy: 5 s of fnmatch)
def header_matches(path: str, patterns: tuple[str, ...]) -> str | None:
    """The header pattern that names `path` (`tinydb.h` names `/opt/x/include/tinydb.h`), or None."""
    norm = path.replace("\\", "/")
    base = posixpath.basename(norm)
    for pat in patterns:
        if fnmatch.fnmatchcase(base, pat) or fnmatch.fnmatchcase(norm, pat) or fnmatch.fnmatchcase(norm, f"*/{pat}"):
            return pat
    return None


@lru_cache(maxsize=512)
def _pattern(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled alternation of fnmatch globs (case-sensitive), None for no globs."""
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def matches(name: str, globs: tuple[str, ...]) -> bool:
    pat = _pattern(globs)
    return pat is not None and pat.match(name) is not None


def normal_type(text: str) -> str:
    """A type as written, reduced for comparison: no `const`/`struct`, no spaces (`CURL *` -> `CURL*`)."""
    return re.sub(r"\b(?:const|struct|volatile)\b|\s+", "", text)


def handle_of(lib: Library, type_text: str) -> str:
    """The handle type of `lib` that `type_text` is ("" if none)."""
    t = normal_type(type_text)
    return next((h for h in lib.handles if normal_type(h) == t), "")


def active(cat: Catalogue) -> tuple[Library, ...]:
    """The catalogue's libraries, minus those configured as built thread-safe."""
    return tuple(lib for lib in cat.libraries if lib.name not in cat.thread_safe_libraries)


@lru_cache(maxsize=64)
def _by_name(libraries: tuple[Library, ...]) -> re.Pattern[str]:
    """One pattern for the API of every library, a named group per library (one match per call)."""
    alternatives = [
        f"(?P<l{i}>{'|'.join(fnmatch.translate(g) for g in lib.functions)})"
        for i, lib in enumerate(libraries)
        if lib.functions
    ]
    return re.compile("|".join(alternatives) or "(?!)")


def library_of(call: Call, libraries: tuple[Library, ...]) -> Library | None:
    """The library `call` goes into: by the callee's name, or (a C++ member function, which names
    no library by itself) by the header its declaration is in."""
    if not call.user_defined:  # a member function's name (`stream.readline()`) says nothing
        m = _by_name(libraries).match(call.name)
        if m is not None and m.lastgroup is not None:
            return libraries[int(m.lastgroup[1:])]
    if call.declared_in:
        for lib in libraries:
            if header_matches(call.declared_in, lib.headers) is not None:
                return lib
    return None


def uses_reentrant_api(call: Call, unit: Unit, lib: Library) -> bool:
    """The call is the library's reentrant form: its name says so (GEOS `*_r`), or its declaration,
    or the file's includes, are the reentrant headers (`libqhull_r/libqhull_r.h`)."""
    if matches(call.name, lib.reentrant):
        return True
    if not lib.reentrant_headers:
        return False
    if call.declared_in and header_matches(call.declared_in, lib.reentrant_headers) is not None:
        return True
    return any(header_matches(h, lib.reentrant_headers) is not None for h in (*unit.includes, *unit.missing_headers))


@dataclass
class LibraryIndex:
    """What the whole scan says about libraries: their own source directories, f2c's functions and
    the object fields of every Python type (a `cdef class` is often declared in a `.pxd`)."""

    own_dirs: dict[str, set[str]] = field(default_factory=dict)  # library name ("" configured) -> dirs
    own_files: dict[str, set[str]] = field(default_factory=dict)  # library name -> files defining its API
    f2c: dict[str, str] = field(default_factory=dict)  # function -> the f2c-translated file defining it
    object_fields: dict[str, str] = field(default_factory=dict)  # field -> type as written

    def own_source(self, unit: Unit, lib_name: str) -> bool:
        """Is `unit` part of the library's own implementation: it defines an exported function of the
        library, or it is C/C++ code that binds nothing to Python in a directory of files that do?
        (A binding next to a helper that defines a library-named function stays a binding: scipy's
        `_qhull.pyx` beside `qhull_misc.c`.)"""
        path = os.path.abspath(unit.path)
        if path in self.own_files.get(lib_name, set()):
            return True
        return not _binds(unit) and os.path.dirname(path) in self.own_dirs.get(lib_name, set())

    def f2c_callee(self, unit: Unit, call: Call) -> str:
        """The f2c-translated file defining the callee (`dgesv_`, or `dgesv` built as `FNAME(dgesv)`), when
        the caller is outside that file's directory; "" otherwise."""
        if unit.generator == "f2c":
            return ""
        where = self.f2c.get(call.name) or self.f2c.get(call.name + "_", "")
        if not where or os.path.dirname(where) == os.path.dirname(os.path.abspath(unit.path)):
            return ""
        return where


_PYTHON_TABLES = ("PyMethodDef", "PyType", "PyGetSetDef", "PyMemberDef", "PyModuleDef")


def _binds(unit: Unit) -> bool:
    """Does the file bind code to Python (Cython, a module definition, a method table or type slots)?"""
    return (
        unit.language == "cython"
        or bool(unit.module_decls)
        or any(ref.context.startswith(_PYTHON_TABLES) for ref in unit.refs)
    )


def _build(units: Iterable[Unit], cat: Catalogue) -> LibraryIndex:
    index = LibraryIndex()
    libraries = active(cat)
    for unit in units:
        directory = os.path.dirname(os.path.abspath(unit.path))
        for name, ftype in unit.object_fields.items():
            index.object_fields.setdefault(name, ftype)
        if unit.language not in ("c", "cpp"):
            continue
        for fn in unit.functions:
            if unit.generator == "f2c":
                index.f2c.setdefault(fn.name, os.path.abspath(unit.path))
            if fn.internal:
                continue
            names = [""] if matches(fn.name, cat.unsafe_functions) else []
            names += [lib.name for lib in libraries if matches(fn.name, lib.functions)]
            for name in names:
                index.own_dirs.setdefault(name, set()).add(directory)
                index.own_files.setdefault(name, set()).add(os.path.abspath(unit.path))
    return index


def library_index(units: Sequence[Unit], ctx: Context) -> LibraryIndex:
    """The scan's LibraryIndex, built once and shared by FT302 and FT303."""
    project = ctx.project
    source = project.units if project.units else units
    return project.memo("libraries", lambda: _build(source, ctx.catalogue))
