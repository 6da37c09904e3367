"""numpy's `.c.src` / `.h.src` templates, expanded as numpy's build expands them.

The format (numpy/distutils/conv_template.py, which numpy's meson build runs
through numpy/_build_utils/process_src_template.py) is small:

    /**begin repeat
     * #TYPE = BYTE, SHORT#
     * #type = npy_byte, npy_short#
     */
    static @type@ @TYPE@_last;
    /**end repeat**/

A block repeats its body once per value; `@name@` is replaced by the value of
the iteration. Blocks nest with a depth suffix (`/**begin repeat1`,
`/**end repeat1**/`), inner iterations see the outer names (an outer name
wins over an inner one of the same name), `(a,b)*2` and `a*3` repeat values.
This is our own implementation of those semantics (numpy's code is not
imported: it is part of the scanned tree, and it is BSD-licensed code of a
different shape); like numpy's, it ignores `:exclude:` lines, and unlike
numpy's it does not inline `#include "x.src"` (no numpy template does) and
writes no `#line` directives: the line map (linemap.py) does their job.
Every output character is mapped back to the template.
"""

from __future__ import annotations

import re

from .linemap import Emitter, Expansion, TemplateError

_REPLACE = re.compile(r"@(\w+)@")
_PAREN_REPEAT = re.compile(r"\(([^)]*)\)\*(\d+)")
_PLAIN_REPEAT = re.compile(r"([^*]+)\*(\d+)")
_STRIP_STARS = re.compile(r"\n\s*\*?")
_NAMED = re.compile(r"#\s*(\w*)\s*=([^#]*)#")
_MAX_REPEAT = 10_000  # `x*N`: a value list longer than any real template's


def expand_src(text: str, limit: int) -> Expansion:
    """The expansion of a numpy template. Raises TemplateError (a malformed block, a value list of
    the wrong length, an undefined `@name@`, or an expansion larger than `limit` characters)."""
    out = Emitter(text, limit)
    _Expander(text, out).string(0, len(text), {}, 0)
    return out.finish()


class _Expander:
    def __init__(self, text: str, out: Emitter) -> None:
        self.text = text
        self.out = out

    def line(self, offset: int) -> int:
        return self.out.where(offset)[0]

    def structure(self, lo: int, hi: int, level: int) -> list[tuple[int, int, int, int]]:
        """The repeat blocks of depth `level` in text[lo:hi]: (begin, body start, end marker, after it)."""
        begin = "/**begin repeat" if level == 0 else f"/**begin repeat{level}"
        end = "/**end repeat**/" if level == 0 else f"/**end repeat{level}**/"
        text = self.text
        blocks = []
        ind = lo
        while True:
            start = text.find(begin, ind, hi)
            if start == -1:
                break
            close = text.find("*/", start, hi)
            if close == -1:
                raise TemplateError(f"`{begin}` without the `*/` that ends its header", self.line(start))
            body = text.find("\n", close, hi)
            body = hi if body == -1 else body + 1
            fini = text.find(end, body, hi)
            if fini == -1:  # as numpy (its find returns -1): the body runs to the end of the enclosing part
                fini = max(hi - 1, body)
            after = text.find("\n", fini, hi)
            after = hi if after == -1 else after + 1
            blocks.append((start, body, fini, after))
            ind = after
        return blocks

    def string(self, lo: int, hi: int, env: dict[str, str], level: int) -> None:
        """Expand text[lo:hi] under `env` (numpy's parse_string, without its #line lines)."""
        blocks = self.structure(lo, hi, level)
        pos = lo
        for start, body, fini, after in blocks:
            self.substitute(pos, start, env)
            for inner in self.header(start, body):
                inner.update(env)  # as numpy: the enclosing block's names win
                self.string(body, fini, inner, level + 1)
            pos = after
        self.substitute(pos, hi, env)
        self.out.value("\n", hi)  # numpy ends every expanded part with a newline

    def substitute(self, lo: int, hi: int, env: dict[str, str]) -> None:
        pos = lo
        for m in _REPLACE.finditer(self.text, lo, hi):
            self.out.verbatim(pos, m.start())
            name = m.group(1)
            if name not in env:
                raise TemplateError(f'no definition of key "{name}"', self.line(m.start()))
            self.out.value(env[name], m.start())
            pos = m.end()
        self.out.verbatim(pos, hi)

    def header(self, start: int, body: int) -> list[dict[str, str]]:
        """One dictionary of names per iteration, from the block header text[start:body]."""
        head = _STRIP_STARS.sub("", self.text[start:body])
        names: list[tuple[str, list[str]]] = []
        size: int | None = None
        for name, values in _NAMED.findall(head):
            vals = _values(values, self.line(start))
            if size is None:
                size = len(vals)
            elif size != len(vals):
                raise TemplateError(
                    f"mismatch in number of values, {size} != {len(vals)} for `{name}`", self.line(start)
                )
            names.append((name, vals))
        if size is None:
            raise TemplateError("no substitution variables found in the repeat header", self.line(start))
        return [{name: vals[i] for name, vals in names} for i in range(size)]


def _values(text: str, line: int) -> list[str]:
    """`a, (b,c)*2, d*3` to its values, as numpy's parse_values: repeats expanded, each value stripped."""

    def repeat(m: re.Match[str]) -> str:
        n = int(m.group(2))
        if n > _MAX_REPEAT:
            raise TemplateError(f"a value repeated {n} times", line, True)
        return ",".join([m.group(1)] * n)

    text = _PAREN_REPEAT.sub(repeat, text)
    text = ",".join(_PLAIN_REPEAT.sub(repeat, x.strip()) for x in text.split(","))
    return text.split(",")
