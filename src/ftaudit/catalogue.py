"""The rule catalogue: rule metadata and API tables, loaded from `rules/`.

The catalogue is data so that docs, `ftaudit explain`, SARIF descriptors and
the rules themselves all read one source. In a wheel it lives in
`ftaudit/_catalogue`; in a source checkout, in the top-level `rules/`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LEVELS = ("note", "warning", "error")


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name: str
    level: str
    summary: str
    rationale: str
    fix: str
    example_bad: str
    example_good: str
    precision: str = "medium"
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    enabled: bool = True
    example_config: str = ""  # [tool.ftaudit] keys the examples need
    example_build: str = ""  # a build file the examples sit next to (CMakeLists.txt), scanned with them
    example_bad_build: str = ""  # its text for example_bad
    example_good_build: str = ""  # its text for example_good

    @property
    def help_uri(self) -> str:
        return f"https://github.com/ftaudit/ftaudit/blob/main/docs/rules/{self.id}.md"


@dataclass(frozen=True)
class Borrowed:
    function: str
    replacement: str
    since: str
    compat: bool
    container_arg: int
    note: str = ""
    alternative: str = ""  # another way out, as a clause ("PyImport_GetModule when ...")


_TWIN = re.compile(r"^[A-Za-z_]\w*(?: \([^()]+\))?(?: or [A-Za-z_]\w*(?: \([^()]+\))?)*$")
DEFAULT_LIBC_WHY = "it uses hidden shared state that parallel threads overwrite"


@dataclass(frozen=True)
class LibcFunction:
    """One FT301 entry. `twin`: function(s) to call instead (`strtok_r`, `drand48_r (GNU)`, joined by " or ");
    `advice`: a clause with its own verb; `why`: the reason it is unsafe (see rules/api/libc.toml)."""

    name: str
    sets: tuple[str, ...]
    twin: str = ""
    unsafe_if_null_arg: int | None = None
    advice: str = ""
    why: str = DEFAULT_LIBC_WHY
    # A call with at least this many arguments is another platform's reentrant form (Solaris
    # `getmntent(FILE *, struct mnttab *)` fills the caller's struct): not reported.
    reentrant_arity: int | None = None
    # Platforms (see rules/libc.py platform_of) whose C library makes it thread-safe: not reported in
    # a file only built there. `safe_on_source` cites the platform's manual.
    safe_on: tuple[str, ...] = ()
    safe_on_source: str = ""

    def __post_init__(self) -> None:
        # A twin that is advice reads "use set the environment..." in the message: refuse it at load.
        if self.twin and not _TWIN.match(self.twin):
            raise ValueError(f"libc.toml: {self.name}: twin {self.twin!r} is not a function name (use advice)")
        if self.advice.startswith("use "):
            raise ValueError(f"libc.toml: {self.name}: advice {self.advice!r} starts with `use`: name it in twin")

    def summary(self) -> str:
        """What an FT301 finding says in short: `strtok is not thread-safe (POSIX list)`."""
        sets = " and ".join({"posix": "POSIX", "glibc": "glibc"}.get(s, s) for s in self.sets)
        lists = "list" if len(self.sets) == 1 else "lists"
        return f"{self.name} is not thread-safe ({sets} {lists})"

    def detail(self) -> str:
        """Why, and the fix: `it uses hidden shared state ...; use strtok_r instead`."""
        fixes = ([f"use {self.twin} instead"] if self.twin else []) + ([self.advice] if self.advice else [])
        fix = ", or ".join(fixes) or "serialise calls with a mutex"
        return f"{self.why}; {fix}"

    def message(self) -> str:
        """The whole FT301 message for a call to this function, one sentence."""
        return f"{self.summary()}: {self.detail()}"


@dataclass(frozen=True)
class LockVocabulary:
    mutex: dict[str, str]
    critical_sections: dict[str, str]
    member: dict[str, str]
    raii_guards: tuple[str, ...]
    raii_critical_sections: tuple[str, ...]
    gil_release: tuple[str, ...]
    gil_acquire: tuple[str, ...]

    @cached_property  # asked on every call a frontend sees
    def mutex_releases(self) -> frozenset[str]:
        return frozenset(self.mutex.values())

    @cached_property
    def critical_section_ends(self) -> frozenset[str]:
        return frozenset(self.critical_sections.values())


@dataclass(frozen=True)
class ThreadDictVocabulary:
    """The calling thread's own dict and the calls on it (containers.toml `[thread-dict]`)."""

    sources: frozenset[str] = frozenset()  # calls returning the current thread's dict
    getters: frozenset[str] = frozenset()  # calls returning one of its items (the dict first)
    setters: frozenset[str] = frozenset()  # calls storing their third argument into it
    harmless: frozenset[str] = frozenset()  # calls that only look at it or delete from it


@dataclass(frozen=True)
class ContainerVocabulary:
    """What changes a container in place and what only reads it (containers.toml `[mutators]`...)."""

    mutators: dict[str, int] = field(default_factory=dict)  # C-API call -> index of the container argument
    readers: frozenset[str] = frozenset()  # calls that only read the containers passed to them
    mutating_methods: frozenset[str] = frozenset()  # `.append`, `.update`...
    reading_methods: frozenset[str] = frozenset()  # `.get`, `.items`...
    frame_owned: frozenset[str] = frozenset()  # calls whose result the running frame keeps alive
    thread_dict: ThreadDictVocabulary = field(default_factory=ThreadDictVocabulary)

    def mutated_arg(self, callee: str) -> int | None:
        """The index of the container argument `callee` changes, None if it changes none."""
        return self.mutators.get(callee)


@dataclass(frozen=True)
class StaticsVocabulary:
    exempt_types: frozenset[str]
    once_functions: dict[str, int]
    buffer_writers: dict[str, tuple[int, ...] | int]  # indices, or the first of all remaining
    atomic_prefixes: tuple[str, ...]
    mutating_members: frozenset[str]
    inserting_subscript: frozenset[str]
    assigning_macros: frozenset[str] = frozenset()
    releasing_calls: frozenset[str] = frozenset()  # free a buffer: a field passed to one owns its buffer (FT105)
    # Same result on every call with the same constant arguments, nothing to give back (FT102).
    idempotent_lookups: frozenset[str] = frozenset()
    per_thread_calls: frozenset[str] = frozenset()  # change only the calling thread's exception (FT102)
    # A new reference to one canonical object for the same constant arguments (interned strings, imported
    # modules and their attributes), and calls that give a singleton for these literal arguments (FT102).
    canonical_objects: frozenset[str] = frozenset()
    singletons: dict[str, tuple[int, ...]] = field(default_factory=dict)
    own_references: frozenset[str] = frozenset()  # drop a local's reference, in such a branch (FT102)
    pinning_loads: frozenset[str] = frozenset()  # load a library for good, inside a lookup function (FT102)
    exception_calls: frozenset[str] = frozenset()  # calls that, of a builtin exception class, make a new one

    def is_atomic_call(self, name: str) -> bool:
        return name.startswith(self.atomic_prefixes)

    def writes_arg(self, name: str, index: int) -> bool:
        spec = self.buffer_writers.get(name)
        if spec is None:
            return False
        return index >= spec if isinstance(spec, int) else index in spec


_FALSE_LITERAL = re.compile(
    r"""\(*\s*(?:0|false|FALSE|NULL|nullptr|!\s*(?:1|true|TRUE|"(?:[^"\\]|\\.)*"))\s*\)*"""
    r"""(?:\s*&&\s*"(?:[^"\\]|\\.)*")?\s*\)*"""
)


@dataclass(frozen=True)
class NoReturnVocabulary:
    """Calls that end the process (`rules/api/noreturn.toml`)."""

    functions: frozenset[str] = frozenset()
    resumable: frozenset[str] = frozenset()  # declared noreturn, but the process goes on (longjmp, pthread_exit)
    assert_words: tuple[str, ...] = ()

    def is_assert_false(self, name: str, first_arg: str) -> bool:
        """An assert-style macro (`assert`, `NPY_ASSERT`) whose first argument, as written, is a literal false:
        `0`, `false`, `NULL`, `!"msg"`, `0 && "msg"`."""
        return any(w in name for w in self.assert_words) and _FALSE_LITERAL.fullmatch(first_arg.strip()) is not None


@dataclass(frozen=True)
class Library:
    """One entry of `rules/api/libraries.toml`: what a wrapped C library's documentation says about
    threads (FT302, FT303). Patterns are globs (fnmatch, case-sensitive)."""

    name: str
    title: str
    functions: tuple[str, ...]
    headers: tuple[str, ...]
    condition: str
    fix: str
    source: str
    unsafe: tuple[str, ...] = ()
    reentrant: tuple[str, ...] = ()
    reentrant_headers: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    readonly: tuple[str, ...] = ()  # calls that only read what a handle's creation fixed (FT303 skips them)

    def summary(self) -> str:
        """The condition as one line (for messages)."""
        return " ".join(self.condition.split())


@dataclass(frozen=True)
class Catalogue:
    rules: dict[str, RuleInfo]
    borrowed: dict[str, Borrowed]
    libc: dict[str, LibcFunction]
    locks: LockVocabulary
    fresh_constructors: frozenset[str]
    alias_preserving: frozenset[str]
    call_private_params: frozenset[str]
    statics: StaticsVocabulary
    uniqueness_tests: frozenset[str] = frozenset()
    # Calls that keep none of their arguments, and the C API calls that run their first argument's code.
    inspecting_calls: frozenset[str] = frozenset()
    operand_code_prefixes: tuple[str, ...] = ()
    # The object-call C API: calls of their first argument (a type object of the scan makes a new instance).
    type_calls: frozenset[str] = frozenset()
    containers: ContainerVocabulary = field(default_factory=ContainerVocabulary)
    # From configuration ([tool.ftaudit]); empty in the bare catalogue.
    unsafe_functions: tuple[str, ...] = ()
    unsafe_headers: tuple[str, ...] = ()
    lock_macros: dict[str, str] = field(default_factory=dict)
    noreturn: NoReturnVocabulary = field(default_factory=NoReturnVocabulary)
    libraries: tuple[Library, ...] = ()
    # From configuration: calls never unsafe (`safe-functions`), libraries built thread-safe.
    safe_functions: tuple[str, ...] = ()
    thread_safe_libraries: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> RuleInfo:
        return self.rules[rule_id]


def catalogue_root() -> Traversable:
    """Where the catalogue lives: packaged data first, then the source tree."""
    packaged = resources.files("ftaudit") / "_catalogue"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[2] / "rules"
    if source.is_dir():
        return source
    raise FileNotFoundError("ftaudit rule catalogue not found (broken installation?)")


def _toml(node: Traversable) -> dict[str, Any]:
    return tomllib.loads(node.read_text(encoding="utf-8"))


def _rule(raw: dict[str, Any]) -> RuleInfo:
    level = raw["level"]
    if level not in LEVELS:
        raise ValueError(f"rule {raw['id']}: level {level!r} is not one of {LEVELS}")
    return RuleInfo(
        id=raw["id"],
        name=raw["name"],
        level=level,
        summary=raw["summary"].strip(),
        rationale=raw["rationale"].strip(),
        fix=raw["fix"].strip(),
        example_bad=raw["example_bad"].strip() + "\n",
        example_good=raw["example_good"].strip() + "\n",
        precision=raw.get("precision", "medium"),
        tags=tuple(raw.get("tags", ())),
        languages=tuple(raw.get("languages", ())),
        references=tuple(raw.get("references", ())),
        enabled=raw.get("enabled", True),
        example_config=raw.get("example_config", "").strip(),
        example_build=raw.get("example_build", ""),
        example_bad_build=raw.get("example_bad_build", "").strip() + "\n" if raw.get("example_bad_build") else "",
        example_good_build=raw.get("example_good_build", "").strip() + "\n" if raw.get("example_good_build") else "",
    )


def _writer_spec(name: str, value: Any) -> tuple[int, ...] | int:
    if isinstance(value, str) and value.endswith("+") and value[:-1].isdigit():
        return int(value[:-1])
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise ValueError(f"buffer-writers.{name}: expected a list of indices or 'N+', got {value!r}")


_LIBRARY_KEYS = frozenset(
    {"name", "title", "functions", "headers", "unsafe", "reentrant", "reentrant-headers", "handles", "readonly",
     "condition", "fix", "source"}
)  # fmt: skip


def _library(raw: dict[str, Any]) -> Library:
    """One [[library]] table; raises ValueError naming the entry when a key is unknown or missing."""
    name = raw.get("name", "?")
    unknown = set(raw) - _LIBRARY_KEYS
    if unknown:
        raise ValueError(f"libraries.toml: {name}: unknown keys {sorted(unknown)}")
    if not str(raw.get("source", "")).startswith("https://"):
        raise ValueError(f"libraries.toml: {name}: source must be an https URL of the library's documentation")
    try:
        return Library(
            name=raw["name"],
            title=raw["title"],
            functions=tuple(raw["functions"]),
            headers=tuple(raw.get("headers", ())),
            condition=raw["condition"].strip(),
            fix=raw["fix"].strip(),
            source=raw["source"],
            unsafe=tuple(raw.get("unsafe", ())),
            reentrant=tuple(raw.get("reentrant", ())),
            reentrant_headers=tuple(raw.get("reentrant-headers", ())),
            handles=tuple(raw.get("handles", ())),
            readonly=tuple(raw.get("readonly", ())),
        )
    except KeyError as err:
        raise ValueError(f"libraries.toml: {name}: missing key {err}") from err


@lru_cache(maxsize=1)
def load() -> Catalogue:
    root = catalogue_root()
    rules: dict[str, RuleInfo] = {}
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".toml"):
            for raw in _toml(node).get("rule", []):
                info = _rule(raw)
                if info.id in rules:
                    raise ValueError(f"rule {info.id} is defined twice in the catalogue")
                rules[info.id] = info
    api = root / "api"
    borrowed = {
        b["function"]: Borrowed(
            function=b["function"],
            replacement=b["replacement"],
            since=b["since"],
            compat=b["compat"],
            container_arg=b["container-arg"],
            note=b.get("note", ""),
            alternative=b.get("alternative", ""),
        )
        for b in _toml(api / "borrowed.toml")["borrowed"]
    }
    libc = {
        name: LibcFunction(
            name=name,
            sets=tuple(v["sets"]),
            twin=v.get("twin", ""),
            unsafe_if_null_arg=v.get("unsafe-if-null-arg"),
            advice=v.get("advice", ""),
            why=v.get("why", DEFAULT_LIBC_WHY),
            reentrant_arity=v.get("reentrant-arity"),
            safe_on=tuple(v.get("safe-on", ())),
            safe_on_source=v.get("safe-on-source", ""),
        )
        for name, v in _toml(api / "libc.toml")["functions"].items()
    }
    lk = _toml(api / "locks.toml")
    locks = LockVocabulary(
        mutex=dict(lk["mutex-functions"]),
        critical_sections=dict(lk["critical-sections"]),
        member=dict(lk["member-functions"]),
        raii_guards=tuple(lk["raii-guards"]),
        raii_critical_sections=tuple(lk["raii-critical-sections"]),
        gil_release=tuple(lk["gil-release"]),
        gil_acquire=tuple(lk["gil-acquire"]),
    )
    ct = _toml(api / "containers.toml")
    st = _toml(api / "statics.toml")
    nr = _toml(api / "noreturn.toml")["noreturn"]
    statics = StaticsVocabulary(
        exempt_types=frozenset(st["exempt-types"]),
        once_functions=dict(st["once-functions"]),
        buffer_writers={k: _writer_spec(k, v) for k, v in st["buffer-writers"].items()},
        atomic_prefixes=tuple(st["atomics"]["prefixes"]),
        mutating_members=frozenset(st["cxx"]["mutating-members"]),
        inserting_subscript=frozenset(st["cxx"]["inserting-subscript"]),
        assigning_macros=frozenset(st["macros"]["assign-first-arg"]),
        releasing_calls=frozenset(st["fields"]["releasing-calls"]),
        idempotent_lookups=frozenset(st["idempotent-lookups"]["functions"]),
        per_thread_calls=frozenset(st["idempotent-lookups"]["per-thread"]),
        canonical_objects=frozenset(st["idempotent-lookups"]["canonical-objects"]),
        singletons={k: tuple(v) for k, v in st["idempotent-lookups"]["singletons"].items()},
        own_references=frozenset(st["idempotent-lookups"]["own-references"]),
        pinning_loads=frozenset(st["idempotent-lookups"]["pinning-loads"]),
        exception_calls=frozenset(st["idempotent-lookups"]["exception-calls"]),
    )
    return Catalogue(
        rules=dict(sorted(rules.items())),
        borrowed=borrowed,
        libc=libc,
        locks=locks,
        fresh_constructors=frozenset(ct["fresh-constructors"]),
        alias_preserving=frozenset(ct["alias-preserving"]),
        call_private_params=frozenset(ct["call-private-params"]),
        statics=statics,
        uniqueness_tests=frozenset(ct["uniqueness-tests"]),
        inspecting_calls=frozenset(ct["inspecting-calls"]),
        operand_code_prefixes=tuple(ct["operand-code-prefixes"]),
        type_calls=frozenset(ct["type-calls"]),
        containers=ContainerVocabulary(
            mutators=dict(ct["mutators"]),
            readers=frozenset(ct["readers"]),
            mutating_methods=frozenset(ct["mutating-methods"]),
            reading_methods=frozenset(ct["reading-methods"]),
            frame_owned=frozenset(ct["frame-owned"]),
            thread_dict=ThreadDictVocabulary(**{k: frozenset(v) for k, v in ct["thread-dict"].items()}),
        ),
        noreturn=NoReturnVocabulary(
            functions=frozenset(nr["functions"]),
            resumable=frozenset(nr["resumable"]),
            assert_words=tuple(nr["assert-words"]),
        ),
        libraries=tuple(_library(raw) for raw in _toml(api / "libraries.toml")["library"]),
    )
