"""FT302: calls into thread-unsafe libraries outside a lock.

Three sources say a call is unsafe: the built-in catalogue of libraries (`rules/api/libraries.toml`:
the calls that touch a library's process-wide state), the project's configuration
(`unsafe-functions` patterns, `unsafe-headers`), and f2c-translated files of the project (not
reentrant). `safe-functions` and `thread-safe-libraries` retract catalogue entries. Calls made in
init-only code, under a mutex, under a critical section on one of their arguments, through the
library's reentrant API, or from the library's own sources are not reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..engine import Context, rule
from ..facts import ArgKind, Call, Unit
from ..findings import Finding
from ._libraries import LibraryIndex, active, header_matches, library_index, library_of, matches, uses_reentrant_api
from ._protection import holds_mutex, protects
from ._roles import roles_of

__all__ = ["header_matches", "unlocked_library_call"]


def _configured(call: Call, unit: Unit, ctx: Context) -> str | None:
    """Why the configuration calls `call` unsafe (None: it does not)."""
    cat = ctx.catalogue
    for pat in cat.unsafe_functions:
        if matches(call.name, (pat,)):
            return f"it matches unsafe-functions pattern `{pat}`"
    if call.declared_in:
        pat = header_matches(call.declared_in, cat.unsafe_headers)
        if pat is not None:
            return f"it is declared in `{pat}` (unsafe-headers)"
    elif call.declared_in is None:  # not declared: attribute it to a missing unsafe header
        for missing in unit.missing_headers:
            pat = header_matches(missing, cat.unsafe_headers)
            if pat is not None:
                return f"it is undeclared here and `{missing}` (unsafe-headers) was not found"
    return None


_HOLD = "hold a process-wide PyMutex (or a per-handle lock) around every such call"


def _reason(call: Call, unit: Unit, ctx: Context, index: LibraryIndex) -> tuple[str, str] | None:
    """Why `call` needs a lock, and what to do, as two clauses; None when it needs none."""
    cat = ctx.catalogue
    if matches(call.name, cat.safe_functions):
        return None
    if not index.own_source(unit, ""):
        why = _configured(call, unit, ctx)
        if why is not None:
            return f"belongs to a library declared thread-unsafe ({why})", _HOLD
    f2c = index.f2c_callee(unit, call)
    if f2c:
        return (
            f"is defined in `{os.path.basename(f2c)}`, translated by f2c, which is not reentrant "
            "(Fortran SAVE and DATA locals became static variables)",
            _HOLD,
        )
    lib = library_of(call, active(cat))
    if lib is None or not matches(call.name, lib.unsafe) or index.own_source(unit, lib.name):
        return None
    if uses_reentrant_api(call, unit, lib):
        return None
    fix = " ".join(lib.fix.split()).split(". ")[0].rstrip(".")
    return f"uses process-wide state of {lib.title} (see `ftaudit explain FT302`)", fix[:1].lower() + fix[1:]


@rule("FT302")
def unlocked_library_call(unit: Unit, ctx: Context) -> Iterator[Finding]:
    index = library_index([unit], ctx)
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        if roles[fn.name].init_only:
            continue
        for call in fn.calls:
            if call.user_defined and call.declared_in == "":
                continue  # the project's own function, defined in this file
            if holds_mutex(call.locks):
                continue
            handles = [a for a in call.args if a.kind in (ArgKind.NAME, ArgKind.MEMBER)]
            if any(protects(call.locks, a) for a in handles):
                continue
            found = _reason(call, unit, ctx, index)
            if found is None:
                continue
            reason, fix = found
            gil = "releasing the GIL around it is not a lock; " if call.gil_released else ""
            yield ctx.finding(
                unit, call.span, f"{call.name} {reason} and is called without a lock", fn.name, detail=f"{gil}{fix}"
            )
