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

from ..callgraph import CallGraph
from ..catalogue import Library
from ..engine import Context, rule
from ..facts import Arg, ArgKind, Call, Function, OriginKind, Unit
from ..findings import Finding, Related
from ._handle_params import HandleParams
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


def _used_by(call: Call, via: str) -> str:
    """`BrotliEncoderIsFinished`, or `compress_stream` (in `BrotliEncoderCompressStream`) for a helper."""
    return call.name if via == call.name else f"{call.name} (which calls {via})"


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
        uses: dict[str, list[tuple[Call, Library, str]]] = {}
        for call, lib, shown, via in _unguarded_uses(unit, fn, ctx, index, libraries):
            uses.setdefault(shown, []).append((call, lib, via))
        for shown, found in uses.items():
            (first, lib, via), rest = found[0], found[1:]
            root = shown.replace("->", ".").split(".")[0]
            more = f" (and {len(rest)} more call{'s' if len(rest) > 1 else ''} here)" if rest else ""
            related = [Related(c.span, f"{shown} also used by {_used_by(c, v)} here", unit.path) for c, _, v in rest]
            yield ctx.finding(
                unit,
                first.span,
                f"{shown} is a {lib.title} handle kept in a Python object and used by {_used_by(first, via)}{more} "
                f"without a critical section on `{root}` or a lock: two threads calling methods of one "
                "object use it at once",
                fn.name,
                related,
            )


def _unguarded_uses(
    unit: Unit, fn: Function, ctx: Context, index: LibraryIndex, libraries: tuple[Library, ...]
) -> Iterator[tuple[Call, Library, str, str]]:
    """Each call of a library given a handle field of a Python object with no lock covering it, directly or
    through a helper of the scan that hands its parameter to the library (_handle_params.py): the call,
    the library, the field as shown (`self->face`) and the library call used (the helper's, for one)."""
    privacy = Privacy(fn, ctx.catalogue)
    helpers: HandleParams | None = None
    for call in fn.calls:
        if holds_mutex(call.locks):
            continue
        lib = library_of(call, libraries)
        direct = lib is not None and not (call.user_defined and call.declared_in == "")
        if direct and lib is not None:
            if matches(call.name, ctx.catalogue.safe_functions) or index.own_source(unit, lib.name):
                continue
            if matches(call.name, lib.readonly):
                continue  # reads what does not change once the handle is made (`FT_HAS_KERNING(face)`)
        for j, arg in enumerate(call.args):
            if arg.kind != ArgKind.MEMBER:
                continue
            name = _field(arg)
            field_type = index.object_fields.get(name, "")
            if direct and lib is not None:
                used, via = (lib, call.name) if handle_of(lib, field_type) else (None, "")
            else:
                if not any(handle_of(lib_, field_type) for lib_ in libraries):
                    continue
                if helpers is None:
                    helpers = handle_params(ctx, libraries)
                reached = next((u for k in helpers.graph.resolve_call(unit, call) if (u := helpers.use(k, j))), None)
                used, via = (reached.lib, reached.call) if reached else (None, "")
            if used is None or protects(call.locks, arg):
                continue
            if privacy.is_private(Arg(ArgKind.NAME, arg.root, arg.root), at=(call.span, call.regions)):
                continue  # an object this call made (`self = PyObject_New(...)`): no other thread has it
            if arg.root in fn.plain_struct_params:
                continue  # a member of a struct that is no Python object (a worker's state), not an object's
            if _stack_handle(fn, arg):
                continue  # a struct on this call's stack, holding a handle it made: no Python object
            shown = f"{arg.root}->{name}" if unit.language != "cython" else f"{arg.root}.{name}"
            yield call, used, shown, via
            break


def handle_params(ctx: Context, libraries: tuple[Library, ...]) -> HandleParams:
    """The scan's HandleParams summary, built once."""
    project = ctx.project
    graph = project.memo("callgraph", lambda: CallGraph(project.units))
    return project.memo("handle-params", lambda: HandleParams(graph, ctx.catalogue, libraries))
