"""`[tool.ftaudit]` configuration: found by walking up from the scanned path.

Every key is declared once in KEYS (type and help), which is what validation,
`ftaudit config` docs and the tests read, so the reference cannot drift from
the code. Unknown keys and wrong types are errors that name the key.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .catalogue import Catalogue
from .safeio import UnsafeFileError, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # "list" (of strings), "table" (string to string), "string"
    help: str
    example: str
    choices: tuple[str, ...] = ()
    item: re.Pattern[str] | None = None  # what each entry of a list must match


# A macro becomes exactly one argument, `-D<entry>`: a name (with parameters), then `=` and a value
# on one line. Anything else (`-Wp,-MD,x`) is refused rather than passed to clang to judge.
_MACRO = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\([A-Za-z0-9_, .]*\))?(=[^\n\r\0]*)?")
CONFIG_MAX_BYTES = 1 << 20


KEYS: tuple[Key, ...] = (
    Key("select", "list", "Rule ids or prefixes to run instead of the default set.", '["FT1", "FT2"]'),
    Key(
        "frontend",
        "string",
        "C/C++ parser: `auto` (libclang, or tree-sitter for a file libclang cannot parse well), `clang` "
        "or `treesitter`.",
        '"auto"',
        ("auto", "clang", "treesitter"),
    ),
    Key("ignore", "list", "Rule ids or prefixes never to run.", '["FT301"]'),
    Key(
        "exclude",
        "list",
        "Glob patterns of files or directories to skip, relative to the configuration file; a pattern "
        "without `/` matches a file or directory name anywhere.",
        '["vendor", "tests/*.c"]',
    ),
    Key(
        "vendored",
        "list",
        "Gitignore-style patterns, relative to the configuration file, of third-party or generated code "
        "besides what ftaudit recognises itself (vendor/ directories, linguist-vendored, generator banners): "
        "its findings are set aside unless --include-vendored.",
        '["src/libfoo/**", "gen_*.c"]',
    ),
    Key(
        "not-vendored",
        "list",
        "Gitignore-style patterns of files that are the project's own code even where ftaudit would "
        "call them vendored or generated (a `deps/` directory of your own).",
        '["deps/mycore/**"]',
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
_BY_NAME = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # the file it came from
    values: dict[str, Any] = field(default_factory=dict)

    def list(self, key: str) -> list[str]:
        return list(self.values.get(key, []))

    def table(self, key: str) -> dict[str, str]:
        return dict(self.values.get(key, {}))

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

    def excluded(self, path: Path) -> bool:
        patterns = self.list("exclude")
        if not patterns:
            return False
        try:
            rel = path.resolve().relative_to(self.base.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        parts = rel.split("/")
        for pat in patterns:
            pat = pat.rstrip("/")
            if "/" in pat:
                if fnmatchcase(rel, pat) or any(fnmatchcase("/".join(parts[:i]), pat) for i in range(1, len(parts))):
                    return True
            elif any(fnmatchcase(part, pat) for part in parts):
                return True
        return False

    def apply(self, catalogue: Catalogue) -> Catalogue:
        """The catalogue extended with the project's libraries and lock vocabulary."""
        locks = catalogue.locks
        lock_functions = self.table("lock-functions")
        if lock_functions:
            locks = replace(locks, mutex={**locks.mutex, **lock_functions})
        statics = catalogue.statics
        extra = self.list("extend-exempt-types")
        if extra:
            statics = replace(statics, exempt_types=statics.exempt_types | frozenset(extra))
        return replace(
            catalogue,
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


def _check(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    where = f"{path}: [tool.ftaudit]" if path.name == "pyproject.toml" else str(path)
    for name, value in raw.items():
        key = _BY_NAME.get(name)
        if key is None:
            known = ", ".join(sorted(_BY_NAME))
            raise ConfigError(f"{where}: unknown key `{name}` (known keys: {known})")
        if key.kind == "list":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            want = "a list of strings"
        elif key.kind == "table":
            ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
            want = "a table of strings (acquire = release)"
        else:
            ok = isinstance(value, str) and (not key.choices or value in key.choices)
            want = f"one of {', '.join(key.choices)}" if key.choices else "a string"
        if not ok:
            raise ConfigError(f"{where}: `{name}` must be {want}, not {type(value).__name__}: {value!r}")
        _check_items(where, key, value)
    return raw


def _check_items(where: str, key: Key, value: Any) -> None:
    """Each string of a list key with an item pattern matches it. Raises ConfigError naming the item."""
    if key.item is None or key.kind != "list":
        return
    for item in value:
        if not key.item.fullmatch(item):
            raise ConfigError(f"{where}: `{key.name}` entry {item!r} is not valid ({key.help})")


def load_config(path: Path) -> Config:
    """Read `[tool.ftaudit]` of a pyproject.toml, or the top level of any other TOML file.

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
    if path.name == "pyproject.toml" or "tool" in data:
        section = data.get("tool", {}).get("ftaudit", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [tool.ftaudit] must be a table")
    else:
        section = data
    return Config(path.resolve(), _check(path, section))


def find_config(paths: list[Path]) -> Path | None:
    """The nearest pyproject.toml with a [tool.ftaudit] table, walking up from the first path."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    if not start.is_dir():
        start = start.parent
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                text = read_regular(candidate, CONFIG_MAX_BYTES).decode("utf-8")
            except UnsafeFileError:
                return candidate  # too large to look into: load_config says so, naming it
            except (OSError, UnicodeDecodeError):
                continue
            if "tool.ftaudit" in text:
                return candidate
    return None
