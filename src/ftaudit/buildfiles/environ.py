"""Which statements of a setup.py a build with no extra environment variables does not run (never run).

lz4 4.3.3 builds `lz4.stream._stream` only when `PYLZ4_EXPERIMENTAL` is set:

    experimental_env = os.environ.get("PYLZ4_EXPERIMENTAL", "False")
    if experimental_env.upper() in ("1", "TRUE"): experimental = True
    else: experimental = False
    ...
    if experimental is True: ext_modules.append(lz4stream)

`default_off(tree)` walks the module's top-level statements in order with an empty environment
(`os.environ.get(K, d)` and `os.getenv(K, d)` are `d`, `K in os.environ` is false), keeping the
values of names bound to constants (str, int, bool, None, tuples and lists of them, and what
`.upper()`/`.lower()`/`.strip()`, `bool`/`int`/`str`, comparisons and `not`/`and`/`or` make of
them). An `if` whose test it decides and that reads the environment has a branch such a build does
not run: its statements are returned, with the variables the test read. A test it cannot decide
runs both branches (a name they bind differently is unknown after it), and so does everything
else: a name bound in a loop, `try`, `with`, function or class, declared `global`, or changed
through a method call (`x.append(...)`) is unknown. `os.environ["K"]` (a KeyError) is unknown.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


class _Unknown:
    """A value the walk does not know."""


UNKNOWN = _Unknown()
_STR_METHODS = frozenset({"upper", "lower", "strip", "casefold", "lstrip", "rstrip"})
_CONVERSIONS = {"bool": bool, "int": int, "str": str}
_MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "add", "discard", "sort"}
)


@dataclass(frozen=True)
class _Val:
    value: object
    env: frozenset[str] = frozenset()  # the environment variables it was computed from


Known = _Val | _Unknown


def _environ(node: ast.expr) -> bool:
    """`os.environ` or a bare `environ`."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _env_read(node: ast.Call) -> Known | None:
    """`os.environ.get(K[, d])` / `os.getenv(K[, d])` in an empty environment (None: not such a call)."""
    func = node.func
    getenv = (isinstance(func, ast.Attribute) and func.attr == "getenv" and isinstance(func.value, ast.Name)) or (
        isinstance(func, ast.Name) and func.id == "getenv"
    )
    get = isinstance(func, ast.Attribute) and func.attr == "get" and _environ(func.value)
    if not (getenv or get):
        return None
    if node.keywords or not node.args or len(node.args) > 2:
        return UNKNOWN
    key = node.args[0]
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return UNKNOWN
    if len(node.args) == 1:
        return _Val(None, frozenset({key.value}))
    default = node.args[1]
    if isinstance(default, ast.Constant):
        return _Val(default.value, frozenset({key.value}))
    return UNKNOWN


class _Evaluator:
    def __init__(self, names: dict[str, Known]) -> None:
        self.names = names

    def value(self, node: ast.expr, depth: int = 0) -> Known:
        if depth > 30:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return _Val(node.value)
        if isinstance(node, ast.Name):
            return self.names.get(node.id, UNKNOWN)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.value(e, depth + 1) for e in node.elts]
            if any(not isinstance(i, _Val) for i in items):
                return UNKNOWN
            vals = [i for i in items if isinstance(i, _Val)]
            return _Val(tuple(v.value for v in vals), frozenset().union(*(v.env for v in vals)))
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.value(node.operand, depth + 1)
            return _Val(not inner.value, inner.env) if isinstance(inner, _Val) else UNKNOWN
        if isinstance(node, ast.BoolOp):
            return self._boolop(node, depth)
        if isinstance(node, ast.Compare):
            return self._compare(node, depth)
        return UNKNOWN

    def _call(self, node: ast.Call, depth: int) -> Known:
        read = _env_read(node)
        if read is not None:
            return read
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _STR_METHODS and not node.args and not node.keywords:
            inner = self.value(func.value, depth + 1)
            if isinstance(inner, _Val) and isinstance(inner.value, str):
                return _Val(getattr(inner.value, func.attr)(), inner.env)
            return UNKNOWN
        if isinstance(func, ast.Name) and func.id in _CONVERSIONS and len(node.args) == 1 and not node.keywords:
            inner = self.value(node.args[0], depth + 1)
            if not isinstance(inner, _Val) or not isinstance(inner.value, (str, int, bool, type(None))):
                return UNKNOWN
            try:
                return _Val(_CONVERSIONS[func.id](inner.value), inner.env)  # type: ignore[operator]
            except (TypeError, ValueError):
                return UNKNOWN
        return UNKNOWN

    def _boolop(self, node: ast.BoolOp, depth: int) -> Known:
        env: frozenset[str] = frozenset()
        last: Known = UNKNOWN
        for operand in node.values:
            last = self.value(operand, depth + 1)
            if not isinstance(last, _Val):
                return UNKNOWN
            env |= last.env
            if bool(last.value) is isinstance(node.op, ast.Or):
                return _Val(last.value, env)  # short-circuit
        return _Val(last.value, env) if isinstance(last, _Val) else UNKNOWN

    def _compare(self, node: ast.Compare, depth: int) -> Known:
        if len(node.ops) != 1:
            return UNKNOWN
        op, right_node = node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)) and _environ(right_node):
            key = self.value(node.left, depth + 1)  # `"K" in os.environ`: never, in an empty environment
            if isinstance(key, _Val) and isinstance(key.value, str):
                return _Val(isinstance(op, ast.NotIn), key.env | {key.value})
            return UNKNOWN
        left, right = self.value(node.left, depth + 1), self.value(right_node, depth + 1)
        if not isinstance(left, _Val) or not isinstance(right, _Val):
            return UNKNOWN
        a, b = left.value, right.value
        singletons = (bool, type(None))
        if isinstance(op, (ast.Is, ast.IsNot)) and not (isinstance(a, singletons) and isinstance(b, singletons)):
            return UNKNOWN  # identity of other values is not the walk's to tell
        try:
            result = {
                ast.Eq: lambda: a == b,
                ast.NotEq: lambda: a != b,
                ast.Is: lambda: a is b,
                ast.IsNot: lambda: a is not b,
                ast.In: lambda: a in b,  # type: ignore[operator]
                ast.NotIn: lambda: a not in b,  # type: ignore[operator]
            }[type(op)]()
        except (KeyError, TypeError):
            return UNKNOWN
        return _Val(result, left.env | right.env)


def _bound(node: ast.AST) -> set[str]:
    """Every name a statement binds anywhere inside it."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}


def _never_known(tree: ast.Module) -> set[str]:
    """Names whose value the walk cannot follow: declared `global`, or changed through a method call or
    an item or attribute assignment anywhere in the file."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Global):
            out.update(n.names)
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in _MUTATORS
            and isinstance(n.func.value, ast.Name)
        ):
            out.add(n.func.value.id)
        elif isinstance(n, (ast.Subscript, ast.Attribute)) and not isinstance(n.ctx, ast.Load):
            root = n.value
            if isinstance(root, ast.Name):
                out.add(root.id)
    return out


@dataclass(frozen=True)
class Off:
    """Statements a build with no extra environment variables does not run, and the variables the test
    that decides so reads (`PYLZ4_EXPERIMENTAL`)."""

    statements: tuple[ast.stmt, ...]
    variables: frozenset[str]


def default_off(tree: ast.Module) -> list[Off]:
    """The branches of the module's top-level `if`s (nested ones too) a build with an empty
    environment does not run, decided by a test that reads the environment."""
    never = _never_known(tree)
    out: list[Off] = []

    def walk(body: list[ast.stmt], names: dict[str, Known], decided_by: frozenset[str] = frozenset()) -> None:
        """Run `body`; `decided_by`: the variables whose tests chose this branch (what it binds depends on them)."""
        ev = _Evaluator(names)
        for stmt in body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = ev.value(stmt.value)
                if isinstance(value, _Val) and decided_by:
                    value = _Val(value.value, value.env | decided_by)
                for t in targets:
                    for name in _bound(t):
                        single = isinstance(t, ast.Name) and name not in never
                        names[name] = value if single else UNKNOWN
            elif isinstance(stmt, ast.If):
                test = ev.value(stmt.test)
                if isinstance(test, _Val) and test.env:
                    taken, dead = (stmt.body, stmt.orelse) if test.value else (stmt.orelse, stmt.body)
                    if dead:
                        out.append(Off(tuple(dead), test.env))
                    walk(taken, names, decided_by | test.env)
                    continue
                one, other = dict(names), dict(names)
                walk(stmt.body, one, decided_by)
                walk(stmt.orelse, other, decided_by)
                for name in set(one) | set(other):
                    a, b = one.get(name, UNKNOWN), other.get(name, UNKNOWN)
                    names[name] = a if isinstance(a, _Val) and isinstance(b, _Val) and a == b else UNKNOWN
            else:
                for name in _bound(stmt):
                    names[name] = UNKNOWN

    walk(tree.body, {})
    return out
