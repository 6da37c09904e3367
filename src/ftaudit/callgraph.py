"""The call graph of the whole scan, and the functions a Python thread can reach through it.

Built once per scan from the facts every frontend produces (`Function.calls`,
`Function.refs`, `Unit.refs`), so libclang, tree-sitter and Cython units are
judged alike. Nodes are functions keyed `(file, name)` for `static` ones (no
caller outside their translation unit) and `("", name)` for external ones; a
call is resolved to the caller's own static function first, as the compiler
does, then to one a file it includes defines (a `static inline` helper of a
header, the `.c` files a unity build such as cffi's `_cffi_backend.c`
includes), then to one of the file that includes it.

Reachability answers "can this code run while Python threads run?". It is
deliberately conservative, because a function wrongly judged unreachable hides
true hazards:

- roots are every function used as a value anywhere at file scope (method
  tables, type slots, ufunc loop arrays, any initialiser), every function with
  a role from its name (`PyInit_*`, `pybind11_init_*`, Cython's `<module>`), and
  every function no code in the scan calls, except a program's entry point
  (`main`, `WinMain`) and a static function libclang read whose name its file
  spells nowhere but where functions are declared (`unmentioned`:
  frontends/mentions.py): an external one may be called from outside the scan, a
  static one through a macro the syntax-only frontends cannot expand or a table
  the frontends did not read as one;
- edges are calls and the functions a body uses as values (a callback passed
  on, a lambda given to pybind11's `def`); a call to `method` reaches every
  `Class::method` (and every Cython `Class.method`), since member calls are
  recorded by their bare name; a use as a value of a name the scan defines
  a function of reaches that function only (`resolve_ref`). A method call
  whose receiver's class is known (`Call.receiver_class`: Cython typed
  attributes, locals, parameters, casts, `self`) and defined in the scan
  reaches only what it can dispatch to (`resolve_call`): the method the class
  defines or inherits from its nearest base that defines one, and every
  override in a class derived from it (the object may be of a subclass). A
  class the scan does not define, or a hierarchy that defines no method of
  that name, falls back to the bare name.

What is left is code that only a program's `main()` runs (a platform demo, a
command-line tool, a test harness built as an executable): never part of an
extension module, so the FT1-FT3 rules do not judge it; and code only
never-called static functions reach (`never_called`), which runs nowhere.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict, deque
from collections.abc import Sequence

from .facts import Call, Function, Problem, Unit

Key = tuple[str, str]  # (file, name) for `static` functions, ("", name) for external ones
PROGRAM_ENTRIES = frozenset({"main", "wmain", "WinMain", "wWinMain", "_tmain"})
_ROOT_PREFIXES = ("PyInit_", "pybind11_init_", "nanobind_init_")


_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")


def plain_name(name: str) -> str:
    """A function or call name without template arguments: `setup<int>` and `Table<T>::fill` are the
    functions `setup` and `Table::fill` (a template's facts are its own, whatever it is instantiated with)."""
    if "<" not in name or name.startswith("operator"):
        return name
    for _ in range(8):  # nested arguments, innermost first
        stripped = _TEMPLATE_ARGS.sub("", name)
        if stripped == name:
            break
        name = stripped
    return name


def own_key(unit: Unit, fn: Function) -> Key:
    name = plain_name(fn.name)
    return (unit.path, name) if fn.internal else ("", name)


def _base(name: str) -> str:
    return name.rsplit("::", 1)[-1].rsplit(".", 1)[-1]


def _is_member(name: str) -> bool:
    """`Class::method` (C++) or `Class.method` (Cython): a member function, called by its bare name."""
    return "::" in name or "." in name


class CallGraph:
    """Callers, callees and value uses of every function defined in the scan."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = units
        self.functions: dict[Key, tuple[Unit, Function]] = {}
        for unit in units:
            for fn in unit.functions:
                self.functions.setdefault(own_key(unit, fn), (unit, fn))
        self._module_of = cython_modules(units)
        self._included, self._includer = c_inclusions(units)
        self._reached: dict[tuple[str, str], tuple[Key, ...]] = {}  # resolve_all's answers, by (unit path, name)
        self._callees: dict[int, tuple[Unit, tuple[tuple[str, frozenset[Key]], ...]]] = {}  # by id(unit)
        self._in_module: dict[tuple[str, str], Key] = {}  # (module, name) -> a static function of its files
        for key in self.functions:
            module = self._module_of.get(key[0]) if key[0] else None
            if module is not None:
                self._in_module.setdefault((module, key[1]), key)
        by_base: dict[str, list[Key]] = defaultdict(list)
        for key in self.functions:
            if _is_member(key[1]):
                by_base[_base(key[1])].append(key)
        self._methods = by_base
        self._members: dict[str, list[Key]] = defaultdict(list)  # `Class.method` -> its definitions
        for key in self.functions:
            if _is_member(key[1]):
                self._members[key[1]].append(key)
        self.bases: dict[str, set[str]] = defaultdict(set)  # class -> its bases (every file's, by name)
        self.derived: dict[str, set[str]] = defaultdict(set)  # class -> the classes naming it as a base
        self.classes: set[str] = set()
        for unit in units:
            self.classes.update(unit.classes)
            for cls, bases in unit.bases.items():
                for b in bases:
                    if b != cls:
                        self.bases[cls].add(b)
                        self.derived[b].add(cls)
        self.callers: dict[Key, set[Key]] = defaultdict(set)  # callee -> the functions that call it
        self.edges: dict[Key, set[Key]] = defaultdict(set)  # function -> what it calls or uses as a value
        self.file_refs: set[Key] = set()  # used as a value at file scope (tables, initialisers)
        self._unmentioned: set[Key] | None = None
        for unit in units:
            for ref in unit.refs:
                self.file_refs.update(self.resolve_ref(unit, ref.name))
            for fn in unit.functions:
                me = own_key(unit, fn)
                for call in fn.calls:
                    for callee in self.resolve_call(unit, call):
                        self.callers[callee].add(me)
                        self.edges[me].add(callee)
                for ref in fn.refs:
                    for target in self.resolve_ref(unit, ref.name):
                        self.callers[target].add(me)
                        self.edges[me].add(target)

    def resolve(self, unit: Unit, name: str) -> Key:
        """A name as seen from `unit`: its own static function first (in Cython, one of any file of
        the module it is compiled into: the `.pyx` and the `.pxi` files it includes), else the
        external one."""
        name = plain_name(name)
        local = (unit.path, name)
        if local in self.functions:
            return local
        for path in self._included.get(unit.path, ()):  # in one translation unit with its includes
            if (path, name) in self.functions:
                return (path, name)
        outer = self._includer.get(unit.path)
        for _ in range(len(self._includer)):
            if outer is None:
                break
            if (outer, name) in self.functions:
                return (outer, name)
            outer = self._includer.get(outer)
        module = self._module_of.get(unit.path)
        if module is not None:
            return self._in_module.get((module, name), ("", name))
        return ("", name)

    def resolve_all(self, unit: Unit, name: str) -> list[Key]:
        """Every defined function a call of `name` from `unit` may reach (a bare member name: each method)."""
        memo = (unit.path, name)
        found = self._reached.get(memo)
        if found is None:  # the rules' fixpoints ask the same question round after round
            key = self.resolve(unit, name)
            bare = key[1]
            found = (key,) if key in self.functions else ()
            if not _is_member(bare):
                found += tuple(m for m in self._methods.get(bare, ()) if m != key)
            self._reached[memo] = found
        return list(found)

    def callee_targets(self, unit: Unit) -> tuple[tuple[str, frozenset[Key]], ...]:
        """Each name `unit`'s functions call, sorted, with every definition a call of it may reach
        (`resolve_all`); a name that reaches no definition of the scan is left out. Computed once per unit."""
        held = self._callees.get(id(unit))
        if held is not None and held[0] is unit:
            return held[1]
        names = sorted({c.name for fn in unit.functions for c in fn.calls})
        pairs = ((name, frozenset(self.resolve_all(unit, name))) for name in names)
        out = tuple((name, targets) for name, targets in pairs if targets)
        self._callees[id(unit)] = (unit, out)  # the unit kept, so its id is not reused
        return out

    def resolve_call(self, unit: Unit, call: Call) -> list[Key]:
        """Every defined function `call` from `unit` may run: for a method call on a receiver of a class the
        scan defines, the method that class defines or inherits and every override below it (see the module
        docstring); otherwise `resolve_all` of its name."""
        cls = call.receiver_class
        if not cls or cls not in self.classes or _is_member(call.name):
            return self.resolve_all(unit, call.name)
        found = self._dispatch(unit, cls, plain_name(call.name))
        return found if found else self.resolve_all(unit, call.name)

    def resolve_unbound(self, unit: Unit, call: Call) -> list[Key] | None:
        """The functions a call through a class of the scan by its own name may run (`Base.__init__(self,
        p)`, Python's unbound call): the method that class defines or inherits from its nearest base, and
        no override (naming the class picks its method, whatever the object's class). None when the call
        is no such call (its receiver is not a class name the scan defines, or is typed: a variable) or a
        base the scan does not define may hold the method."""
        if not call.receiver or call.receiver_class or _is_member(call.name):
            return None
        return self.resolve_qualified(unit, f"{call.receiver}.{call.name}")

    def resolve_qualified(self, unit: Unit, name: str) -> list[Key] | None:
        """What `Cls.method` (a Cython call through a class by its name, as an origin records it) runs: the
        method `Cls` defines or inherits from its nearest base, no override; None when `Cls` is not a
        class the scan defines or a base the scan does not define may hold the method."""
        cls, _, method = name.rpartition(".")
        if not cls or "." in cls or cls not in self.classes:
            return None
        return self._inherited(unit, cls, plain_name(method))

    def _dispatch(self, unit: Unit, cls: str, method: str) -> list[Key]:
        out: list[Key] = []
        inherited = self._inherited(unit, cls, method)
        if inherited is None:  # a base the scan does not define may hold it: not narrowed
            return []
        out += inherited
        seen = {cls}
        todo = sorted(self.derived.get(cls, ()))
        while todo:  # every subclass's override (the receiver may be of any of them)
            sub = todo.pop()
            if sub in seen:
                continue
            seen.add(sub)
            out += [k for k in self._defined(unit, sub, method) if k not in out]
            todo += sorted(self.derived.get(sub, ()))
        return out

    def _inherited(self, unit: Unit, cls: str, method: str) -> list[Key] | None:
        """The definitions of `method` in `cls` or, if it has none, in its nearest bases that define one
        (each path up the hierarchy); None when a path reaches a class the scan does not define first."""
        out: list[Key] = []
        seen: set[str] = set()
        todo = [cls]
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            if c not in self.classes:
                return None
            here = self._defined(unit, c, method)
            if here:
                out += [k for k in here if k not in out]
            else:
                todo += sorted(self.bases.get(c, ()))
        return out or None

    def _defined(self, unit: Unit, cls: str, method: str) -> list[Key]:
        """`cls.method` as defined in the scan: the caller's own file's first, else every file's."""
        name = f"{cls}.{method}"
        local = (unit.path, name)
        if local in self.functions:
            return [local]
        return list(self._members.get(name, ()))

    def resolve_ref(self, unit: Unit, name: str) -> list[Key]:
        """The functions a use of `name` as a value reaches: the function of that name when the scan
        defines one (a Cython `cdef public` function `f` is not every method `f`), else as a call."""
        key = self.resolve(unit, name)
        return [key] if key in self.functions else self.resolve_all(unit, name)

    def methods_named(self, base: str) -> list[Key]:
        """Every `Class::base` defined in the scan (what a member call by the bare name `base` reaches)."""
        return self._methods.get(base, [])

    def unmentioned(self) -> set[Key]:
        """Static functions nothing can run: no call or value use of their name in the scan but their own,
        and a name their file's code holds only where functions are declared (frontends/mentions.py), in
        a file with a way in (`_way_in`; one without is a fragment, judged whole)."""
        if self._unmentioned is None:
            candidates = {k for k, (_u, fn) in self.functions.items() if k[0] and not fn.mentioned}
            # Uses by bare name, which every resolved caller and table entry of a candidate is among, and
            # more: a tree-sitter includer lists no includes, so its table's `inner_touch` resolves to no
            # static of the included file.
            used: dict[str, set[Key]] = defaultdict(set)
            wanted = {_base(k[1]) for k in candidates}
            for unit in self.units if candidates else ():
                for ref in unit.refs:
                    if _base(plain_name(ref.name)) in wanted:
                        used[_base(plain_name(ref.name))].add(("", "<file scope>"))
                for fn in unit.functions:
                    me = own_key(unit, fn)
                    for name in [c.name for c in fn.calls] + [r.name for r in fn.refs]:
                        if _base(plain_name(name)) in wanted:
                            used[_base(plain_name(name))].add(me)
            dead = {key for key in candidates if not (used.get(_base(key[1]), set()) - {key})}
            # A file with no way in (no external function, nothing in a table or used as a value, no
            # PyInit_, nothing another file calls) is a fragment: a snippet, or a file some build
            # includes in a way the scan cannot see. It is judged as a whole.
            entered = {k[0] for k in self.file_refs}
            paths = {k[0] for k in dead}
            for unit in self.units:
                if unit.path in paths and any(self._way_in(unit, fn) for fn in unit.functions):
                    entered.add(unit.path)
            self._unmentioned = {key for key in dead if key[0] in entered}
        return self._unmentioned

    def _way_in(self, unit: Unit, fn: Function) -> bool:
        """Can code outside `unit` run `fn`: external, named as a root, or called from another file?"""
        key = own_key(unit, fn)
        if not key[0] or _base(fn.name).startswith(_ROOT_PREFIXES):
            return True
        return any(c[0] != unit.path for c in self.callers.get(key, ()))

    def roots(self) -> set[Key]:
        """Where execution may enter the scanned code from outside it (see the module docstring)."""
        out = set(self.file_refs)
        dead = self.unmentioned()
        for key, (_unit, fn) in self.functions.items():
            base = _base(fn.name)
            by_name = base.startswith(_ROOT_PREFIXES) or base == "<module>"
            # an external function only dead code calls may still be called from outside the scan
            callers = self.callers.get(key, set()) - {key} - (dead if not key[0] else set())
            uncalled = not callers and base not in PROGRAM_ENTRIES and key not in dead
            if by_name or uncalled:
                out.add(key)
        return out

    def reachable(self) -> set[Key]:
        """Every function reachable from the roots through calls and value uses."""
        return self._closure(self.roots())

    def program_only(self) -> set[Key]:
        """Functions that only a program's entry point reaches: reachable from `main` (or `WinMain`...),
        not from any root. Anything else, a dead cycle included, stays judged."""
        entries = {k for k, (_u, fn) in self.functions.items() if _base(fn.name) in PROGRAM_ENTRIES}
        return self._closure(entries) - self.reachable() if entries else set()

    def never_called(self) -> set[Key]:
        """Functions only never-called static functions reach (`unmentioned`, and the static helpers only
        they call), not any root nor a program's entry point. A dead cycle of other functions stays judged."""
        dead = self.unmentioned()
        return self._closure(dead) - self.reachable() if dead else set()

    def _closure(self, start: set[Key]) -> set[Key]:
        seen = set(start)
        todo = deque(seen)
        while todo:
            for nxt in self.edges.get(todo.popleft(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen


def cython_modules(units: Sequence[Unit]) -> dict[str, str]:
    """Each Cython file's module: the `.pyx` it is, or that includes it (`include "x.pxi"`, listed in
    `Unit.includes` by the Cython frontend, also through an included `.pxi`). Cython compiles them
    as one C file, so a `cdef` function of one is called by its name from the others."""
    by_path = {os.path.normpath(u.path): u for u in units if u.language == "cython"}
    out: dict[str, str] = {}
    for pyx in by_path.values():
        if not pyx.path.endswith(".pyx"):
            continue
        todo = [pyx]
        while todo:
            unit = todo.pop()
            if unit.path in out:
                continue
            out[unit.path] = pyx.path
            todo += [u for p in unit.includes if p.endswith(".pxi") and (u := by_path.get(os.path.normpath(p)))]
    return out


def c_inclusions(units: Sequence[Unit]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """For C and C++ units: the scanned files each one includes (libclang lists every file of the
    translation unit in `Unit.includes`; for a tree-sitter unit, a quoted include found beside the file),
    closed transitively and in include order; and each included file's includer (the first in path
    order), through which it sees its includer's static functions. Paths are the units' own; they are
    matched as absolute paths, since a unit's path is as the scan was given it (often relative to the
    working directory) while libclang names included files by the absolute paths of the include flags."""
    by_path = {os.path.abspath(u.path): u for u in units if u.language in ("c", "cpp")}
    direct: dict[str, list[str]] = {}
    for norm, unit in by_path.items():
        names = unit.includes or [
            os.path.join(os.path.dirname(norm), name) for name in unit.missing_headers if not os.path.isabs(name)
        ]
        found = [by_path[n].path for name in names if (n := os.path.abspath(name)) in by_path and n != norm]
        if found:
            direct[unit.path] = list(dict.fromkeys(found))
    included: dict[str, list[str]] = {}
    for path in direct:
        seen: dict[str, None] = {}
        todo = list(direct[path])
        while todo:
            nxt = todo.pop(0)
            if nxt != path and nxt not in seen:
                seen[nxt] = None
                todo += direct.get(nxt, [])
        included[path] = list(seen)
    includer: dict[str, str] = {}
    for path in sorted(direct):
        for inc in direct[path]:
            includer.setdefault(inc, path)
    return included, includer


def program_only_notes(graph: CallGraph, not_judged: set[Key]) -> list[Problem]:
    """One note per file whose functions only a program's `main()` reaches (1-based line of the first)."""
    return _file_notes(graph, not_judged, "program-only", "run only from a program's main(), never from Python")


def never_called_notes(graph: CallGraph, not_judged: set[Key]) -> list[Problem]:
    """One note per file whose static functions nothing calls (`CallGraph.never_called`; 1-based line of
    the first)."""
    what = "never called: static, and named nowhere else in their file's code, nor called from the scan"
    return _file_notes(graph, not_judged, "never-called", what)


def _file_notes(graph: CallGraph, not_judged: set[Key], code: str, what: str) -> list[Problem]:
    by_file: dict[str, list[Function]] = defaultdict(list)
    for key in not_judged:
        unit, fn = graph.functions[key]
        by_file[unit.path].append(fn)
    notes = []
    for path in sorted(by_file):
        fns = sorted(by_file[path], key=lambda f: (f.span.line, f.name))
        names = ", ".join(f.name for f in fns[:5]) + (f" and {len(fns) - 5} more" if len(fns) > 5 else "")
        message = f"{len(fns)} function(s) {what}: {names}; not judged by the FT1-FT3 rules"
        notes.append(Problem(path, "note", code, message, fns[0].span.line))
    return notes
