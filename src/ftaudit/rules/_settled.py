"""Lazy initialisations that module init settles: the first call of the initialiser is the module's own.

`static int init_types(void) { static int initialized; if (initialized) return 1; ...; initialized = 1;
return 1; }`, called first by `PyInit__ast3` (`if (!init_types()) return NULL;`) and later by the
module's functions (typed_ast): the check-then-set ran during import, under the import lock, and every
later call finds the flag set and returns at once. setproctitle's `spt_debug("module init")` reads
`SPT_DEBUG` the same way. Such a check is no race (FT102), and what the initialiser writes after an
early-return check runs only in that first call (FT101).

A lazy initialisation of static `x` in function `f` is *settled at import* when:

- module init runs `f` on every successful import: an init function (`PyInit_*`, a `Py_mod_exec` or
  `Py_mod_create` slot) calls it, or calls a function that does, each call at the top level of the
  caller's body (no branch arm or loop: `Call.regions` empty), through at most `MAX_DEPTH` calls (the
  scan's call graph resolves them);
- the check runs on every call of `f`: it is at the top level of `f`'s body, and no call, no access to a
  static and no return with a value comes before it;
- nothing else writes `x` after import: every write to it in code that may run after import is one of
  this initialisation's own (its branch; for an early-return check `if (x) return ...;`, anything after
  the check).

An import that fails leaves the flag unset, but then no function of the module is reachable (the next
import runs init again, under the lock). Known limit: a return without a value before the check is not
recorded by the frontends, so `if (arg == NULL) return; if (!x) x = ...;` counts as checking on every
call.

Inputs: the scan's units, functions' roles (_roles.py) and the call graph. Output: a yes/no per lazy
initialisation, and the spans of the writes an early-return initialiser makes after its check (which
FT101 leaves alone). No errors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..callgraph import CallGraph, Key, own_key
from ..engine import Context
from ..facts import Function, LazyInit, Span, Unit
from ._roles import ProjectRoles, Role, project_roles

MAX_DEPTH = 6  # calls from an init function to the initialiser
_INIT_ROLES = (Role.MODULE_INIT, Role.EXEC_SLOT)


def _before(a: Span, b: Span) -> bool:
    return (a.line, a.col) < (b.line, b.col)


class Settled:
    """The scan's functions module init always runs, and the writes to each static after import."""

    def __init__(self, graph: CallGraph, roles: ProjectRoles) -> None:
        self.graph = graph
        self.runs = self._run_by_init(roles)
        self.writes: dict[str, list[tuple[Key, Span]]] = defaultdict(list)  # static -> later writes
        for key, (_unit, fn) in graph.functions.items():
            if roles.roles.get(key, Role.OTHER).init_only:
                continue
            for a in fn.accesses:
                if a.kind.writes:
                    self.writes[a.var].append((key, a.span))

    def _run_by_init(self, roles: ProjectRoles) -> set[Key]:
        todo = [k for k, r in roles.roles.items() if r in _INIT_ROLES and k in self.graph.functions]
        depth = dict.fromkeys(todo, 0)
        while todo:
            key = todo.pop()
            if depth[key] >= MAX_DEPTH:
                continue
            unit, fn = self.graph.functions[key]
            for call in fn.calls:
                if call.regions:
                    continue
                for callee in self.graph.resolve_call(unit, call):
                    if callee not in depth:
                        depth[callee] = depth[key] + 1
                        todo.append(callee)
        return set(depth)

    def settled(self, unit: Unit, fn: Function, li: LazyInit) -> bool:
        """Is `li`, a lazy initialisation in `fn`, settled at import (see the module docstring)?"""
        me = own_key(unit, fn)
        if me not in self.runs or li.regions:
            return False
        check = li.check
        if any(_before(c.span, check) for c in fn.calls) or any(_before(a.span, check) for a in fn.accesses):
            return False
        if any(r.span is not None and _before(r.span, check) for r in fn.returns):
            return False
        own = {w.span for w in li.writes}
        return all(
            key == me and (span in own or (li.early and _before(check, span))) for key, span in self.writes[li.var]
        )

    def after_check(self, fn: Function, li: LazyInit) -> Iterable[Span]:
        """The static writes an early-return initialiser makes after its check: only its first call makes
        them (empty for a check-then-set block, whose writes are the initialisation's own)."""
        if not li.early:
            return ()
        return [a.span for a in fn.accesses if a.kind.writes and _before(li.check, a.span)]


def settled_inits(ctx: Context) -> Settled:
    """The scan's Settled, built once."""
    roles = project_roles(ctx)
    return ctx.project.memo("settled-inits", lambda: Settled(roles.graph, roles))
