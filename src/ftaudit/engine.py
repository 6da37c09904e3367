"""Rule registry and the loop that runs rules over units.

Rules register themselves with `@rule("FT201")`; importing `ftaudit.rules`
imports every module in it, so adding a file is all it takes to add rules.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .catalogue import Catalogue, RuleInfo
from .facts import Span, Unit
from .findings import Finding, Related


@dataclass(frozen=True)
class Context:
    """What a rule sees besides the unit: the catalogue and its own metadata."""

    catalogue: Catalogue
    info: RuleInfo

    def finding(
        self, unit: Unit, span: Span, message: str, function: str = "", related: Iterable[Related] = ()
    ) -> Finding:
        return Finding(self.info.id, unit.path, span, message, self.info.level, function, tuple(related))


RuleFunc = Callable[[Unit, Context], Iterable[Finding]]
_REGISTRY: dict[str, RuleFunc] = {}


def rule(rule_id: str) -> Callable[[RuleFunc], RuleFunc]:
    def register(func: RuleFunc) -> RuleFunc:
        if rule_id in _REGISTRY:
            raise ValueError(f"rule {rule_id} is implemented twice")
        _REGISTRY[rule_id] = func
        return func

    return register


def registry() -> dict[str, RuleFunc]:
    from . import rules

    for mod in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{mod.name}")
    return dict(_REGISTRY)


def matches(rule_id: str, patterns: Iterable[str]) -> bool:
    return any(rule_id.startswith(p.strip().upper()) for p in patterns if p.strip())


def selected_rules(catalogue: Catalogue, select: list[str], ignore: list[str]) -> list[str]:
    """Enabled rules (or those selected), minus those ignored; prefixes allowed."""
    chosen = []
    for rid, info in catalogue.rules.items():
        on = matches(rid, select) if select else info.enabled
        if on and not matches(rid, ignore):
            chosen.append(rid)
    return chosen


def run_rules(units: Iterable[Unit], catalogue: Catalogue, rule_ids: list[str]) -> Iterator[Finding]:
    impl = registry()
    contexts = [(impl[rid], Context(catalogue, catalogue.rules[rid])) for rid in rule_ids if rid in impl]
    for unit in units:
        for func, ctx in contexts:
            if unit.language in ctx.info.languages or not ctx.info.languages:
                yield from func(unit, ctx)
