"""Cython frontend: .pyx/.pxd/.pxi through Cython's own parser (no C compilation).

The tree comes from `Cython.Compiler.TreeFragment.parse_from_strings` before
type analysis, so no cimported .pxd needs to exist. `include "x.pxi"` lines are
blanked (keeping line numbers: the included file is scanned on its own and
listed in `Unit.includes`); `cdef extern from *:` blocks with verbatim C are
parsed by the C frontend, their facts shifted to the lines of the .pyx.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from typing import Any

from ...catalogue import Catalogue
from ...discover import SourceFile
from ...facts import DeclKind, ModuleDecl, Problem, Span, Unit
from ...source import Source, read_tree_text
from ..flags import looks_like_cxx
from .siblings import module_cimports
from .walker import ModuleInfo, collect_module, defined_classes, walk_module

_INCLUDE = re.compile(r'^([ \t]*)include[ \t]+(["\'])([^"\'\n]+)\2', re.M)
_LANGUAGE_CXX = re.compile(r"^#\s*distutils\s*:\s*language\s*=\s*c\+\+", re.M)
_TRUE = {"true", "1", "yes"}
_MAX_INCLUDERS = 4  # includers of one .pxi whose declarations are read


def _import_parser() -> tuple[Any, Any, Any]:
    """Cython's parser is imported on first use: 0.2-0.3 s that C-only scans never pay."""
    from Cython.Compiler import Errors
    from Cython.Compiler.TreeFragment import StringParseContext, parse_from_strings

    return Errors, StringParseContext, parse_from_strings


def shift(obj: Any, delta: int, col: int = 0) -> Any:
    """A copy of a fact (or a list/tuple/dict of facts) with every Span moved down `delta` lines."""
    if isinstance(obj, Span):
        c = col if obj.line == obj.end_line else 0
        return Span(obj.line + delta, obj.col + c, obj.end_line + delta, obj.end_col + c)
    if isinstance(obj, list):
        return [shift(x, delta, col) for x in obj]
    if isinstance(obj, tuple):
        moved = (shift(x, delta, col) for x in obj)
        return type(obj)(*moved) if hasattr(obj, "_fields") else tuple(moved)  # named tuples keep their type
    if isinstance(obj, dict):
        return {k: shift(v, delta, col) for k, v in obj.items()}
    if is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: shift(getattr(obj, f.name), delta, col) for f in fields(obj)}
        return replace(obj, **changes)
    return obj


class CythonFrontend:
    name = "cython"

    def __init__(self, catalogue: Catalogue, embedded: Callable[[], Any], project_directives: dict[str, str]) -> None:
        self.catalogue = catalogue
        self.embedded = embedded  # () -> the C frontend, for verbatim C blocks (built only if there are any)
        self.project_directives = project_directives
        self._parser: tuple[Any, Any, Any] | None = None

    def analyse(self, sf: SourceFile, src: Source) -> Unit:
        path = str(sf.path)
        unit = Unit(path, "cython", self.name)
        text, includes = self._blank_includes(src.text, path)
        unit.includes = includes
        tree = self._parse(path, text, unit)
        if tree is None:
            return unit
        info = collect_module(tree, path, self.catalogue.statics.exempt_types)
        if path.endswith(".pyx"):
            self._own_pxd(path, info, unit)
        elif path.endswith(".pxi"):
            self._includer_context(path, info, unit)
            self._module_cimports(path, info)
        functions, refs = walk_module(self.catalogue, info, tree)
        if path.endswith(".pxi"):  # compiled into its includer: callers there reach its functions
            for fn in functions:
                fn.internal = fn.name == "<module>"
        unit.functions = functions
        unit.refs = refs
        unit.statics = {v.key: v for v in [*info.statics.values(), *info.py_containers.values()]}
        unit.object_fields = info.field_types
        unit.classes = defined_classes(tree)
        unit.bases = {c: info.bases[c] for c in unit.classes if info.bases.get(c)}
        unit.exposed_fields = sorted(info.exposed)
        # `cdef extern from "h"` headers: named, never read (as tree-sitter lists its #includes).
        unit.missing_headers = sorted({h for h in info.externs.values() if h} | info.extern_headers)
        self._embedded_c(tree, src.text, path, unit, bool(_LANGUAGE_CXX.search(src.text)))
        if path.endswith(".pyx"):
            own = {k: str(v) for k, v in (getattr(tree, "directive_comments", None) or {}).items()}
            unit.module_decls.append(self._declaration(path, src.text, own))
        return unit

    def _module_cimports(self, path: str, info: ModuleInfo) -> None:
        """Add the cimports of the module an included `.pxi` belongs to (siblings.py) to what it
        declares itself; lines Cython cannot parse are ignored."""
        text = module_cimports(path)
        if not text:
            return
        tree = self._parse(path, text, Unit(path, "cython", self.name))
        if tree is None:
            return
        module = collect_module(tree, path, self.catalogue.statics.exempt_types)
        for name, value in module.cimported.items():
            info.cimported.setdefault(name, value)
        for alias, mod in module.cimported_modules.items():
            info.cimported_modules.setdefault(alias, mod)
        info.star_cimports += [m for m in module.star_cimports if m not in info.star_cimports]

    def _parse(self, path: str, text: str, unit: Unit) -> Any:
        if self._parser is None:
            self._parser = _import_parser()
        errors, context_cls, parse = self._parser
        errors.init_thread()
        name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "module"
        level = "module_pxd" if path.endswith(".pxd") else None
        try:
            try:
                return parse(name, text, level=level, context=context_cls(name))
            except errors.CompileError:
                if "language_level" in text[:2000]:
                    raise
                # No language level of its own (an included .pxi, or a project built with
                # language_level=2): Python 2 syntax such as `print x` may be fine there.
                errors.init_thread()
                context = context_cls(name)
                context.set_language_level(2)
                return parse(name, text, level=level, context=context)
        except errors.CompileError as err:
            pos = err.position
            line = pos[1] if pos else None
            where = f" (line {pos[1]}, column {pos[2] + 1})" if pos else ""
            unit.problems.append(
                Problem(
                    path, "warning", "syntax-error", f"Cython cannot parse this file{where}: {err.message_only}", line
                )
            )
        except Exception as err:  # the parser's own failures must not stop the scan
            unit.problems.append(
                Problem(path, "warning", "parse-failed", f"Cython's parser failed: {type(err).__name__}: {err}")
            )
        return None

    def _own_pxd(self, path: str, info: ModuleInfo, unit: Unit) -> None:
        """The attributes of the module's cdef classes declared in its own `.pxd` (`x.pyx` next to
        `x.pxd`: Cython reads it as the module's declarations). Read only when it is a regular file in
        the same directory (a link out of it is not followed); listed in `unit.includes`, so the cache
        sees a change to it. A `.pxd` Cython cannot parse adds nothing (it is scanned on its own)."""
        pxd = os.path.splitext(path)[0] + ".pxd"
        real, folder = os.path.realpath(pxd), os.path.realpath(os.path.dirname(path) or ".")
        if not os.path.isfile(pxd) or os.path.dirname(real) != folder:
            return
        try:
            text = read_tree_text(pxd)
        except OSError:
            return
        scratch = Unit(pxd, "cython", self.name)
        tree = self._parse(pxd, self._blank_includes(text, pxd)[0], scratch)
        if tree is None:
            return
        declared = collect_module(tree, pxd, self.catalogue.statics.exempt_types)
        for cls, attributes in declared.classes.items():
            merged = info.classes.setdefault(cls, {})
            for name, is_object in attributes.items():
                merged.setdefault(name, is_object)
        _adopt_hierarchy(info, declared)
        info.locks |= {lk for lk in declared.locks if lk.startswith("self.")}
        info.exposed |= declared.exposed
        unit.includes.append(os.path.normpath(pxd))

    def _includer_context(self, path: str, info: ModuleInfo, unit: Unit) -> None:
        """A `.pxi` is compiled inside the file that includes it: its globals, cimports, `cdef extern`
        blocks and classes are the `.pxi`'s too. The includers looked for are the `.pyx`/`.pxi` files of
        the same directory whose `include` line names this file (at most _MAX_INCLUDERS, regular files
        in that directory only); each is listed in `unit.depends`, so the cache sees a change to it."""
        folder = os.path.dirname(path) or "."
        base = os.path.basename(path)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return
        found = 0
        for name in names:
            if name == base or not name.endswith((".pyx", ".pxi")) or found >= _MAX_INCLUDERS:
                continue
            other = os.path.join(folder, name)
            if not os.path.isfile(other) or os.path.dirname(os.path.realpath(other)) != os.path.realpath(folder):
                continue
            try:
                text = read_tree_text(other)
            except OSError:
                continue
            if not any(os.path.basename(m.group(3)) == base for m in _INCLUDE.finditer(text)):
                continue
            found += 1
            tree = self._parse(other, self._blank_includes(text, other)[0], Unit(other, "cython", self.name))
            if tree is None:
                continue
            _adopt(info, collect_module(tree, other, self.catalogue.statics.exempt_types))
            unit.depends.append(os.path.normpath(other))

    @staticmethod
    def _blank_includes(text: str, path: str) -> tuple[str, list[str]]:
        includes: list[str] = []
        base = os.path.dirname(path)

        def blank(m: re.Match[str]) -> str:
            includes.append(os.path.normpath(os.path.join(base, m.group(3))))
            return m.group(1) + "pass" + " " * (len(m.group(0)) - len(m.group(1)) - 4)

        return _INCLUDE.sub(blank, text), includes

    def _declaration(self, path: str, text: str, own: dict[str, str]) -> ModuleDecl:
        """Declared by the header directives Cython itself read (a trailing comment on the
        directive line makes Cython ignore it, and so does ftaudit), or by the project."""
        value = own.get("freethreading_compatible", self.project_directives.get("freethreading_compatible", ""))
        declared = value.lower() in _TRUE
        where = "file header" if "freethreading_compatible" in own else "project configuration"
        name = os.path.splitext(os.path.basename(path))[0]
        line = next((i for i, ln in enumerate(text.splitlines(), 1) if "freethreading_compatible" in ln), 1)
        detail = f"freethreading_compatible from the {where}" if declared else ""
        return ModuleDecl(DeclKind.CYTHON, name, Span(line, 1, line, 2), declared, detail=detail)

    def _embedded_c(self, tree: Any, text: str, path: str, unit: Unit, cxx: bool) -> None:
        """`cdef extern from *: \"\"\"C code\"\"\"` blocks: C facts on the .pyx lines they come from."""
        offsets = _line_offsets(text)
        for stat in _extern_blocks(tree):
            code = stat.verbatim_include
            start = _verbatim_start(text, offsets, stat.pos[1])
            if not code or start is None:
                continue
            as_cxx = cxx or looks_like_cxx(code)
            virtual = f"{path}.extern-{stat.pos[1]}.{'cpp' if as_cxx else 'c'}"
            frontend = self.embedded()
            if frontend is None:  # libclang cannot load here (frontends/availability.py)
                note = "C code in `cdef extern from *` not analysed: libclang is not available"
                unit.problems.append(Problem(path, "note", "frontend-unavailable", note, stat.pos[1]))
                continue
            sub = frontend.analyse_embedded(virtual, code, as_cxx)
            delta = start - 1
            unit.functions += shift(sub.functions, delta)
            unit.refs += shift(sub.refs, delta)
            for key, var in sub.statics.items():
                if var.path == virtual:
                    var = replace(shift(var, delta), path=path)
                unit.statics.setdefault(key, var)
            unit.problems += [
                replace(p, path=path, line=p.line + delta if p.line else stat.pos[1]) for p in sub.problems
            ]


def _adopt(info: ModuleInfo, outer: ModuleInfo) -> None:
    """Give `info` (an included file's declarations) those of its includer it does not make itself."""
    for name, value in outer.cimported.items():
        info.cimported.setdefault(name, value)
    for name, module in outer.cimported_modules.items():
        info.cimported_modules.setdefault(name, module)
    for name, header in outer.externs.items():
        info.externs.setdefault(name, header)
    for name, var in outer.statics.items():
        if name not in info.statics:
            info.statics[name] = var
            if name in outer.object_globals:
                info.object_globals.add(name)
    for name, var in outer.py_containers.items():
        if name not in info.statics:
            info.py_containers.setdefault(name, var)
    for name, attributes in outer.classes.items():
        info.classes.setdefault(name, attributes)
    _adopt_hierarchy(info, outer)
    info.exposed |= outer.exposed
    info.functions |= outer.functions
    info.locks |= outer.locks
    info.star_cimports += [m for m in outer.star_cimports if m not in info.star_cimports]


def _adopt_hierarchy(info: ModuleInfo, outer: ModuleInfo) -> None:
    """The bases and typed attributes `outer` (a `.pxd`, an includer) declares for classes `info` leaves out."""
    for name, bases in outer.bases.items():
        if not info.bases.get(name):
            info.bases[name] = list(bases)
    for name, types in outer.attribute_types.items():
        merged = info.attribute_types.setdefault(name, {})
        for attr, tname in types.items():
            merged.setdefault(attr, tname)


def _extern_blocks(tree: Any) -> list[Any]:
    out = []
    stack = [tree.body]
    while stack:
        n = stack.pop()
        if type(n).__name__ == "CDefExternNode":
            if getattr(n, "verbatim_include", None):
                out.append(n)
        elif type(n).__name__ == "StatListNode":
            stack += n.stats
    return out


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for m in re.finditer("\n", text):
        offsets.append(m.end())
    return offsets


def _verbatim_start(text: str, offsets: list[int], line: int) -> int | None:
    """The line where the verbatim string's content starts (just after its opening quotes)."""
    at = offsets[line - 1] if 0 < line <= len(offsets) else 0
    m = re.compile(r'"""|\'\'\'').search(text, at)
    if m is None:
        return None
    return text.count("\n", 0, m.end()) + 1
