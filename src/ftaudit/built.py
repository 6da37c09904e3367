"""Which scanned files no extension module is built from, whose code the hazard rules do not judge.

A hazard matters in code a built module contains. When the build description of the scanned tree
was read completely (`buildfiles.Description.known`: every target's sources literal, nothing in a
build file that may add sources no target lists), a file is *built* when it is

- a source a target lists (a generated name counts for its source: `x.c` for `x.pyx` or
  `x.c.src`, as sdists ship the C of their Cython modules), or the defining file of a module a
  target builds (membership.Module.builds);
- a C or Cython file reached through the call graph of the C and Cython files from a built one
  (membership.reached_files). C++ is left out of that graph: a member call is recorded by its
  bare name and reaches every `Class::name` of the scan (kiwisolver's `.size()` reached a
  benchmark's `Result::size`), and a C++ function can run in a module only if its file is compiled
  (listed) or included, which the other two ways see;
- included by a built file, through libclang's resolved includes or, for files tree-sitter or
  Cython read, an `#include`/`cdef extern from` name that a scanned file's path ends with
  (every such file: a name is not resolved further), to a fixed point;
- matched by the configuration's `built` patterns.

The rest (a benchmark's header, an example module with its own little setup.py the package does
not build, test programs) is not built. A `.pxd` is never set aside: a `cimport` does not show in
the facts. A build file speaks for its directory and below (`Description.covers`): a file with no
build file above it, or one not read completely (dynamic source lists, a local module imported, a
glob), is judged as before.

`unbuilt_files(units, description, modules, is_built) -> dict[abs path, Unit]` answers;
`notes(...)` gives one `not-built` note per file with code set aside.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from .buildfiles import Description
from .callgraph import CallGraph
from .facts import Problem, Unit
from .membership import Module, reached_files
from .pathfilter import matchable
from .safeio import read_regular
from .source import DEFAULT_MAX_BYTES
from .switches import BuildWords

_TEMPLATE_SUFFIXES = (".src", ".in", ".tp")
_GENERATED_FROM_CYTHON = (".c", ".cpp", ".cc", ".cxx")
_SOURCES = (*_GENERATED_FROM_CYTHON, ".pyx")  # compiled files, not included ones


@dataclass(frozen=True)
class Built:
    """What decides which files are built: the build description and the configuration's `built`
    patterns (gitignore-style, relative to `base`, the configuration's directory); `patterns=None`
    (--include-unbuilt) judges every file. `words` tells the macros the build may define from the
    opt-in switches (switched.py)."""

    description: Description
    patterns: Sequence[str] | None = ()
    base: Path = field(default_factory=Path)
    words: BuildWords = field(default_factory=BuildWords)  # the build files' identifiers (switches.py)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_spec", pathspec.PathSpec.from_lines("gitignore", self.patterns or ()))

    def is_built(self, path: str) -> bool:
        """Is the file at `path` built whatever the build description says (a `built` pattern, or all)?"""
        if self.patterns is None:
            return True
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(self.base))
        spec: pathspec.PathSpec = self._spec  # type: ignore[attr-defined]
        return not rel.startswith("..") and spec.match_file(matchable(rel.replace(os.sep, "/")))


def _listed(path: str, listed: set[str], stems: set[str]) -> bool:
    """Is the file at `path` (absolute) one a target lists, directly or as what it is generated into?"""
    if path in listed:
        return True
    for suffix in _TEMPLATE_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if path in listed:
        return True
    return path.endswith(".pyx") and os.path.splitext(path)[0] in stems


def listed_by_a_target(description: Description) -> Callable[[str], bool]:
    """Does any target of `description` (opt-in ones too) list the file at a path (absolute), directly or
    as what it is generated into? Such a file may be compiled on its own."""
    listed = {s for t in description.targets for s in t.sources}
    stems = {os.path.splitext(s)[0] for s in listed if s.endswith(_GENERATED_FROM_CYTHON)}
    return lambda path: _listed(path, listed, stems)


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)
# `#include PLATFORM_HEADER`: a macro names the file, so any header may be the one.
_COMPUTED_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include[ \t]+[A-Za-z_]", re.M)
ANY_HEADER = "*"
_CYTHON_INCLUDE = re.compile(r'^[ \t]*(?:cdef[ \t]+extern[ \t]+from|include)[ \t]+[\'"]([^\'"\n]+)[\'"]', re.M)


def include_names(path: str, off: AbstractSet[int] = frozenset()) -> list[str]:
    """Every name the file at `path` includes as written, under any `#if` (libclang resolves only the
    includes of the configuration it compiles: greenlet's `slp_platformselect.h` includes one
    `platform/switch_*.h` per platform) but on none of the `off` lines (1-based: code only an opt-in
    switch compiles, switched.py); ANY_HEADER for an `#include` of a macro. Read with
    `safeio.read_regular`; unreadable: none."""
    try:
        text = read_regular(path, DEFAULT_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return []

    def found(pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return [m for m in pattern.finditer(text) if not off or text.count("\n", 0, m.start()) + 1 not in off]

    names = [m.group(1) for m in found(_INCLUDE)] + [ANY_HEADER] * bool(found(_COMPUTED_INCLUDE))
    return names + ([m.group(1) for m in found(_CYTHON_INCLUDE)] if path.endswith((".pyx", ".pxi", ".pxd")) else [])


def _included(
    unit: Unit, by_name: Mapping[str, list[str]], by_path: Mapping[str, Unit], off: AbstractSet[int] = frozenset()
) -> set[str]:
    """The scanned files `unit` includes: libclang's resolved paths, and every scanned file whose path
    ends with a name the file includes (`include_names`, any `#if` branch but the `off` lines; not
    resolved further)."""
    out = {os.path.abspath(p) for p in unit.includes if os.path.abspath(p) in by_path}
    for name in dict.fromkeys([*unit.missing_headers, *include_names(unit.path, off)]):
        if name == ANY_HEADER:
            out.update(p for p in by_path if not p.endswith(_SOURCES))
            continue
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            base = os.path.basename(name)
            out.update(by_name.get(base, ()))
            continue
        tail = "/" + "/".join(parts)
        out.update(p for p in by_name.get(parts[-1], ()) if p.replace(os.sep, "/").endswith(tail))
    return out


@dataclass
class _Reach:
    """What built files bring in: the call graph of the C and Cython files and the includes, to a fixed point."""

    by_path: Mapping[str, Unit]
    off: Mapping[str, AbstractSet[int]]
    graph: CallGraph
    by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    includes: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in self.by_path:
            self.by_name[os.path.basename(path)].append(path)

    def closure(self, start: set[str]) -> set[str]:
        """`start` and every file its files call into or include, to a fixed point."""
        built = set(start)
        while True:
            more = reached_files(self.graph, self.by_path, built)
            for path in (built | more) & self.by_path.keys():
                if path not in self.includes:
                    lines = self.off.get(path, frozenset())
                    self.includes[path] = _included(self.by_path[path], self.by_name, self.by_path, lines)
                more |= self.includes[path]
            more -= built
            if not more:
                return built
            built |= more


def unbuilt_files(
    units: Sequence[Unit],
    description: Description,
    modules: Sequence[Module],
    is_built: Callable[[str], bool] = lambda path: False,
    off: Mapping[str, AbstractSet[int]] | None = None,
) -> dict[str, Unit]:
    """The units (by absolute path) that have code (functions or module declarations) and belong to
    no built module; empty when the build description is not known (see the module docstring), but
    for the defining files of modules only an environment variable builds (`BuildTarget.opt_in`:
    lz4's `_stream`) that no other file calls into or includes. `is_built(path)` forces a file in (the
    configuration's `built` patterns). `off`: per file (absolute path), the lines only an opt-in switch
    compiles (switched.py), whose `#include`s bring in nothing."""
    by_path = {os.path.abspath(u.path): u for u in units}
    covered = {p for p in by_path if description.covers(p)}
    opt_in = {os.path.abspath(m.path) for m in modules if m.builds and all(b.opt_in for b in m.builds)} - {
        p for p in by_path if is_built(p)
    }
    if not covered and not opt_in:
        return {}
    reach = _Reach(by_path, off or {}, CallGraph([u for u in units if u.language != "cpp"]))
    built: set[str] = set()
    if covered:
        listed = {s for t in description.targets if not t.opt_in for s in t.sources}
        stems = {os.path.splitext(s)[0] for s in listed if s.endswith(_GENERATED_FROM_CYTHON)}
        start = {p for p in by_path if _listed(p, listed, stems) or is_built(p)}
        start |= {os.path.abspath(m.path) for m in modules if any(not b.opt_in for b in m.builds)}
        built = reach.closure(start)
    # Where the description is not known, any other file may be built: only what none of them reaches is left out.
    others = reach.closure(set(by_path) - opt_in - covered) if opt_in - covered else set()
    out = {p for p in covered if p not in built}
    out |= {p for p in opt_in - covered if p not in others and p not in built}
    return {p: u for p, u in by_path.items() if p in out and not p.endswith(".pxd") and (u.functions or u.module_decls)}


def notes(unbuilt: Mapping[str, Unit], description: Description) -> list[Problem]:
    """One `not-built` note per unbuilt unit: what was set aside and how to judge it anyway."""
    files = sorted({os.path.basename(t.path) for t in description.targets})
    read = ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")
    opt_in = {s: t for t in description.targets if t.opt_in for s in t.sources}
    out = []
    for path, unit in sorted(unbuilt.items()):
        what = [f"{len(unit.functions)} function(s)"] if unit.functions else []
        what += ["its module declaration"] if unit.module_decls else []
        rules = "FT1-FT3 and FT4 rules" if unit.module_decls else "FT1-FT3 rules"
        target = opt_in.get(path)
        why = (
            f"built only when the environment sets {target.opt_in} ({os.path.basename(target.path)}:{target.line}, "
            f"`{target.name}`), and no file of another extension calls into it or includes it"
            if target is not None
            else f"no extension of the build description ({read}) lists it, and no file of one calls into it or "
            "includes it"
        )
        message = (
            f"not built into any extension module by default: {why}; {' and '.join(what)} not judged by the "
            f"{rules} (--include-unbuilt or the configuration's `built` judges it)"
        )
        line = min([f.span.line for f in unit.functions] + [d.span.line for d in unit.module_decls])
        out.append(Problem(unit.path, "note", "not-built", message, line))
    return out
