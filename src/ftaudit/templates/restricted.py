"""A restricted evaluator for the Python inside Tempita templates: data, never code.

Tempita runs `{{py: ...}}` blocks with `exec` and `{{expr}}` with `eval`; a
template in a scanned tree is untrusted (docs/security.md), so ftaudit never
does either. It parses the code with `ast` and interprets a small subset over
plain values (str, int, float, bool, None, tuples, lists, dicts):

- statements: assignment to names (tuple unpacking too), `+=` and friends,
  `if`, `for` over a value, `pass`, a bare string (a comment);
- expressions: literals, names, arithmetic and comparisons, `and/or/not`,
  `x if c else y`, indexing and slicing, f-strings without format specs,
  comprehensions, a few pure builtins (`range`, `len`, `zip`, `enumerate`,
  `str`, `int`, ...) and a few `str` methods (`upper`, `replace`, `join`, ...).

Anything else (imports, attribute access other than those methods, function
definitions, `**`, `%` formatting, other calls) raises `Refused`, and the
template is reported as not expanded. Sizes are bounded (strings, lists,
integers, `range`, the number of steps), so a template cannot make the
evaluator hang or exhaust memory either. No value it handles has methods
defined by the template, so no template code ever runs.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

MAX_LEN = 1_000_000  # characters of a string, items of a list or range
MAX_BITS = 4096  # of an integer
MAX_STEPS = 5_000_000  # evaluation steps of one template


class Refused(Exception):
    """Code the evaluator will not run (or that fails): the message says what and why."""


_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_CMP: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
    ast.Invert: operator.invert,
}
_STR_METHODS = {
    "upper",
    "lower",
    "capitalize",
    "title",
    "strip",
    "lstrip",
    "rstrip",
    "replace",
    "startswith",
    "endswith",
    "join",
    "split",
    "isdigit",
    "isalpha",
}
_PLAIN = (str, int, float, bool, type(None), tuple, list, dict)


def _range(*args: Any) -> range:
    if not all(isinstance(a, int) for a in args):
        raise Refused("range() of something other than integers")
    r = range(*args)
    if len(r) > MAX_LEN:
        raise Refused(f"range() of more than {MAX_LEN} numbers")
    return r


BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _range,
    "len": len,
    "zip": lambda *a: list(zip(*a, strict=False)),
    "enumerate": lambda a, start=0: list(enumerate(a, start)),
    "str": lambda x="": text_of(x),
    "int": int,
    "float": float,
    "bool": bool,
    "tuple": tuple,
    "list": list,
    "dict": dict,
    "min": min,
    "max": max,
    "abs": abs,
    "sum": lambda a, start=0: _numbers_sum(a, start),
    "any": any,
    "all": all,
    "sorted": sorted,
    "reversed": lambda a: list(reversed(a)),
    "repr": lambda x: text_of(x, repr),
}


def _numbers_sum(items: Any, start: Any = 0) -> Any:
    if not isinstance(start, int | float) or not all(isinstance(x, int | float) for x in items):
        raise Refused("sum() of something other than numbers")
    return sum(items, start)


def _text_size(value: Any, budget: int) -> int:
    """About how long `str(value)` is, counted only up to `budget` (a list may repeat one big string
    a million times: its text would not fit in memory)."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, tuple | list | range):
        total = 2
        for x in value:
            total += _text_size(x, budget - total) + 2
            if total > budget:
                break
        return total
    if isinstance(value, dict):
        return _text_size(list(value.items()), budget)
    return 32


def _method_result_size(obj: str, method: str, args: list[Any]) -> int:
    """An upper bound of the length of `obj.method(*args)` for the methods that can grow a string."""
    if method == "join" and args and isinstance(args[0], list | tuple):
        return _text_size(args[0], MAX_LEN + 1) + len(obj) * len(args[0])
    if method == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        return len(obj) + (obj.count(args[0]) + 1) * len(args[1])
    return len(obj)


def text_of(value: Any, convert: Callable[[Any], str] = str) -> str:
    """`str(value)` (or `repr`), refused when the text would be longer than MAX_LEN."""
    if not isinstance(value, str) and _text_size(value, MAX_LEN + 1) > MAX_LEN:
        raise Refused(f"a text longer than {MAX_LEN}")
    return convert(value)


class Evaluator:
    """Runs statements and evaluates expressions over `ns` (a template's namespace)."""

    def __init__(self, ns: dict[str, Any]) -> None:
        self.ns = ns
        self.steps = 0

    # -- entry points -----------------------------------------------------------------------------
    def run(self, code: str) -> None:
        """Run the statements of a `{{py: ...}}` block. Raises Refused."""
        for stmt in _parse(code, "exec").body:
            self.stmt(stmt)

    def eval(self, code: str) -> Any:
        """The value of an expression (`{{expr}}`, `{{for x in expr}}`, `{{if expr}}`). Raises Refused."""
        tree = _parse(code.strip(), "eval")
        return self.expr(tree.body)

    # -- statements -------------------------------------------------------------------------------
    def stmt(self, s: ast.stmt) -> None:
        self._step()
        if isinstance(s, ast.Assign):
            value = self.expr(s.value)
            for target in s.targets:
                self.assign(target, value)
        elif isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
            op = _BIN.get(type(s.op))
            if op is None:
                raise Refused(f"the operator {type(s.op).__name__}")
            self.ns[s.target.id] = self._checked(op(self._name(s.target.id), self.expr(s.value)))
        elif isinstance(s, ast.If):
            for b in s.body if self.expr(s.test) else s.orelse:
                self.stmt(b)
        elif isinstance(s, ast.For) and not s.orelse:
            for item in self._iter(self.expr(s.iter)):
                self.assign(s.target, item)
                for b in s.body:
                    self.stmt(b)
        elif isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)):
            pass
        else:
            raise Refused(f"the statement `{_show(s)}`")

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.ns[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = list(self._iter(value))
            if len(items) != len(target.elts):
                raise Refused(f"cannot unpack {len(items)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, items, strict=True):
                self.assign(t, v)
        else:
            raise Refused(f"assignment to `{_show(target)}`")

    # -- expressions ------------------------------------------------------------------------------
    def expr(self, e: ast.expr) -> Any:
        self._step()
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            raise Refused(f"the expression `{_show(e)}`")
        try:
            return self._checked(method(e))
        except Refused:
            raise
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError) as err:
            raise Refused(f"`{_show(e)}` fails: {type(err).__name__}: {err}") from None

    def _Constant(self, e: ast.Constant) -> Any:
        if not isinstance(e.value, str | int | float | bool | type(None)):
            raise Refused(f"the constant {e.value!r}")
        return e.value

    def _Name(self, e: ast.Name) -> Any:
        return self._name(e.id)

    def _Tuple(self, e: ast.Tuple) -> Any:
        return tuple(self._elements(e.elts))

    def _List(self, e: ast.List) -> Any:
        return self._elements(e.elts)

    def _Dict(self, e: ast.Dict) -> Any:
        if any(k is None for k in e.keys):
            raise Refused("`**` in a dict display")
        return {self.expr(k): self.expr(v) for k, v in zip(e.keys, e.values, strict=True) if k is not None}

    def _BinOp(self, e: ast.BinOp) -> Any:
        op = _BIN.get(type(e.op), operator.mod if isinstance(e.op, ast.Mod) else None)
        if op is None:
            raise Refused(f"the operator {type(e.op).__name__} (`{_show(e)}`)")
        a, b = self.expr(e.left), self.expr(e.right)
        if isinstance(e.op, ast.Mult):
            for seq, n in ((a, b), (b, a)):
                if isinstance(seq, str | tuple | list) and isinstance(n, int) and len(seq) * n > MAX_LEN:
                    raise Refused(f"`{_show(e)}` is longer than {MAX_LEN}")
        if isinstance(e.op, ast.Mod):
            if not (isinstance(a, int | float) and isinstance(b, int | float)):
                raise Refused(f"`%` formatting (`{_show(e)}`)")
            return a % b
        if isinstance(e.op, ast.LShift) and isinstance(b, int) and b > MAX_BITS:
            raise Refused(f"`{_show(e)}` is larger than {MAX_BITS} bits")
        return op(a, b)

    def _UnaryOp(self, e: ast.UnaryOp) -> Any:
        return _UNARY[type(e.op)](self.expr(e.operand))

    def _BoolOp(self, e: ast.BoolOp) -> Any:
        value: Any = None
        for v in e.values:
            value = self.expr(v)
            if isinstance(e.op, ast.And) != bool(value):
                return value
        return value

    def _Compare(self, e: ast.Compare) -> Any:
        left = self.expr(e.left)
        for op, comp in zip(e.ops, e.comparators, strict=True):
            right = self.expr(comp)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, e: ast.IfExp) -> Any:
        return self.expr(e.body) if self.expr(e.test) else self.expr(e.orelse)

    def _Subscript(self, e: ast.Subscript) -> Any:
        return self.expr(e.value)[self.expr(e.slice)]

    def _Slice(self, e: ast.Slice) -> Any:
        parts = (self.expr(p) if p is not None else None for p in (e.lower, e.upper, e.step))
        return slice(*parts)

    def _JoinedStr(self, e: ast.JoinedStr) -> Any:
        out = []
        for v in e.values:
            if isinstance(v, ast.FormattedValue):
                if v.format_spec is not None:
                    raise Refused(f"a format specification in `{_show(e)}`")
                x = self.expr(v.value)
                out.append(text_of(x, repr) if v.conversion == ord("r") else text_of(x))
            else:
                out.append(self.expr(v))
        return "".join(out)

    def _Call(self, e: ast.Call) -> Any:
        if e.keywords and any(k.arg is None for k in e.keywords):
            raise Refused(f"`**` in `{_show(e)}`")
        if any(isinstance(a, ast.Starred) for a in e.args):
            raise Refused(f"`*` in `{_show(e)}`")
        args = [self.expr(a) for a in e.args]
        kwargs = {k.arg: self.expr(k.value) for k in e.keywords if k.arg is not None}
        f = e.func
        if isinstance(f, ast.Name) and f.id in BUILTINS and f.id not in self.ns:
            return BUILTINS[f.id](*args, **kwargs)
        if isinstance(f, ast.Attribute) and f.attr in _STR_METHODS:
            obj = self.expr(f.value)
            if isinstance(obj, str):
                if _method_result_size(obj, f.attr, args) > MAX_LEN:
                    raise Refused(f"`{_show(e)}` is longer than {MAX_LEN}")
                return getattr(obj, f.attr)(*args, **kwargs)
        raise Refused(f"the call `{_show(e)}`")

    def _ListComp(self, e: ast.ListComp) -> Any:
        return list(self._comprehension(e.elt, e.generators))

    def _GeneratorExp(self, e: ast.GeneratorExp) -> Any:
        return list(self._comprehension(e.elt, e.generators))

    def _DictComp(self, e: ast.DictComp) -> Any:
        return dict(self._comprehension(ast.Tuple([e.key, e.value], ast.Load()), e.generators))

    # -- helpers ----------------------------------------------------------------------------------
    def _comprehension(self, elt: ast.expr, gens: list[ast.comprehension]) -> Iterator[Any]:
        saved = dict(self.ns)  # comprehension variables do not leak (Python 3 scoping)
        try:
            yield from self._generate(elt, gens)
        finally:
            self.ns.clear()
            self.ns.update(saved)

    def _generate(self, elt: ast.expr, gens: list[ast.comprehension]) -> Iterator[Any]:
        if not gens:
            yield self.expr(elt)
            return
        g = gens[0]
        if g.is_async:
            raise Refused("an async comprehension")
        for item in self._iter(self.expr(g.iter)):
            self.assign(g.target, item)
            if all(self.expr(c) for c in g.ifs):
                yield from self._generate(elt, gens[1:])

    def _elements(self, elts: list[ast.expr]) -> list[Any]:
        if any(isinstance(x, ast.Starred) for x in elts):
            raise Refused("`*` in a display")
        return [self.expr(x) for x in elts]

    def _iter(self, value: Any) -> Iterable[Any]:
        if not isinstance(value, str | tuple | list | dict | range):
            raise Refused(f"iteration over a {type(value).__name__}")
        return value

    def _name(self, name: str) -> Any:
        if name in self.ns:
            return self.ns[name]
        raise Refused(f"the name `{name}` is not defined")

    def _step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Refused(f"more than {MAX_STEPS} evaluation steps")

    @staticmethod
    def _checked(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_BITS:
            raise Refused(f"an integer larger than {MAX_BITS} bits")
        if isinstance(value, str | tuple | list | dict) and len(value) > MAX_LEN:
            raise Refused(f"a value longer than {MAX_LEN}")
        if not isinstance(value, (*_PLAIN, range, slice)):
            raise Refused(f"a value of type {type(value).__name__}")
        return value


def _parse(code: str, mode: str) -> Any:
    try:
        return ast.parse(code, mode=mode)
    except SyntaxError as err:
        raise Refused(f"not valid Python: {err.msg}") from None


def _show(node: ast.AST, width: int = 60) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= width else text[: width - 3] + "..."
