"""Python extension targets of a CMakeLists.txt, read statically (CMake is never run).

Reads command invocations (`name(args)`, with quoted, bracket and unquoted arguments, `#` and
bracket comments), keeps `set(VAR ...)` and `list(APPEND VAR ...)` of the same file for `${VAR}`
(`${CMAKE_CURRENT_SOURCE_DIR}` and `${CMAKE_CURRENT_LIST_DIR}` are the file's directory), and
returns a target for `pybind11_add_module`, `nanobind_add_module` and
`Python_add_library`/`Python3_add_library` (their keywords, FREE_THREADED among them, are
`options`); `target_sources(name ...)` adds to a target defined above it. An unknown variable or a
generator expression `$<...>` makes the target `complete=False`. `compiled_sources` reads the
`-D`/`-U` options of `add_definitions`, `add_compile_definitions` (the directory and below) and
`target_compile_definitions` (a target's sources), outside `if`, `foreach`, `while`, `function` and
`macro` blocks (buildfiles.defines).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from . import MAX_VALUE, BuildTarget, ConfiguredFile, source_path
from .defines import CompiledSources, define_options

_COMMAND = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")
_BRACKET_OPEN = re.compile(r"\[(=*)\[")
_VAR = re.compile(r"\$\{([A-Za-z0-9_./+-]+)\}")

# Keywords of each command (not sources); the value after a keyword in VALUED is skipped too.
KINDS = {"pybind11_add_module": "pybind11", "nanobind_add_module": "nanobind", "python_add_library": "python"}
KEYWORDS = {
    "pybind11": {"MODULE", "SHARED", "EXCLUDE_FROM_ALL", "NO_EXTRAS", "SYSTEM", "THIN_LTO", "OPT_SIZE"},
    "nanobind": {
        "STABLE_ABI",
        "FREE_THREADED",
        "NB_STATIC",
        "NB_SHARED",
        "PROTECT_STACK",
        "LTO",
        "NOMINSIZE",
        "NOSTRIP",
        "MUSL_DYNAMIC_LIBCPP",
        "NB_SUPPRESS_WARNINGS",
        "NB_DOMAIN",
    },
    "python": {"MODULE", "SHARED", "STATIC", "WITH_SOABI", "USE_SABI"},
}
VALUED = {"NB_DOMAIN", "USE_SABI"}
_SCOPES = {"PRIVATE", "PUBLIC", "INTERFACE"}


def commands(text: str) -> list[tuple[str, int, list[tuple[str, bool]]]]:
    """(lower-cased name, line, [(argument, quoted)]) of each command invocation, comments skipped."""
    out = []
    pos = 0
    line, counted = 1, 0  # the line at `counted`: lines are counted once, not from the start per command
    while pos < len(text):
        ch = text[pos]
        if ch == "#":
            pos = _skip_comment(text, pos)
            continue
        m = _COMMAND.match(text, pos)
        if m is None or (pos and (text[pos - 1].isalnum() or text[pos - 1] == "_")):
            pos += 1
            continue
        line += text.count("\n", counted, pos)
        counted = pos
        args, pos = _arguments(text, m.end())
        out.append((m.group(1).lower(), line, args))
    return out


def _skip_comment(text: str, pos: int) -> int:
    bracket = _BRACKET_OPEN.match(text, pos + 1)
    if bracket:
        end = text.find("]" + bracket.group(1) + "]", bracket.end())
        return len(text) if end < 0 else end + len(bracket.group(1)) + 2
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _arguments(text: str, pos: int) -> tuple[list[tuple[str, bool]], int]:
    args: list[tuple[str, bool]] = []
    depth = 0
    while pos < len(text):
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif ch == "#":
            pos = _skip_comment(text, pos)
        elif ch == ")":
            if depth == 0:
                return args, pos + 1
            depth -= 1
            pos += 1
        elif ch == "(":
            depth += 1
            pos += 1
        elif ch == '"':
            end = pos + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            args.append((text[pos + 1 : end], True))
            pos = end + 1
        elif (bracket := _BRACKET_OPEN.match(text, pos)) is not None:
            close = "]" + bracket.group(1) + "]"
            end = text.find(close, bracket.end())
            end = len(text) if end < 0 else end
            args.append((text[bracket.end() : end], True))
            pos = end + len(close)
        else:
            end = pos
            while end < len(text) and not text[end].isspace() and text[end] not in '()#"':
                end += 2 if text[end] == "\\" else 1
            args.append((text[pos:end], False))
            pos = end
    return args, pos


def _expanded(text: str, path: str, extra: dict[str, str] | None = None) -> Iterator[tuple[str, int, list[str], bool]]:
    """(name, line, arguments with `${VAR}` expanded, every variable known) of each command of a
    CMakeLists.txt at `path`, after keeping the `set`/`list(APPEND)` of the commands before it.
    `extra`: more variables known from the start. Values are bounded like meson's and setup.py's
    (`set(S ${S} ${S})` doubles per line): past `MAX_VALUE` characters substituted into one command, a
    reference is not understood (unknown), and a variable set to more is unset."""
    base = os.path.abspath(os.path.dirname(path))
    env = {"CMAKE_CURRENT_SOURCE_DIR": base, "CMAKE_CURRENT_LIST_DIR": base, **(extra or {})}
    unknown: set[str] = set()
    oversized: set[str] = set()  # variables once set past the bound: never known again
    budget = [MAX_VALUE]  # characters the current command may still substitute (0 once one was refused)

    def sub(m: re.Match[str]) -> str:
        value = env.get(m.group(1))
        if value is None or len(value) > budget[0] or m.group(1) in oversized:
            unknown.add(m.group(1))
            if value is not None or m.group(1) in oversized:
                budget[0] = -1
            return ""
        budget[0] -= len(value)
        return value

    for name, line, raw in commands(text):
        unknown.clear()
        budget[0] = MAX_VALUE
        args: list[str] = []
        for arg, quoted in raw:
            value = _VAR.sub(sub, arg)
            args += [value] if quoted else [v for v in value.split(";") if v]
        if name == "set" and args:
            values = [a for a in args[1:] if a != "PARENT_SCOPE"]
            if "CACHE" in values:
                values = values[: values.index("CACHE")]
            _assign(env, oversized, args[0], ";".join(values), budget[0] < 0)
        elif name == "list" and len(args) > 1 and args[0] == "APPEND":
            joined = ";".join(([env[args[1]]] if env.get(args[1]) else []) + args[2:])
            _assign(env, oversized, args[1], joined, budget[0] < 0)
        yield name, line, args, not unknown


def _assign(env: dict[str, str], oversized: set[str], name: str, value: str, refused: bool) -> None:
    """`env[name] = value`, or `name` unknown from now on (in `oversized`) when the value is past
    `MAX_VALUE` or `refused`: a reference in it was past the bound."""
    if refused or len(value) > MAX_VALUE:
        env.pop(name, None)
        oversized.add(name)
    else:
        env[name] = value


def targets(text: str, path: str) -> list[BuildTarget]:
    """The Python extension targets a CMakeLists.txt names."""
    base = os.path.dirname(path)
    found: dict[str, BuildTarget] = {}
    for name, line, args, known in _expanded(text, path):
        if name in KINDS or name == "python3_add_library":
            kind = KINDS.get(name, "python")
            if args:
                found[args[0]] = _target(args[0], kind, path, line, args[1:], base, known)
        elif name == "target_sources" and args and args[0] in found:
            old = found[args[0]]
            more = [a for a in args[1:] if a not in _SCOPES]
            files = old.sources + tuple(_files(more, base))
            found[args[0]] = BuildTarget(
                old.name, old.kind, old.path, old.line, files, old.options, old.complete and known
            )
    return list(found.values())


_BIN = "\0bin"  # stands for the binary directory, which is not known here
_BINARY_DIRS = {"CMAKE_CURRENT_BINARY_DIR": _BIN, "CMAKE_BINARY_DIR": _BIN, "PROJECT_BINARY_DIR": _BIN}


def configured_files(text: str, path: str) -> list[ConfiguredFile]:
    """`configure_file(<input> <output> ...)` commands of a CMakeLists.txt at `path` whose input and
    output are known; the output relative to the binary directory (`${CMAKE_CURRENT_BINARY_DIR}/x.h`
    is `x.h`)."""
    out: list[ConfiguredFile] = []
    for name, line, args, known in _expanded(text, path, _BINARY_DIRS):
        if name != "configure_file" or len(args) < 2 or not known:
            continue
        template, output = args[0], args[1].removeprefix(_BIN + "/")
        if _BIN in template or _BIN in output or "$<" in template + output:
            continue
        syntax = "copy" if "COPYONLY" in args[2:] else "cmake@" if "@ONLY" in args[2:] else "cmake"
        out.append(ConfiguredFile(source_path(os.path.dirname(path), template), output, syntax, path, line))
    return out


def _files(args: list[str], base: str) -> list[str]:
    return [source_path(base, a) for a in args if "$<" not in a]


def _target(name: str, kind: str, path: str, line: int, args: list[str], base: str, known: bool) -> BuildTarget:
    keywords = KEYWORDS[kind]
    options: list[str] = []
    sources: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in keywords:
            options.append(arg)
            skip = arg in VALUED
        else:
            sources.append(arg)
    complete = known and not any("$<" in s for s in sources)
    return BuildTarget(name, kind, path, line, tuple(_files(sources, base)), tuple(options), complete)


_BLOCKS = {"if": "endif", "foreach": "endforeach", "while": "endwhile", "function": "endfunction", "macro": "endmacro"}
_TARGETS = {"add_library", "add_executable", *KINDS, "python3_add_library"}
_TARGET_WORDS = {"STATIC", "OBJECT", "IMPORTED", "ALIAS", "GLOBAL", "WIN32", "MACOSX_BUNDLE", *_SCOPES}
_TARGET_WORDS |= {w for words in KEYWORDS.values() for w in words}


def compiled_sources(text: str, path: str) -> list[CompiledSources]:
    """The `-D`/`-U` options a CMakeLists.txt at `path` gives its targets' sources
    (`target_compile_definitions` of a target defined above it: every scope keyword counts) and its
    directory (`add_definitions(-DX)`, `add_compile_definitions(X)`), for commands outside every
    block whose body may not run, with every variable known."""
    base = os.path.dirname(path)
    sources: dict[str, tuple[str, ...]] = {}
    out: list[CompiledSources] = []
    depth = 0
    ends = set(_BLOCKS.values())
    for name, line, args, known in _expanded(text, path):
        if name in _BLOCKS:
            depth += 1
        elif name in ends:
            depth = max(0, depth - 1)
        elif depth or not known:
            continue
        elif name in _TARGETS and args:
            listed = [a for a in args[1:] if a not in _TARGET_WORDS]
            sources[args[0]] = sources.get(args[0], ()) + tuple(_files(listed, base))
        elif name == "target_sources" and args and args[0] in sources:
            sources[args[0]] += tuple(_files([a for a in args[1:] if a not in _SCOPES], base))
        elif name == "target_compile_definitions" and args and sources.get(args[0]):
            found = define_options(f"-D{a.removeprefix('-D')}" for a in args[1:] if a not in _SCOPES)
            if found:
                out.append(CompiledSources(path, line, sources[args[0]], found, found))
        elif name in ("add_definitions", "add_compile_definitions"):
            given = args if name == "add_definitions" else [f"-D{a.removeprefix('-D')}" for a in args]
            found = define_options(given)
            if found:
                out.append(CompiledSources(path, line, (), found, found, os.path.abspath(base)))
    return out
