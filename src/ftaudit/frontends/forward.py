"""Forward declarations of a file's own type objects, for a parse whose generated headers are stand-ins.

numpy's `ufunc_object.c` uses `&PyUFunc_Type` at line 5200 and defines
`NPY_NO_EXPORT PyTypeObject PyUFunc_Type = {...}` at line 7126; in between, the
declaration comes from `__ufunc_api.h`, which the build generates (its
generator's logic is Python, not data). With an empty stand-in the use is an
undeclared identifier, so `PyObject_GC_New(PyUFuncObject, &PyUFunc_Type)` is an
invalid expression instead of a fresh object, and every field the constructor
sets looked like a write to a shared one (12 false FT105).

The type is not guessed: it is the file's own. For each `PyTypeObject NAME`
the file defines at file scope (not `static`, which an `extern` before it would
contradict) and names earlier in its text, `declarations` gives
`extern PyTypeObject NAME;`: what the generated header would have declared.
Only used when a stand-in is (includes.HeaderPlan.standins): with the real
headers, a use before the definition is the file's own error.
"""

from __future__ import annotations

import os
import re

from .textscan import blank_comments_and_strings

# A file-scope definition: at the start of a line, macro words before the type allowed (NPY_NO_EXPORT).
_DEFINITION = re.compile(
    r"^[ \t]*(?P<words>(?:[A-Za-z_][A-Za-z0-9_]*[ \t]+)*?)PyTypeObject[ \t]+(?P<name>[A-Za-z_]\w*)[ \t]*=", re.M
)
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*")
DECLARED_SUFFIX = ".ftaudit-declared.h"


def declarations(text: str) -> str:
    """`extern PyTypeObject NAME;` lines for the type objects `text` defines at file scope, not
    `static`, and names before their definition; "" when there are none."""
    if "PyTypeObject" not in text:
        return ""
    clean = blank_comments_and_strings(text)
    defined = [m for m in _DEFINITION.finditer(clean) if "static" not in m.group("words").split()]
    if not defined:  # the identifier pass below is most of the cost, and most files define no type
        return ""
    first: dict[str, int] = {}  # each identifier's first offset: one pass, however many definitions
    for w in _IDENTIFIER.finditer(clean):
        first.setdefault(w.group(), w.start())
    out: list[str] = []
    for m in defined:
        name = m.group("name")
        if first.get(name, m.start()) < m.start() and name not in out:
            out.append(name)
    return "".join(f"extern PyTypeObject {n};\n" for n in out)


def declarations_path(path: str) -> str:
    """The in-memory file holding `path`'s declarations: beside it, so nothing on disk is shadowed."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + DECLARED_SUFFIX)
