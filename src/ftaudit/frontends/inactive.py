"""Code in preprocessor branches libclang's configuration leaves out, analysed by tree-sitter and merged.

libclang compiles one configuration: a function inside `#ifdef HAVE_LIBFOO`
(a feature macro the build sets: Pillow's codecs, psutil's platform blocks)
is not in its tree, so without `-DHAVE_LIBFOO` it would vanish without a word.
tree-sitter reads both branches of a condition it cannot decide and takes the
free-threaded 3.14 side of the ones it can (`Py_GIL_DISABLED`,
`PY_VERSION_HEX`, `Py_LIMITED_API`: treesitter/scope.branch_taken), so the
code the libclang unit lacks is exactly what tree-sitter's unit has in those
branches. `conditional_branches` reads the file's `#if` structure from its
text; `uncovered` picks the branches that have code libclang produced no
function for; only then is the file parsed with tree-sitter (a few files of a
project pay for it), and `merge` adds its functions, statics and table
entries that lie in those branches and that libclang did not see. `#if 0`
blocks stay out. Each merged region is listed in `Unit.conditional`, so a
finding from it names the condition it depends on (conditional_notes.name_conditions).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace

from ..facts import Function, Span, Unit
from .conditions import dead_lines
from .textscan import blank_comments_and_strings

_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b(.*)$")
_CODE = re.compile(r"[{;]")


@dataclass(frozen=True)
class Branch:
    """One arm of an `#if` group: its directive's line, the last line of the arm, and the condition
    under which it is compiled (innermost first: `#ifdef HAVE_LIBFOO`, `#else of #ifdef X`)."""

    first: int  # the directive line
    last: int  # the line before the next #elif/#else/#endif
    condition: str
    never: bool  # dead on a free-threaded 3.14 build (`#if 0`, `#ifndef Py_GIL_DISABLED`: conditions.py)


def _strip_comment(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text)
    return " ".join(text.split("//", 1)[0].split())


def conditional_branches(text: str) -> list[Branch]:
    """Every arm of every `#if`/`#ifdef`/`#ifndef` group of the file (continuation lines joined), with
    whether a free-threaded 3.14 build never compiles it (frontends/conditions.dead_lines)."""
    lines = text.split("\n")
    dead = dead_lines(blank_comments_and_strings(text))
    arms: list[tuple[int, int, str]] = []
    stack: list[tuple[int, str, str]] = []  # (arm start line, arm condition, the group's first condition)
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i + 1
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i]
        i += 1
        m = _DIRECTIVE.match(line)
        if m is None:
            continue
        word, rest = m.group(1), _strip_comment(m.group(2))
        if word in ("if", "ifdef", "ifndef"):
            cond = f"#{word} {rest}"
            stack.append((start, cond, cond))
            continue
        if not stack:
            continue  # an unbalanced #else/#endif: nothing to close
        arm_start, cond, group = stack.pop()
        arms.append((arm_start, start - 1, cond))
        if word != "endif":
            stack.append((start, f"#else of {group}" if word == "else" else f"#{word} {rest}", group))
    while stack:  # unterminated groups run to the end of the file
        arm_start, cond, _group = stack.pop()
        arms.append((arm_start, len(lines), cond))
    out = []
    for first, last, cond in arms:
        body = range(first, last)  # 0-based lines after the directive
        out.append(Branch(first, last, cond, len(body) > 0 and all(n in dead for n in body)))
    return sorted(out, key=lambda b: (b.first, -b.last))


def _covered(fns: list[Function]) -> list[tuple[int, int]]:
    return sorted((f.span.line, f.span.end_line) for f in fns)


def uncovered(branches: list[Branch], text: str, unit: Unit) -> list[Branch]:
    """The arms with code (a `{` or `;` outside any function libclang analysed) that libclang's unit
    has no function in: the ones libclang's configuration may have skipped."""
    lines = text.split("\n")
    spans = _covered(unit.functions)
    starts = [a for a, _ in spans]
    free = _free_code_lines(lines, spans)
    out = []
    for b in branches:
        if b.never:
            continue
        opened = range(bisect_left(starts, b.first), bisect_right(starts, b.last))  # spans opening in the arm
        if any(spans[i][1] <= b.last for i in opened):
            continue  # libclang saw a function here: the arm is active in its configuration
        last = min(b.last, len(lines))
        if last > b.first and free[last] > free[b.first]:
            out.append(b)
    return out


def _free_code_lines(lines: list[str], spans: list[tuple[int, int]]) -> list[int]:
    """Running counts: element n is how many of lines 1..n have code (`{` or `;`) outside every span of
    `spans` (sorted (first, last) line pairs), so an arm's count is one subtraction (numpy's expanded
    templates: hundreds of nested arms over thousands of lines, each line once tested per arm before)."""
    size = len(lines) + 1
    inside = bytearray(size)
    for a, e in spans:
        a, e = max(a, 0), min(e + 1, size)
        if a < e:
            inside[a:e] = b"\x01" * (e - a)
    counts = [0] * (len(lines) + 1)
    total = 0
    for n, line in enumerate(lines, 1):
        if not inside[n] and _CODE.search(line):
            total += 1
        counts[n] = total
    return counts


def _fact_lines(fn: Function) -> set[int]:
    lines = {c.span.line for c in fn.calls} | {a.span.line for a in fn.accesses}
    lines |= {c.span.line for c in fn.comparisons} | {w.span.line for w in fn.field_writes}
    return lines


def inner_uncovered(branches: list[Branch], text: str, unit: Unit) -> list[tuple[Branch, Function]]:
    """Arms inside a function libclang analysed in which it recorded nothing although they hold
    statements (`#ifdef PSUTIL_WINDOWS  psutil_set_winver(); #endif` in a setup function): with the
    function they sit in."""
    lines = text.split("\n")
    out = []
    # The arms that open inside a function are found by bisection, in the order of `branches` (numpy's
    # expanded templates: thousands of functions times hundreds of arms, 11 s of a 150 s scan when every
    # pair was tested). An arm ends at or after its directive's line.
    live = sorted((b.first, i) for i, b in enumerate(branches) if not b.never)
    firsts = [first for first, _ in live]
    for fn in unit.functions:
        opened = live[bisect_right(firsts, fn.span.line) : bisect_right(firsts, fn.span.end_line)]
        inside = [branches[i] for i in sorted(i for _, i in opened) if branches[i].last <= fn.span.end_line]
        if not inside:
            continue
        facts = _fact_lines(fn)
        for b in inside:
            body = range(b.first + 1, min(b.last, len(lines)) + 1)
            if not any(n in facts for n in body) and any(";" in lines[n - 1] for n in body):
                out.append((b, fn))
    return out


def lines_merged(candidates: list[Branch], inner: list[tuple[Branch, Function]]) -> list[tuple[int, int]]:
    """The lines (first, last: 1-based, inclusive) tree-sitter's unit must have functions for, for
    `merge` of `candidates` and `merge_inner` of `inner`: the arms, and each libclang function with
    inner arms (its tree-sitter twin overlaps it). tree-sitter walks only the functions that meet them
    (numpy's multiarray files: 14 files parsed, most of their functions outside any such arm)."""
    ranges = [(b.first, b.last) for b in candidates]
    ranges += [(b.first, b.last) for b, _ in inner]
    ranges += [(fn.span.line, fn.span.end_line) for _, fn in inner]
    return ranges


def merge_inner(unit: Unit, other: Unit, arms: list[tuple[Branch, Function]]) -> None:
    """Add to each libclang function the calls, accesses, comparisons and field writes tree-sitter's
    version of it (same name, overlapping lines) has in the arms libclang skipped. Their branch regions
    are dropped (tree-sitter numbers its own), which for reaching definitions means "may reach"."""
    by_name: dict[str, list[Function]] = {}
    for fn in other.functions:
        by_name.setdefault(fn.name, []).append(fn)
    for b, fn in arms:
        twin = next(
            (
                t
                for t in by_name.get(fn.name, [])
                if not (t.span.end_line < fn.span.line or fn.span.end_line < t.span.line)
            ),
            None,
        )
        if twin is None:
            continue

        def within(line: int, b: Branch = b) -> bool:
            return b.first < line <= b.last

        calls = [c._replace(regions=()) for c in twin.calls if within(c.span.line)]
        if not calls and not any(within(a.span.line) for a in twin.accesses):
            continue
        fn.calls += calls
        fn.accesses += [a for a in twin.accesses if within(a.span.line)]
        fn.comparisons += [replace(c, regions=()) for c in twin.comparisons if within(c.span.line)]
        fn.field_writes += [replace(w, regions=()) for w in twin.field_writes if within(w.span.line)]
        fn.stores += [st._replace(regions=()) for st in twin.stores if within(st.span.line)]
        fn.returns += [replace(r, regions=()) for r in twin.returns if r.span is None or within(r.span.line)]
        fn.refs += [r for r in twin.refs if within(r.span.line)]
        unit.conditional.append((b.first + 1, b.last, b.condition))


def _innermost(line: int, branches: list[Branch]) -> Branch | None:
    best = None
    for b in branches:
        if b.first < line <= b.last and (best is None or b.last - b.first < best.last - best.first):
            best = b
    return best


def _within(span: Span, b: Branch) -> bool:
    return b.first < span.line and span.end_line <= b.last


def merge(unit: Unit, other: Unit, candidates: list[Branch], branches: list[Branch]) -> None:
    """Add to libclang's `unit` what tree-sitter's `other` found in the `candidates` arms and libclang
    did not: functions that overlap none of libclang's, statics libclang does not know, table entries
    on lines libclang has none. Each arm that contributed is recorded in `unit.conditional`."""
    spans = _covered(unit.functions)
    ref_lines = {r.span.line for r in unit.refs}
    static_lines = {v.span.line for v in unit.statics.values()}
    used: dict[tuple[int, int], str] = {}

    def arm(span: Span) -> Branch | None:
        b = next((c for c in candidates if _within(span, c)), None)
        if b is None:
            return None
        inner = _innermost(span.line, branches)
        return inner if inner is not None and not inner.never else b

    for fn in other.functions:
        b = arm(fn.span)
        if b is None or any(not (e < fn.span.line or fn.span.end_line < a) for a, e in spans):
            continue
        unit.functions.append(fn)
        used[(fn.span.line, fn.span.end_line)] = b.condition
    for key, var in other.statics.items():
        b = arm(var.span)
        if b is None or key in unit.statics or var.span.line in static_lines or var.path != other.path:
            continue
        unit.statics[key] = var
        used[(var.span.line, var.span.end_line)] = b.condition
    for ref in other.refs:
        b = arm(ref.span)
        if b is None or ref.span.line in ref_lines:
            continue
        unit.refs.append(ref)
        used[(ref.span.line, ref.span.end_line)] = b.condition
    unit.conditional += [(a, e, cond) for (a, e), cond in sorted(used.items())]
