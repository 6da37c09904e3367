"""The code under opt-in switches, or needing a macro other than its in-tree default of 0 (switches.py),
taken out of the units, as a default build leaves it out.

`leave_out(units, words)` reads each C/C++ unit's file again (bounded regular-file reads), finds the
switches of the scan and removes from every unit what lies on the lines only a switch compiles:
functions wholly there, the facts a function records there (calls, accesses, checks, stores, in an
`#ifdef MEMORY_DEBUG` arm inside `memory_alloc`), statics defined there, table entries and module
declarations. It runs before the call graph, so a call made only under a switch
(`initialize_pycallfault()` in `PyInit_`) reaches nothing and an `#include` under one
(built.py, `off`) brings no file into a module. A header's arms that every includer of the scan
skips by defining a macro first (the client side of a C-API header, includerarms.py) go the same
way, and so do those of a source that other files include and no build compiles alone
(`included_sources`: a code template every module includes after `#define PERSISTENT`). One
`not-built` note per file says what was left out.
Returns the units (copied where something was removed), the notes and the lines left out per file
(absolute path -> 1-based lines).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from .buildfiles import Description
from .built import listed_by_a_target
from .facts import Function, Problem, Span, Unit
from .frontends.headerindex import HEADER_EXTENSIONS
from .includerarms import client_lines, defined_by_includers
from .safeio import read_regular
from .source import DEFAULT_MAX_BYTES
from .switches import BuildWords, off_lines, switches, zero_defaults

_C_LANGUAGES = ("c", "cpp")


def _line(item: object) -> int | None:
    """The line a fact of a function is at (None: it says none, kept)."""
    if isinstance(item, Span):
        return item.line
    span = getattr(item, "span", None) or getattr(item, "check", None)
    return span.line if isinstance(span, Span) else None


def _kept(items: list[object], off: AbstractSet[int]) -> list[object]:
    return [i for i in items if _line(i) not in off]


def _without_lines(fn: Function, off: AbstractSet[int]) -> Function:
    """`fn` without the facts it records on the `off` lines (copied only when one is)."""
    changes: dict[str, object] = {}
    for f in dataclasses.fields(fn):
        value = getattr(fn, f.name)
        if isinstance(value, list):
            kept = _kept(value, off)
            if len(kept) != len(value):
                changes[f.name] = kept
        elif isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
            kept_map = {k: _kept(v, off) for k, v in value.items()}
            if any(len(kept_map[k]) != len(v) for k, v in value.items()):
                changes[f.name] = kept_map
    return dataclasses.replace(fn, **changes) if changes else fn  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class _Removed:
    functions: int
    other: int
    first: int


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)


def _off_includes(text: str, off: AbstractSet[int]) -> set[str]:
    """The names the file `#include`s only on `off` lines (tree-sitter lists every include it reads as
    missing, which built.py follows)."""
    on: set[str] = set()
    only_off: set[str] = set()
    for m in _INCLUDE.finditer(text):
        (only_off if text.count("\n", 0, m.start()) + 1 in off else on).add(m.group(1))
    return only_off - on


def _strip(unit: Unit, off: AbstractSet[int], text: str) -> tuple[Unit, _Removed | None]:
    """`unit` (whose file's text is `text`) without what lies on the `off` lines, and what was removed
    (None: nothing)."""
    here = os.path.abspath(unit.path)
    functions: list[Function] = []
    gone, other, lines = 0, 0, []
    for fn in unit.functions:
        if fn.span.line in off and fn.span.end_line in off:
            gone += 1
            lines.append(fn.span.line)
            continue
        if any(n in off for n in range(fn.span.line, fn.span.end_line + 1)):
            thinner = _without_lines(fn, off)
            if thinner is not fn:
                other += 1
                lines += [n for n in range(fn.span.line, fn.span.end_line + 1) if n in off][:1]
            fn = thinner
        functions.append(fn)
    statics = {k: v for k, v in unit.statics.items() if not (os.path.abspath(v.path) == here and v.span.line in off)}
    refs = [r for r in unit.refs if r.span.line not in off]
    decls = [d for d in unit.module_decls if d.span.line not in off]
    other += (len(unit.statics) - len(statics)) + (len(unit.refs) - len(refs)) + (len(unit.module_decls) - len(decls))
    lines += [v.span.line for v in unit.statics.values() if v.span.line in off and os.path.abspath(v.path) == here]
    lines += [r.span.line for r in unit.refs if r.span.line in off] + [
        d.span.line for d in unit.module_decls if d.span.line in off
    ]
    dropped = _off_includes(text, off) if unit.missing_headers else set()
    missing = [h for h in unit.missing_headers if h not in dropped]
    if not gone and not other and len(missing) == len(unit.missing_headers):
        return unit, None
    changes = {"functions": functions, "statics": statics, "refs": refs, "module_decls": decls}
    stripped = dataclasses.replace(unit, missing_headers=missing, **changes)  # type: ignore[arg-type]
    if not gone and not other:
        return stripped, None
    return stripped, _Removed(gone, other, min(lines))


def _text(path: str) -> str:
    try:
        return read_regular(path, DEFAULT_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def _cython_named(units: Sequence[Unit]) -> str:
    """The text of the scan's Cython files that may bring a header into a module (`cdef extern from
    "x.h"`, compiled with defines not read here): every `.pyx`/`.pxi`, and the `.pxd`s when a `.pyx` or
    `.pxi` is there to cimport them (a `.pxd` alone compiles into nothing). Joined, for name lookups."""
    cython = [u.path for u in units if u.language == "cython"]
    if all(p.endswith(".pxd") for p in cython):
        return ""
    return "\n".join(_text(p) for p in cython)


def included_sources(units: Sequence[Unit], description: Description | None = None) -> frozenset[str]:
    """The C/C++ sources (not headers; absolute paths) of `units` that no build compiles on their own, so
    that their includers' macros decide their arms (includerarms.py): those parsed only in an includer's
    context (`Unit.in_context`: alone they have syntax errors), and, where `description` says all that
    is built of a file (`covers`), those it does not list. A file any target lists is never one."""
    out: set[str] = set()
    listed = listed_by_a_target(description) if description is not None else None
    for u in units:
        path = os.path.abspath(u.path)
        if u.language not in _C_LANGUAGES or os.path.splitext(path)[1].lower() in HEADER_EXTENSIONS:
            continue
        if listed is not None and listed(path):
            continue
        if u.in_context or (description is not None and description.covers(path)):
            out.add(path)
    return frozenset(out)


def leave_out(
    units: Sequence[Unit], build: BuildWords, description: Description | None = None
) -> tuple[list[Unit], list[Problem], dict[str, frozenset[int]]]:
    """The units without the code under opt-in switches, one `not-built` note per file with some, and
    the lines left out per file (absolute path). Files no build file's directory holds are kept whole.
    `description`: the build's targets, which tell the sources compiled on their own (included_sources)."""
    every = {os.path.abspath(u.path): _text(u.path) for u in units if u.language in _C_LANGUAGES}
    texts = {path: every[path] for u in units if build.covers(u.path) and (path := os.path.abspath(u.path)) in every}
    found = switches(texts, build.words)
    zeros = zero_defaults(texts, build.words)
    client = defined_by_includers(every, _cython_named(units), included_sources(units, description))
    if not found and not zeros and not client:
        return list(units), [], {}
    off = {path: lines for path, text in texts.items() if (lines := off_lines(text, found, zeros))}
    for path, names in client.items():
        if lines := client_lines(every[path], names):
            off[path] = off.get(path, frozenset()) | lines
            texts.setdefault(path, every[path])
    out: list[Unit] = []
    notes: list[Problem] = []
    for u in units:
        lines = off.get(os.path.abspath(u.path))
        if not lines:
            out.append(u)
            continue
        stripped, removed = _strip(u, lines, texts[os.path.abspath(u.path)])
        out.append(stripped)
        if removed is not None:
            here = os.path.abspath(u.path)
            notes.append(_note(u.path, removed, found, zeros, texts[here], client.get(here, {})))
    return out, notes, off


def _note(
    path: str,
    removed: _Removed,
    found: dict[str, str],
    zeros: dict[str, str],
    text: str,
    defined: dict[str, str] | None = None,
) -> Problem:
    """The `not-built` note of one file: what was left out, and the switches or zero defaults (with their
    evidence) the file names, and the macros every includer of the header defines (`defined`)."""
    what = [f"{removed.functions} function(s)"] if removed.functions else []
    what += [f"{removed.other} other part(s) (code inside functions, statics, table entries)"] if removed.other else []
    reasons = []
    named = sorted(n for n in found if n in text)
    if named:
        why = "; ".join(f"`{n}`: {found[n]}" for n in named[:3]) + (" ..." if len(named) > 3 else "")
        reasons.append(f"under opt-in switches that nothing in the scanned tree or its build files defines ({why})")
    zeroed = sorted(n for n in zeros if n in text)
    if zeroed:
        why = "; ".join(f"`{n}`: {zeros[n]}" for n in zeroed[:3]) + (" ..." if len(zeroed) > 3 else "")
        reasons.append(f"when macros the build never sets are not 0, their in-tree default ({why})")
    if defined:
        why = "; ".join(f"`{n}`: {v}" for n, v in list(defined.items())[:3]) + (" ..." if len(defined) > 3 else "")
        reasons.append(f"when macros every includer of this file defines are not defined ({why})")
    message = (
        f"not built by default: {' and '.join(what)} compiled only {' or '.join(reasons)}; "
        "not judged by the FT1-FT4 rules (--include-unbuilt judges it)"
    )
    return Problem(path, "note", "not-built", message, removed.first)
