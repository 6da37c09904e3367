"""Walking a syntax tree visits each expression a bounded number of times: a chain of method calls
(pybind11's `py::class_<T>(m, "T").def(...).def(...)...`, 100 links in contourpy's wrap.cpp) once made the
tree-sitter walker walk each receiver twice, 2^n calls: the file ran past the per-file limit and out of
memory instead of being analysed. Counted, not timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftaudit.analyse import FrontendChooser, Settings
from ftaudit.catalogue import load
from ftaudit.discover import SourceFile
from ftaudit.frontends.flags import FlagSettings
from ftaudit.frontends.treesitter import walker
from ftaudit.source import read_source

LINKS = 18  # 2^18 visits if each link walked its receiver twice; 19 when each is walked once

CHAINS = {
    "cpp": "struct B { B& def(const char*, int); };\nB make();\nvoid init() {\n  make()"
    + "".join(f'.def("f{i}", {i})' for i in range(LINKS))
    + ";\n}\n",
    "c": "typedef struct S { struct S *(*next)(struct S *, int); } S;\nS *make(void);\n"
    "void init(void) {\n  S *s = make();\n  s" + "".join(f"->next(s, {i})" for i in range(LINKS)) + ";\n}\n",
}


@pytest.mark.parametrize("language", sorted(CHAINS))
def test_method_chain_is_walked_once_per_link(tmp_path: Path, language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = walker.TsWalker.call

    def counting(self: walker.TsWalker, node: object) -> None:
        nonlocal calls
        calls += 1
        if calls > 4 * LINKS:  # stop an exponential walk at once instead of waiting for it
            raise AssertionError(f"call expressions walked more than {4 * LINKS} times for {LINKS} links")
        real(self, node)

    monkeypatch.setattr(walker.TsWalker, "call", counting)
    monkeypatch.setitem(walker._EXPRESSIONS, "call_expression", counting)
    path = tmp_path / f"chain.{language}"
    path.write_text(CHAINS[language])
    src, _ = read_source(path)
    assert src is not None
    chooser = FrontendChooser(Settings(load(), FlagSettings(roots=[tmp_path]), "treesitter", {}, 10_000_000))
    unit = chooser.analyse(SourceFile(path, language), src)
    (init,) = [f for f in unit.functions if f.name == "init"]
    assert sum(c.name in ("def", "next") for c in init.calls) == LINKS  # every link is still a call fact
    assert calls <= 2 * LINKS + 2
