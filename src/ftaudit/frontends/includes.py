"""Before any parse, follow a file's `#include` lines through the include directories of its flags,
and the project's header index (headerindex.py) for what they do not hold.

What comes out (`HeaderPlan`) decides how libclang parses the file, before it does:

- directories the index found headers in (`-idirafter`: searched after every
  other directory, so they only serve names nothing else holds);
- a stand-in, given to libclang as an in-memory file, for every quoted
  include that no directory and no index entry holds: a header the build
  generates (`config.h`, `_numpyconfig.h`, `__multiarray_api.h`). It is written
  from the header's template when the tree has one (configheaders.py: sizes,
  visibility macros, feature macros left undefined), else empty; the file
  parses on without the rest of its declarations, one parse, no second try;
- the quoted names certainly missing (on a chain of unconditional includes:
  includes inside `#if` blocks other than include guards may never be read),
  for the `missing-header` problem;
- with stand-ins, forward declarations of the source's own type objects that
  it names before defining them (forward.py: what a generated API header
  would declare);
- for a header or a source file another includes, its includer's context
  (includers.py), tried when the file alone has syntax errors.

`<...>` names that are not found (after the index) are never called missing and
get no stand-in: the compiler's own system directories are not all known here,
and a missing library (Eigen) is not something an empty file can stand for.
Names that clang's own resource directory holds (`float.h`, `stddef.h`) are
found there.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..facts import Problem
from ..source import read_tree_text
from .configheaders import build_values, standin_text
from .forward import declarations
from .headerindex import HEADER_EXTENSIONS, NUMPY_SRC, HeaderIndex
from .includers import context_files, includer_chain
from .textscan import blank_comments_and_strings

_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(include|import|if|ifdef|ifndef|elif|else|endif|define)\b", re.M)
_NAME = re.compile(r'[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>)')
_SEARCH_FLAGS = {"-I": "angle", "-isystem": "angle", "-idirafter": "after", "-iquote": "quote"}


def clang_resource_include() -> list[str]:
    """clang's own headers (`float.h`, `stddef.h`, `stdatomic.h`), from libclang-ng's package, found
    without importing it."""
    spec = importlib.util.find_spec("clang")
    if spec is None or not spec.submodule_search_locations:
        return []
    d = os.path.join(next(iter(spec.submodule_search_locations)), "native", "resource", "include")
    return [d] if os.path.isfile(os.path.join(d, "float.h")) else []


SYSTEM_DIRS = [
    *clang_resource_include(),
    "/usr/local/include",
    *sorted(glob.glob("/usr/include/*-linux-gnu")),
    "/usr/include",
]


_NOT_FOUND = "header(s) not found: "
_ITEM = re.compile(r"`([^`]+)`(?: \(([^()]*)\))?(?:, |$)")  # a hint has no parentheses


def _names(missing: list[str], hints: dict[str, str]) -> str:
    return ", ".join(f"`{m}` ({hints[m]})" if hints.get(m) else f"`{m}`" for m in missing)


def missing_header_problem(
    path: str, missing: list[str], line: int | None, hints: dict[str, str] | None = None
) -> Problem:
    """The one wording, whether libclang found the headers missing or this module did. `hints`: why a
    header is missing (`HeaderIndex.origin`), by name."""
    return Problem(
        path,
        "warning",
        "missing-header",
        f"{_NOT_FOUND}{_names(missing, hints or {})}; the rest of the file was analysed without "
        "their declarations (pass -I or --compile-commands for a complete parse)",
        line,
    )


def stand_in_problem(path: str, missing: list[str], line: int | None, hints: dict[str, str] | None = None) -> Problem:
    """Quoted headers found nowhere, for which libclang parsed a stand-in (configured from the
    header's template, or empty)."""
    return Problem(
        path,
        "warning",
        "stand-in-header",
        f"{_NOT_FOUND}{_names(missing, hints or {})}; libclang analysed the file with a stand-in for each "
        "(written from its template, feature macros undefined, where the tree has one; else empty), so what "
        "the build would write in them is unknown (pass -I or --compile-commands for a complete parse)",
        line,
    )


_HEADER_SYNTAX = re.compile(r"(\d+) syntax error\(s\) in included headers, first at `([^`]+)`:(\d+): ")


def header_syntax_problem(path: str, count: int, header: str, line: int, error: str, at: int | None) -> Problem:
    """`count` errors libclang reported in project headers `path` includes, the first `error` at
    `header`:`line`; `at`: the line of `path`'s include that reached that header."""
    return Problem(
        path,
        "warning",
        "header-syntax-error",
        f"{count} syntax error(s) in included headers, first at `{header}`:{line}: {error}; "
        "declarations from that header may be missing",
        at,
    )


def header_of_syntax_problem(problem: Problem) -> tuple[str, int] | None:
    """(header, line) of the first error a `header-syntax-error` problem names (the inverse of
    `header_syntax_problem`); None for any other problem."""
    m = _HEADER_SYNTAX.match(problem.message) if problem.code == "header-syntax-error" else None
    return (m.group(2), int(m.group(3))) if m else None


def headers_named(problem: Problem) -> list[tuple[str, str]]:
    """(name, hint) of each header a `missing-header` or `stand-in-header` problem names (the inverse
    of the two functions above); [] for any other problem."""
    if problem.code not in ("missing-header", "stand-in-header") or not problem.message.startswith(_NOT_FOUND):
        return []
    listed = problem.message[len(_NOT_FOUND) :].split("; ", 1)[0]
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(listed) and (m := _ITEM.match(listed, pos)) is not None:
        out.append((m.group(1), m.group(2) or ""))
        pos = m.end()
    return out


def include_lines(text: str) -> list[tuple[str, bool, int, bool]]:
    """(name, quoted, line, conditional) of every `#include`/`#import` line; conditional: inside an
    `#if` block that is not an include guard."""
    clean = blank_comments_and_strings(text)
    directives = list(_DIRECTIVE.finditer(clean))
    guards: list[bool] = []  # per open #if: is it an include guard?
    out: list[tuple[str, bool, int, bool]] = []
    for i, m in enumerate(directives):
        kind = m.group(1)
        if kind in ("if", "ifdef", "ifndef"):
            guards.append(kind == "ifndef" and not guards and _defines_next(text, m, directives[i + 1 :]))
        elif kind == "endif":
            if guards:
                guards.pop()
        elif kind in ("include", "import"):
            name = _NAME.match(text, m.end())
            if name is not None:
                quoted = name.group(1) is not None
                line = clean.count("\n", 0, m.start()) + 1
                out.append((name.group(1) or name.group(2), quoted, line, not all(guards)))
    return out


def unconditional_includes(text: str) -> list[tuple[str, bool, int]]:
    """(name, quoted, line) of the `#include` lines outside any `#if` block but an include guard."""
    return [(name, quoted, line) for name, quoted, line, cond in include_lines(text) if not cond]


def _defines_next(text: str, m: re.Match[str], rest: list[re.Match[str]]) -> bool:
    """`#ifndef X` directly followed by `#define X`."""
    if not rest or rest[0].group(1) != "define":
        return False
    guard = text[m.end() : text.find("\n", m.end())].split()
    defined = text[rest[0].end() : text.find("\n", rest[0].end())].split()
    return bool(guard) and bool(defined) and guard[0] == defined[0]


def search_dirs(args: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The quote-only and the angle directories of compiler arguments, in clang's search order
    (`-idirafter` after the system directories)."""
    found: dict[str, list[str]] = {"quote": [], "angle": [], "after": []}
    for i, a in enumerate(args):
        for flag, kind in _SEARCH_FLAGS.items():
            value = None
            if a == flag and i + 1 < len(args):
                value = args[i + 1]
            elif a.startswith(flag) and len(a) > len(flag) and flag == "-I":
                value = a[2:]
            if value is not None:
                found[kind].append(value)
                break
    return tuple(found["quote"]), (*found["angle"], *SYSTEM_DIRS, *found["after"])


@dataclass(frozen=True)
class HeaderPlan:
    """How to parse one file, decided from its includes before parsing (see the module docstring)."""

    missing: tuple[str, ...] = ()  # quoted names found nowhere, reached through unconditional includes
    line: int | None = None  # the file's first include line that leads to one of them
    dirs: tuple[str, ...] = ()  # directories the project's header index found headers in
    # (absolute path, name as written) of the stand-ins: every quoted include found nowhere
    standins: tuple[tuple[str, str], ...] = ()
    hints: tuple[tuple[str, str], ...] = ()  # (name, why it is missing) where the project says (origin)
    # (stand-in path, template path, text) of the stand-ins written from a template; the rest are empty
    texts: tuple[tuple[str, str, str], ...] = ()

    # The header parsed after its includer's lines before its include, when it does not parse alone
    context: IncluderContext | None = None
    # With stand-ins, a source's own type objects it names before defining them (forward.py), declared
    # ahead of it (an in-memory file given with -include): what a generated API header declares
    declarations: str = ""

    def args(self) -> list[str]:
        """The compiler arguments for the index's directories."""
        return [a for d in self.dirs for a in ("-idirafter", d)]


@dataclass(frozen=True)
class IncluderContext:
    """What a header's (or an included source's) includers have before it (includers.py), for a file
    that does not parse alone: in-memory prefix files, outermost first (`files[0]` is given with `-include`), the
    includers they were read from (real paths, innermost first), and the header's plan with the
    prefix's includes followed too."""

    files: tuple[tuple[str, str], ...]
    includers: tuple[str, ...]
    plan: HeaderPlan


@dataclass(frozen=True)
class _Verdict:
    certain: tuple[str, ...]
    dirs: tuple[str, ...]
    standins: tuple[tuple[str, str], ...]
    hints: tuple[tuple[str, str], ...] = ()
    texts: tuple[tuple[str, str, str], ...] = ()


def _add(target: list[Any], items: Sequence[Any]) -> None:
    target += [x for x in items if x not in target]


def _expanded(path: str, text: str) -> str | None:
    """The expansion of numpy's template `path` (`loops.h.src`, its text given), as the scanned ones
    are expanded (templates/numpy_src.py: text substitution, nothing runs); None when it does not
    expand within the bound a scanned file has."""
    from ..source import DEFAULT_MAX_BYTES
    from ..templates import TemplateError, expand, template_of

    template = template_of(os.path.basename(path))
    if template is None or template.kind != "numpy":
        return None
    try:
        return expand(template, text, path, 4 * DEFAULT_MAX_BYTES).text
    except TemplateError:
        return None


class MissingHeaders:
    """Memoised per process: a header's verdict depends on the file system, the directories and the
    index only. `index`: the scan's project header index (None: search directories only)."""

    def __init__(self, index: HeaderIndex | None = None) -> None:
        self.index = index
        self._found: dict[tuple[str, str], bool] = {}
        self._verdict: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Verdict] = {}
        self._templates: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._writing: set[str] = set()  # stand-ins whose includes are being followed (a cycle stops)
        # A header's include lines, by path: read and scanned once per process, whatever the flags of
        # the files reaching it (numpy's tree: each system header was read once per flag set, 8 s of CPU)
        self._includes: dict[str, list[tuple[str, bool, int, bool]]] = {}
        self._standin_includes: dict[tuple[str, str], list[tuple[str, bool, int, bool]]] = {}

    def plan(self, path: str, text: str, args: list[str]) -> HeaderPlan:
        """The includes of the file `path` (its text given) under the compiler arguments `args`."""
        quote, angle = search_dirs(args)
        v, line = self._follow(os.path.dirname(os.path.abspath(path)), include_lines(text), quote, angle, set())
        plan = HeaderPlan(v.certain, line, v.dirs, v.standins, v.hints, v.texts)
        source = os.path.splitext(path)[1].lower() not in HEADER_EXTENSIONS
        if source and plan.standins:
            plan = replace(plan, declarations=declarations(text))
        if self.index is None:
            return plan
        return replace(plan, context=self._context(path, plan, quote, angle))

    def _context(
        self, path: str, plan: HeaderPlan, quote: tuple[str, ...], angle: tuple[str, ...]
    ) -> IncluderContext | None:
        """The includer context of the header `path` (includers.py), its prefix's includes followed
        like the header's own; None when nothing in the project includes it."""
        assert self.index is not None
        source = os.path.splitext(path)[1].lower() not in HEADER_EXTENSIONS
        chain = includer_chain(self.index, path, source)
        files = context_files(chain, source) if chain else None
        if not files:
            return None
        dirs, standins, hints, texts = list(plan.dirs), list(plan.standins), list(plan.hints), list(plan.texts)
        for virtual, text in files:
            sub, _ = self._follow(os.path.dirname(virtual), include_lines(text), quote, angle, set())
            _add(dirs, sub.dirs)
            _add(standins, sub.standins)
            _add(hints, sub.hints)
            _add(texts, sub.texts)
        # the prefix files include one another by their in-memory paths: no stand-in for those
        virtual = {f for f, _ in files}
        standins = [s for s in standins if s[0] not in virtual]
        full = HeaderPlan(plan.missing, plan.line, tuple(dirs), tuple(standins), tuple(hints), tuple(texts))
        return IncluderContext(tuple(files), tuple(inc.includer for inc in chain), full)

    def of_file(self, path: str, text: str, args: list[str]) -> tuple[list[str], int | None]:
        """The headers the file certainly lacks, and the line of its first include that leads to one."""
        p = self.plan(path, text, args)
        return list(p.missing), p.line

    def _follow(
        self,
        here: str,
        includes: list[tuple[str, bool, int, bool]],
        quote: tuple[str, ...],
        angle: tuple[str, ...],
        seen: set[str],
    ) -> tuple[_Verdict, int | None]:
        """The verdict of a file in `here` whose include lines (`include_lines` of its text) are
        `includes`, and its first include line that leads to a certainly missing header."""
        certain: list[str] = []
        dirs: list[str] = []
        standins: list[tuple[str, str]] = []
        hints: list[tuple[str, str]] = []
        texts: list[tuple[str, str, str]] = []
        first: int | None = None
        # Outside the scan roots (Python's, the system's headers) only unconditional includes are
        # followed: glibc's `#if` forests cost a second, and a header there is not the project's to fix.
        inside = self.index is not None and self.index.root_for(os.path.realpath(here)) is not None
        for name, quoted, line, conditional in includes:
            if conditional and not inside:
                continue
            found = self._find(here, name, quoted, quote, angle)
            if found is None and self.index is not None:
                d = self.index.resolve(here, name)
                if d is not None:
                    _add(dirs, [d])
                    found = os.path.join(d, name)
            if found is None:
                if quoted:
                    target = os.path.normpath(os.path.join(here, name))
                    _add(standins, [(target, name)])
                    hint = self.index.origin(here, name) if self.index is not None else ""
                    if hint:
                        _add(hints, [(name, hint)])
                    if not conditional:
                        _add(certain, [name])
                        first = first or line
                    written = self._template(here, name)
                    if written is not None:
                        _add(texts, [(target, *written)])
                    if written is not None and target not in self._writing:
                        # libclang reads the stand-in's includes: so does the plan
                        self._writing.add(target)
                        lines = self._standin_includes.get((here, name))
                        if lines is None:  # the stand-in's text is written once per (here, name)
                            lines = self._standin_includes[(here, name)] = include_lines(written[1])
                        sub, _ = self._follow(os.path.dirname(target), lines, quote, angle, seen)
                        self._writing.discard(target)
                        _add(dirs, sub.dirs)
                        _add(standins, sub.standins)
                        _add(hints, sub.hints)
                        _add(texts, sub.texts)
                continue
            sub = self._header(os.path.normpath(found), quote, angle, seen)
            _add(dirs, sub.dirs)
            _add(standins, sub.standins)
            _add(hints, sub.hints)
            _add(texts, sub.texts)
            if not conditional and sub.certain:
                _add(certain, sub.certain)
                first = first or line
        return _Verdict(tuple(certain), tuple(dirs), tuple(standins), tuple(hints), tuple(texts)), first

    def _template(self, here: str, name: str) -> tuple[str, str] | None:
        """(template path, stand-in text) for the header `name` included from `here` and found
        nowhere, when the project has a template it can be written from (HeaderIndex.template_of)."""
        if self.index is None:
            return None
        key = (here, name)
        if key not in self._templates:
            self._templates[key] = None
            found = self.index.template_of(here, name)
            if found is not None:
                try:
                    template = read_tree_text(found.template)
                except OSError:
                    template = None
                if found.syntax == "copy" or template is None:
                    text = template
                elif found.syntax == NUMPY_SRC:
                    text = _expanded(found.template, template)
                else:
                    text = standin_text(template, found.syntax == "cmake", build_values(found))
                if text is not None:
                    self._templates[key] = (found.template, text)
        return self._templates[key]

    def _find(self, here: str, name: str, quoted: bool, quote: tuple[str, ...], angle: tuple[str, ...]) -> str | None:
        if os.path.isabs(name):
            return name if self._is_file("", name) else None
        dirs = ((here, *quote) if quoted else ()) + angle
        return next((os.path.join(d, name) for d in dirs if self._is_file(d, name)), None)

    def _header(self, header: str, quote: tuple[str, ...], angle: tuple[str, ...], seen: set[str]) -> _Verdict:
        key = (header, quote, angle)
        known = self._verdict.get(key)
        if known is not None:
            return known
        if header in seen:  # an include cycle: the guard stops it, and so do we
            return _Verdict((), (), (), ())
        seen.add(header)
        lines = self._includes.get(header)
        if lines is None:
            try:  # a header in the tree may be a FIFO or a link to /dev/zero
                text = read_tree_text(header)
            except OSError:
                text = ""
            lines = self._includes[header] = include_lines(text)
        self._verdict[key] = self._follow(os.path.dirname(header), lines, quote, angle, seen)[0]
        return self._verdict[key]

    def _is_file(self, directory: str, name: str) -> bool:
        key = (directory, name)
        hit = self._found.get(key)
        if hit is None:
            hit = self._found[key] = os.path.isfile(os.path.join(directory, name))
        return hit
