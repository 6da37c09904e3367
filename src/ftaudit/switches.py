"""Opt-in switches: macros a developer defines by hand to build a debugging or testing variant.

pyahocorasick 2.0.0 keeps its allocation counters under `#ifdef MEMORY_DEBUG` (`//#define
MEMORY_DEBUG` commented out at the top of `utils.c`, `-DMEMORY_DEBUG` only in `runtest.sh`) and its
fault injection in a file `#include`d only under `#ifdef PYCALLS_INJECT_FAULTS`: a default build
compiles neither, so their hazards are not the module's. A macro `X` is such a switch when

- the scanned C/C++ files test it (`#ifdef X`, `#if defined(X)`, `#if X`) and name it nowhere else
  outside comments and strings (no `#define X`, `#undef X`, no use as a value: a macro a system header
  defines, `SIGPIPE`, `O_BINARY`, is used in code too);
- no build file of the tree mentions it at all (`setup.py`, `meson.build`, `CMakeLists.txt`, and the
  `setup.cfg`/`pyproject.toml` beside them: `define_macros`, `-DX`, an environment test that sets it);
- it is not a platform, compiler or Python macro (`_`-prefixed, `Py_*`, `PY_*`, `PYPY*`, `HAVE_*`,
  `MS_*`, `WIN*`, `NDEBUG`: Python's own flags define `NDEBUG`, so `#ifndef NDEBUG` code is not built);
- and its name says it is a switch (a `_`-separated part among `SWITCH_WORDS`: `MEMORY_DEBUG`,
  `PYCALLS_INJECT_FAULTS`) or a commented-out `// #define X` / `/* #define X */` in the tree says so.

Only files under the directory of a build file that was read are judged this way (without a build
description nothing says what the build defines). `switches(texts, words)` names the switches,
`off_lines(text, found)` the lines of a file a default build does not compile because of them
(frontends/conditions.dead_lines with the switches undefined: the `#else` of `#ifdef X` and the
`#ifndef X` arm stay).

`zero_defaults(texts, words)` names the macros whose in-tree default is 0 (zstd's `#ifndef DEBUGLEVEL
/ #define DEBUGLEVEL 0`): every definition of them in the tree is 0 and the build never sets them, so
what `#if DEBUGLEVEL >= 2` holds is not built either; `off_lines(text, found, zeros)` takes both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .frontends.conditions import dead_lines
from .frontends.textscan import blank_comments_and_strings
from .safeio import read_regular

SWITCH_WORDS = frozenset(
    {
        *("DEBUG", "DEBUGGING", "DBG", "TRACE", "TRACING", "TEST", "TESTS", "TESTING", "FAULT", "FAULTS"),
        *("INJECT", "INJECTION", "PROFILE", "PROFILING", "EXPERIMENTAL", "VERBOSE", "DUMP", "CHECK", "CHECKS"),
    }
)
_SYSTEM_PREFIXES = ("_", "Py", "PY_", "PYPY", "HAVE_", "MS_", "WIN")
_SYSTEM_NAMES = frozenset({"NDEBUG"})
# Beside a build file: other files that may set a macro for the build.
_BUILD_CONFIG = ("setup.cfg", "pyproject.toml")
_MAX_BYTES = 4 * 2**20

_TEST = re.compile(r"^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|elifdef|elifndef)\b(.*)$", re.M)
_IDENT = re.compile(r"(?<!\w)[A-Za-z_]\w*")  # not the `x03` of `0x03`, the `UL` of `1UL`
_COMMENT = re.compile(r"/\*.*?\*/|//.*$")
_COMMENTED_DEFINE = re.compile(r"^[ \t]*(?://|/\*)[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", re.M)


@dataclass(frozen=True)
class BuildWords:
    """What the build files say, for telling a switch from a macro the build sets: every identifier
    of their text (`words`) and the directories of the build files read (`dirs`, absolute)."""

    words: frozenset[str] = frozenset()
    dirs: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        """Is the file at `path` under the directory of a build file that was read?"""
        here = os.path.abspath(path)
        return any(here.startswith(d.rstrip(os.sep) + os.sep) for d in self.dirs)


def build_words(build_files: Iterable[Path]) -> BuildWords:
    """The identifiers of the build files (and of the `setup.cfg`/`pyproject.toml` beside each); a file
    that cannot be read adds nothing, and its directory is not one the answer covers."""
    words: set[str] = set()
    dirs: list[str] = []
    for path in build_files:
        try:
            text = read_regular(path, _MAX_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        words.update(_IDENT.findall(text))
        home = os.path.dirname(os.path.abspath(path))
        dirs.append(home)
        for name in _BUILD_CONFIG:
            try:
                words.update(
                    _IDENT.findall(read_regular(os.path.join(home, name), _MAX_BYTES).decode("utf-8", "replace"))
                )
            except OSError:
                continue
    return BuildWords(frozenset(words), tuple(dict.fromkeys(dirs)))


def looks_like_switch(name: str) -> bool:
    """Does the macro's name say it switches a debugging or testing variant on (`MEMORY_DEBUG`)?"""
    return any(part.upper() in SWITCH_WORDS for part in name.split("_"))


def _system(name: str) -> bool:
    return name in _SYSTEM_NAMES or name.startswith(_SYSTEM_PREFIXES)


def _tested(text: str) -> set[str]:
    """The identifiers the file's conditional directives test (comments on those lines left out)."""
    out: set[str] = set()
    for m in _TEST.finditer(text):
        out.update(_IDENT.findall(_COMMENT.sub(" ", m.group(1))))
    out.discard("defined")
    return out


def switches(texts: Mapping[str, str], words: frozenset[str]) -> dict[str, str]:
    """The opt-in switches of the files whose texts `texts` holds (path -> text), each with the evidence
    that names it (`named like a switch`, `commented-out #define at path:line`). `words`: the build
    files' identifiers (BuildWords.words)."""
    tested = {n for t in texts.values() for n in _tested(t) if not _system(n) and n not in words}
    # Only a name with evidence can be a switch: only its uses are looked for (lxml 5.2.2, 18 MB: 1.8 -> 0.6 CPU s).
    commented_out = {m.group(1) for t in texts.values() for m in _COMMENTED_DEFINE.finditer(t)}
    candidates = {n for n in tested if looks_like_switch(n) or n in commented_out}
    if not candidates:
        return {}
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, candidates))) + r")\b")
    used: set[str] = set()
    commented: dict[str, str] = {}
    for path, text in texts.items():
        hits = [m for m in pattern.finditer(text) if m.group(0) not in used]
        if not hits:
            continue
        clean = blank_comments_and_strings(text)
        for m in hits:
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            line = text[start : end if end >= 0 else len(text)]
            if clean[m.start() : m.end()] == m.group(0):  # code, not a comment or string
                if not _TEST.match(clean[start : end if end >= 0 else len(text)]):
                    used.add(m.group(0))
                continue
            define = _COMMENTED_DEFINE.match(line)
            if define is not None and define.group(1) == m.group(0):
                where = f"{os.path.basename(path)}:{text.count(chr(10), 0, start) + 1}"
                commented.setdefault(m.group(0), f"commented-out `#define` at {where}")
    out = {}
    for name in sorted(candidates - used):
        if name in commented:
            out[name] = commented[name]
        elif looks_like_switch(name):
            out[name] = "named like a switch"
    return out


# Names a platform, its C library or pyconfig.h may define to something else than a project's fallback
# `#ifndef O_BINARY / #define O_BINARY 0` (besides _system's): never taken as in-tree defaults.
# Feature words (`USE_*`, `HAS_*`...) too: a configure step or a generated config header may set them.
_PLATFORM_PREFIXES = (
    *("SIZEOF_", "ALIGNOF_", "O_", "SO_", "MSG_", "AF_", "PF_", "IPPROTO_", "TCP_", "IP_", "SOCK_", "MAP_"),
    *("CLOCK_", "SEEK_", "S_I", "SIG", "SA_", "RTLD_", "FD_", "F_", "AT_", "POSIX_", "HAVE"),
    *("USE_", "ENABLE_", "DISABLE_", "WITH_", "WITHOUT_", "HAS_", "NO_"),
)
_PLATFORM_NAMES = frozenset(
    {"FALSE", "TRUE", "NULL", "EOF", "ERROR", "OK", "BIG_ENDIAN", "LITTLE_ENDIAN", "BYTE_ORDER"}
)
_OBJECT_DEFINE = re.compile(r"^[ \t]*#[ \t]*(define|undef)[ \t]+([A-Za-z_]\w*)(\(|[ \t]+(.*?)[ \t]*$|[ \t]*$)", re.M)
_ZERO = re.compile(r"\(?\s*0+[uUlL]*\s*\)?")
_VALUE_TEST = re.compile(r"^[ \t]*#[ \t]*(?:if|elif)\b(.*)$", re.M)


def _platform(name: str) -> bool:
    return _system(name) or name in _PLATFORM_NAMES or name.startswith(_PLATFORM_PREFIXES) or name.endswith("_H")


def zero_defaults(texts: Mapping[str, str], words: frozenset[str]) -> dict[str, str]:
    """Macros whose in-tree default is 0, each with the definition that says so (`#define DEBUGLEVEL 0
    at debug.h:12`): tested by an `#if`/`#elif` of the files `texts` holds (path -> text), every
    `#define` of them in those files is the literal 0 (zstd's `#ifndef DEBUGLEVEL / #define DEBUGLEVEL
    0`), none `#undef`s them, the build files' identifiers `words` never name them, and they are not a
    platform or pyconfig name (`O_BINARY`, `FALSE`, `SIZEOF_*`, `HAVE_*`, `MS_WINDOWS`, `USE_*`...: a
    system header or a configure step may define those to something else). A default build compiles
    no code that needs one to be non-zero."""
    tested: set[str] = set()
    for t in texts.values():
        if "#" in t:
            for m in _VALUE_TEST.finditer(t.replace("\\\n", " ")):
                tested.update(_IDENT.findall(_COMMENT.sub(" ", m.group(1))))
    tested = {n for n in tested if n not in words and not _platform(n)}
    if not tested:
        return {}
    zero: dict[str, str] = {}
    other: set[str] = set()
    for path, text in texts.items():
        if "define" not in text:
            continue
        clean = blank_comments_and_strings(text)
        for m in _OBJECT_DEFINE.finditer(clean):
            name = m.group(2)
            if name not in tested or name in other:
                continue
            body = m.group(4)
            if m.group(1) == "undef" or body is None or not _ZERO.fullmatch(body):
                other.add(name)  # an #undef, a function-like macro, an empty or non-zero body
                zero.pop(name, None)
                continue
            where = f"{os.path.basename(path)}:{clean.count(chr(10), 0, m.start()) + 1}"
            zero.setdefault(name, f"`#define {name} 0` at {where}")
    return dict(sorted(zero.items()))


def off_lines(text: str, found: Iterable[str], zeros: Iterable[str] = ()) -> frozenset[int]:
    """The 1-based lines of `text` compiled only when one of the switches `found` is defined, or one of
    the in-tree zero defaults `zeros` (zero_defaults) is not 0 (and not already dead on a free-threaded
    3.14 build, which the frontends leave out themselves)."""
    names = frozenset(found)
    zero_names = frozenset(zeros)
    tested = _tested(text.replace("\\\n", " ") if zero_names else text)
    switched, zeroed = tested & names, tested & zero_names
    if not switched and not zeroed:
        return frozenset()
    clean = blank_comments_and_strings(text)
    return frozenset(i + 1 for i in dead_lines(clean, switched, zeroed) - dead_lines(clean))
