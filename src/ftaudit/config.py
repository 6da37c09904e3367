"""Configuration: `.ftaudit.toml`, `ftaudit.toml` or `[tool.ftaudit]` of a `pyproject.toml`,
found by walking up from the scanned path (as ruff finds `.ruff.toml`, `ruff.toml`, `pyproject.toml`).

Every key is declared once in KEYS (name, type, default, help), which is what
validation, docs/configuration.md, the JSON Schema (schema.py) and the tests read,
so the reference cannot drift from the code. Unknown keys and wrong types are
errors that name the key.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .catalogue import Catalogue
from .frontends.pythonheaders import TARGETS
from .pathfilter import DEFAULT_EXCLUDES, Patterns, compile_patterns
from .safeio import UnsafeFileError, read_regular, within
from .workers import DEFAULT_PARSE_LIMIT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and key."""


KINDS = {
    "string": "string",
    "bool": "boolean",
    "number": "number (>= 0)",
    "list": "list of strings",
    "table": "table of strings",
    "list-table": "table of lists of strings",
}
LEVELS = ("error", "warning", "note")
CONFIG_NAMES = (".ftaudit.toml", "ftaudit.toml", "pyproject.toml")  # in one directory, the first wins


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # one of KINDS
    help: str
    example: str
    choices: tuple[str, ...] = ()  # allowed values of a string, or of a table's entries
    item: re.Pattern[str] | None = None  # what each entry of a list must match
    default: Any = None  # None: not set (the help says what that means)


# A macro becomes exactly one argument, `-D<entry>`: a name (with parameters), then `=` and a value
# on one line. Anything else (`-Wp,-MD,x`) is refused rather than passed to clang to judge.
_MACRO = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\([A-Za-z0-9_, .]*\))?(=[^\n\r\0]*)?")
CONFIG_MAX_BYTES = 1 << 20


KEYS: tuple[Key, ...] = (
    Key(
        "select",
        "list",
        "Rule ids or prefixes to run instead of the rules enabled by default (unset: those). `--select` replaces it.",
        '["FT1", "FT2"]',
    ),
    Key(
        "extend-select",
        "list",
        "Rule ids or prefixes to run besides `select` (or the default rules): rules off by default join this way.",
        '["FT103"]',
        default=[],
    ),
    Key(
        "frontend",
        "string",
        "C/C++ parser: `auto` (libclang, or tree-sitter for a file libclang cannot parse well), `clang` "
        "or `treesitter`.",
        '"auto"',
        ("auto", "clang", "treesitter"),
        default="auto",
    ),
    Key(
        "target-version",
        "string",
        "The Python the extension is built for (`t`: free-threaded): libclang parses against the headers "
        "of `pythonX.Y[t]` found on PATH (by its installation's layout; it is never run), with "
        "`Py_GIL_DISABLED` defined when they are free-threaded. Unset: `python3.14t`, then `python3.13t`, "
        "else the running interpreter's headers. `--python-include` overrides both.",
        '"3.14t"',
        TARGETS,
    ),
    Key(
        "parse-timeout",
        "number",
        "CPU seconds libclang may take on one C/C++ file (frontend `auto`) before it is stopped and the file "
        "analysed with tree-sitter instead, a `parse-time-limit` problem (0: no such limit; `--timeout` "
        "still bounds every file). `--parse-timeout` overrides it.",
        "90",
        default=DEFAULT_PARSE_LIMIT,
    ),
    Key(
        "ignore",
        "list",
        "Rule ids or prefixes not to run. Where a selector and an ignore both match a rule, the more "
        'specific one wins (`select = ["FT101"]`, `ignore = ["FT1"]` runs FT101).',
        '["FT301"]',
        default=[],
    ),
    Key("extend-ignore", "list", "Rule ids or prefixes not to run, besides `ignore`.", '["FT302"]', default=[]),
    Key(
        "per-file-ignores",
        "list-table",
        "Rule ids or prefixes not to report in the files a glob matches (ruff's semantics: the glob is "
        "matched against the path relative to the configuration file and against the file name, `*` "
        "crosses `/`, `{a,b}` alternatives, a leading `!` matches the files the rest does not). The "
        "findings are suppressed (shown with --show-suppressed), as an inline ignore would.",
        '{ "tests/**" = ["FT1"], "_gen_*.c" = ["FT101", "FT102"] }',
        default={},
    ),
    Key(
        "severity",
        "table",
        "Level reported for rules, by id or prefix (the longest prefix wins): `error`, `warning` or "
        "`note`, in every report format (SARIF `level` and rule `defaultConfiguration` too).",
        '{ FT204 = "note", FT1 = "error" }',
        LEVELS,
        default={},
    ),
    Key(
        "exclude",
        "list",
        "Gitignore-style patterns of files and directories not to walk, relative to the configuration "
        "file (`tests/*.c` does not match `tests/sub/u.c`, `/gen` only the top `gen`, `!keep.c` "
        "re-includes). Setting it replaces the default list; `extend-exclude` adds to it. Paths named "
        "on the command line are scanned regardless.",
        '["vendor/", "tests/*.c"]',
        default=list(DEFAULT_EXCLUDES),
    ),
    Key(
        "extend-exclude",
        "list",
        "Gitignore-style patterns read after `exclude` (so `!build/` scans build directories again).",
        '["/gen/", "!dist/"]',
        default=[],
    ),
    Key(
        "respect-gitignore",
        "bool",
        "Leave out what `.gitignore` files ignore: the scanned directories' own and nested ones, and "
        "those above them up to the scan root (git is not run). `--no-respect-gitignore` turns it off.",
        "true",
        default=True,
    ),
    Key(
        "vendored",
        "list",
        "Gitignore-style patterns, relative to the configuration file, of third-party or generated code "
        "besides what ftaudit recognises itself (vendor/ directories, linguist-vendored, generator banners): "
        "its findings are set aside, and it is analysed with tree-sitter (auto mode), unless --include-vendored.",
        '["src/libfoo/**", "gen_*.c"]',
    ),
    Key(
        "not-vendored",
        "list",
        "Gitignore-style patterns of files that are the project's own code even where ftaudit would "
        "call them vendored or generated (a `deps/` directory of your own).",
        '["deps/mycore/**"]',
    ),
    Key(
        "built",
        "list",
        "Gitignore-style patterns, relative to the configuration file, of files to judge as part of an "
        "extension module although the build description builds them into none (when it could be read "
        "completely, code no module contains is not judged unless --include-unbuilt).",
        '["tools/helpers/*.c"]',
    ),
    Key("include-dirs", "list", "Extra include directories for libclang, relative to the file.", '["src/include"]'),
    Key(
        "defines",
        "list",
        "Preprocessor macros, `NAME`, `NAME=VALUE` or `NAME(ARGS)=VALUE`.",
        '["HAVE_CONFIG_H", "NDEBUG=1"]',
        item=_MACRO,
    ),
    Key(
        "compile-commands",
        "string",
        "A compile_commands.json (or its directory), relative to the file.",
        '"build/compile_commands.json"',
    ),
    Key(
        "extend-exempt-types",
        "list",
        "Types whose static variables are never shared mutable state (added to the built-in list of "
        "Python tables, locks and once flags).",
        '["my_lock_t", "StaticTable"]',
    ),
    Key(
        "unsafe-functions",
        "list",
        "Glob patterns of functions from thread-unsafe libraries (FT302).",
        '["tinydb_*", "legacy_solve"]',
    ),
    Key(
        "unsafe-headers",
        "list",
        "Headers of thread-unsafe libraries: every function they declare is unsafe (FT302).",
        '["tinydb.h", "fortran/*.h"]',
    ),
    Key(
        "safe-functions",
        "list",
        "Glob patterns of library functions that are thread-safe as this project builds or uses them: "
        "retracts built-in catalogue entries (FT302, FT303).",
        '["H5Pget_*", "xmlInitParser"]',
    ),
    Key(
        "thread-safe-libraries",
        "list",
        "Libraries of the built-in catalogue (docs/rules/FT302.md) that this project only ever links "
        "thread-safe, e.g. an HDF5 built with --enable-threadsafe: their entries are retracted.",
        '["hdf5"]',
    ),
    Key(
        "lock-functions",
        "table",
        "Project lock functions: acquire = release, both taking the lock as first argument.",
        '{ my_lock = "my_unlock" }',
    ),
    Key(
        "cython-directives",
        "list",
        "Cython directives the build sets for every module (`-X name=value`), e.g. "
        "`freethreading_compatible=True` (FT402, FT405).",
        '["freethreading_compatible=True"]',
    ),
    Key(
        "lock-macros",
        "table",
        "Project lock macros, matched by name wherever they expand to: acquire = release.",
        '{ LOCK_STATE = "UNLOCK_STATE" }',
    ),
)
# Every list or table key not given a default above defaults to empty; `select` and
# `compile-commands` stay unset (None), which means something of its own.
KEYS = tuple(
    replace(k, default=[] if k.kind == "list" else {})
    if k.default is None and k.kind in ("list", "table", "list-table") and k.name != "select"
    else k
    for k in KEYS
)
_BY_NAME = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # the file it came from
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        """The value of `key`: the file's, else the key's default (a copy: callers may change it)."""
        value = self.values.get(key, _BY_NAME[key].default)
        return copy.deepcopy(value)

    def list(self, key: str) -> list[str]:
        return list(self.get(key) or [])

    def table(self, key: str) -> dict[str, Any]:
        return dict(self.get(key) or {})

    @property
    def base(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    def paths(self, key: str) -> list[str]:
        return [str((self.base / p).resolve()) for p in self.list(key)]

    def cython_directives(self) -> dict[str, str]:
        out = {}
        for item in self.list("cython-directives"):
            name, _, value = item.partition("=")
            out[name.strip()] = value.strip() or "True"
        return out

    def compile_commands(self) -> Path | None:
        value = self.values.get("compile-commands")
        return (self.base / value).resolve() if value else None

    def exclude_patterns(self) -> list[Patterns]:
        """`exclude` (or the defaults) then `extend-exclude`, relative to the file's directory.
        Raises ConfigError when a pattern set cannot be compiled."""
        base = os.path.realpath(self.base)
        given = "exclude" in self.values
        where = str(self.path) if self.path is not None else "configuration"
        out = []
        try:
            out.append(compile_patterns(self.list("exclude"), base, where if given else "default"))
            if self.list("extend-exclude"):
                out.append(compile_patterns(self.list("extend-exclude"), base, where))
        except ValueError as err:
            raise ConfigError(f"{where}: `exclude`: {err}") from err
        return out

    def apply(self, catalogue: Catalogue) -> Catalogue:
        """The catalogue extended with the project's libraries and lock vocabulary, and with the
        levels `severity` sets."""
        locks = catalogue.locks
        lock_functions = self.table("lock-functions")
        if lock_functions:
            locks = replace(locks, mutex={**locks.mutex, **lock_functions})
        statics = catalogue.statics
        extra = self.list("extend-exempt-types")
        if extra:
            statics = replace(statics, exempt_types=statics.exempt_types | frozenset(extra))
        rules = catalogue.rules
        severity = {k.upper(): v for k, v in self.table("severity").items()}
        if severity:
            rules = {rid: replace(info, level=_level_of(rid, severity, info.level)) for rid, info in rules.items()}
        return replace(
            catalogue,
            rules=rules,
            locks=locks,
            statics=statics,
            unsafe_functions=tuple(self.list("unsafe-functions")),
            unsafe_headers=tuple(self.list("unsafe-headers")),
            lock_macros=self.table("lock-macros"),
            safe_functions=tuple(self.list("safe-functions")),
            thread_safe_libraries=self._libraries(catalogue),
        )

    def _libraries(self, catalogue: Catalogue) -> tuple[str, ...]:
        """`thread-safe-libraries`, each a catalogue library. Raises ConfigError naming an unknown one."""
        names = self.list("thread-safe-libraries")
        known = {lib.name for lib in catalogue.libraries}
        for name in names:
            if name not in known:
                raise ConfigError(
                    f"{self.path}: `thread-safe-libraries` entry {name!r} is not a catalogued library "
                    f"(known: {', '.join(sorted(known))})"
                )
        return tuple(names)


def _level_of(rule_id: str, severity: dict[str, str], default: str) -> str:
    """The level of the longest prefix of `rule_id` in `severity`, else `default`."""
    best = max((p for p in severity if rule_id.startswith(p)), key=len, default=None)
    return severity[best] if best is not None else default


def check_values(where: str, raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` when every key is known and of its type; raises ConfigError naming the key otherwise.
    (Also used for the command line's values of the same keys.)"""
    for name, value in raw.items():
        key = _BY_NAME.get(name)
        if key is None:
            known = ", ".join(sorted(_BY_NAME))
            raise ConfigError(f"{where}: unknown key `{name}` (known keys: {known})")
        ok, want = _typed(key, value)
        if not ok:
            raise ConfigError(f"{where}: `{name}` must be {want}, not {type(value).__name__}: {value!r}")
        _check_items(where, key, value)
    return raw


def _typed(key: Key, value: Any) -> tuple[bool, str]:
    """Whether `value` has `key`'s type (and choices), and what it must be, for the message."""
    if key.kind == "list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value), "a list of strings"
    if key.kind == "bool":
        return isinstance(value, bool), "true or false"
    if key.kind == "number":
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and value >= 0, "a number, 0 or more"
    if key.kind == "list-table":
        ok = isinstance(value, dict) and all(
            isinstance(v, list) and all(isinstance(r, str) for r in v) for v in value.values()
        )
        return ok, "a table of lists of strings (glob = [rules])"
    if key.kind == "table":
        ok = isinstance(value, dict) and all(
            isinstance(v, str) and (not key.choices or v in key.choices) for v in value.values()
        )
        want = f"a table of {', '.join(key.choices)}" if key.choices else "a table of strings (acquire = release)"
        return ok, want
    ok = isinstance(value, str) and (not key.choices or value in key.choices)
    return ok, f"one of {', '.join(key.choices)}" if key.choices else "a string"


def _check(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    where = f"{path}: [tool.ftaudit]" if path.name == "pyproject.toml" else str(path)
    return check_values(where, raw)


def _check_items(where: str, key: Key, value: Any) -> None:
    """Each string of a list key with an item pattern matches it. Raises ConfigError naming the item."""
    if key.item is None or key.kind != "list":
        return
    for item in value:
        if not key.item.fullmatch(item):
            raise ConfigError(f"{where}: `{key.name}` entry {item!r} is not valid ({key.help})")


def load_config(path: Path) -> Config:
    """Read `[tool.ftaudit]` of a pyproject.toml, or the top level of any other TOML file (one named
    otherwise than ftaudit.toml / .ftaudit.toml that has a `[tool]` table: its `[tool.ftaudit]`).

    The file must be a regular file of at most CONFIG_MAX_BYTES (it may be planted in the tree).
    Raises ConfigError, naming the file, when it cannot be read, is not TOML, or a key is wrong."""
    try:
        data = tomllib.loads(read_regular(path, CONFIG_MAX_BYTES).decode("utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read configuration: {err.strerror or err}") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from err
    except RecursionError as err:  # tomllib recurses once per nested `[` or `{`
        raise ConfigError(f"{path}: invalid TOML: values nested too deeply") from err
    if path.name == "pyproject.toml" or ("tool" in data and path.name not in CONFIG_NAMES):
        section = data.get("tool", {}).get("ftaudit", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [tool.ftaudit] must be a table")
    else:
        section = data
    return Config(path.resolve(), _check(path, section))


def _usable(candidate: Path) -> bool:
    """A regular file, and not a symbolic link out of its directory: a tree may plant
    `ftaudit.toml -> ~/elsewhere.toml` to have a file outside it read as its configuration."""
    if not candidate.is_file():
        return False
    if not candidate.is_symlink():
        return True
    return within(os.path.realpath(candidate), os.path.realpath(candidate.parent))


def find_config(paths: list[Path]) -> Path | None:
    """The nearest configuration, walking up from the first path: in each directory `.ftaudit.toml`,
    then `ftaudit.toml`, then a `pyproject.toml` with a [tool.ftaudit] table (ruff's order)."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    if not start.is_dir():
        start = start.parent
    for directory in [start, *start.parents]:
        for name in CONFIG_NAMES[:2]:
            if _usable(directory / name):
                return directory / name
        candidate = directory / "pyproject.toml"
        if _usable(candidate):
            try:
                text = read_regular(candidate, CONFIG_MAX_BYTES).decode("utf-8")
            except UnsafeFileError:
                return candidate  # too large to look into: load_config says so, naming it
            except (OSError, UnicodeDecodeError):
                continue
            if "tool.ftaudit" in text:
                return candidate
    return None
