"""`X.extension_module('name', sources..., link_with: lib)` calls of a meson.build, read statically.

A small reader of meson's syntax (tokens, statements, expressions), not an interpreter: it
evaluates string and list literals, `+`, `/` between strings, `files(...)`, `join_paths(...)`,
indexing a list, variables assigned in the same file (`=`, `+=`), `gen.process('x.c.src')` (the
source it is given) and `static_library(name, sources...)`, whose sources count for a module
that lists it in `link_with:`. `foreach` over a literal list runs its body once per item;
`if`/`elif`/`else` bodies are all read, in order, conditions ignored (a string literal read
inside one is a `Branched` string: a `-D` option there is a configuration's choice, not taken).
Anything else is unknown: a module with an unknown source is `complete=False`. Variables of other
meson.build files (`subdir()`) are not seen. Besides the modules, every compiled target
(`extension_module`, `static_library`, `library`, `shared_library`, `executable`) and
`add_project_arguments` say which `-D`/`-U` options their C and C++ sources get (`CompiledSources`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from . import MAX_VALUE, BuildTarget, ConfiguredFile, source_path
from .defines import CompiledSources, define_options

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r\f]+|\\\n)
      |(?P<comment>\#[^\n]*)
      |(?P<nl>\n)
      |(?P<str>f?'''.*?'''|f?'(?:[^'\\\n]|\\.)*')
      |(?P<num>0[xob][0-9a-fA-F]+|\d+)
      |(?P<id>[A-Za-z_][A-Za-z_0-9]*)
      |(?P<op>\+=|==|!=|<=|>=|[-+*/%()\[\]{},:.?<>=])""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'"}
_KEYWORDS = {"if", "elif", "else", "endif", "foreach", "endforeach", "break", "continue", "and", "or", "not", "in"}
_MAX_STEPS = 200_000  # statements evaluated per file (foreach bodies included)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class Branched(str):
    """A string literal read inside an `if` block, whose condition this reader does not evaluate."""

    __slots__ = ()


@dataclass
class Library:
    """A static_library()/library() result: its sources, for a module linking it."""

    sources: list[object]


@dataclass
class ConfigData:
    """A configuration_data() object: the values set outside any `if` (a value set inside one, or
    one this reader cannot evaluate, is UNKNOWN: a feature check's result is not guessed)."""

    values: dict[str, object] = field(default_factory=dict)


@dataclass
class _Token:
    kind: str
    text: str
    line: int


def tokenize(text: str) -> list[_Token]:
    """Meson tokens; newlines inside brackets dropped (they do not end a statement)."""
    out: list[_Token] = []
    depth, line, pos = 0, 1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        value = m.group()
        if kind == "op" and value in "([{":
            depth += 1
        elif kind == "op" and value in ")]}":
            depth = max(0, depth - 1)
        if kind not in ("ws", "comment") and not (kind == "nl" and depth):
            out.append(_Token(kind, value, line))
        line += value.count("\n")
        pos = m.end()
    out.append(_Token("nl", "\n", line))
    out.append(_Token("eof", "", line))
    return out


def _string(text: str) -> str:
    body = text[1:] if text.startswith("f") else text
    if body.startswith("'''"):
        return body[3:-3]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body[1:-1])


@dataclass
class _Reader:
    tokens: list[_Token]
    path: str
    env: dict[str, object] = field(default_factory=dict)
    targets: list[BuildTarget] = field(default_factory=list)
    configured: list[ConfiguredFile] = field(default_factory=list)
    compiled: list[CompiledSources] = field(default_factory=list)
    pos: int = 0
    steps: int = 0
    branch: int = 0  # depth of `if` blocks being read: their conditions are not evaluated
    branched: set[str] = field(default_factory=set)  # variables assigned inside one
    tainted: bool = False  # the expression being read used one of them

    # -- tokens
    def peek(self, text: str | None = None, kind: str | None = None) -> bool:
        tok = self.tokens[self.pos]
        return (text is None or tok.text == text) and (kind is None or tok.kind == kind)

    def take(self, text: str | None = None) -> _Token:
        tok = self.tokens[self.pos]
        if text is not None and tok.text != text:
            raise ValueError(f"line {tok.line}: expected {text!r}, found {tok.text!r}")
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def skip_line(self) -> None:
        while not self.peek(kind="nl") and not self.peek(kind="eof"):
            self.pos += 1

    # -- statements
    def block(self, ends: tuple[str, ...], run: bool = True) -> str:
        """Statements up to one of `ends` (returned, not consumed); `run=False` only skips them."""
        while True:
            while self.peek(kind="nl"):
                self.take()
            tok = self.tokens[self.pos]
            if tok.kind == "eof":
                return ""
            if tok.kind == "id" and tok.text in ends:
                return tok.text
            self.statement(run)

    def statement(self, run: bool) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise ValueError("too many statements")
        tok = self.tokens[self.pos]
        if tok.kind == "id" and tok.text == "if":
            self.take()
            self.expression(False)
            self.branch += 1
            while self.block(("elif", "else", "endif"), run) in ("elif", "else"):
                if self.take().text == "elif":
                    self.expression(False)
            self.branch -= 1
            self.take("endif")
        elif tok.kind == "id" and tok.text == "foreach":
            self.foreach(run)
        elif tok.kind == "id" and tok.text in ("break", "continue"):
            self.take()
        elif tok.kind == "id" and self.tokens[self.pos + 1].text in ("=", "+="):
            self.take()
            op = self.take().text
            value = self.expression(run)
            if run:
                if self.branch:
                    self.branched.add(tok.text)
                if op == "=":
                    self.env[tok.text] = value
                else:
                    before = self.env.get(tok.text, UNKNOWN)
                    self.env[tok.text] = _add(before, value)
        else:
            self.expression(run)
        if not self.peek(kind="nl") and not self.peek(kind="eof"):
            raise ValueError(f"line {self.tokens[self.pos].line}: unexpected {self.tokens[self.pos].text!r}")

    def foreach(self, run: bool) -> None:
        self.take("foreach")
        names = [self.take().text]
        while self.peek(","):
            self.take()
            names.append(self.take().text)
        self.take(":")
        items = self.expression(run)
        body = self.pos
        runs = items if run and isinstance(items, list) else []
        for item in runs[:1000]:
            self.pos = body
            if len(names) == 1:
                self.env[names[0]] = item
            self.block(("endforeach",), True)
        self.pos = body
        self.block(("endforeach",), False)
        self.take("endforeach")

    # -- expressions (precedence climbing; values are only computed when `run`)
    def expression(self, run: bool) -> object:
        value = self.binary(0, run)
        if self.peek("?"):
            self.take()
            self.expression(False)
            self.take(":")
            self.expression(False)
            return UNKNOWN
        return value

    _LEVELS = (("or",), ("and",), ("==", "!=", "<", ">", "<=", ">=", "in", "not"), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int, run: bool) -> object:
        if level == len(self._LEVELS):
            return self.unary(run)
        left = self.binary(level + 1, run)
        while self.tokens[self.pos].text in self._LEVELS[level] and self.tokens[self.pos].kind in ("op", "id"):
            op = self.take().text
            if op == "not":
                self.take("in")
            right = self.binary(level + 1, run)
            left = _binary(op, left, right) if run else UNKNOWN
        return left

    def unary(self, run: bool) -> object:
        if self.peek("not") or self.peek("-"):
            self.take()
            self.unary(run)
            return UNKNOWN
        return self.postfix(run)

    def postfix(self, run: bool) -> object:
        value = self.primary(run)
        while True:
            if self.peek("."):
                self.take()
                method = self.take()
                before, self.tainted = self.tainted, False
                args, kwargs = self.arguments(run)
                guessed, self.tainted = self.tainted, before or self.tainted
                if run and method.text == "extension_module":
                    self.module(method.line, args, kwargs)
                if run and isinstance(value, ConfigData) and method.text in ("set", "set10", "set_quoted"):
                    self.config_set(value, method.text, args, guessed)
                value = _method(method.text, value, args) if run else UNKNOWN
            elif self.peek("["):
                self.take()
                index = self.expression(run)
                self.take("]")
                ok = isinstance(value, list) and isinstance(index, int) and -len(value) <= index < len(value)
                value = value[index] if run and ok else UNKNOWN  # type: ignore[index]
            else:
                return value

    def primary(self, run: bool) -> object:
        tok = self.take()
        if tok.kind == "str":
            if tok.text.startswith("f"):
                return UNKNOWN
            return Branched(_string(tok.text)) if self.branch else _string(tok.text)
        if tok.kind == "num":
            return int(tok.text, 0)
        if tok.text == "(":
            value = self.expression(run)
            self.take(")")
            return value
        if tok.text == "[":
            items = []
            while not self.peek("]"):
                items.append(self.expression(run))
                if not self.peek("]"):
                    self.take(",")
            self.take("]")
            return items
        if tok.text == "{":
            items: dict[object, object] | None = {}
            while not self.peek("}"):
                key = self.expression(run)
                self.take(":")
                value = self.expression(run)
                if items is not None and isinstance(key, str):
                    items[key] = value
                else:
                    items = None
                if not self.peek("}"):
                    self.take(",")
            self.take("}")
            return items if run and items is not None else UNKNOWN
        if tok.kind == "id" and tok.text not in _KEYWORDS:
            if self.peek("("):
                before, self.tainted = self.tainted, False
                args, kwargs = self.arguments(run)
                guessed, self.tainted = self.tainted, before or self.tainted
                if tok.text == "configuration_data" and guessed:
                    args = []  # its values would be guesses
                return self.function(tok, args, kwargs) if run else UNKNOWN
            if tok.text in ("true", "false"):
                return tok.text == "true"
            if tok.text in self.branched:
                self.tainted = True
            return self.env.get(tok.text, UNKNOWN) if run else UNKNOWN
        raise ValueError(f"line {tok.line}: unexpected {tok.text!r}")

    def arguments(self, run: bool) -> tuple[list[object], dict[str, object]]:
        if not self.peek("("):
            return [], {}
        self.take("(")
        args: list[object] = []
        kwargs: dict[str, object] = {}
        while not self.peek(")"):
            if self.peek(kind="id") and self.tokens[self.pos + 1].text == ":":
                key = self.take().text
                self.take(":")
                kwargs[key] = self.expression(run)
            else:
                args.append(self.expression(run))
            if not self.peek(")"):
                self.take(",")
        self.take(")")
        return args, kwargs

    # -- calls meson would run
    def function(self, tok: _Token, args: list[object], kwargs: dict[str, object]) -> object:
        if tok.text == "files":
            return list(args)
        if tok.text == "join_paths" and args and all(isinstance(a, str) for a in args):
            return os.path.join(*args)  # type: ignore[arg-type]
        if tok.text in _COMPILED:
            sources = list(args[1:]) + _as_list(kwargs.get("sources"))
            self.compile_options(tok.line, sources, kwargs)
            return Library(sources) if tok.text != "executable" else UNKNOWN
        if tok.text == "add_project_arguments":
            self.project_options(tok.line, args, kwargs)
        if tok.text == "configure_file":
            self.configure_file(tok.line, kwargs)
        if tok.text == "configuration_data":
            given = args[0] if args else {}
            return ConfigData(dict(given) if isinstance(given, dict) else {})
        return UNKNOWN

    def config_set(self, data: ConfigData, method: str, args: list[object], guessed: bool) -> None:
        """`data.set('X', v)`, `set10`, `set_quoted`: X's value, UNKNOWN inside an `if` or when `v`
        reads a variable assigned inside one (`guessed`)."""
        if not args or not isinstance(args[0], str):
            return
        value = args[1] if len(args) > 1 and not self.branch and not guessed else UNKNOWN
        if method == "set10" and isinstance(value, bool):
            value = int(value)
        elif method == "set_quoted" and isinstance(value, str):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        data.values[args[0]] = value if isinstance(value, (str, int)) else UNKNOWN

    def configure_file(self, line: int, kwargs: dict[str, object]) -> None:
        """Record a `configure_file` whose input and output are known strings and that substitutes a
        configuration (or copies): one run by `command:` writes what its script decides."""
        template, output = kwargs.get("input"), kwargs.get("output")
        if isinstance(template, list) and len(template) == 1:
            template = template[0]
        if not isinstance(template, str) or not isinstance(output, str) or "command" in kwargs:
            return
        fmt = kwargs.get("format", "meson")
        if kwargs.get("copy") is True:
            syntax = "copy"
        elif fmt in ("meson", "cmake", "cmake@"):
            syntax = str(fmt)
        else:
            return
        # meson's placeholders for the input's file name, with and without its last extension
        name = os.path.basename(template)
        output = output.replace("@PLAINNAME@", name).replace("@BASENAME@", os.path.splitext(name)[0])
        if "@" not in output:
            base = os.path.dirname(self.path)
            data = kwargs.get("configuration")
            values = tuple(
                (k, _macro_text(v)) for k, v in (data.values if isinstance(data, ConfigData) else {}).items()
            )
            self.configured.append(ConfiguredFile(source_path(base, template), output, syntax, self.path, line, values))

    def compile_options(self, line: int, sources: list[object], kwargs: dict[str, object]) -> None:
        """Record the `-D`/`-U` options of `c_args:` and `cpp_args:` of a compiled target whose
        sources are `sources` (those this reader knows)."""
        c, cpp = define_options(_strings(kwargs.get("c_args"))), define_options(_strings(kwargs.get("cpp_args")))
        known, _ = _sources(sources)
        if known and (c or cpp):
            base = os.path.dirname(self.path)
            files = tuple(dict.fromkeys(source_path(base, s) for s in known))
            self.compiled.append(CompiledSources(self.path, line, files, c, cpp))

    def project_options(self, line: int, args: list[object], kwargs: dict[str, object]) -> None:
        """`add_project_arguments('-DX', language: ['c', 'cpp'])`: options of every C/C++ file of the
        project, which is the build file's directory and below; not inside an `if`."""
        languages = [x for x in _as_list(kwargs.get("language")) if isinstance(x, str)]
        options = define_options(_strings(args))
        if options and languages and not self.branch and not any(isinstance(x, Branched) for x in languages):
            c = options if "c" in languages else ()
            cpp = options if "cpp" in languages else ()
            self.compiled.append(CompiledSources(self.path, line, (), c, cpp, os.path.dirname(self.path)))

    def module(self, tok_line: int, args: list[object], kwargs: dict[str, object]) -> None:
        name = args[0] if args else UNKNOWN
        if not isinstance(name, str) or not name:
            return
        self.compile_options(tok_line, list(args[1:]) + _as_list(kwargs.get("sources")), kwargs)
        sources, complete = _sources(list(args[1:]) + _as_list(kwargs.get("sources")))
        for lib in _as_list(kwargs.get("link_with")):
            if isinstance(lib, Library):
                more, fine = _sources(lib.sources)
                sources += more
                complete = complete and fine
        base = os.path.dirname(self.path)
        files = tuple(dict.fromkeys(source_path(base, s) for s in sources))
        self.targets.append(BuildTarget(name, "meson", self.path, tok_line, files, complete=complete))


def _macro_text(value: object) -> str | None:
    """A configuration value as configure_file writes it: a string or number as is, `true` an empty
    definition, `false` none (None); UNKNOWN stays UNKNOWN's marker, "?"."""
    if isinstance(value, bool):
        return "" if value else None
    if isinstance(value, (str, int)):
        return str(value)
    return UNKNOWN_VALUE


UNKNOWN_VALUE = "\0?"  # a value set, but not known here: the stand-in's own rules decide


_COMPILED = ("static_library", "library", "shared_library", "executable")


def _strings(value: object) -> list[str]:
    """The strings of a value, nested lists flattened; a `Branched` one is kept as such (so that
    `define_options` can leave it out)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _sources(values: list[object]) -> tuple[list[str], bool]:
    out: list[str] = []
    complete = True
    for v in values:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, list):
            more, fine = _sources(v)
            out += more
            complete = complete and fine
        elif not isinstance(v, Library):
            complete = False
    return out, complete


def _add(left: object, right: object) -> object:
    if isinstance(left, dict) and isinstance(right, dict):
        out: object = {**left, **right}
    elif isinstance(left, list):
        out = left + (right if isinstance(right, list) else [right])
    elif isinstance(left, str) and isinstance(right, str):
        out = left + right
    else:
        return UNKNOWN
    # `x += x` in a loop doubles a value per statement: past the bound it is not read
    return UNKNOWN if len(out) > MAX_VALUE else out  # type: ignore[arg-type]


def _binary(op: str, left: object, right: object) -> object:
    if op == "+":
        return _add(left, right)
    if op == "/" and isinstance(left, str) and isinstance(right, str):
        return os.path.join(left, right)
    return UNKNOWN


def _method(method: str, value: object, args: list[object]) -> object:
    if method == "process":  # generator.process('x.c.src'): built from that source
        return list(args)
    return UNKNOWN


def targets(text: str, path: str) -> list[BuildTarget]:
    """The extension modules a meson.build names. Raises ValueError on what it cannot read."""
    reader = _Reader(tokenize(text), path)
    reader.block(())
    return reader.targets


def compiled_sources(text: str, path: str) -> list[CompiledSources]:
    """The `-D`/`-U` options a meson.build (at `path`) gives its compiled targets' sources and, with
    `add_project_arguments`, its whole directory. Raises ValueError on what it cannot read."""
    reader = _Reader(tokenize(text), path)
    reader.block(())
    return reader.compiled


def configured_files(text: str, path: str) -> list[ConfiguredFile]:
    """The `configure_file` calls of a meson.build (at `path`) whose input and output are strings
    this reader can evaluate. Raises ValueError on what it cannot read."""
    reader = _Reader(tokenize(text), path)
    reader.block(())
    return reader.configured
