"""Preprocessor branches inside an expression, reduced to one arm before tree-sitter parses the file.

`PyArg_ParseTupleAndKeywords(args, kwargs,\\n#ifdef MACOS\\n "iik|O!",\\n#else\\n "iik|O",\\n#endif\\n
kwlist, ...)` (PyAudio): a compiler sees one format string; tree-sitter, which runs no preprocessor,
sees both as arguments (and the directives as ERROR nodes), so `kwlist` becomes argument 4, which
`PyArg_ParseTupleAndKeywords` writes, and a static table is reported as written. Within parentheses
an `#if` group can only choose between alternative pieces of one expression, so one arm is kept: the
`#else` arm when the group has one (what libclang compiles when the feature macro is not defined),
else none (an optional extra argument under `#ifdef X`). Every other line of the group, its
directives included, becomes blanks of the same length, so lines and columns stay (a line that is not
ASCII is left as it is: its blanks would not have its length in both characters and bytes).

In: the file's text. Out: the text with those lines blanked (the same object when the file has no
such group). Linear in the text; no errors.
"""

from __future__ import annotations

import re

from ..textscan import blank_comments_and_strings

_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b")


def one_arm_in_expressions(text: str) -> str:
    """`text` with each `#if` group that sits inside parentheses reduced to its `#else` arm (or to
    nothing), as blanks (see the module docstring)."""
    if "#" not in text or "(" not in text:
        return text
    lines = blank_comments_and_strings(text).split("\n")
    depth = 0
    stack: list[tuple[bool, list[int], int]] = []  # open groups: inside parentheses, directive lines, #else's
    blank: set[int] = set()
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line)
        if m is None:
            depth = max(0, depth + line.count("(") - line.count(")"))
            continue
        word = m.group(1)
        if word.startswith("if"):
            stack.append((depth > 0, [i], -1))
        elif not stack:
            continue
        elif word == "endif":
            inside, directives, else_at = stack.pop()
            if inside:
                directives.append(i)
                for k in range(len(directives) - 1):  # arm k: the lines between directive k and k + 1
                    if directives[k] != else_at:
                        blank.update(range(directives[k] + 1, directives[k + 1]))
                blank.update(directives)
        else:
            inside, directives, else_at = stack[-1]
            directives.append(i)
            if word == "else":
                stack[-1] = (inside, directives, i)
    out = text.split("\n")
    blank = {i for i in blank if out[i].isascii()}  # blanks of the same length in characters and bytes
    if not blank:
        return text
    for i in blank:
        out[i] = " " * len(out[i])
    return "\n".join(out)
