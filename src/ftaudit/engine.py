"""Rule registry and the loop that runs rules over units.

Rules register themselves with `@rule("FT201")`; importing `ftaudit.rules`
imports every module in it, so adding a file is all it takes to add rules.

Three scopes: a `unit` rule sees one file's facts; a `project` rule sees every
unit at once (a global defined in one file and written in another); a
`findings` rule runs last and judges what the other rules found (FT405: a
module declares support while hazards remain). Findings rules get the findings
of every enabled rule they depend on, even ones not selected for output.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import time
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from .buildfiles import BuildTarget
from .callgraph import CallGraph, Key, own_key
from .catalogue import Catalogue, RuleInfo
from .conditional_notes import name_conditions
from .facts import Span, Unit
from .findings import Finding, Related
from .rulebudget import RuleClock
from .rulefailures import RuleFailures

if TYPE_CHECKING:
    from .membership import Module


class Project:
    """Every unit of the scan, plus analyses computed once and shared by rules
    (the call graph crosses files: `PyInit_` in one file calls a setup helper in another)."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = units
        self._memo: dict[str, object] = {}
        self.building = 0.0  # CPU seconds spent in (outermost) memo builds: not charged to a unit (rulebudget.py)
        self._depth = 0

    def memo(self, key: str, build: Callable[[], T]) -> T:
        if key not in self._memo:
            self._depth += 1
            start = time.process_time()
            try:
                self._memo[key] = build()
            finally:
                self._depth -= 1
                if not self._depth:
                    self.building += time.process_time() - start
        return self._memo[key]  # type: ignore[return-value]


@dataclass(frozen=True)
class Context:
    """What a rule sees besides the unit: the catalogue, its own metadata, the project."""

    catalogue: Catalogue
    info: RuleInfo
    project: Project = field(default_factory=lambda: Project(()))

    def finding(
        self,
        unit: Unit,
        span: Span,
        message: str,
        function: str = "",
        related: Iterable[Related] = (),
        detail: str = "",
        fix: tuple[Span, ...] = (),
        no_fix: str = "",
    ) -> Finding:
        """A finding of this rule: `message` the short what-and-where, `detail` the why and the fix;
        `fix`/`no_fix` what `--fix` may edit or why it may not (findings.Finding)."""
        return Finding(
            self.info.id,
            unit.path,
            span,
            message,
            self.info.level,
            function,
            tuple(related),
            detail=detail,
            fix=fix,
            no_fix=no_fix,
        )


T = TypeVar("T")
RuleFunc = Callable[..., Iterable[Finding]]
SCOPES = ("unit", "project", "findings")


@dataclass(frozen=True)
class Registered:
    func: RuleFunc
    scope: str = "unit"
    depends: tuple[str, ...] = ()  # rule id prefixes a findings rule judges


_REGISTRY: dict[str, Registered] = {}


def rule(rule_id: str, scope: str = "unit", depends: tuple[str, ...] = ()) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule: unit rules take (unit, ctx), project rules (units, ctx),
    findings rules (units, findings, ctx)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown rule scope {scope!r}")

    def register(func: RuleFunc) -> RuleFunc:
        if rule_id in _REGISTRY:
            raise ValueError(f"rule {rule_id} is implemented twice")
        _REGISTRY[rule_id] = Registered(func, scope, depends)
        return func

    return register


def registry() -> dict[str, Registered]:
    from . import rules

    for mod in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{mod.name}")
    return dict(_REGISTRY)


def matches(rule_id: str, patterns: Iterable[str]) -> bool:
    return any(rule_id.startswith(p.strip().upper()) for p in patterns if p.strip())


def selected_rules(catalogue: Catalogue, select: list[str], ignore: list[str]) -> list[str]:
    """Enabled rules (or those selected), minus those ignored; prefixes allowed, the more specific
    selector winning (one layer of selection.resolve)."""
    from .selection import RuleLayer, resolve

    layer = RuleLayer([s.upper() for s in select] or None, [], [s.upper() for s in ignore])
    return resolve(catalogue, [layer])


def _applies(info: RuleInfo, unit: Unit) -> bool:
    return not info.languages or unit.language in info.languages


def _keep(f: Finding) -> Finding:
    return f


# Hazards matter only in code that can run while Python threads run; declarations (FT4) are judged anyway.
REACHABLE_ONLY = ("FT1", "FT2", "FT3")


def without(units: Sequence[Unit], not_judged: AbstractSet[Key], unbuilt: AbstractSet[str] = frozenset()) -> list[Unit]:
    """The units with the functions of `not_judged` (callgraph keys) and every function of the `unbuilt`
    files (absolute paths) left out, copied only where one is."""
    out = []
    for u in units:
        if unbuilt and os.path.abspath(u.path) in unbuilt:
            out.append(replace(u, functions=[]) if u.functions else u)
            continue
        kept = [fn for fn in u.functions if own_key(u, fn) not in not_judged]
        out.append(u if len(kept) == len(u.functions) else replace(u, functions=kept))
    return out


def _timed(func: RuleFunc, unit: Unit, ctx: Context, clock: RuleClock | None) -> list[Finding]:
    """`func(unit, ctx)`, its CPU seconds (less the project's memo builds) charged to the unit on `clock`."""
    if clock is None:
        return list(func(unit, ctx))
    project, start = ctx.project, clock.clock()
    shared = project.building
    found = list(func(unit, ctx))
    clock.charge(unit.path, clock.clock() - start - (project.building - shared))
    return found


def run_rules(
    units: Sequence[Unit],
    catalogue: Catalogue,
    rule_ids: list[str],
    mark: Callable[[Finding], Finding] = _keep,
    not_judged: AbstractSet[Key] = frozenset(),
    graph: CallGraph | None = None,
    builds: Sequence[BuildTarget] = (),
    modules: Sequence[Module] | None = None,
    unbuilt: AbstractSet[str] = frozenset(),
    clock: RuleClock | None = None,
    failures: RuleFailures | None = None,
) -> list[Finding]:
    """Findings of the selected rules (unit and project scope first, then findings scope).

    `mark` applies inline suppressions; findings rules see only findings that still count.
    `not_judged`: functions (callgraph keys) no Python thread can reach, which FT1-FT3 rules do not see.
    `graph`: the call graph of `units` when the caller has built it already (rules share it as a memo).
    `builds`: the scanned tree's build targets (buildfiles.BuildTarget); `modules`: the units' modules
    (membership.Module) when the caller has them already. `unbuilt`: files (absolute paths) no built
    module contains (built.py): FT1-FT3 rules see none of their functions, FT4 findings in them are dropped.
    `clock`: the per-file budget of the unit rules (rulebudget.py); None: unbounded.
    `failures`: where a rule that raises is recorded as a `rule-error` problem (rulefailures.py); the scan
    goes on without its findings there. None: the exception propagates (tests of a rule's own code)."""
    impl = registry()
    late = [rid for rid in rule_ids if rid in impl and impl[rid].scope == "findings"]
    wanted = set(rule_ids)
    early = [rid for rid in rule_ids if rid in impl and impl[rid].scope != "findings"]
    for rid in late:  # dependencies run hidden when not selected
        early += [
            dep
            for dep, info in catalogue.rules.items()
            if dep in impl
            and impl[dep].scope != "findings"
            and dep not in early
            and info.enabled
            and matches(dep, impl[rid].depends)
        ]
    project = Project(units)
    if graph is not None:
        project.memo("callgraph", lambda: graph)
    project.memo("build-targets", lambda: tuple(builds))
    if modules is not None:
        project.memo("modules", lambda: list(modules))
    judged = Project(without(units, not_judged, unbuilt)) if not_judged or unbuilt else project
    found: list[Finding] = []
    first = units[0].path if units else "."

    def guarded(rid: str, path: str | None, call: Callable[..., Iterable[Finding]], *args: object) -> list[Finding]:
        return list(call(*args)) if failures is None else failures.run(rid, path, first, call, *args)

    for rid in early:
        scope = judged if rid.startswith(REACHABLE_ONLY) else project
        reg, ctx = impl[rid], Context(catalogue, catalogue.rules[rid], scope)
        if reg.scope == "unit":
            for unit in scope.units:
                if _applies(ctx.info, unit) and (clock is None or clock.allowed(unit.path, rid)):
                    found += guarded(rid, unit.path, _timed, reg.func, unit, ctx, clock)
        else:
            found += guarded(rid, None, reg.func, [u for u in scope.units if _applies(ctx.info, u)], ctx)
    found = [mark(f) for f in found]
    counting = [f for f in found if f.counts]
    for rid in late:
        reg, ctx = impl[rid], Context(catalogue, catalogue.rules[rid], project)
        late_found = guarded(rid, None, reg.func, [u for u in units if _applies(ctx.info, u)], counting, ctx)
        found += [mark(f) for f in late_found]
    found = name_conditions(found, units)
    # One macro use can expand to the same finding twice (same place, same words): keep one.
    unique: dict[tuple[str, str, Span, str], Finding] = {}
    for f in found:
        if f.rule in wanted and not (unbuilt and f.rule.startswith("FT4") and os.path.abspath(f.path) in unbuilt):
            unique.setdefault((f.rule, f.path, f.span, f.message), f)
    return list(unique.values())
