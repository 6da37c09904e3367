"""A translation unit's errors, read once through libclang's C functions.

cindex builds a `Diagnostic` object per diagnostic and a `_CXString`, a `SourceLocation` and a `File`
per question asked of it; a numpy file parsed without its generated headers has hundreds of errors,
and both the PCH check (`Preambles.parse`) and the file's problems (`ClangFrontend._diagnostics`)
read every one (numpy's `multiarray/*.c`: 15 000 errors, 49 000 spellings per run). Here each
diagnostic's severity is read first; only errors (and fatal errors) have their spelling, file, line
and system-header flag read, once, and the list is kept on the translation unit for every later reader.

Input: a live `clang.cindex.TranslationUnit`; nothing here raises for one.
"""

from __future__ import annotations

import ctypes
from typing import Any, NamedTuple

from clang import cindex as ci

from .cursors import _String


class Error(NamedTuple):
    """One error of the translation unit: what `Diagnostic.spelling`, `.location.file.name` (None when
    it has no file), `.location.line` and `.location.is_in_system_header` answer."""

    spelling: str
    file: str | None
    line: int
    in_system_header: bool


def _raw() -> Any:
    lib = ctypes.CDLL(ci.conf.lib._name)
    uint_p = ctypes.POINTER(ctypes.c_uint)
    void_pp = ctypes.POINTER(ctypes.c_void_p)
    prototypes: list[tuple[str, list[Any], Any]] = [
        ("clang_getNumDiagnostics", [ctypes.c_void_p], ctypes.c_uint),
        ("clang_getDiagnostic", [ctypes.c_void_p, ctypes.c_uint], ctypes.c_void_p),
        ("clang_disposeDiagnostic", [ctypes.c_void_p], None),
        ("clang_getDiagnosticSeverity", [ctypes.c_void_p], ctypes.c_int),
        ("clang_getDiagnosticSpelling", [ctypes.c_void_p], _String),
        ("clang_getDiagnosticLocation", [ctypes.c_void_p], ci.SourceLocation),
        ("clang_getInstantiationLocation", [ci.SourceLocation, void_pp, uint_p, uint_p, uint_p], None),
        ("clang_Location_isInSystemHeader", [ci.SourceLocation], ctypes.c_int),
        ("clang_getFileName", [ctypes.c_void_p], _String),
        ("clang_getCString", [_String], ctypes.c_char_p),
        ("clang_disposeString", [_String], None),
    ]
    for name, args, result in prototypes:
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


_LIB = _raw()
_ERROR = ci.Diagnostic.Error


def _text(s: _String) -> str:
    try:
        raw = _LIB.clang_getCString(s)
        return raw.decode("utf8") if raw is not None else ""
    finally:
        _LIB.clang_disposeString(s)


def errors(tu: ci.TranslationUnit) -> list[Error]:
    """The errors and fatal errors of `tu`, in libclang's order (kept on `tu`: read once)."""
    kept: list[Error] | None = getattr(tu, "_ft_errors", None)
    if kept is not None:
        return kept
    lib = _LIB
    handle = tu.obj
    file_p, line = ctypes.c_void_p(), ctypes.c_uint()
    names: dict[int, str] = {}
    out: list[Error] = []
    for i in range(lib.clang_getNumDiagnostics(handle)):
        d = lib.clang_getDiagnostic(handle, i)
        try:
            if lib.clang_getDiagnosticSeverity(d) < _ERROR:
                continue
            loc = lib.clang_getDiagnosticLocation(d)
            lib.clang_getInstantiationLocation(loc, ctypes.byref(file_p), ctypes.byref(line), None, None)
            f = file_p.value
            name = None
            if f:
                name = names.get(f)
                if name is None:
                    name = names[f] = _text(lib.clang_getFileName(f))
            system = bool(lib.clang_Location_isInSystemHeader(loc))
            out.append(Error(_text(lib.clang_getDiagnosticSpelling(d)), name, line.value, system))
        finally:
            lib.clang_disposeDiagnostic(d)
    tu._ft_errors = out
    return out
