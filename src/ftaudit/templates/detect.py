"""Tempita inside a plain Cython file: does a `.pyx`/`.pxi`/`.pxd` need expanding before Cython can parse it?

Some projects keep Tempita blocks (`{{py: ...}}`, `{{for ...}}`, `{{name}}`) in a file named like plain
Cython and expand it at build time. Cython cannot parse such a file, so it is routed through the same
expansion as a `.pyx.in` (templates/__init__.py, `template_for`).

The test is lexical and cheap: a `{{` in code, outside string literals (any prefix: f-strings, byte and
raw strings, triple quotes) and `#` comments. Inside a string Tempita still substitutes, but Cython parses
the file anyway, so that is no reason to expand it; and in code two adjacent opening braces are never
working Cython (a set or dict display holding a set or dict raises TypeError). Text in, bool out; no
errors raised (an unterminated string simply ends the scan).
"""

from __future__ import annotations

_QUOTES = "'\""


def has_tempita(text: str) -> bool:
    """Whether `text` has a Tempita opening `{{` outside string literals and comments."""
    if "{{" not in text:
        return False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            if end < 0:
                return False
            i = end + 1
        elif c in _QUOTES:
            i = _string_end(text, i)
        elif c == "{" and text.startswith("{{", i):
            return True
        else:
            i += 1
    return False


def _string_end(text: str, i: int) -> int:
    """The offset after the string literal whose opening quote is at `i` (the end of the text when it is
    never closed; a one-quote string also ends at its line's end, as Python's lexer rejects it there)."""
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    closing = quote * 3 if triple else quote
    j = i + len(closing)
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if not triple and c == "\n":
            return j + 1
        if text.startswith(closing, j):
            return j + len(closing)
        j += 1
    return n
