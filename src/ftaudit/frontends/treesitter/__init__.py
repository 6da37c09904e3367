"""tree-sitter frontend: C and C++ to the same facts, with no headers and no flags.

It parses in milliseconds and tolerates any error, so it serves where libclang
cannot (a missing header, no build configuration, a pre-commit run on one
file). What it cannot know, it does not guess: a type hidden behind a typedef
in a header is unknown, a macro is a call. Preprocessor branches are read the
way a free-threaded 3.14 build compiles them (`Py_GIL_DISABLED` defined,
`PY_VERSION_HEX` 3.14), and both branches are read when a condition is unknown.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from ...catalogue import Catalogue
from ...discover import SourceFile
from ...facts import Function, FunctionRef, Param, Span, Storage, Unit
from ...source import Source as TextSource
from ..conditions import blank_dead_branches
from ..flags import is_cxx
from ..headerindex import HeaderIndex
from ..initmacros import expanded_name, init_macros
from ..memory import has_allocation
from ..modules import module_decls
from ..textscan import Assertions, MacroDef, blank_comments_and_strings, defined_macros, member_object_fields
from .escapes import flows_of
from .exprbranches import one_arm_in_expressions
from .getters import MethodNames, class_methods, sibling_headers
from .headermacros import header_macros, inside_roots, neighbour_headers, scan_dirs
from .scope import branch_taken, in_anonymous_namespace, static_of_declaration
from .syntax import Node, Source, declarator_chain, declarator_name, named, span, type_words
from .walker import GIL_ACQUIRE_MARK, GIL_RELEASE_MARK, FileFacts, TsWalker

_STATEMENT_MACROS = {
    "Py_BEGIN_ALLOW_THREADS": GIL_RELEASE_MARK,
    "Py_END_ALLOW_THREADS": GIL_ACQUIRE_MARK,
    "NPY_BEGIN_THREADS": GIL_RELEASE_MARK,
    "NPY_END_THREADS": GIL_ACQUIRE_MARK,
    "NPY_BEGIN_ALLOW_THREADS": GIL_RELEASE_MARK,
    "NPY_END_ALLOW_THREADS": GIL_ACQUIRE_MARK,
}
_MACRO_WORDS = re.compile(r"\b(" + "|".join(_STATEMENT_MACROS) + r")\b(?!\s*\()")
_OBJECT_HEAD = re.compile(r"^\s*\{?\s*(int _ob_hd__;|int _ob_var_hd__;|PyObject\s+ob_base|PyVarObject\s+ob_base)")
_SLOT_TABLES = {"PyModuleDef_Slot", "PyType_Slot"}
# Positional fields of the tables whose functions give roles (CPython's declaration order).
_FIELDS = {
    "PyMethodDef": ["ml_name", "ml_meth", "ml_flags", "ml_doc"],
    "PyGetSetDef": ["name", "get", "set", "doc", "closure"],
    "PyModuleDef": ["m_base", "m_name", "m_doc", "m_size", "m_methods", "m_slots", "m_traverse", "m_clear", "m_free"],
    "PyTypeObject": [
        "ob_base", "tp_name", "tp_basicsize", "tp_itemsize", "tp_dealloc", "tp_vectorcall_offset", "tp_getattr",
        "tp_setattr", "tp_as_async", "tp_repr", "tp_as_number", "tp_as_sequence", "tp_as_mapping", "tp_hash",
        "tp_call", "tp_str", "tp_getattro", "tp_setattro", "tp_as_buffer", "tp_flags", "tp_doc", "tp_traverse",
        "tp_clear", "tp_richcompare", "tp_weaklistoffset", "tp_iter", "tp_iternext", "tp_methods", "tp_members",
        "tp_getset", "tp_base", "tp_dict", "tp_descr_get", "tp_descr_set", "tp_dictoffset", "tp_init",
        "tp_alloc", "tp_new", "tp_free", "tp_is_gc", "tp_bases", "tp_mro", "tp_cache", "tp_subclasses",
        "tp_weaklist", "tp_del", "tp_version_tag", "tp_finalize", "tp_vectorcall",
    ],
}  # fmt: skip


def _language(language: str) -> Any:
    """The grammar, imported on first use (a C-only tree never loads the C++ one)."""
    from tree_sitter import Language

    if language == "cpp":
        import tree_sitter_cpp

        return Language(tree_sitter_cpp.language())
    import tree_sitter_c

    return Language(tree_sitter_c.language())


_HEADS = {"PyObject_HEAD": "int _ob_hd__;", "PyObject_VAR_HEAD": "int _ob_var_hd__;"}
_HEAD_WORDS = re.compile(r"\b(PyObject_HEAD|PyObject_VAR_HEAD)\b(?!\s*;)")
# Conditionals frontends/conditions.py can decide name one of these (or are `#if 0`/`#if 1`).
_DECIDABLE = re.compile(
    r"\b(?:PY_MAJOR_VERSION|PY_MINOR_VERSION|PY_VERSION_HEX|Py_GIL_DISABLED|Py_LIMITED_API|PYPY_VERSION)\b|#\s*if\s+[01]\b"
)
_PREPROC_CONDITIONAL = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b[^\n]*", re.M)


def rewrite_macros(text: str) -> str:
    """Rewrite, at the same length (lines and columns stay), what tree-sitter cannot parse:
    statement macros without parentheses (`Py_BEGIN_ALLOW_THREADS`) become calls, object
    headers (`PyObject_HEAD`) a field, and `#if` lines inside initialisers (slot tables with
    an `#ifdef Py_GIL_DISABLED` entry) are blanked, so both branches' entries are read. Branches a
    free-threaded 3.14 build does not compile (Python 2, older versions, the GIL build) are blanked
    first (frontends/conditions.py)."""

    def call(m: re.Match[str]) -> str:
        word = m.group(1)
        mark = _STATEMENT_MACROS[word]
        return mark + "_" * (len(word) - len(mark) - 3) + "();"

    if "THREADS" in text:  # a substring test is 50x cheaper than the regex on the many files without one
        text = _MACRO_WORDS.sub(call, text)
    if "_HEAD" in text:
        text = _HEAD_WORDS.sub(lambda m: _HEADS[m.group(1)], text)
    if "#" in text and _DECIDABLE.search(text):
        text = blank_dead_branches(text, blank_comments_and_strings(text))
    text = _loop_macros(text)
    if "::" in text:
        text = _constructor_heads(text)
    return _blank_conditionals_in_initialisers(text)


# `simdjson_inline Foo<T>::Foo(...) : a{x}, b(y) {`: an out-of-class constructor definition headed by an
# attribute macro. A constructor has no return type, so the head's words can only be macros (or the few
# keywords kept below); tree-sitter reads the macro as a type and the member initialisers as variables
# of a declaration missing its `;`. Only a definition with a member-initialiser list is touched: the
# others parse as functions already.
_CTOR = re.compile(
    r"^([ \t]*(?:template[ \t]*<[^;{}()\n]*>[ \t]*)?)"
    r"((?:[A-Za-z_]\w*(?:\([^;{}()\n]*\))?[ \t]+)+)"
    r"(?:[A-Za-z_]\w*(?:<[^;{}()\n]*>)?::)*"
    r"([A-Za-z_]\w*)(?:<[^;{}()\n]*>)?::\3[ \t]*\(",
    re.M,
)
_CTOR_KEEP = frozenset({"inline", "constexpr", "explicit", "template", "typename"})
_NOT_CTOR_HEAD = frozenset(
    {"return", "case", "else", "throw", "co_return", "co_yield", "goto", "new", "delete", "typedef", "using",
     "friend", "virtual", "static", "extern", "operator", "sizeof", "do"}
)  # fmt: skip
_AFTER_PARAMS = re.compile(r"\s*(?:noexcept(?:\s*\([^;{}()]*\))?\s*)?:(?!:)")


def _constructor_heads(text: str) -> str:
    """Blank, at the same length, the macro words heading out-of-class constructor definitions that have
    a member-initialiser list (`MACRO T::T(args) : a{x} {`), so that they parse as functions."""
    clean = blank_comments_and_strings(text)
    pieces: list[str] = []
    pos = 0
    for m in _CTOR.finditer(clean):
        depth, close = 0, -1
        for i in range(m.end() - 1, min(len(clean), m.end() + 4096)):  # bounded: a parameter list
            ch = clean[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    close = i
                    break
            elif ch in ";{}":
                break
        if close < 0 or not _AFTER_PARAMS.match(clean, close + 1):
            continue
        head_start = m.start(2)
        if _NOT_CTOR_HEAD.intersection(re.findall(r"\w+", m.group(2))):  # `return T::T(x) ...`: a statement
            continue
        for w in re.finditer(r"[A-Za-z_]\w*(?:\([^;{}()\n]*\))?", clean[head_start : m.end(2)]):
            if w.group(0) in _CTOR_KEEP:
                continue
            a, b = head_start + w.start(), head_start + w.end()
            pieces += [text[pos:a], re.sub(r"[^\n]", " ", text[a:b])]
            pos = b
    if not pieces:
        return text
    pieces.append(text[pos:])
    return "".join(pieces)


# `FORALLfacets {`, `FOR_EACH(item, list) {`: an indented line that is an unknown word (and its
# arguments) before a block. Unparsed, tree-sitter's error recovery can swallow the rest of the function.
_LOOP_MACRO = re.compile(r"^([ \t]+)([A-Za-z_]\w*)([ \t]*\([^;{}\n]*\))?([ \t]*)\{[ \t]*$", re.M)
_NOT_LOOP_MACROS = frozenset(
    {"if", "else", "for", "while", "do", "switch", "try", "catch", "return", "case", "default", "struct", "union",
     "enum", "class", "namespace", "extern", "sizeof", "typedef", "static", "const", "goto"}
)  # fmt: skip


_PARAMETER = re.compile(r"\s*(?:const\s+)?[A-Za-z_][\w:<>]*(?:[\s*&]+[A-Za-z_]\w*|\s*[*&]+)\s*|\s*void\s*|\s*")


def _parameter_list(args: str) -> bool:
    """`(int x)`, `(const Foo &o)`, `()`: a C++ constructor defined in its class, not a macro's arguments."""
    return all(_PARAMETER.fullmatch(part) for part in args.strip()[1:-1].split(","))


def _loop_macros(text: str) -> str:
    """Statement macros that head a block read as loops, at the same length: `FOR_EACH(x) {` becomes
    `while   (x) {` (the arguments stay, so their calls are seen), `FORALLfacets {` becomes
    `while(1)     {`; a name too short for that becomes `if` (the block is then read once) or is
    blanked. Names of
    the Python API (`Py_...`) are left to the rules that know them."""
    if "{" not in text:
        return text

    def loop(m: re.Match[str]) -> str:
        indent, name, args, gap = m.group(1), m.group(2), m.group(3), m.group(4)
        if name in _NOT_LOOP_MACROS or name.startswith(("Py", "_Py")) or (args and _parameter_list(args)):
            return m.group(0)
        rest = m.group(0)[len(indent) + len(name) + len(args or "") + len(gap) :]
        if args:
            word = "while" if len(name) >= 5 else "if"  # `if` reads the block once: still parsed
            head = word + " " * (len(name) - len(word)) + args if len(name) >= 2 else " " + args
            return indent + head + gap + rest
        word = "while(1)" if len(name) >= 8 else "if(1)" if len(name) >= 5 else ""
        head = word + " " * (len(name) - len(word))
        return indent + head + gap + rest

    return _LOOP_MACRO.sub(loop, text)


_INITIALISER = re.compile(r"=\s*\{")
_BRACES = re.compile(r"[{}]")


def _blank_conditionals_in_initialisers(text: str) -> str:
    if "#" not in text or not _INITIALISER.search(text):
        return text
    clean = blank_comments_and_strings(text)
    regions: list[tuple[int, int]] = []
    end = 0
    for m in _INITIALISER.finditer(clean):
        if m.start() < end:  # inside the initialiser just examined
            continue
        depth, end = 0, len(clean)
        for b in _BRACES.finditer(clean, m.end() - 1):
            depth += 1 if b.group() == "{" else -1
            if depth == 0:
                end = b.start()
                break
        if "#" in clean[m.end() : end]:
            regions.append((m.end(), end))
    if not regions:
        return text
    pieces, pos = [], 0
    for start, stop in regions:
        for pm in _PREPROC_CONDITIONAL.finditer(clean, start, stop):
            pieces += [text[pos : pm.start()], " " * (pm.end() - pm.start())]
            pos = pm.end()
    pieces.append(text[pos:])
    return "".join(pieces)


_MACRO_HEAD_WORDS = frozenset(
    {"type_identifier", "identifier", "macro_type_specifier", "storage_class_specifier", "type_qualifier",
     "primitive_type", "sized_type_specifier", "attribute_specifier", "attribute_declaration", "ms_declspec_modifier"}
)  # fmt: skip
_HEAD_SCOPES = frozenset(
    {"translation_unit", "linkage_specification", "declaration_list", "namespace_definition", "preproc_if",
     "preproc_ifdef", "preproc_elif", "preproc_elifdef", "preproc_else"}
)  # fmt: skip


def macro_heads(root: Node) -> list[tuple[int, int]]:
    """Byte ranges of macro words tree-sitter cannot know before a function definition, to blank.

    `MY_API PyMODINIT_FUNC PyInit_x(void) {` (an export or visibility macro from a header, any number of
    words, `EXPORT(api)` too) parses as a declaration `MY_API PyMODINIT_FUNC` missing its `;`, then a
    definition whose type is `PyInit_x` and whose declarator is `(void)`: the function's name is lost. A
    declaration that lacks its `;` and holds only words right before a definition is such a head. When
    the definition kept its function declarator, the whole head goes; else its last word is the return
    type and stays (`PyMODINIT_FUNC PyInit_x(void)` parses)."""
    out: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        n = stack.pop()
        kids = n.named_children
        for fn in kids:
            if fn.type == "function_definition":
                swallowed = _swallowed_head(fn)
                if swallowed is not None:
                    out.append(swallowed)
        for head, fn in itertools.pairwise(kids):
            if head.type != "declaration" or fn.type != "function_definition" or not head.children:
                continue
            semi = head.children[-1]
            words = [c for c in head.named_children if c.type != "comment"]
            if (
                not (semi.type == ";" and semi.is_missing)
                or not words
                or any(w.type not in _MACRO_HEAD_WORDS for w in words)
            ):
                continue
            decl = fn.child_by_field_name("declarator")
            named_fn = decl is not None and any(c.type == "function_declarator" for c in declarator_chain(decl))
            if named_fn:
                out.append((head.start_byte, semi.start_byte))
            elif len(words) > 1:
                out.append((head.start_byte, words[-1].start_byte))
        stack += [k for k in kids if k.type in _HEAD_SCOPES]
    return out


def _swallowed_head(fn: Node) -> tuple[int, int] | None:
    """`MY_API EXPORT(x) PyMODINIT_FUNC PyInit_x(void) {` parses as a definition of `EXPORT` whose
    declarator trails junk ending in the call `PyInit_x(void)`: the head is everything up to the end of
    that first parameter list (what follows it, `PyMODINIT_FUNC`, is the return type)."""
    decl = fn.child_by_field_name("declarator")
    if decl is None or decl.type != "function_declarator":
        return None
    params = decl.child_by_field_name("parameters")
    rest = [c for c in decl.named_children if params is not None and c.start_byte >= params.end_byte]
    if len(rest) < 2 or rest[-1].type != "call_expression" or any(c.type not in _MACRO_HEAD_WORDS for c in rest[:-1]):
        return None
    return fn.start_byte, params.end_byte


def _trusted_file_scope(n: Node, storage: set[str]) -> bool:
    """Is this really a file-scope variable? `register`/`auto` ones are K&R parameters or locals
    that error recovery lifted out of a function (a header split across `#if` branches), and so
    are declarations without `static`/`extern` next to a parse error."""
    if storage & {"register", "auto"}:
        return False
    if storage & {"static", "extern"}:
        return True
    parent = n.parent
    return parent is None or not any(c.type == "ERROR" or c.is_missing for c in parent.children)


def _meets(n: Node, ranges: list[tuple[int, int]]) -> bool:
    """Do the lines of node `n` meet one of `ranges` (first, last: 1-based, inclusive)?"""
    first, last = n.start_point[0] + 1, n.end_point[0] + 1
    return any(a <= last and first <= b for a, b in ranges)


def _function_name(n: Node, src: Source, macros: dict[str, bool] | None = None) -> str | None:
    """The name function definition `n` defines; through an init-naming macro of the tree (`macros`,
    initmacros.py) `INIT_MODULE(_psycopg)(void) {` and `MOD_INIT(foo) {` define `PyInit__psycopg` and
    `PyInit_foo`."""
    decl = n.child_by_field_name("declarator")
    ident = declarator_name(decl)
    if ident is None:
        return None
    name = src.text(ident)
    if macros:
        inner = ident.parent
        if name in macros and inner is not None and inner.type == "function_declarator" and inner != decl:
            # `INIT_MODULE(_psycopg)(void)`: the inner declarator is the macro call, the outer one's
            # parameters are the function's.
            plist = inner.child_by_field_name("parameters")
            args = named(plist) if plist is not None else []
            if len(args) == 1:
                return expanded_name(macros, name, src.text(args[0]).strip(), whole=False) or name
        head = n.child_by_field_name("type")
        if head is not None and decl is not None and decl.type == "parenthesized_declarator" and decl == ident.parent:
            # `MOD_INIT(foo) {`: read as a definition of `foo`, typed `MOD_INIT`.
            return expanded_name(macros, src.text(head), name, whole=True) or name
    return name


def _names_meeting(
    top: list[Node], ranges: list[tuple[int, int]], src: Source, macros: dict[str, bool] | None = None
) -> set[str | None]:
    """The names of the function definitions of `top` whose lines meet one of `ranges`."""
    return {_function_name(n, src, macros) for n in top if n.type == "function_definition" and _meets(n, ranges)}


_HEADER_MEMO = 256  # headers whose methods a worker keeps (many files of a directory include the same ones)


class TreeSitterFrontend:
    name = "treesitter"

    def __init__(
        self,
        catalogue: Catalogue,
        header_index: HeaderIndex | None = None,
        roots: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        """`header_index`: the scan's project header index, through which the headers that may define
        an init-naming macro are found (initmacros.py); None reads each file alone. `roots`: the scan
        roots; headers beside a file are read only inside them (getters.py)."""
        self.catalogue = catalogue
        self.header_index = header_index
        self._parsers: dict[str, Any] = {}
        self._allowed = scan_dirs(roots)
        self._header_methods: dict[tuple[str, int, int], MethodNames] = {}  # (path, mtime, size) -> methods

    def _methods(self, path: str, text: str, root: Node, source: Source, unit: Unit) -> MethodNames:
        """The methods of the C++ classes this file and the headers beside it define (getters.py); the
        headers read are the unit's dependencies (a change to one makes cached facts stale)."""
        methods = class_methods(root, source)
        for header, header_text in sibling_headers(path, text, self._allowed):
            try:
                st = os.stat(header)
            except OSError:
                continue
            key = (header, st.st_mtime_ns, st.st_size)
            found = self._header_methods.get(key)
            if found is None:
                data = header_text.encode("utf-8")
                found = class_methods(self._parser("cpp").parse(data).root_node, Source(data))
                if len(self._header_methods) >= _HEADER_MEMO:
                    self._header_methods.clear()
                self._header_methods[key] = found
            methods.merge(found)
            if header not in unit.depends:
                unit.depends.append(header)
        return methods

    def _parser(self, language: str) -> Any:
        if language not in self._parsers:
            from tree_sitter import Parser

            self._parsers[language] = Parser(_language(language))
        return self._parsers[language]

    def analyse(self, sf: SourceFile, src: TextSource, only: list[tuple[int, int]] | None = None) -> Unit:
        """The file's unit. `only`: line ranges (first, last; 1-based, inclusive); when given, a function
        definition is walked only when its lines, or those of a definition of the same name, meet one of
        them; the others are left out of the unit (a partial unit, for a caller that takes facts from
        those lines alone: frontends/inactive.py). Same-named definitions are walked together because
        the first one walked names the file's `f()::x` local statics."""
        path = str(sf.path)
        language = "cpp" if is_cxx(sf.path, src.text, sf.language) else "c"
        unit = Unit(path, language, self.name)
        # a whole file keeps one arm of an #if inside an expression; the arms libclang left out are read whole
        text = one_arm_in_expressions(src.text) if only is None else src.text
        data = rewrite_macros(text).encode("utf-8")
        tree = self._parser(language).parse(data)
        heads = macro_heads(tree.root_node)
        if heads:  # parse again without them: same length, so lines and columns stay
            buf = bytearray(data)
            for start, end in heads:
                buf[start:end] = re.sub(rb"[^\n]", b" ", buf[start:end])
            data = bytes(buf)
            tree = self._parser(language).parse(data)
        source = Source(data)
        if language == "cpp":
            methods = self._methods(path, src.text, tree.root_node, source, unit)
            source.getters, source.const_methods = methods.getter_names(), methods.const_names()
        self._src = source
        facts = FileFacts(self.catalogue, source, path, assertions=Assertions(src.text), cxx=language == "cpp")
        # a file outside the scan roots reads no header beside it
        headers = neighbour_headers(path, src.text) if inside_roots(path, self._allowed) else []
        beside: dict[str, MacroDef] = {}
        for header in headers:
            for name, m in header_macros(header).items():
                beside.setdefault(name, m)
        unit.depends += [h for h in headers if h not in unit.depends]  # an edit to one changes the unit
        facts.define_macros(defined_macros(blank_comments_and_strings(src.text)), beside)
        root = tree.root_node
        top = list(self._top_level(root))
        self._declare(top, facts)
        tables: list[tuple[str, str, Span]] = []
        slots: dict[str, str] = {}
        macros, macro_headers = init_macros(path, src.text, self.header_index)
        walked = None if only is None else _names_meeting(top, only, facts.src, macros)
        for n in top:
            if n.type == "function_definition":
                if walked is not None and _function_name(n, facts.src, macros) not in walked:
                    continue
                fn = self._function(n, facts, macros)
                if fn is not None:
                    unit.functions.append(fn)
                    if fn.name.startswith("PyInit_"):  # `static PyModuleDef def = {...};` inside PyInit_x
                        for decl in _local_declarations(n):
                            self._table(decl, facts, unit, tables, slots)
            elif n.type == "declaration":
                self._table(n, facts, unit, tables, slots)
        unit.functions += facts.lambdas
        unit.statics = {v.key: v for v in facts.statics.values()}
        unit.module_decls = module_decls(tables, slots, unit.functions, src.text)
        unit.missing_headers = _includes(src.text)  # tree-sitter reads none for declarations (getters aside)
        unit.depends += [h for h in macro_headers if h not in unit.depends]  # read for init-naming macros
        unit.object_fields = facts.object_fields
        unit.exposed_fields = member_object_fields(src.text)
        return unit

    def _top_level(self, root: Node) -> Any:
        """Declarations and function definitions at file and namespace scope, through
        `extern "C"`, namespaces and preprocessor branches."""
        stack = list(reversed(named(root)))
        src_types = {"linkage_specification", "namespace_definition", "declaration_list"}
        while stack:
            n = stack.pop()
            t = n.type
            if t in ("function_definition", "declaration", "template_declaration"):
                if t == "template_declaration":
                    stack += reversed([c for c in named(n) if c.type in ("function_definition", "declaration")])
                else:
                    yield n
            elif t in src_types:
                body = n.child_by_field_name("body") if t != "declaration_list" else n
                if body is not None and body is not n:
                    stack.append(body)
                elif body is n:
                    stack += reversed(named(n))
            elif t in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_elifdef"):
                taken = branch_taken(n, self._src)
                cond = n.child_by_field_name("condition")
                alt = n.child_by_field_name("alternative")
                body = [c for c in named(n) if c.type != "identifier" and c != cond and c != alt]
                if taken is not False:
                    stack += reversed(body)
                if taken is not True and alt is not None:
                    stack.append(alt)
            elif t == "preproc_else":
                stack += reversed(named(n))
            elif t in ("struct_specifier", "class_specifier", "type_definition", "expression_statement"):
                yield n

    def _declare(self, top: list[Node], facts: FileFacts) -> None:
        src = facts.src
        for n in top:
            if n.type == "function_definition":
                ident = declarator_name(n.child_by_field_name("declarator"))
                if ident is not None:
                    facts.functions_defined.add(src.text(ident).split("::")[-1])
            elif n.type in ("declaration", "type_definition", "struct_specifier", "class_specifier"):
                self._structs(n, facts)
                if n.type != "declaration":
                    self._class_statics(n, facts)
                    continue
                for d in n.children_by_field_name("declarator"):
                    if any(c.type == "function_declarator" for c in declarator_chain(d)):
                        ident = declarator_name(d)
                        if ident is not None:
                            facts.functions_declared.add(src.text(ident).split("::")[-1])
                        continue
                    ident = declarator_name(d)
                    if ident is None or src.text(ident) == "":
                        continue
                    facts.note_constant(src.text(ident), _false_constant(n, d, src))
                    storage = {src.text(c) for c in named(n) if c.type == "storage_class_specifier"}
                    if "typedef" in storage or not _trusted_file_scope(n, storage):
                        continue
                    var = static_of_declaration(facts, n, d, ident)
                    if var is None:
                        continue
                    for name in {var.name, src.text(ident)}:
                        known = facts.statics.get(name)
                        if known is None or (var.definition and not known.definition):
                            facts.statics[name] = var
                self._class_statics(n, facts)

    def _class_statics(self, n: Node, facts: FileFacts) -> None:
        """`struct K { static int member; };` and its out-of-class definition `int K::member = 0;`."""
        src = facts.src
        for spec, body in _record_bodies(n):
            cname = spec.child_by_field_name("name")
            if cname is None:
                continue
            for member in _fields(body):
                if "static" not in {src.text(c) for c in named(member) if c.type == "storage_class_specifier"}:
                    continue
                for d in member.children_by_field_name("declarator"):
                    ident = declarator_name(d)
                    if ident is None:
                        continue
                    qualified = f"{src.text(cname)}::{src.text(ident)}"
                    if qualified not in facts.statics:
                        var = static_of_declaration(facts, member, d, ident)
                        if var is not None:
                            var = replace(
                                var, name=qualified, key=f"c:@{qualified}", storage=Storage.CLASS, definition=False
                            )
                            facts.statics[qualified] = var

    def _structs(self, n: Node, facts: FileFacts) -> None:
        """Structs whose first member is a PyObject header (FT103 objects), and their object fields."""
        src = facts.src
        for spec, body in _record_bodies(n):
            if not _OBJECT_HEAD.match(src.text(body)):
                facts.plain_structs.update(_record_names(n, spec, src))
                continue
            fields: dict[str, bool] = {}
            pointers: set[str] = set()
            for member in _fields(body):
                ftype = member.child_by_field_name("type")
                for d in member.children_by_field_name("declarator"):
                    ident = declarator_name(d)
                    if ident is not None:
                        pointer = any(c.type == "pointer_declarator" for c in declarator_chain(d))
                        fields[src.text(ident)] = pointer and ftype is not None and src.text(ftype) == "PyObject"
                        if pointer and not fields[src.text(ident)] and "(" not in src.text(d):
                            pointers.add(src.text(ident))  # a data pointer (a function pointer is not)
                        if ftype is not None:
                            facts.object_fields.setdefault(src.text(ident), src.text(ftype) + (" *" if pointer else ""))
            for name in _record_names(n, spec, src):
                facts.object_structs[name] = fields
                facts.pointer_fields[name] = pointers

    def _function(self, n: Node, facts: FileFacts, macros: dict[str, bool] | None = None) -> Function | None:
        src = facts.src
        decl = n.child_by_field_name("declarator")
        body = n.child_by_field_name("body")
        name = _function_name(n, src, macros)
        if name is None or body is None:
            return None
        fdecl = next((c for c in declarator_chain(decl) if c.type == "function_declarator"), None)
        params: list[Param] = []
        if fdecl is not None:
            plist = fdecl.child_by_field_name("parameters")
            for i, p in enumerate(named(plist) if plist is not None else []):
                pident = declarator_name(p.child_by_field_name("declarator"))
                ptype = p.child_by_field_name("type")
                if pident is not None:
                    star = "*" * src.text(p).count("*")
                    quals = "".join(f"{src.text(q)} " for q in named(p) if q.type == "type_qualifier")
                    base = src.text(ptype) if ptype is not None else ""
                    params.append(Param(src.text(pident), quals + base + star, i))
        storage = {src.text(c) for c in named(n) if c.type == "storage_class_specifier"}
        internal = "static" in storage or "inline" in storage or in_anonymous_namespace(n)
        fn = Function(name, span(n), params, internal=internal)
        fn.plain_struct_params = [p.name for p in params if _plain_struct_pointer(p.type, facts)]
        walker = TsWalker(facts, fn)
        if walker.stmt(body):
            walker.returning()
        walker.close_struct_uses()
        if has_allocation(call.name for call in fn.calls):
            pointers = {name for name, t in walker.local_types.items() if "*" in t}
            fn.pointer_flows = flows_of(body, src, pointers, [p.name for p in fn.params], fn.span)
        return fn

    def _table(
        self, n: Node, facts: FileFacts, unit: Unit, tables: list[tuple[str, str, Span]], slots: dict[str, str]
    ) -> None:
        """Function references in static initialisers (method tables, slots) and module definitions."""
        src = facts.src
        type_node = n.child_by_field_name("type")
        table = type_words(src.text(type_node)) if type_node is not None else ""
        for d in n.children_by_field_name("declarator"):
            if d.type != "init_declarator":
                continue
            value = d.child_by_field_name("value")
            ident = declarator_name(d)
            if value is None or ident is None:
                continue
            if table == "PyModuleDef_Slot":
                slots[src.text(ident)] = blank_comments_and_strings(src.text(value))
            elif table == "PyModuleDef":
                tables.append((src.text(ident), blank_comments_and_strings(src.text(value)), span(ident)))
            # a table, or a function's address kept whole (`int (*hook)(Buf *) = fill;`: a caller the scan
            # cannot see may call it, as libclang records too)
            unit.refs += self._refs(value, table, "", facts)

    def _refs(self, n: Node, table: str, fld: str, facts: FileFacts) -> list[FunctionRef]:
        src = facts.src
        out: list[FunctionRef] = []
        kids = named(n)
        if (
            n.type == "initializer_list"
            and table in _SLOT_TABLES
            and len(kids) == 2
            and kids[0].type != "initializer_list"
        ):
            return self._refs(kids[1], table, src.text(kids[0]).strip(), facts)
        if n.type == "initializer_list":
            fields = _FIELDS.get(table, []) if not fld else []
            nested = all(k.type == "initializer_list" for k in kids) and table not in ("PyTypeObject",)
            for i, k in enumerate(kids):
                if k.type == "initializer_pair":
                    designator = next((c for c in named(k) if c.type == "field_designator"), None)
                    value = k.child_by_field_name("value")
                    name = src.text(designator).lstrip(".") if designator is not None else ""
                    if value is not None:
                        out += self._refs(value, table, fld or name, facts)
                    continue
                sub = fld or ("" if nested else (fields[i] if i < len(fields) else ""))
                out += self._refs(k, table, sub, facts)
            return out
        if n.type in ("identifier", "pointer_expression", "cast_expression", "parenthesized_expression"):
            ident = n
            while ident.type in ("pointer_expression", "cast_expression", "parenthesized_expression"):
                inner = ident.child_by_field_name("argument") or ident.child_by_field_name("value")
                if inner is None:
                    inner = next(iter(named(ident)), None)
                if inner is None:
                    return out
                ident = inner
            name = src.text(ident)
            if ident.type == "identifier" and (name in facts.functions_defined or name in facts.functions_declared):
                out.append(FunctionRef(name, f"{table}.{fld}" if fld else table, span(ident)))
            return out
        for k in kids:
            out += self._refs(k, table, fld, facts)
        return out


_CONSTANT_TYPES = frozenset({"bool", "int", "unsigned", "long", "short", "char", "_Bool", "size_t"})


def _false_constant(decl: Node, d: Node, src: Source) -> bool:
    """Does declarator `d` of file- or namespace-scope declaration `decl` define a `const` or `constexpr`
    bool or integer (no pointer, no array) initialised with the literal `false` or `0`? A macro, an
    expression or any other literal is not taken: what the build sets it to is not known here."""
    if d.type != "init_declarator" or d.child_by_field_name("declarator") is None:
        return False
    inner = d.child_by_field_name("declarator")
    value = d.child_by_field_name("value")
    if inner is None or inner.type != "identifier" or value is None:
        return False
    words = {src.text(c) for c in named(decl) if c.type in ("type_qualifier", "storage_class_specifier")}
    if not words & {"const", "constexpr"}:
        return False
    type_node = decl.child_by_field_name("type")
    if type_node is None or type_node.type not in ("primitive_type", "sized_type_specifier"):
        return False
    if not set(src.text(type_node).split()) <= _CONSTANT_TYPES | {"signed", "unsigned"}:
        return False
    return src.text(value).strip() in ("false", "0")


def _record_names(n: Node, spec: Node, src: Source) -> list[str]:
    """The names a struct definition gives its type: its tag, and a typedef's names."""
    names = []
    sname = spec.child_by_field_name("name")
    if sname is not None:
        names.append(src.text(sname))
    if n.type == "type_definition":
        names += [src.text(x) for d in n.children_by_field_name("declarator") if (x := declarator_name(d))]
    return names


def _record_bodies(n: Node) -> Iterator[tuple[Node, Node]]:
    """The struct and class specifiers with a body in a declaration: itself, or its type."""
    for spec in [n, *named(n)]:
        if spec.type in ("struct_specifier", "class_specifier"):
            body = spec.child_by_field_name("body")
            if body is not None:
                yield spec, body


def _plain_struct_pointer(type_text: str, facts: FileFacts) -> bool:
    """Is a parameter of this type (as written) a pointer to a struct this file defines with no PyObject
    header (and no object struct of the same name)?"""
    if type_text.count("*") != 1:
        return False
    words = [w for w in type_text.replace("*", " ").split() if w not in ("const", "struct", "volatile")]
    return len(words) == 1 and words[0] in facts.plain_structs and words[0] not in facts.object_structs


def _fields(body: Node) -> list[Node]:
    return [m for m in named(body) if m.type == "field_declaration"]


def _includes(text: str) -> list[str]:
    return re.findall(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', text, re.M)


def _local_declarations(fn: Node) -> list[Node]:
    """The declarations inside a function body (blocks and preprocessor branches included)."""
    out: list[Node] = []
    body = fn.child_by_field_name("body")
    stack = [body] if body is not None else []
    while stack:
        n = stack.pop()
        for c in named(n):
            if c.type == "declaration":
                out.append(c)
            elif c.type in ("compound_statement", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif"):
                stack.append(c)
    return out
