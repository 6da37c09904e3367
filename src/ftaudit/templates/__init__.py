"""Source templates: expanded before analysis, findings mapped back to template lines.

Two formats are known, by file name:

- numpy's `.c.src`, `.h.src`, `.cpp.src`, `.inc.src` (numpy_src.py), C or C++;
- Tempita's `.pyx.in`, `.pxd.in`, `.pxi.in` and `.tp` twins (tempita.py), Cython.

`template_of(name)` says whether a file is one (its kind, the language and the
name of the file it generates); `template_for(name, text)` also takes a plain
`.pyx`/`.pxi`/`.pxd` whose text has Tempita in code (detect.py) as a Tempita
template generating itself; `expand` returns the expansion with its line
map. The frontends analyse the expansion under the generated name, and
`linemap.remap` moves the facts back onto the template (analyse.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .detect import has_tempita
from .linemap import Expansion, TemplateError, remap

__all__ = ["Expansion", "Template", "TemplateError", "expand", "remap", "template_for", "template_of"]

_NUMPY = {".c": "c", ".h": "c", ".inc": "c", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp"}
_TEMPITA = {".pyx", ".pxd", ".pxi"}


@dataclass(frozen=True)
class Template:
    kind: str  # "numpy" | "tempita"
    language: str  # of the generated file: c, cpp, cython
    generated: str  # the file name the template generates (`x.c` for `x.c.src`)


def template_of(name: str) -> Template | None:
    """The template a file name says this is (`loops.c.src`, `_bounded_integers.pyx.in`), or None."""
    lower = name.lower()
    stem, dot, last = lower.rpartition(".")
    if not dot or "." not in stem:
        return None
    inner = "." + stem.rpartition(".")[2]
    generated = name[: len(stem)]
    if last == "src" and inner in _NUMPY:
        return Template("numpy", _NUMPY[inner], generated)
    if last in ("in", "tp") and inner in _TEMPITA:
        return Template("tempita", "cython", generated)
    return None


def template_for(name: str, text: str) -> Template | None:
    """The template a file is, by its name (template_of) or, for a plain Cython file, by its text: a
    `.pyx` with `{{for ...}}` blocks in code is Tempita generating a file of its own name."""
    template = template_of(name)
    if template is not None:
        return template
    suffix = name.lower().rpartition(".")[2]
    if "." + suffix in _TEMPITA and has_tempita(text):
        return Template("tempita", "cython", name)
    return None


def expand(template: Template, text: str, name: str, limit: int) -> Expansion:
    """The expansion of `text`, the template `name`. Raises TemplateError."""
    if template.kind == "numpy":
        from .numpy_src import expand_src

        return expand_src(text, limit)
    from .tempita import expand_tempita

    return expand_tempita(text, name, limit)
