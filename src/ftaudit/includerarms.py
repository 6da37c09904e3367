"""A header's arms that no includer of the scan compiles: the client side of a public C-API header.

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
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from .frontends.conditions import dead_lines
from .frontends.headerindex import HEADER_EXTENSIONS
from .frontends.textscan import blank_comments_and_strings

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)
_ARM_TEST = re.compile(r"^[ \t]*#[ \t]*(?:ifdef|ifndef|elifdef|elifndef)[ \t]+([A-Za-z_]\w*)", re.M)
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w+)[ \t]*([A-Za-z_]\w*)?", re.M)


def _arm_macros(text: str) -> set[str]:
    """The macros the header's `#ifdef`/`#ifndef` lines test (comments and strings left out)."""
    return set(_ARM_TEST.findall(text))


def _defined_at(clean: str, offsets: list[int]) -> list[frozenset[str]]:
    """For each offset of `offsets` (ascending) into the text `clean` (comments and strings blanked), the
    macros certainly defined there: a `#define` outside every conditional, with no `#undef` after it.
    One pass over the directives."""
    out: list[frozenset[str]] = []
    defined: set[str] = set()
    depth = 0
    k = 0
    for m in _DIRECTIVE.finditer(clean):
        while k < len(offsets) and offsets[k] < m.start():
            out.append(frozenset(defined))
            k += 1
        if k == len(offsets):
            return out
        word, name = m.group(1), m.group(2)
        if word in ("if", "ifdef", "ifndef"):
            depth += 1
        elif word == "endif":
            depth = max(0, depth - 1)
        elif word == "define" and name and depth == 0:
            defined.add(name)
        elif word == "undef" and name:
            defined.discard(name)
    out += [frozenset(defined)] * (len(offsets) - k)
    return out


def defined_by_includers(texts: Mapping[str, str], cython: str = "") -> dict[str, dict[str, str]]:
    """Per header of `texts` (absolute path -> text: every C/C++ file of the scan), whose file name the
    Cython text `cython` does not name (switched._cython_named), the macros its
    `#ifdef`/`#ifndef` lines test that every includer defines before including it, each with its
    evidence (`defined by every includer of the scan before its #include (gmpy2.c:516)`). Headers
    with no such macro, or no includer, are left out."""
    headers = {p: t for p, t in texts.items() if os.path.splitext(p)[1].lower() in HEADER_EXTENSIONS and "#" in t}
    wanted = {
        p: m
        for p, t in headers.items()
        if os.path.basename(p) not in cython and (m := _arm_macros(blank_comments_and_strings(t)))
    }
    if not wanted:
        return {}
    by_base: dict[str, list[str]] = {}
    for p in wanted:
        by_base.setdefault(os.path.basename(p), []).append(p)
    agreed: dict[str, set[str]] = {}
    where: dict[str, list[str]] = {}
    for path, text in texts.items():
        if "include" not in text:
            continue
        hits: list[tuple[int, int, str]] = []  # (start and end of the #include, header)
        for m in _INCLUDE.finditer(text):
            for header in by_base.get(os.path.basename(m.group(1)), ()):
                if header != path:
                    hits.append((m.start(), m.end(), header))
        if not hits:
            continue
        clean = blank_comments_and_strings(text)
        hits = [h for h in hits if clean[h[0] : h[1]].strip()]  # not an include in a comment
        states = _defined_at(clean, [at for at, _, _ in hits])
        line, pos = 1, 0
        for (at, _end, header), state in zip(hits, states, strict=True):
            line, pos = line + text.count("\n", pos, at), at
            found = state & wanted[header]
            agreed[header] = set(found) if header not in agreed else agreed[header] & found
            where.setdefault(header, []).append(f"{os.path.basename(path)}:{line}")
    out: dict[str, dict[str, str]] = {}
    for header, names in agreed.items():
        if not names:
            continue
        places = where[header]
        shown = ", ".join(places[:3]) + (" ..." if len(places) > 3 else "")
        out[header] = {n: f"defined by every includer of the scan before its #include ({shown})" for n in sorted(names)}
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
