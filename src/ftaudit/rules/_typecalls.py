"""The module's own type objects, and calls of them: calling a type makes a new instance (rules/_fresh.py).

C code makes an instance of one of its own types by calling the type object through the object-call C
API (`PyObject_CallObject((PyObject *)IterType, NULL)`, `PyObject_CallNoArgs((PyObject *)&WriterType)`):
the result is a new object this call alone holds until it publishes it, as with `PyObject_New`.

Which type objects count (per scan, memoised), by the facts every C frontend records (`Unit.statics`,
`Function.accesses`, the scan's roles):

- a `PyTypeObject` variable the scan defines (a static type: `static PyTypeObject WriterType = {...}`,
  called through its address);
- a `PyTypeObject *` variable of the scan (a heap type kept in a static, filled from a spec) that is
  written, or has its address handed on, somewhere, and only in code that runs while the module is
  initialised or torn down (rules/_roles.py): afterwards it always names the type init made.

Not judged: a `PyTypeObject *` code after import may set (to any type), a parameter (any callable), a
module state member, a `PyObject *` static (any callable by its type). Known limit: a type whose `tp_new`
hands back an existing instance (a cache, a singleton) would be taken for a constructor.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..callgraph import own_key
from ..catalogue import Catalogue
from ..engine import Context
from ..facts import AccessKind, Arg, ArgKind, Function, Unit
from ._roles import Role, project_roles


def _type_kind(declared: str) -> str:
    """What a variable of the declared type `declared` holds: "value" for a `PyTypeObject` (a static type),
    "pointer" for a `PyTypeObject *` (the pointer itself may be const), else "" (a pointer to const, an
    array, any other type)."""
    text = "".join(w for w in declared.replace("*", " * ").split() if w not in ("static", "extern", "volatile"))
    text = text.replace("struct_typeobject", "PyTypeObject")
    if text == "PyTypeObject":
        return "value"
    if text in ("PyTypeObject*", "PyTypeObject*const"):
        return "pointer"
    return ""


_SETTING = frozenset({*(k for k in AccessKind if k.writes), AccessKind.ADDRESS})


class ModuleTypes:
    """The type objects of the scan (see the module docstring), by the names each unit knows them by."""

    def __init__(self, units: Sequence[Unit], roles: dict[tuple[str, str], Role]) -> None:
        kinds: dict[str, str] = {}
        defined: set[str] = set()
        for unit in units:
            for key, var in unit.statics.items():
                kind = "" if var.system else _type_kind(var.type)
                if kind:
                    kinds[key] = kind
                    if var.definition:
                        defined.add(key)
        settings: dict[str, bool] = {}  # pointer key -> every setting seen so far is init-only
        for unit in units:
            for fn in unit.functions:
                init = roles.get(own_key(unit, fn), Role.OTHER).init_only
                for a in fn.accesses:
                    if kinds.get(a.var) == "pointer" and a.kind in _SETTING:
                        settings[a.var] = settings.get(a.var, True) and init
        self.keys = frozenset(
            key
            for key, kind in kinds.items()
            if (kind == "value" and key in defined) or (kind == "pointer" and settings.get(key, False))
        )
        self._names: dict[str, frozenset[str]] = {}
        for unit in units:
            self._names[unit.path] = frozenset(v.name for k, v in unit.statics.items() if k in self.keys)

    def names(self, unit: Unit) -> frozenset[str]:
        """The names by which `unit` reaches a type object of the scan."""
        return self._names.get(unit.path, frozenset())


def module_types(ctx: Context) -> ModuleTypes:
    """The scan's type objects (memoised per scan)."""

    def build() -> ModuleTypes:
        return ModuleTypes(ctx.project.units, project_roles(ctx).roles)

    return ctx.project.memo("module-types", build)


def calls_type(cat: Catalogue, fn: Function, types: frozenset[str], callee: str, args: Sequence[Arg]) -> bool:
    """Is this call in `fn` (`callee` with `args`) a call of one of `types` (names of the scan's type
    objects, `ModuleTypes.names`) through the object-call C API (catalogue: type-calls)? The name must be
    the variable's, not a parameter or local of `fn` that hides it (the frontends strip casts and `&`)."""
    if callee not in cat.type_calls or not args or args[0].kind != ArgKind.NAME:
        return False
    name = args[0].path
    return name in types and name not in fn.locals and all(p.name != name for p in fn.params)
