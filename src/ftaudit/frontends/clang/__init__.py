"""libclang frontend: a real semantic parse of C and C++ files."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

from clang import cindex as ci

from ...catalogue import Catalogue
from ...discover import SourceFile
from ...facts import FunctionRef, ModuleDecl, Problem, Span, Unit
from ...source import Source
from ..flags import SHIM, FlagSettings, is_cxx, uses_python
from ..forward import declarations_path
from ..includes import (
    HeaderPlan,
    IncluderContext,
    header_syntax_problem,
    missing_header_problem,
    stand_in_problem,
)
from ..mentions import is_header, mark_unmentioned
from ..modules import module_decls
from ..textscan import Assertions, blank_comments_and_strings, macro_uses, member_object_fields
from .cursors import children, file_of, from_main_file, kind_ids
from .diagnostics import Error, errors
from .types import TypeJudge, bare_type_name
from .walker import FUNCTION_KINDS, FileContext, K, MacroEvent, span_of, walk_function

KEEP_GOING = 0x200  # CXTranslationUnit_KeepGoing: parse on after a missing header
_MISSING = re.compile(r"'([^']+)' file not found")
_SYNTAX = re.compile(
    r"expected|unterminated|extraneous|invalid preprocessing|#error|unknown directive|definition is not allowed here"
)
_LOST_TYPE = "unknown type name"
_QUOTED = re.compile(r"'[^']*'")


def quoted_text_removed(spelling: str) -> str:
    """libclang's error text with every quoted part (`unknown type name 'root'`: a token of the file the
    error is in) replaced by `'…'`: what a problem may say of an error in a file other than the scanned
    one, which may lie outside the tree (`#include "/etc/passwd"`), whose text is never reported."""
    return _QUOTED.sub("'…'", spelling)


# A header's parse with these may be whole in its includer's context (includers.py)
_NOT_STANDALONE = frozenset({"syntax-error"})
_SCOPES = {
    K.NAMESPACE,
    K.LINKAGE_SPEC,
    K.CLASS_DECL,
    K.STRUCT_DECL,
    K.CLASS_TEMPLATE,
    K.UNEXPOSED_DECL,
}


_SCOPE_OPENERS = kind_ids({K.LINKAGE_SPEC, *FUNCTION_KINDS})


class ClangFrontend:
    name = "clang"

    def __init__(self, catalogue: Catalogue, flags: FlagSettings) -> None:
        self.catalogue = catalogue
        self.flags = flags
        # Declarations from the precompiled Python.h are not visited at the top level: 90% of every
        # file's top-level cursors, and a ctypes callback each (numpy: 1.1 s of 4.6 s).
        self.index = ci.Index.create(excludeDecls=True)
        self.preambles = Preambles(self.index)

    def analyse(
        self,
        sf: SourceFile,
        src: Source,
        args: list[str] | None = None,
        plan: HeaderPlan | None = None,
        unwalked: frozenset[str] = frozenset(),
    ) -> Unit:
        """`args`: the file's compiler arguments when the caller has them already; `plan`: what
        following its includes found (includes.py): the header index's directories are searched last,
        and each stand-in is an in-memory file (its template's text, or empty). `unwalked`: problem codes
        after which the caller discards libclang's unit (auto mode's fallbacks): with one of them the unit
        holds the problems and missing headers only, and the tree is not walked."""
        path = str(sf.path)
        language = "cpp" if is_cxx(sf.path, src.text, sf.language) else "c"
        if args is None:
            args = self.flags.args_for(sf.path, src.text, sf.language)
        unsaved = [(path, src.text)] if src.in_memory else None  # an expanded template is not on disk
        if plan is None:
            return self._analyse(path, language, args, src, unsaved, unwalked=unwalked)
        standins, hints = dict(plan.standins), dict(plan.hints)
        declared = declarations_path(path) if plan.declarations else None  # forward.py
        files = [*(unsaved or []), (declared, plan.declarations)] if declared else unsaved
        given = [*args, *plan.args()]
        unit = self._analyse(path, language, given, src, files, standins, hints, plan.texts, unwalked, context=declared)
        if declared:
            unit.includes = [i for i in unit.includes if i != clang_name(declared)]
        if plan.context is None or not any(p.code in _NOT_STANDALONE for p in unit.problems):
            return unit
        return self._in_context(sf, src, args, plan.context, unsaved, unwalked) or unit

    def _in_context(
        self,
        sf: SourceFile,
        src: Source,
        args: list[str],
        ctx: IncluderContext,
        unsaved: list[tuple[str, str]] | None,
        unwalked: frozenset[str],
    ) -> Unit | None:
        """The unit of a header that did not parse alone, parsed after its includers' lines before its
        include (includers.py): facts from the header's own lines only, as ever. None when that parse
        is no better (errors still, or the prefix reached the header itself, whose guard then hid it)."""
        path = str(sf.path)
        language = "cpp" if is_cxx(sf.path, src.text, sf.language) else "c"
        if not _has_shim(args) and any(uses_python(text) for _, text in ctx.files):
            args = self.flags.args_for(sf.path, "Py_ssize_t\n" + src.text, sf.language)  # the includer's Python.h
        plan = ctx.plan
        unit = self._analyse(
            path,
            language,
            [*args, *plan.args()],
            src,
            [*(unsaved or []), *ctx.files],
            dict(plan.standins),
            dict(plan.hints),
            plan.texts,
            unwalked,
            context=ctx.files[0][0],
        )
        virtual = {clang_name(f) for f, _ in ctx.files}
        if any(p.code in ("syntax-error", "missing-header", "parse-failed") for p in unit.problems):
            return None
        if clang_name(path) in unit.includes:
            return None
        unit.includes = [i for i in unit.includes if i not in virtual]
        unit.depends += [i for i in ctx.includers if i not in unit.depends]  # an includer's edit changes the unit
        unit.in_context = True
        return unit

    def analyse_embedded(self, path: str, text: str, cxx: bool) -> Unit:
        """C or C++ embedded in another file (Cython's `cdef extern from *` blocks), parsed from memory
        as the extension compiles it: after Python.h."""
        language = "cpp" if cxx else "c"
        args = self.flags.args_for(Path(path), "Py_ssize_t\n" + text, language)  # always with the Python shim
        src = Source(text, text.encode("utf-8"))
        # its static functions are called from the Cython code around it, which libclang does not see
        return self._analyse(path, language, args, src, [(path, text)], embedded=True)

    def _analyse(
        self,
        path: str,
        language: str,
        args: list[str],
        src: Source,
        unsaved: list[tuple[str, str]] | None,
        standins: dict[str, str] | None = None,
        hints: dict[str, str] | None = None,
        texts: tuple[tuple[str, str, str], ...] = (),
        unwalked: frozenset[str] = frozenset(),
        context: str | None = None,
        embedded: bool = False,
    ) -> Unit:
        """`standins`: absolute path -> name as written, of the headers given to libclang in memory;
        `hints`: why a header is missing, by name (for the problem); `texts`: (stand-in path,
        template path, text) of the stand-ins written from a template (the others are empty);
        `unwalked`: as for `analyse`; `context`: an in-memory file (among `unsaved`) included before
        the file (`-include`, after the preamble); `embedded`: C of a Cython file, whose functions the
        Cython code calls (none is marked unmentioned)."""
        unit = Unit(path, language, self.name)
        name = clang_name(path)  # what libclang knows the file as: its diagnostics and cursors say this
        standins = standins or {}
        written = {p: (template, text) for p, template, text in texts}
        stand = [(p, written[p][1] if p in written else "") for p in standins]
        files = [(clang_name(p), text) for p, text in unsaved or []] + stand or None
        try:
            tu = self.preambles.parse(name, args, files, clang_name(context) if context else None)
        except ci.TranslationUnitLoadError as err:
            unit.problems.append(Problem(path, "error", "parse-failed", f"libclang could not parse the file: {err}"))
            return unit
        unit.problems += self._diagnostics(tu, path, name, unit.missing_headers, bool(standins))
        included = [inc.include.name for inc in tu.get_includes()]
        used = list(dict.fromkeys(standins[p] for p in included if p in standins))
        if used:
            first = next(p for p in included if p in standins)
            unit.problems.append(stand_in_problem(path, used, _include_line(tu, name, first), hints))
            unit.missing_headers += [m for m in used if m not in unit.missing_headers]
            # the cache checks a template like a header: editing it changes the stand-in
            unit.depends += [written[p][0] for p in dict.fromkeys(included) if p in written]
        if context is not None and name in included:
            unit.includes = [name]  # the prefix reached the file itself: its include guard hid its text
            return unit
        if any(p.code in unwalked for p in unit.problems):
            # A tree the caller throws away: on numpy's unbuilt tree, walking such trees was as costly as
            # parsing them (20 s of 91 s of CPU), for nothing.
            return unit
        ctx = FileContext(self.catalogue, name, TypeJudge(self.catalogue.statics), cxx=language == "cpp")
        ctx.macro_events = lock_macro_events(self.catalogue.lock_macros, src.text)
        ctx.assertions = Assertions(src.text)
        # `assert(0)`, `assert(!"msg")`: libclang sees only the expansion, which NDEBUG may reduce to ((void)0).
        nr = self.catalogue.noreturn
        ctx.assert_false = {pos for name, first, pos in ctx.assertions.uses if nr.is_assert_false(name, first)}
        module_vars: list[ci.Cursor] = []
        declared: set[tuple[int, int]] = set()
        self._scope(tu.cursor, ctx, unit, module_vars, src, top=True, declared=declared)
        unit.functions += ctx.functions
        if not embedded and not is_header(path):
            mark_unmentioned(unit.functions, src.text, declared)
        unit.statics = ctx.statics
        unit.object_fields = ctx.object_fields
        unit.exposed_fields = member_object_fields(src.text)
        unit.module_decls = self._module_decls(unit, module_vars, src)
        unit.includes = sorted(set(included) - set(standins))
        return unit

    def _scope(
        self,
        parent: ci.Cursor,
        ctx: FileContext,
        unit: Unit,
        module_vars: list[ci.Cursor],
        src: Source,
        top: bool,
        declared: set[tuple[int, int]],
    ) -> None:
        """`declared`: filled with the (1-based line, 1-based column) of every function's name where the
        file declares or defines one (mentions.py leaves them out of a function's mentions)."""
        names: dict[int, str] = {}  # file names by libclang's handle: most top-level cursors are a header's
        for c in children(parent):
            if top and not from_main_file(c) and not _expanded_in_main_file(c, ctx.main_file, names):
                continue
            k = c.kind
            if k in FUNCTION_KINDS:
                declared.add((c.location.line, c.location.column))
                if c.is_definition():
                    fn = walk_function(ctx, c)
                    if fn is not None:
                        unit.functions.append(fn)
                        if c.spelling.startswith("PyInit_"):
                            module_vars += [v for v in c.walk_preorder() if v.kind == K.VAR_DECL]
            elif k in _SCOPES:
                self._scope(c, ctx, unit, module_vars, src, top=False, declared=declared)
            elif k == K.VAR_DECL:
                module_vars.append(c)
                var = ctx.judge.static_var(c)
                if var is not None and (var.key not in ctx.statics or not ctx.statics[var.key].definition):
                    ctx.statics[var.key] = var
                unit.refs += table_refs(c, src)

    @staticmethod
    def _diagnostics(
        tu: ci.TranslationUnit, path: str, name: str, missing: list[str], standins: bool = False
    ) -> list[Problem]:
        """Problems of the file `path` (libclang's `name` for it) from libclang's errors. With
        `standins`, an unknown type name in the file or in a project header counts as a syntax error
        of the file: a stand-in lost a type (numpy's f2c.h: `typedef CBLAS_INT integer;`), and with it
        every declaration of that type, so the file's statics would silently vanish (tree-sitter, which
        needs no types, keeps them)."""
        first_line: int | None = None
        syntax: list[Error] = []
        in_headers: list[Error] = []
        for d in errors(tu):
            m = _MISSING.search(d.spelling)
            if m:
                if m.group(1) not in missing:
                    missing.append(m.group(1))
                    if first_line is None and d.file == name:
                        first_line = d.line
            elif d.file and (_SYNTAX.search(d.spelling) or (standins and _LOST_TYPE in d.spelling)):
                if d.file == name or (_LOST_TYPE in d.spelling and not d.in_system_header):
                    syntax.append(d)
                elif not d.in_system_header:  # the project's own header: say so, never silently
                    in_headers.append(d)
        problems = []
        if missing:
            problems.append(missing_header_problem(path, missing, first_line))
        if syntax and not missing:
            d = syntax[0]
            if d.file == name:
                first, line = d.spelling, d.line
            else:  # an unknown type name in a header: name the header, never quote its text
                first = f"{quoted_text_removed(d.spelling)} in `{d.file}`:{d.line}"
                line = _include_line(tu, name, d.file or "")
            problems.append(
                Problem(
                    path,
                    "warning",
                    "syntax-error",
                    f"{len(syntax)} syntax error(s), first: {first}; results for this file may be incomplete",
                    line,
                )
            )
        if in_headers and not missing:
            # An error that breaks this file's own parse (an unclosed brace) also shows in this file, as
            # a syntax-error above; one that stays in the header leaves the file's analysis whole.
            d = in_headers[0]
            header = d.file or ""
            at = _include_line(tu, name, header)
            problems.append(
                header_syntax_problem(path, len(in_headers), header, d.line, quoted_text_removed(d.spelling), at)
            )
        return problems

    def _module_decls(self, unit: Unit, module_vars: list[ci.Cursor], src: Source) -> list[ModuleDecl]:
        slots: dict[str, str] = {}
        defs: list[tuple[str, str, Span]] = []
        for v in module_vars:
            type_name = v.type.get_canonical().spelling
            if "PyModuleDef_Slot" in type_name:
                slots[v.spelling] = self._text(v, src)
            elif type_name.endswith("PyModuleDef") and v.is_definition() and any(True for _ in v.get_children()):
                defs.append((v.spelling, self._text(v, src), span_of(v)))
        return module_decls(defs, slots, unit.functions, src.text)

    @staticmethod
    def _text(c: ci.Cursor, src: Source) -> str:
        ext = c.extent
        return blank_comments_and_strings(src.data[ext.start.offset : ext.end.offset].decode("utf-8", "replace"))


def _expanded_in_main_file(c: ci.Cursor, main_file: str, names: dict[int, str]) -> bool:
    """A scope a macro of a header opens in the main file: C++'s `PyMODINIT_FUNC` is `extern "C" PyObject *`,
    so the `extern "C"` around every C++ module's `PyInit_` is spelled in pyport.h; or a function whose
    name a macro writes (numpy's f2c code: `#define saxpy_ BLAS_FUNC(saxpy)`, pasted with `##`, so the
    name is spelled in clang's scratch space). cindex's location is the expansion location, which is in
    the main file; clang_Location_isFromMainFile says no. `names`: file names by handle, for this
    translation unit (numpy's multiarray files: 24 000 top-level cursors of headers asked)."""
    if c._kind_id not in _SCOPE_OPENERS:
        return False
    return file_of(c, names) == main_file


def _include_line(tu: ci.TranslationUnit, path: str, header: str) -> int | None:
    """The line of `path`'s `#include` through which `header` was reached (None if not found)."""
    parent: dict[str, tuple[str, int]] = {}
    for inc in tu.get_includes():
        if inc.source is not None:  # None: a file of the command line (`-include`)
            parent.setdefault(inc.include.name, (inc.source.name, inc.location.line))
    seen: set[str] = set()
    while header in parent and header not in seen:
        seen.add(header)
        source, line = parent[header]
        if source == path:
            return line
        header = source
    return None


def clang_name(path: str) -> str:
    """`path` as libclang must be given it: absolute, so that a file named `-include.c` or
    `-Wp,-MD,x.c` (libclang puts the name among the arguments) is never read as an option."""
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


# The C++ standard headers most extension code includes: parsed once into every C++ preamble (a
# kiwisolver header costs 2 s of CPU without it, 0.7 s with it; docs/performance.md).
CXX_PREAMBLE = (
    "algorithm",
    "cmath",
    "cstdint",
    "cstdlib",
    "cstring",
    "exception",
    "functional",
    "iostream",
    "limits",
    "map",
    "memory",
    "mutex",
    "sstream",
    "string",
    "unordered_map",
    "utility",
    "vector",
)


class Preambles:
    """What every file with the same flags (their -I directories aside) includes first, parsed once per
    run into a precompiled header: Python.h and the analysis shim for files that use Python (a numpy
    file parses 3x faster), and for C++ the standard headers of CXX_PREAMBLE too (a C++ file parses
    2.5x faster). A PCH that libclang refuses falls back to the plain parse, for good, for those flags.

    The preamble is parsed with function bodies skipped (`skip_bodies`): only the scanned file's own
    functions are walked, never a header's, and a body clang needs to go on (a `constexpr` function,
    a deduced `auto` return type) is never skipped. What it saves is mostly in the files: a C++ file
    that uses `std::vector<T>` no longer instantiates the bodies of its members (kiwisolver's 31
    files: 14.1 s of CPU to 5.0 s; docs/performance.md)."""

    def __init__(self, index: ci.Index, skip_bodies: bool = True) -> None:
        self.index = index
        self.skip_bodies = skip_bodies
        self.built: dict[tuple[str, ...], str | None] = {}
        self.dir: str | None = None

    def parse(
        self, path: str, args: list[str], unsaved: list[tuple[str, str]] | None, context: str | None = None
    ) -> ci.TranslationUnit:
        """`context`: a file included after the preamble, before `path` (not part of the preamble)."""
        after = ["-include", context] if context else []
        pch = self._pch_for(args)
        if pch is not None:
            tu = self.index.parse(
                path,
                args=[*_without_shim(args), "-include-pch", pch, *after],
                unsaved_files=unsaved,
                options=KEEP_GOING,
            )
            if not any(_PCH_TROUBLE.search(d.spelling) for d in errors(tu)):
                return tu
            self.built[self._key(args)] = None
        return self.index.parse(path, args=[*args, *after], unsaved_files=unsaved, options=KEEP_GOING)

    @staticmethod
    def _key(args: list[str]) -> tuple[str, ...]:
        """The flags a preamble depends on: all but the project's own directories (-I, and the header
        index's -idirafter), which hold no header of the preamble."""
        key: list[str] = []
        skip = False
        for a in args:
            if not skip and not a.startswith("-I") and a != "-idirafter":
                key.append(a)
            skip = a == "-idirafter" and not skip
        return tuple(key)

    def _pch_for(self, args: list[str]) -> str | None:
        if not _has_shim(args) and not _is_cxx_args(args):
            return None
        key = self._key(args)
        if key not in self.built:
            self.built[key] = self._build(args, len(self.built))
        return self.built[key]

    def _build(self, args: list[str], n: int) -> str | None:
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="ftaudit-pch-")
            atexit.register(shutil.rmtree, self.dir, True)
        header_args = _without_shim(args)
        if "-x" in header_args:
            x = header_args.index("-x") + 1
            header_args[x] = header_args[x] + "-header"
        text = "".join(f"#include <{h}>\n" for h in CXX_PREAMBLE) if _is_cxx_args(args) else ""
        if _has_shim(args):
            text += f'#include "{SHIM}"\n'
        header = os.path.join(self.dir, f"preamble{n}.h")
        target = os.path.join(self.dir, f"preamble{n}.pch")
        try:
            options = _INCOMPLETE | _FOR_SERIALIZATION | (_SKIP_FUNCTION_BODIES if self.skip_bodies else 0)
            tu = self.index.parse(header, args=header_args, unsaved_files=[(header, text)], options=options)
            if errors(tu):
                return None
            tu.save(target)
        except (ci.TranslationUnitLoadError, ci.TranslationUnitSaveError, OSError):
            return None
        return target


def _has_shim(args: list[str]) -> bool:
    return "-include" in args and args[args.index("-include") + 1] == str(SHIM)


def _is_cxx_args(args: list[str]) -> bool:
    return "-x" in args and args[args.index("-x") + 1] == "c++"


def _without_shim(args: list[str]) -> list[str]:
    if not _has_shim(args):
        return list(args)
    i = args.index("-include")
    return [*args[:i], *args[i + 2 :]]


_INCOMPLETE = 0x02  # CXTranslationUnit_Incomplete: a header, not a whole program
_FOR_SERIALIZATION = 0x10  # CXTranslationUnit_ForSerialization
_SKIP_FUNCTION_BODIES = 0x40  # CXTranslationUnit_SkipFunctionBodies: here, of the preamble's headers only
_PCH_TROUBLE = re.compile(r"PCH|precompiled|AST file|was built with", re.I)

_SLOT_TABLES = {"PyModuleDef_Slot", "PyType_Slot"}


def table_refs(var: ci.Cursor, src: Source) -> list[FunctionRef]:
    """Functions named in a static initialiser, with the table and field they fill:
    `PyMethodDef.ml_meth`, `PyTypeObject.tp_dealloc`, `PyModuleDef_Slot.Py_mod_exec`."""
    table = bare_type_name(var.type.spelling)
    refs: list[FunctionRef] = []
    if not may_hold_functions(var.type):
        return refs  # numeric and string tables can be huge: never walk them

    def visit(c: ci.Cursor, fld: str, depth: int) -> None:
        if depth > 12:
            return
        k = c.kind
        if k == K.DECL_REF_EXPR:
            ref = c.referenced
            if ref is not None and ref.kind in FUNCTION_KINDS:
                refs.append(FunctionRef(ref.spelling, f"{table}.{fld}" if fld else table, span_of(c)))
            return
        if k == K.INIT_LIST_EXPR and not may_hold_functions(c.type):
            return
        kids = list(c.get_children())
        if k == K.INIT_LIST_EXPR:
            if table in _SLOT_TABLES and len(kids) == 2 and kids[0].kind != K.INIT_LIST_EXPR:
                ext = kids[0].extent
                slot = src.data[ext.start.offset : ext.end.offset].decode("utf-8", "replace").strip()
                visit(kids[1], slot, depth + 1)
                return
            t = c.type.get_canonical()
            fields = [f.spelling for f in t.get_fields()] if t.kind == ci.TypeKind.RECORD else []
            for i, ch in enumerate(kids):
                sub = [g for g in ch.get_children()] if ch.kind == K.UNEXPOSED_EXPR else []
                if sub and sub[0].kind == K.MEMBER_REF:  # designated initialiser `.tp_dealloc = f`
                    for g in sub[1:]:
                        visit(g, fld or sub[0].spelling, depth + 1)
                    continue
                visit(ch, fld or (fields[i] if i < len(fields) else ""), depth + 1)
            return
        for ch in kids:
            visit(ch, fld, depth + 1)

    for ch in var.get_children():
        visit(ch, "", 0)
    return refs


_SCALARS = {ci.TypeKind.ENUM} | {
    getattr(ci.TypeKind, n)
    for n in (
        "BOOL",
        "CHAR_U",
        "UCHAR",
        "CHAR16",
        "CHAR32",
        "USHORT",
        "UINT",
        "ULONG",
        "ULONGLONG",
        "UINT128",
        "CHAR_S",
        "SCHAR",
        "WCHAR",
        "SHORT",
        "INT",
        "LONG",
        "LONGLONG",
        "INT128",
        "FLOAT",
        "DOUBLE",
        "LONGDOUBLE",
        "HALF",
        "FLOAT128",
    )
}


_RECORDS_WITH_FUNCTIONS: dict[str, bool] = {}


def may_hold_functions(t: ci.Type, depth: int = 0) -> bool:
    """Can an initialiser of this type name a function? Not tables of numbers, strings or
    structs of those (data tables can have a million cursors)."""
    t = t.get_canonical()
    for _ in range(8):
        if t.kind not in (ci.TypeKind.CONSTANTARRAY, ci.TypeKind.INCOMPLETEARRAY):
            break
        t = t.element_type.get_canonical()
    if t.kind in _SCALARS:
        return False
    if t.kind == ci.TypeKind.POINTER:
        return t.get_pointee().get_canonical().kind not in _SCALARS
    if t.kind == ci.TypeKind.RECORD and depth < 6:
        key = t.spelling
        if key not in _RECORDS_WITH_FUNCTIONS:
            _RECORDS_WITH_FUNCTIONS[key] = True  # provisional, for self-referencing records
            _RECORDS_WITH_FUNCTIONS[key] = any(may_hold_functions(f.type, depth + 1) for f in t.get_fields())
        return _RECORDS_WITH_FUNCTIONS[key]
    return True


def lock_macro_events(pairs: dict[str, str], text: str) -> list[MacroEvent]:
    """Positions of configured lock macros (`LOCK();` ... `UNLOCK();`), which may expand to nothing."""
    if not pairs:
        return []
    clean = blank_comments_and_strings(text)
    events = []
    for acquire, release in pairs.items():
        events += [MacroEvent(u.line, u.col, True, acquire) for u in macro_uses(clean, acquire)]
        events += [MacroEvent(u.line, u.col, False, acquire) for u in macro_uses(clean, release)]
    return sorted(events, key=lambda e: (e.line, e.col))
