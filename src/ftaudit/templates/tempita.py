"""Tempita templates (`.pyx.in`, `.pxi.in`, `.pxd.in`, `.pyx.tp`, ...), expanded without running them.

Cython ships Tempita (`Cython.Tempita`), and projects generate Cython sources
with it (numpy's `_bounded_integers.pyx.in`, scipy's `.pyx.tp` files). Its
parser (`Cython.Tempita._tempita.parse`) only lexes and builds a tree of
tuples, so it is safe on an untrusted file; its *interpreter* runs the
template's Python with `exec`/`eval`, so ftaudit walks the tree itself and
evaluates the Python with restricted.py: literal data, arithmetic, names,
loops and conditions. A template that needs more (an import, a function call
outside a few pure builtins, `{{def}}`, `{{inherit}}`, a filter) is refused:
the file is reported (`template-unsupported`) and not analysed.

Text chunks carry no positions in Tempita's tree, but they are the template's
text in order (trimmed of the whitespace around statement lines), so each is
found after the previous node's position; every output character is mapped
back to the template (linemap.py).
"""

from __future__ import annotations

import re
import textwrap
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from .linemap import Emitter, Expansion, TemplateError
from .restricted import Evaluator, Refused, text_of

_DIRECTIVE = re.compile(r"\{\{.*?\}\}", re.S)


@dataclass
class _Node:
    kind: str  # text | expr | py | for | cond | default | break | continue
    at: int  # template offset
    code: str = ""  # the Python (text: the text itself)
    names: tuple[str, ...] = ()  # for: the loop variables; default: the variable
    body: list[_Node] = field(default_factory=list)
    branches: list[tuple[str, str, list[_Node], int]] = field(default_factory=list)  # cond: kind, test, body, at


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def expand_tempita(text: str, name: str, limit: int) -> Expansion:
    """The expansion of a Tempita template. Raises TemplateError: a syntax error, a construct the
    restricted evaluator refuses, or an expansion larger than `limit` characters."""
    from Cython.Tempita._tempita import TemplateError as TempitaError
    from Cython.Tempita._tempita import parse

    out = Emitter(text, limit)
    try:
        tree = parse(text, name=name)
    except TempitaError as err:
        raise TemplateError(f"Tempita cannot parse the template: {err}", _error_line(err)) from None
    nodes = _Converter(text, out).nodes(tree)
    _Interpreter(out).run(nodes, Evaluator({"start_braces": "{{", "end_braces": "}}"}))
    return out.finish()


def _error_line(err: Exception) -> int | None:
    pos = getattr(err, "position", None)
    return pos[0] if isinstance(pos, tuple) and pos else None


class _Converter:
    """Tempita's tuples to _Nodes with template offsets (text chunks found in order)."""

    def __init__(self, text: str, out: Emitter) -> None:
        self.text = text
        self.out = out
        self.cursor = 0
        # Where directives are: a text chunk is never found inside one (`{{endfor}}` holds "for").
        self.directives = [(m.start(), m.end()) for m in _DIRECTIVE.finditer(text)]
        self._starts = [d[0] for d in self.directives]

    def _find(self, chunk: str) -> int:
        at = self.text.find(chunk, self.cursor)
        while at != -1:
            i = bisect_right(self._starts, at) - 1
            if i < 0 or self.directives[i][1] <= at:
                return at
            at = self.text.find(chunk, self.directives[i][1])
        return self.cursor

    def offset(self, pos: tuple[int, int]) -> int:
        line, col = pos
        starts = self.out.starts
        at = starts[min(max(line, 1), len(starts)) - 1] + max(col - 1, 0)
        return at - 2 if self.text.startswith("{{", at - 2) else at  # Tempita's position is after the `{{`

    def nodes(self, items: list[Any]) -> list[_Node]:
        return [n for item in items if (n := self.node(item)) is not None]

    def node(self, item: Any) -> _Node | None:
        if isinstance(item, str):
            if not item:
                return None
            at = self._find(item)
            self.cursor = at + len(item)
            return _Node("text", at, item)
        kind, pos = item[0], item[1]
        at = self.offset(pos)
        self.cursor = max(self.cursor, at)
        line = self.out.where(at)[0]
        if kind in ("expr", "py"):
            return _Node(kind, at, item[2])
        if kind == "comment":
            return None
        if kind in ("break", "continue"):
            return _Node(kind, at)
        if kind == "default":
            return _Node(kind, at, item[3], (item[2],))
        if kind == "for":
            names = tuple(item[2])
            return _Node(kind, at, item[3], names, self.nodes(item[4]))
        if kind == "cond":
            branches = []
            for part in item[2:]:
                b_at = self.offset(part[1])
                self.cursor = max(self.cursor, b_at)
                branches.append((part[0], part[2] or "", self.nodes(part[3]), b_at))
            return _Node(kind, at, branches=branches)
        raise TemplateError(f"`{{{{{kind}}}}}` is not supported (only py, for, if, default and expressions)", line)


class _Interpreter:
    def __init__(self, out: Emitter) -> None:
        self.out = out

    def run(self, nodes: list[_Node], ev: Evaluator) -> None:
        for n in nodes:
            try:
                self.node(n, ev)
            except Refused as err:
                raise TemplateError(f"not expanded: {err}", self.out.where(n.at)[0]) from None

    def node(self, n: _Node, ev: Evaluator) -> None:
        k = n.kind
        if k == "text":
            self.out.verbatim(n.at, n.at + len(n.code)) if self._verbatim(n) else self.out.value(n.code, n.at)
        elif k == "expr":
            if "|" in n.code:  # Tempita reads every `|` of an expression as a filter
                raise Refused(f"the filter in `{n.code.strip()}`")
            value = ev.eval(n.code)
            self.out.value("" if value is None else text_of(value), n.at)
        elif k == "py":
            ev.run(_dedent(n.code))
        elif k == "default":
            if n.names[0] not in ev.ns:
                ev.ns[n.names[0]] = ev.eval(n.code)
        elif k == "for":
            self._for(n, ev)
        elif k == "cond":
            for kind, test, body, _at in n.branches:
                if kind == "else" or ev.eval(test):
                    self.run(body, ev)
                    break
        elif k == "break":
            raise _Break
        elif k == "continue":
            raise _Continue

    def _for(self, n: _Node, ev: Evaluator) -> None:
        items = ev.eval(n.code)
        if not isinstance(items, str | tuple | list | dict | range):
            raise Refused(f"iteration over a {type(items).__name__}")
        for item in items:
            if len(n.names) == 1:
                ev.ns[n.names[0]] = item
            else:
                if not isinstance(item, tuple | list) or len(item) != len(n.names):
                    raise Refused(f"cannot unpack {item!r:.40} into {len(n.names)} names")
                ev.ns.update(zip(n.names, item, strict=True))
            try:
                self.run(n.body, ev)
            except _Break:
                break
            except _Continue:
                continue

    def _verbatim(self, n: _Node) -> bool:
        return self.out.source.startswith(n.code, n.at)


def _dedent(code: str) -> str:
    """A `{{py:}}` block's code as Tempita runs it: leading blank lines dropped, dedented."""
    return textwrap.dedent(code.lstrip("\n"))
