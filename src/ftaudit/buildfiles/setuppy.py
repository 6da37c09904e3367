"""`Extension(name, sources=[...])` calls of a setup.py, read with Python's `ast` (never run).

Understood: string literals, lists and tuples of them (`*NAME` unpacked), `+` between them, module-level names
assigned such values (the last assignment before the end of the file wins), `os.path.join` of
strings. Recognised calls: `Extension`, `Pybind11Extension`, `Cython.Distutils.Extension` and any
`x.Extension`, by the name the call uses. `compiled_sources` reads their `define_macros`,
`undef_macros` and the `-D`/`-U` of `extra_compile_args`, of calls outside any `if`
(buildfiles.defines).
"""

from __future__ import annotations

import ast
import os

from . import MAX_VALUE, BuildTarget, source_path
from .defines import CompiledSources, define_options
from .environ import default_off

EXTENSION_CALLS = frozenset({"Extension", "Pybind11Extension", "CppExtension", "CUDAExtension"})


class _Unknown:
    """A value the reader does not understand."""


UNKNOWN = _Unknown()
Value = str | list["Value"] | _Unknown


def _bounded(value: Value) -> Value:
    """`value`, or UNKNOWN past the bound (so a few lines of `S += S` cost nothing)."""
    return UNKNOWN if isinstance(value, (str, list)) and len(value) > MAX_VALUE else value


def call_name(func: ast.expr) -> str:
    """The name a call's function is written with (`Extension`, `setuptools.Extension` -> `Extension`)."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _evaluate(node: ast.expr, env: dict[str, Value], depth: int = 0) -> Value:
    if depth > 50:
        return UNKNOWN
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items: list[Value] = []
        for e in node.elts:
            if isinstance(e, ast.Starred):  # [*COMMON, "x.c"]
                inner = _evaluate(e.value, env, depth + 1)
                items += inner if isinstance(inner, list) else [UNKNOWN]
            else:
                items.append(_evaluate(e, env, depth + 1))
        return _bounded(items)
    if isinstance(node, ast.Name):
        return env.get(node.id, UNKNOWN)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _evaluate(node.left, env, depth + 1), _evaluate(node.right, env, depth + 1)
        if isinstance(left, list) and isinstance(right, list) and len(left) + len(right) <= MAX_VALUE:
            return left + right
        if isinstance(left, str) and isinstance(right, str) and len(left) + len(right) <= MAX_VALUE:
            return left + right
        return UNKNOWN
    if isinstance(node, ast.Call) and call_name(node.func) == "join" and not node.keywords:
        parts = [_evaluate(a, env, depth + 1) for a in node.args]
        if parts and all(isinstance(p, str) for p in parts):
            return os.path.join(*parts)  # type: ignore[arg-type]
    return UNKNOWN


def _flatten(value: Value) -> tuple[list[str], bool]:
    """The strings of a (nested) list value and whether it was all understood; past `MAX_VALUE` strings
    (`S = [S, S]` nests a doubling list per line) nothing is, and the list is not understood."""
    out: list[str] = []
    todo: list[Value] = [value]
    ok = True
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            if len(out) > MAX_VALUE:
                return [], False
        elif isinstance(item, list):
            todo.extend(reversed(item))
        else:
            ok = False
    return out, ok


def _module_env(tree: ast.Module) -> dict[str, Value]:
    env: dict[str, Value] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            env[stmt.targets[0].id] = _evaluate(stmt.value, env)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and isinstance(stmt.op, ast.Add):
            before, more = env.get(stmt.target.id, UNKNOWN), _evaluate(stmt.value, env)
            both = isinstance(before, list) and isinstance(more, list)
            env[stmt.target.id] = _bounded(before + more) if both else UNKNOWN  # type: ignore[operator]
    return env


def _opt_in(tree: ast.Module) -> dict[int, frozenset[str]]:
    """The `Extension(...)` calls (by `id`) a build with no extra environment variables does not use
    (buildfiles.environ), with the variables that would turn them on: a call in a branch such a build
    does not run, or the value of a name bound once (`lz4stream = Extension(...)`) that only such
    branches read (`if experimental is True: ext_modules.append(lz4stream)`)."""
    off = default_off(tree)
    if not off:
        return {}
    dead: dict[int, frozenset[str]] = {}
    for o in off:
        for stmt in o.statements:
            for n in ast.walk(stmt):
                dead.setdefault(id(n), o.variables)
    bound: dict[str, list[ast.AST]] = {}
    loads: dict[str, list[ast.Name]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else bound).setdefault(n.id, []).append(n)
    out: dict[int, frozenset[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
            uses = loads.get(name, [])
            once = isinstance(value, ast.Call) and len(bound.get(name, [])) == 1
            if once and uses and all(id(u) in dead for u in uses):
                out[id(value)] = frozenset().union(*(dead[id(u)] for u in uses))
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and id(n) in dead:
            out.setdefault(id(n), dead[id(n)])
    return out


def targets(text: str, path: str) -> list[BuildTarget]:
    """The extension modules a setup.py names (`opt_in` set on those only an environment variable adds,
    `_opt_in`). Raises SyntaxError/ValueError/RecursionError on bad input."""
    tree = ast.parse(text, filename=path)
    env = _module_env(tree)
    opt_in = _opt_in(tree)
    base = os.path.dirname(path)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or call_name(node.func) not in EXTENSION_CALLS:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        name_node = node.args[0] if node.args else kw.get("name")
        sources_node = node.args[1] if len(node.args) > 1 else kw.get("sources")
        name = _evaluate(name_node, env) if name_node is not None else UNKNOWN
        if not isinstance(name, str) or not name:
            continue
        sources, complete = _flatten(_evaluate(sources_node, env)) if sources_node is not None else ([], False)
        files = tuple(source_path(base, s) for s in sources)
        needs = ", ".join(sorted(opt_in.get(id(node), ())))
        out.append(BuildTarget(name, "setup.py", path, node.lineno, files, complete=complete, opt_in=needs))
    return out


def _macro_options(node: ast.expr | None, env_nodes: dict[str, ast.expr]) -> list[str] | None:
    """`define_macros=[("X", None), ("Y", "1")]` as `-DX`, `-DY=1` (a module-level name is followed to
    its literal); None when any item is not such a literal pair."""
    if isinstance(node, ast.Name):
        node = env_nodes.get(node.id)
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    out: list[str] = []
    for item in node.elts:
        if not (isinstance(item, ast.Tuple) and len(item.elts) == 2):
            return None
        name, value = item.elts
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return None
        if isinstance(value, ast.Constant) and value.value is None:
            out.append(f"-D{name.value}")
        elif isinstance(value, ast.Constant) and (
            isinstance(value.value, str) or (type(value.value) is int and abs(value.value) < 2**64)
        ):  # a 5000-digit int would not even convert to text
            out.append(f"-D{name.value}={value.value}")
        else:
            return None
    return out


def compiled_sources(text: str, path: str) -> list[CompiledSources]:
    """The `-D`/`-U` options of the extensions a setup.py names outside any `if` (their `define_macros`,
    `undef_macros` and `extra_compile_args`; a `define_macros` that is not a list of literal pairs
    gives none of its own). Raises SyntaxError/ValueError/RecursionError on bad input."""
    tree = ast.parse(text, filename=path)
    env = _module_env(tree)
    env_nodes = {
        s.targets[0].id: s.value
        for s in tree.body
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
    }
    conditional = {id(n) for c in ast.walk(tree) if isinstance(c, (ast.If, ast.IfExp)) for n in ast.walk(c)}
    base = os.path.dirname(path)
    out: list[CompiledSources] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or call_name(node.func) not in EXTENSION_CALLS or id(node) in conditional:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        sources_node = node.args[1] if len(node.args) > 1 else kw.get("sources")
        sources, _ = _flatten(_evaluate(sources_node, env)) if sources_node is not None else ([], False)
        options = _macro_options(kw["define_macros"], env_nodes) or [] if "define_macros" in kw else []
        undef, _ = _flatten(_evaluate(kw["undef_macros"], env)) if "undef_macros" in kw else ([], True)
        options += [f"-U{u}" for u in undef]
        extra, _ = _flatten(_evaluate(kw["extra_compile_args"], env)) if "extra_compile_args" in kw else ([], True)
        found = define_options([*options, *extra])
        if sources and found:
            files = tuple(source_path(base, s) for s in sources)
            out.append(CompiledSources(path, node.lineno, files, found, found))
    return out
