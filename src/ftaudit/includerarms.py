"""A header's (or an included source's) arms that no includer of the scan compiles: the client side of a
public C-API header, the other configuration of a code template.

gmpy2 2.1.5's `gmpy2.h` is both the module's own header and the one other extensions include to
use its C API: `#ifdef GMPY2_MODULE` declares the real API, `#else` declares `static void
**GMPy_C_API;` and an `import_gmpy2()` that fills it from a capsule (numpy's `__multiarray_api.h`
does the same with `NO_IMPORT_ARRAY`). `gmpy2.c` writes `#define GMPY2_MODULE` just before its
`#include "gmpy2.h"`, so no module of the scan compiles the `#else` arm; parsed alone, the header
would be judged on exactly that arm.

`defined_by_includers(texts)` finds, for each header of the scan, the macros its `#ifdef`/`#ifndef`
lines test that every includer of the scan `#define`s itself before its `#include` of the header,
at file scope (outside any conditional) and not `#undef`ined again before it; `client_lines(text,
defined)` gives the lines compiled only when one of them is not defined (frontends/conditions.
dead_lines with them defined). Conservative throughout, so anything unsure leaves the header
judged as before:

- includers are the scanned C/C++ files, and every `#include` naming the header's file name counts,
  as built.py counts it: through an include path it may reach this header, or another copy of it
  (gmpy2 ships `src/gmpy2.h` again as `gmpy2/gmpy2.h` for client extensions), so each copy must agree;
- a header nothing of the scan names in an `#include` is not judged this way (another project may
  include it);
- a header a Cython file of the scan names (`cdef extern from "x.h"` in a `.pyx`/`.pxi`, or in a
  `.pxd` when a `.pyx`/`.pxi` may cimport it: a `.pxd` alone compiles into nothing) is not judged
  this way: Cython's generated C includes it after defines not read here;
- a macro no includer defines is not taken as undefined: the compiler, a generated config header or
  the build may define it (switches.py asks for evidence of a switch for that reason).

A source file that other scanned files `#include` and that no build compiles on its own (a unity
build's part, a code template: BTrees' `BTreeTemplate.c`, included by `BTreeModuleTemplate.c`, itself
included by each `_OOBTree.c`-like module after `#define PERSISTENT`) is judged the same way, when the
caller passes it in `included` (switched.py decides which). Defines reach down a chain of such files: an
includer that is itself a header or such a source contributes what every one of its own includers
defines before including it, unless it `#undef`s it first (`_Contexts`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .frontends.conditions import dead_lines
from .frontends.headerindex import HEADER_EXTENSIONS
from .frontends.textscan import blank_comments_and_strings

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)
_ARM_TEST = re.compile(r"^[ \t]*#[ \t]*(?:ifdef|ifndef|elifdef|elifndef)[ \t]+([A-Za-z_]\w*)", re.M)
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w+)[ \t]*([A-Za-z_]\w*)?", re.M)


_ARM_DEFINED = re.compile(r"\bdefined[ \t]*\(?[ \t]*([A-Za-z_]\w*)")
_CONDITION = re.compile(r"^[ \t]*#[ \t]*(?:if|elif)\b([^\n]*)", re.M)
MAX_DEPTH = 8  # includers followed up a chain of included files (includers.py follows as many)


def _arm_macros(text: str) -> set[str]:
    """The macros the file's `#ifdef`/`#ifndef` lines, and the `defined(X)` of its `#if`/`#elif` lines,
    test (comments and strings left out)."""
    tested = set(_ARM_TEST.findall(text))
    for m in _CONDITION.finditer(text):
        tested.update(_ARM_DEFINED.findall(m.group(1)))
    return tested


@dataclass(frozen=True)
class _Inclusion:
    """One `#include` of a candidate file: where, and what its includer has done before it."""

    includer: str  # absolute path
    line: int
    defined: frozenset[str]  # macros certainly defined there by the includer's own lines
    undone: frozenset[str]  # macros the includer `#undef`s before it (anywhere)


State = tuple[frozenset[str], frozenset[str]]  # (macros certainly defined, macros #undef'ined somewhere)


def _defined_at(
    clean: str, offsets: list[int], headers: Mapping[int, State] | None = None, guarded: bool = False
) -> list[State]:
    """For each offset of `offsets` (ascending) into the text `clean` (comments and strings blanked), the
    macros certainly defined there (a `#define` outside every conditional, with no `#undef` after it) and
    the macros `#undef`ined before it (under any condition). `headers`: by the offset of an `#include`
    line, the state the scanned header it includes leaves (`_Headers`): its defines count when the include
    is outside every conditional, its `#undef`s always. `guarded`: the text opens with an include guard
    (`#ifndef G` / `#define G`), whose conditional is not counted. One pass over the directives."""
    out: list[State] = []
    defined: set[str] = set()
    undone: set[str] = set()
    depth = 0
    k = 0
    for i, m in enumerate(_DIRECTIVE.finditer(clean)):
        while k < len(offsets) and offsets[k] <= m.start():  # before the directive there is done
            out.append((frozenset(defined), frozenset(undone)))
            k += 1
        if k == len(offsets):
            return out
        word, name = m.group(1), m.group(2)
        if word in ("if", "ifdef", "ifndef"):
            depth += 0 if guarded and i == 0 else 1
        elif word == "endif":
            depth = max(0, depth - 1)
        elif word == "define" and name and depth == 0:
            defined.add(name)
        elif word == "undef" and name:
            defined.discard(name)
            undone.add(name)
        elif word == "include" and headers and m.start() in headers:
            more, less = headers[m.start()]
            defined.difference_update(less)
            undone |= less
            if depth == 0:
                defined |= more
    out += [(frozenset(defined), frozenset(undone))] * (len(offsets) - k)
    return out


_GUARD = re.compile(r"\A\s*#[ \t]*ifndef[ \t]+(\w+)[ \t]*\n\s*#[ \t]*define[ \t]+(\w+)")


class _Headers:
    """What the scanned headers an includer includes define for it: a header's state at its end
    (`_defined_at`, its include guard not counted as a condition, its own includes followed up
    MAX_DEPTH levels), for an `#include` that names a scanned header beside the includer or, by its file
    name, the one scanned header of that name. BTrees' modules could `#define PERSISTENT` in a shared
    header as well as in their own text."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self.by_base: dict[str, list[str]] = {}
        for p in texts:
            if os.path.splitext(p)[1].lower() in HEADER_EXTENSIONS:
                self.by_base.setdefault(os.path.basename(p), []).append(p)
        self._memo: dict[str, State] = {}

    def resolve(self, includer: str, name: str, quoted: bool) -> str | None:
        """The scanned header `#include "name"` (`quoted`; else `<name>`) in `includer` reaches, if it
        can be told: the one beside the includer, else for a quoted name the one scanned header whose
        path ends with the name (an include path may lead there); `<name>` may be a system header."""
        beside = os.path.normpath(os.path.join(os.path.dirname(includer), name))
        if beside in self.texts and beside in self.by_base.get(os.path.basename(beside), ()):
            return beside
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if not quoted or not parts or ".." in parts:
            return None
        tail = os.sep + os.path.join(*parts)
        found = [p for p in self.by_base.get(parts[-1], []) if p.endswith(tail)]
        return found[0] if len(found) == 1 else None

    def at_includes(self, path: str, text: str, clean: str, depth: int = 0) -> dict[int, State]:
        """By the offset of each `#include` of `text` (the file `path`) naming a scanned header, what
        that header leaves defined and undefined."""
        out: dict[int, State] = {}
        if depth >= MAX_DEPTH:
            return out
        for m in _INCLUDE.finditer(text):
            quoted = text[m.start() : m.end()].rstrip().endswith('"')
            header = self.resolve(path, m.group(1), quoted)
            if header is not None and header != path and clean[m.start() : m.end()].strip():
                out[m.start()] = self.state(header, depth + 1)
        return out

    def state(self, header: str, depth: int) -> State:
        if header in self._memo:
            return self._memo[header]
        self._memo[header] = (frozenset(), frozenset())  # while it is read: a cycle defines nothing
        text = self.texts[header]
        clean = blank_comments_and_strings(text)
        guard = _GUARD.match(clean)
        guarded = guard is not None and guard.group(1) == guard.group(2)
        found = _defined_at(clean, [len(clean) + 1], self.at_includes(header, text, clean, depth), guarded)[0]
        self._memo[header] = found
        return found


def _inclusions(texts: Mapping[str, str], candidates: set[str]) -> dict[str, list[_Inclusion]]:
    """Every `#include` in `texts` naming the file name of a candidate (not the includer itself), by the
    candidate it may reach, in `texts` order."""
    by_base: dict[str, list[str]] = {}
    for p in sorted(candidates):
        by_base.setdefault(os.path.basename(p), []).append(p)
    headers = _Headers(texts)
    out: dict[str, list[_Inclusion]] = {}
    for path, text in texts.items():
        if "include" not in text:
            continue
        hits: list[tuple[int, int, str]] = []  # (start and end of the #include, candidate)
        for m in _INCLUDE.finditer(text):
            for target in by_base.get(os.path.basename(m.group(1)), ()):
                if target != path:
                    hits.append((m.start(), m.end(), target))
        if not hits:
            continue
        clean = blank_comments_and_strings(text)
        hits = [h for h in hits if clean[h[0] : h[1]].strip()]  # not an include in a comment
        # the state at an include is what the lines before it leave: a header the same file included
        # earlier counts (what it defines is defined by then), the one included there does not
        states = _defined_at(clean, [at for at, _, _ in hits], headers.at_includes(path, text, clean))
        line, pos = 1, 0
        for (at, _end, target), (defined, undone) in zip(hits, states, strict=True):
            line, pos = line + text.count("\n", pos, at), at
            out.setdefault(target, []).append(_Inclusion(path, line, defined, undone))
    return out


class _Contexts:
    """The macros certainly defined where each candidate file is included, whoever includes it: the
    intersection over its inclusions of what the includer defines before the `#include`, plus, when the
    includer is itself a candidate (a header, or a source no build compiles alone), what its own includers
    define before including it and it does not `#undef` (BTrees' `_OOBTree.c` defines `PERSISTENT`, then
    includes `BTreeModuleTemplate.c`, which includes `BTreeTemplate.c`). Followed up MAX_DEPTH levels; a
    cycle or a deeper level contributes nothing (fewer macros: the file stays judged)."""

    def __init__(self, inclusions: Mapping[str, list[_Inclusion]], candidates: AbstractSet[str]) -> None:
        self.inclusions = inclusions
        self.candidates = candidates
        self._memo: dict[str, frozenset[str] | None] = {}

    def at(self, path: str, depth: int = 0, visiting: frozenset[str] = frozenset()) -> frozenset[str] | None:
        """The macros defined wherever `path` is included; None when nothing of the scan includes it."""
        if path in self._memo:
            return self._memo[path]
        incs = self.inclusions.get(path)
        if not incs:
            return None
        result: frozenset[str] | None = None
        for inc in incs:
            inherited: frozenset[str] = frozenset()
            if inc.includer in self.candidates and depth < MAX_DEPTH and inc.includer not in visiting:
                inherited = self.at(inc.includer, depth + 1, visiting | {path}) or frozenset()
            state = inc.defined | (inherited - inc.undone)
            result = state if result is None else result & state
        self._memo[path] = result  # a cut cycle gave fewer macros, never more: still safe to keep
        return result


def defined_by_includers(
    texts: Mapping[str, str], cython: str = "", included: AbstractSet[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """Per header of `texts` (absolute path -> text: every C/C++ file of the scan), and per source of
    `included` (sources other files include and no build compiles on its own: switched.py), whose file
    name the Cython text `cython` does not name (switched._cython_named), the macros its
    `#ifdef`/`#ifndef`/`defined()` tests name that every includer defines before including it (or, for an
    includer that is itself such a file, that its includers define before including that one: `_Contexts`),
    each with its evidence (`defined by every includer of the scan before its #include (gmpy2.c:516)`).
    Files with no such macro, or no includer, are left out."""
    candidates = {
        p
        for p, t in texts.items()
        if "#" in t
        and (os.path.splitext(p)[1].lower() in HEADER_EXTENSIONS or p in included)
        and os.path.basename(p) not in cython
    }
    wanted = {p: m for p in candidates if (m := _arm_macros(blank_comments_and_strings(texts[p])))}
    if not wanted:
        return {}
    inclusions = _inclusions(texts, candidates)
    contexts = _Contexts(inclusions, candidates)
    out: dict[str, dict[str, str]] = {}
    for path in sorted(wanted):
        names = (contexts.at(path) or frozenset()) & wanted[path]
        if not names:
            continue
        incs = inclusions[path]
        places = [f"{os.path.basename(i.includer)}:{i.line}" for i in incs]
        shown = ", ".join(places[:3]) + (" ..." if len(places) > 3 else "")
        found: dict[str, str] = {}
        for n in sorted(names):
            through = "" if all(n in i.defined for i in incs) else ", or by their includers before including them"
            found[n] = f"defined by every includer of the scan before its #include ({shown}){through}"
        out[path] = found
    return out


def client_lines(text: str, defined: Mapping[str, str] | frozenset[str]) -> frozenset[int]:
    """The 1-based lines of the header `text` compiled only when one of the macros `defined` is not
    defined (the `#else` of `#ifdef X`, the `#ifndef X` arm), and not already dead on a free-threaded
    3.14 build."""
    names = frozenset(defined)
    if not names:
        return frozenset()
    clean = blank_comments_and_strings(text)
    return frozenset(i + 1 for i in dead_lines(clean, defined=names) - dead_lines(clean))
