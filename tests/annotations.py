"""Parse in-place fixture annotations (`// expect: FT201`, `# ok: FT2`, `todo-...`).

A trailing annotation speaks of its own line; one alone on a line speaks of
the next line. `expect(clang): FT103` binds it to one frontend: the place
where the frontends differ (tree-sitter cannot expand a macro) is explicit
and reviewed, not silent.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_ANN = re.compile(r"(?://|/\*|#)\s*(todo-expect|todo-ok|expect|ok)(?:\((\w+)\))?:\s*((?:FT\d*\s*,?\s*)+)")


@dataclass
class Annotations:
    expect: Counter[tuple[int, str]] = field(default_factory=Counter)
    ok: list[tuple[int, str]] = field(default_factory=list)
    todo_expect: list[tuple[int, str]] = field(default_factory=list)
    todo_ok: list[tuple[int, str]] = field(default_factory=list)


def parse(path: Path, frontend: str | None = None) -> Annotations:
    """Annotations for one frontend (None: every annotation, whatever frontend it names)."""
    ann = Annotations()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for m in _ANN.finditer(line):
            if frontend is not None and m.group(2) not in (None, frontend):
                continue
            target = lineno + 1 if line[: m.start()].strip() == "" else lineno
            ids = [i.strip() for i in m.group(3).replace(",", " ").split() if i.strip()]
            for rid in ids:
                kind = m.group(1)
                if kind == "expect":
                    ann.expect[(target, rid)] += 1
                elif kind == "ok":
                    ann.ok.append((target, rid))
                elif kind == "todo-expect":
                    ann.todo_expect.append((target, rid))
                else:
                    ann.todo_ok.append((target, rid))
    return ann
