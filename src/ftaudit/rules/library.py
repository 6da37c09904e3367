"""FT3: calls into libraries the project declared thread-unsafe (FT302)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from fnmatch import fnmatchcase

from ..engine import Context, rule
from ..facts import ArgKind, Call, Unit
from ..findings import Finding
from ._protection import holds_mutex, protects
from ._roles import roles_of


def header_matches(path: str, patterns: tuple[str, ...]) -> str | None:
    """The configured header pattern that names `path` (`tinydb.h` names `/opt/x/include/tinydb.h`)."""
    norm = path.replace("\\", "/")
    base = posixpath.basename(norm)
    for pat in patterns:
        if fnmatchcase(base, pat) or fnmatchcase(norm, pat) or fnmatchcase(norm, f"*/{pat}"):
            return pat
    return None


def _reason(call: Call, unit: Unit, ctx: Context) -> str | None:
    cat = ctx.catalogue
    for pat in cat.unsafe_functions:
        if fnmatchcase(call.name, pat):
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


@rule("FT302")
def unlocked_library_call(unit: Unit, ctx: Context) -> Iterator[Finding]:
    cat = ctx.catalogue
    if not cat.unsafe_functions and not cat.unsafe_headers:
        return
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        role = roles[fn.name]
        if role.init_only:
            continue
        for call in fn.calls:
            if call.user_defined and call.declared_in == "":
                continue  # the project's own function, defined in this file
            reason = _reason(call, unit, ctx)
            if reason is None or holds_mutex(call.locks):
                continue
            handles = [a for a in call.args if a.kind in (ArgKind.NAME, ArgKind.MEMBER)]
            if any(protects(call.locks, a) for a in handles):
                continue
            gil = "; releasing the GIL around it is not a lock" if call.gil_released else ""
            yield ctx.finding(
                unit,
                call.span,
                f"{call.name}, of a library declared thread-unsafe, is called without a lock",
                fn.name,
                detail=f"{reason}{gil}; hold a process-wide PyMutex (or a per-handle lock) around every call into it",
            )
