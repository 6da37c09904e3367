"""Stand-ins for configure-time headers, written from their templates in the tree.

A header the build writes from a template (`_numpyconfig.h` from `_numpyconfig.h.in` by meson's
`configure_file`, `config.h` from autoheader's `config.h.in`, `x.h` from CMake's `x.h.cmake`) is
missing from an unbuilt checkout. Its template says which macros it defines; this module writes
the header without running any configure step, choosing each value so that the code parses as
the build would have it and no code path is invented:

- a size macro (`SIZEOF_LONG`, `NPY_SIZEOF_PY_INTPTR_T`, `SIZEOF_COMPLEX_DOUBLE`) gets the host's
  `sizeof` (ctypes: LP64 here, libclang's default target is the host's);
- a visibility or export macro (`NPY_VISIBILITY_HIDDEN`, `FOO_EXPORT`, `FOO_API`) is defined empty;
- every other macro (a feature test: `HAVE_BACKTRACE`, `NPY_NO_SMP`) stays undefined, or `0` for
  CMake's `#cmakedefine01`: code under it is analysed from the text by the inactive-branch pass
  (inactive.py), not compiled in on a guess.

Directives: meson `#mesondefine X`, CMake `#cmakedefine X [value]` and `#cmakedefine01 X`,
autoconf `#undef X` (only in a template without the other two: meson and CMake leave `#undef`
alone), and `@VAR@` (meson, CMake, autoconf) and `${VAR}` (CMake) substitutions, valued by the
build file where it sets a known value (buildfiles: meson's `configuration_data`), else as above.
A substitution whose value is unknown becomes empty inside a comment or a string and leaves its
`#define` out (the macro is undefined); anywhere else in code it makes the template unusable
(`None`): an empty stand-in is then better than a guessed token.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable

from ..buildfiles import ConfiguredFile
from ..buildfiles.meson import UNKNOWN_VALUE
from .textscan import blank_comments_and_strings

_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)#[ \t]*(?P<kind>mesondefine|cmakedefine01|cmakedefine|undef)[ \t]+"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^\n]*)$",
    re.M,
)
_AT_VAR = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)@")
_CMAKE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A #define with its continuation lines; the name may itself hold a substitution (`@P@_CPU_H_`).
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(?P<name>[A-Za-z_0-9@${}]+)(?:[^\n]*\\\n)*[^\n]*", re.M)
_SIZEOF = re.compile(r"(?:^|_)SIZEOF_([A-Z0-9_]+)$")
_EXPORT = re.compile(r"_VISIBILITY_|(?:^|_)(?:VISIBILITY|EXPORT|EXPORTS|API|IMPORT)$")

_C_TYPES: dict[str, type] = {
    "CHAR": ctypes.c_char,
    "SHORT": ctypes.c_short,
    "INT": ctypes.c_int,
    "LONG": ctypes.c_long,
    "LONGLONG": ctypes.c_longlong,
    "LONG_LONG": ctypes.c_longlong,
    "PY_LONG_LONG": ctypes.c_longlong,
    "FLOAT": ctypes.c_float,
    "DOUBLE": ctypes.c_double,
    "LONGDOUBLE": ctypes.c_longdouble,
    "LONG_DOUBLE": ctypes.c_longdouble,
    "VOID_P": ctypes.c_void_p,
    "VOIDP": ctypes.c_void_p,
    "INTPTR_T": ctypes.c_ssize_t,
    "PY_INTPTR_T": ctypes.c_ssize_t,
    "UINTPTR_T": ctypes.c_size_t,
    "PTRDIFF_T": ctypes.c_ssize_t,
    "SIZE_T": ctypes.c_size_t,
    "SSIZE_T": ctypes.c_ssize_t,
    "PY_SSIZE_T": ctypes.c_ssize_t,
    # off_t and time_t are 64-bit on every LP64 host (and with _FILE_OFFSET_BITS=64 elsewhere).
    "OFF_T": ctypes.c_int64,
    "TIME_T": ctypes.c_int64,
    "WCHAR_T": ctypes.c_wchar,
    "BOOL": ctypes.c_bool,
    "_BOOL": ctypes.c_bool,
}


def macro_value(name: str) -> str | None:
    """The value a stand-in defines `name` to: the host's size for a `SIZEOF_` macro (`COMPLEX_X`
    twice X's), "" for a visibility/export macro, None (left undefined) for anything else."""
    m = _SIZEOF.search(name)
    if m is not None:
        kind = m.group(1)
        complex_ = kind.startswith("COMPLEX_")
        c_type = _C_TYPES.get(kind.removeprefix("COMPLEX_"))
        if c_type is not None:
            return str(ctypes.sizeof(c_type) * (2 if complex_ else 1))
        return None
    return "" if _EXPORT.search(name) else None


def build_values(configured: ConfiguredFile) -> Callable[[str], str | None]:
    """Each macro's value for a stand-in of `configured`'s output: what its build file sets for
    certain (`NPY_API_VERSION` from `cdata.set('NPY_API_VERSION', C_API_VERSION)`, false:
    undefined), else `macro_value`'s choice."""
    known = dict(configured.values)

    def value(name: str) -> str | None:
        given = known.get(name, UNKNOWN_VALUE)
        return macro_value(name) if given == UNKNOWN_VALUE else given

    return value


def standin_text(template: str, cmake: bool = False, values: Callable[[str], str | None] = macro_value) -> str | None:
    """The header a configure step would write from `template` (its text), with each macro's value
    from `values` (None: undefined). `cmake`: `${VAR}` is a substitution too (CMake's
    `configure_file` without @ONLY). None when a substitution in code has no value. Line numbers
    are kept (one line out per line in)."""
    autoconf = not re.search(r"^[ \t]*#[ \t]*(?:mesondefine|cmakedefine)", template, re.M)

    def directive(m: re.Match[str]) -> str:
        kind, name, rest = m.group("kind"), m.group("name"), m.group("rest")
        if kind == "undef" and not autoconf:
            return m.group()
        value = values(name)
        if kind == "cmakedefine01":
            return f"{m.group('indent')}#define {name} {0 if value is None else 1}"
        if value is None:
            return f"{m.group('indent')}/* #undef {name} */"
        if kind == "cmakedefine" and rest.strip():
            return f"{m.group('indent')}#define {name}{rest}"  # its value, substituted below
        return f"{m.group('indent')}#define {name} {value}".rstrip()

    text = _DIRECTIVE.sub(directive, template)
    patterns = [_AT_VAR, _CMAKE_VAR] if cmake else [_AT_VAR]
    for pattern in patterns:
        text = _substitute(text, pattern, values)
        if text is None:
            return None
    return text


def _substitute(text: str, pattern: re.Pattern[str], values: Callable[[str], str | None]) -> str | None:
    """`text` with each `pattern` match replaced by its variable's value. An unknown one becomes
    empty in a comment or string, leaves out the `#define` whose body holds it (the macro is
    undefined, as an unknown feature is; a known substitution earlier in that `#define`, such as a
    prefix of its name, goes with it); anywhere else in code (a macro's name, a declaration) it
    makes the template unusable: None."""
    code = blank_comments_and_strings(text)
    defines = [(m.start(), m.end(), m.end("name")) for m in _DEFINE.finditer(code)]
    matches = list(pattern.finditer(text))
    omitted: dict[int, int] = {}  # start -> end of the #defines left out
    for m in matches:
        if values(m.group(1)) is None and code[m.start() : m.end()] == m.group():  # not blanked: in code
            span = next(((a, b) for a, b, name_end in defines if name_end <= m.start() < b), None)
            if span is None:
                return None
            omitted[span[0]] = span[1]

    def substituted(part: str) -> str:
        return pattern.sub(lambda m: values(m.group(1)) or "", part)

    out: list[str] = []
    pos = 0
    for a, b in sorted(omitted.items()):
        body = text[a:b]
        name = _DEFINE.match(code[a:b])
        out += [substituted(text[pos:a]), f"/* #undef {substituted(name.group('name')) if name else ''} */"]
        out.append("\n" * body.count("\n"))
        pos = b
    out.append(substituted(text[pos:]))
    return "".join(out)
