"""FT303: a library handle kept in a Python object, used by its methods without the object's lock.

The handle types come from the catalogue (`rules/api/libraries.toml`, `handles`); which fields of
which Python objects hold one comes from the frontends (`Unit.object_fields`, merged over the scan:
a Cython `cdef class` is often declared in its `.pxd`). A use is a call of the handle's library
given the field (`FT_Load_Glyph(self->face, ...)`, `deflate(&self->zst, ...)`); a member of a struct value
on the call's stack (an object struct's type used as a plain struct: `ZstdCompressor self = {0};` in a
one-shot function) holds no Python object's handle.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..catalogue import Library
from ..engine import Context, rule
from ..facts import Arg, ArgKind, Call, Function, OriginKind, Unit
from ..findings import Finding, Related
from ._libraries import LibraryIndex, active, handle_of, library_index, library_of, matches
from ._protection import Privacy, holds_mutex, protects
from ._roles import Role, roles_of

# No other thread can hold the object yet (constructors) or any more (deallocators), or it runs once.
_NOT_SHARED = (Role.CONSTRUCTOR, Role.DEALLOC, Role.GC)


def _field(arg: Arg) -> str:
    """The object's own field a member path goes through: the first after the root (`self.face` ->
    `face`, `self.zst.next_in` -> `zst`)."""
    parts = arg.path.replace("[]", "").split(".")
    return parts[1] if len(parts) >= 2 else ""


def _stack_handle(fn: Function, arg: Arg) -> bool:
    """Is `arg` a member of a struct value on this call's stack (Function.value_structs) whose handle this
    call made: every store into that member here is a call's result or NULL (`self.cctx =
    ZSTD_createCCtx()`), and the struct is not used whole (copied or its address kept)? A handle copied in
    from a shared object (`s.cctx = obj->cctx`) is not this call's own."""
    root = arg.root
    if root not in fn.value_structs or any(u.name == root and not u.callee for u in fn.struct_uses):
        return False
    field = f"{root}.{_field(arg)}"
    stores = [m.value for m in fn.member_stores if m.target == field or m.target.startswith(field + ".")]
    return all(v.kind in (OriginKind.CALL, OriginKind.NULL) for v in stores)


@rule("FT303")
def unsafe_library_handle(unit: Unit, ctx: Context) -> Iterator[Finding]:
    """One finding per function and handle field: at its first unguarded use, the others related (a
    method driving one `ZSTD_CCtx` through ten calls has one hazard, not ten)."""
    index = library_index([unit], ctx)
    if not index.object_fields:
        return
    libraries = tuple(lib for lib in active(ctx.catalogue) if lib.handles)
    roles = roles_of(unit, ctx)
    for fn in unit.functions:
        role = roles[fn.name]
        if role.init_only or role in _NOT_SHARED:
            continue
        uses: dict[str, list[tuple[Call, Library]]] = {}
        for call, lib, shown in _unguarded_uses(unit, fn, ctx, index, libraries):
            uses.setdefault(shown, []).append((call, lib))
        for shown, found in uses.items():
            (first, lib), rest = found[0], found[1:]
            root = shown.replace("->", ".").split(".")[0]
            more = f" (and {len(rest)} more call{'s' if len(rest) > 1 else ''} here)" if rest else ""
            related = [Related(c.span, f"{shown} also used by {c.name} here", unit.path) for c, _ in rest]
            yield ctx.finding(
                unit,
                first.span,
                f"{shown} is a {lib.title} handle kept in a Python object and used by {first.name}{more} "
                f"without a critical section on `{root}` or a lock: two threads calling methods of one "
                "object use it at once",
                fn.name,
                related,
            )


def _unguarded_uses(
    unit: Unit, fn: Function, ctx: Context, index: LibraryIndex, libraries: tuple[Library, ...]
) -> Iterator[tuple[Call, Library, str]]:
    """Each call of a library given a handle field of a Python object with no lock covering it: the call,
    the library and the field as shown (`self->face`)."""
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
            if not handle_of(lib, index.object_fields.get(name, "")) or protects(call.locks, arg):
                continue
            if privacy.is_private(Arg(ArgKind.NAME, arg.root, arg.root), at=(call.span, call.regions)):
                continue  # an object this call made (`self = PyObject_New(...)`): no other thread has it
            if arg.root in fn.plain_struct_params:
                continue  # a member of a struct that is no Python object (a worker's state), not an object's
            if _stack_handle(fn, arg):
                continue  # a struct on this call's stack, holding a handle it made: no Python object
            yield call, lib, (f"{arg.root}->{name}" if unit.language != "cython" else f"{arg.root}.{name}")
            break
