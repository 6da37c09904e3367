"""FT3: thread-unsafe C library calls (FT301)."""

from __future__ import annotations

from collections.abc import Iterator

from ..engine import Context, rule
from ..facts import ArgKind, Unit
from ..findings import Finding
from ._protection import holds_mutex
from ._roles import roles_of


@rule("FT301")
def mt_unsafe_libc(unit: Unit, ctx: Context) -> Iterator[Finding]:
    table = ctx.catalogue.libc
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        if roles[fn.name].init_only:
            continue  # module init runs once, before the module's functions can be called
        for call in fn.calls:
            info = table.get(call.name)
            if info is None or call.user_defined or holds_mutex(call.locks):
                continue
            if call.abort_path:
                continue  # the process ends right after: `fprintf(stderr, "%s", strerror(errno)); abort();`
            idx = info.unsafe_if_null_arg
            if idx is not None and idx < len(call.args):
                a = call.args[idx]
                if not (a.kind == ArgKind.LITERAL and a.value == 0):
                    continue  # a caller-provided state or buffer: the reentrant form
            yield ctx.finding(unit, call.span, info.summary(), fn.name, detail=info.detail())
