"""FT303: a library handle kept in a Python object, used by its methods without the object's lock.

The handle types come from the catalogue (`rules/api/libraries.toml`, `handles`); which fields of
which Python objects hold one comes from the frontends (`Unit.object_fields`, merged over the scan:
a Cython `cdef class` is often declared in its `.pxd`). A use is a call of the handle's library
given the field (`FT_Load_Glyph(self->face, ...)`, `deflate(&self->zst, ...)`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..engine import Context, rule
from ..facts import Arg, ArgKind, Unit
from ..findings import Finding
from ._libraries import active, handle_of, library_index, library_of, matches
from ._protection import Privacy, holds_mutex, protects
from ._roles import Role, roles_of

# No other thread can hold the object yet (constructors) or any more (deallocators), or it runs once.
_NOT_SHARED = (Role.CONSTRUCTOR, Role.DEALLOC, Role.GC)


def _field(arg: Arg) -> str:
    """The object's own field a member path goes through: the first after the root (`self.face` ->
    `face`, `self.zst.next_in` -> `zst`)."""
    parts = arg.path.replace("[]", "").split(".")
    return parts[1] if len(parts) >= 2 else ""


@rule("FT303")
def unsafe_library_handle(unit: Unit, ctx: Context) -> Iterator[Finding]:
    index = library_index([unit], ctx)
    if not index.object_fields:
        return
    libraries = tuple(lib for lib in active(ctx.catalogue) if lib.handles)
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        role = roles[fn.name]
        if role.init_only or role in _NOT_SHARED:
            continue
        privacy = Privacy(fn, ctx.catalogue)
        for call in fn.calls:
            if call.user_defined and call.declared_in == "":
                continue
            lib = library_of(call, libraries)
            if lib is None or matches(call.name, ctx.catalogue.safe_functions) or index.own_source(unit, lib.name):
                continue
            if matches(call.name, lib.readonly):
                continue  # reads what does not change once the handle is made (`FT_HAS_KERNING(face)`)
            if holds_mutex(call.locks):
                continue
            for arg in call.args:
                if arg.kind != ArgKind.MEMBER:
                    continue
                name = _field(arg)
                handle = handle_of(lib, index.object_fields.get(name, ""))
                if not handle or protects(call.locks, arg):
                    continue
                if privacy.is_private(Arg(ArgKind.NAME, arg.root, arg.root), at=(call.span, call.regions)):
                    continue  # an object this call made (`self = PyObject_New(...)`): no other thread has it
                shown = f"{arg.root}->{name}" if unit.language != "cython" else f"{arg.root}.{name}"
                yield ctx.finding(
                    unit,
                    call.span,
                    f"{shown} is a {lib.title} handle ({handle}) kept in a Python object and used by {call.name} "
                    f"without a critical section on `{arg.root}` or a lock: two threads calling methods of one "
                    "object use it at once",
                    fn.name,
                )
                break
