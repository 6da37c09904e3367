"""Which compile_commands.json arguments reach libclang: an allowlist (docs/security.md).

A compile database in a pull request is written by whoever opened it, and libclang
runs the clang driver on what it is given: `-Wp,-MD,FILE` writes a dependency file
anywhere, `-fsanitize-ignorelist=FILE` prints a line of any file into the log,
`-fplugin=` loads code. So an argument is kept only when a rule below says it shapes
the parse and can name no file but a header directory, or a header inside the tree:

- include directories (`-I -isystem -iquote -idirafter`, joined or separate), made
  absolute against the entry's directory (headers read from outside the tree only
  change which declarations are seen; nothing of them is printed but findings);
- `-D`/`-U` as written, joined to their value (a macro cannot write or read a file), but not
  with a line break;
- `-include`/`-imacros` of a file inside the allowed directories (the scan roots);
- `-x` with a known language, `-std=` with a plain value, `--target=`/`-target` with a
  plain triple, and an explicit list of path-free `-f`, `-m` and other language flags.

Everything else is dropped and reported (the caller lists it under `-v`); a dropped
option known to take a separate value drops that value too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from ..safeio import within

_INCLUDE_DIR_FLAGS = ("-isystem", "-iquote", "-idirafter", "-I")
_INCLUDE_FILE_FLAGS = ("-include", "-imacros")
_MACRO_FLAGS = ("-D", "-U")
_LANGUAGES = frozenset(
    {"c", "c++", "c-header", "c++-header", "objective-c", "objective-c++", "objective-c-header", "cuda"}
)
_STD = re.compile(r"-std=[A-Za-z0-9+]+")
_TRIPLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# -f flags that change how code parses and take no value (each also as -fno-NAME).
_F_FLAGS = frozenset(
    {
        "exceptions",
        "cxx-exceptions",
        "c++-exceptions",
        "rtti",
        "signed-char",
        "unsigned-char",
        "ms-extensions",
        "ms-compatibility",
        "openmp",
        "openmp-simd",
        "strict-aliasing",
        "PIC",
        "pic",
        "PIE",
        "pie",
        "blocks",
        "gnu89-inline",
        "gnu-keywords",
        "char8_t",
        "short-wchar",
        "short-enums",
        "declspec",
        "operator-names",
        "coroutines",
        "common",
        "dollars-in-identifiers",
        "asm",
        "delayed-template-parsing",
        "wrapv",
        "builtin",
        "freestanding",
        "sized-deallocation",
        "aligned-new",
        "threadsafe-statics",
        "permissive",
        "math-errno",
        "fast-math",
        "finite-math-only",
        "trapping-math",
    }
)
# -fNAME=VALUE flags whose value is a word from a fixed set, never a path.
_F_VALUED = {
    "visibility": re.compile(r"default|hidden|protected|internal"),
    "openmp": re.compile(r"libomp|libgomp|libiomp5"),
    "ms-compatibility-version": re.compile(r"[0-9]+(\.[0-9]+)*"),
}
_M_FLAG = re.compile(
    r"-m(32|64|x32|16|(no-)?(sse[0-9a-z.]*|ssse3|avx[0-9a-z_]*|fma4?|f16c|bmi2?|popcnt|lzcnt|aes|pclmul|sha|crc32"
    r"|mmx|movbe|rdrnd|rdseed|adx|xop|neon|altivec|vsx|thumb|arm|red-zone))"
)
_M_VALUED = re.compile(r"-m(arch|tune|cpu|fpu|abi|float-abi)=[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_PLAIN = frozenset({"-pthread", "-ansi", "-trigraphs"})
# Dropped options whose value is the next argument: dropped with them, never read as an argument itself.
_WITH_VALUE = frozenset(
    {
        "-o",
        "-MF",
        "-MT",
        "-MQ",
        "-MJ",
        "-Xclang",
        "-Xpreprocessor",
        "-Xassembler",
        "-Xlinker",
        "-Xarch_host",
        "-Xarch_device",
        "-Xopenmp-target",
        "-mllvm",
        "-arch",
        "-isysroot",
        "--sysroot",
        "-include-pch",
        "-iprefix",
        "-iwithprefix",
        "-iwithprefixbefore",
        "-iwithsysroot",
        "--config",
        "-dependency-file",
        "-serialize-diagnostics",
        "--param",
        "-L",
        "-l",
        "-T",
        "-u",
        "-z",
        "-x",
        "-target",
        "-D",
        "-U",
        "-include",
        "-imacros",
    }
)


def clean_args(args: Sequence[str], directory: str, inside: Sequence[str]) -> tuple[list[str], list[str]]:
    """The allowed arguments of one compile command (without the compiler), and the dropped options.

    `directory`: the entry's absolute working directory, against which paths are resolved.
    `inside`: real paths of the directories an `-include`/`-imacros` file must lie in.
    Returns (kept, dropped): kept is ready for libclang, every path absolute; dropped holds each
    dropped option as written (without its separate value). Positional arguments (the source
    file, objects) are dropped without a mention. Raises nothing."""
    kept: list[str] = []
    dropped: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        out, used = judge(arg, value, directory, inside)
        if out is None:
            if arg.startswith(("-", "@")):
                dropped.append(arg)
            used = 2 if arg in _WITH_VALUE and value is not None else 1
        else:
            kept += out
        i += used
    return kept, dropped


def judge(arg: str, value: str | None, directory: str, inside: Sequence[str]) -> tuple[list[str] | None, int]:
    """What `arg` (with `value`, the argument after it) becomes: (arguments to keep, arguments used),
    or (None, 0) when no rule allows it."""
    for rule in (_include_dir, _macro, _include_file, _language):
        out = rule(arg, value, directory, inside)
        if out[0] is not None:
            return out
    if _allowed_plain(arg):
        return [arg], 1
    if arg == "-target" and value is not None and _TRIPLE.fullmatch(value):
        return [arg, value], 2
    return None, 0


def _joined_or_separate(arg: str, value: str | None, flags: Sequence[str]) -> tuple[str, str, int] | None:
    """(flag, its value, arguments used) when `arg` is one of `flags`, its value joined or the next argument."""
    for flag in flags:
        if arg == flag:
            return (flag, value, 2) if value is not None else None
        if arg.startswith(flag) and arg not in _WITH_VALUE:  # not -include-pch as -include + "-pch"
            return flag, arg[len(flag) :], 1
    return None


def _include_dir(arg: str, value: str | None, directory: str, inside: Sequence[str]) -> tuple[list[str] | None, int]:
    hit = _joined_or_separate(arg, value, _INCLUDE_DIR_FLAGS)
    if hit is None:
        return None, 0
    flag, path, used = hit
    absolute = os.path.normpath(os.path.join(directory, path))
    return ([f"-I{absolute}"] if flag == "-I" else [flag, absolute]), used


def _macro(arg: str, value: str | None, directory: str, inside: Sequence[str]) -> tuple[list[str] | None, int]:
    hit = _joined_or_separate(arg, value, _MACRO_FLAGS)
    if hit is None or any(c in hit[1] for c in "\n\r\0"):  # clang would cut the line; refuse it instead
        return None, 0
    return [hit[0] + hit[1]], hit[2]  # joined: a value such as `-x` is never an argument of its own


def _include_file(arg: str, value: str | None, directory: str, inside: Sequence[str]) -> tuple[list[str] | None, int]:
    hit = _joined_or_separate(arg, value, _INCLUDE_FILE_FLAGS)
    if hit is None:
        return None, 0
    flag, path, used = hit
    real = os.path.realpath(os.path.join(directory, path))
    if not any(within(real, d) for d in inside):
        return None, 0
    return [flag, real], used


def _language(arg: str, value: str | None, directory: str, inside: Sequence[str]) -> tuple[list[str] | None, int]:
    hit = _joined_or_separate(arg, value, ("-x",))
    if hit is None or hit[1] not in _LANGUAGES:
        return None, 0
    return ["-x", hit[1]], hit[2]


def _allowed_plain(arg: str) -> bool:
    """A flag that stands alone and names no file: -std=, --target=, -f..., -m..., -pthread."""
    if arg in _PLAIN or _STD.fullmatch(arg) or _M_FLAG.fullmatch(arg) or _M_VALUED.fullmatch(arg):
        return True
    if arg.startswith("--target="):
        return bool(_TRIPLE.fullmatch(arg[len("--target=") :]))
    if arg.startswith("-f"):
        name, eq, val = arg[2:].partition("=")
        if eq:
            pattern = _F_VALUED.get(name)
            return pattern is not None and bool(pattern.fullmatch(val))
        return name.removeprefix("no-") in _F_FLAGS
    return False
