"""The call graph: which scanned files a C file includes, whatever form the paths take, and what a Cython call
through a class by its name reaches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ftaudit.callgraph import CallGraph, c_inclusions
from ftaudit.facts import Call, Function, Span, Unit


def _fn(name: str, *callees: str) -> Function:
    calls = [Call(c, Span(2, 5, 2, 6), ()) for c in callees]
    return Function(name, Span(1, 1, 1, 2), calls=calls, internal=name != "PyInit_m")


def _units(root: str) -> list[Unit]:
    """A module file including a header that defines a static helper, the scan given `root` (relative or
    absolute) while libclang names the header by its absolute path, as it does through `-I` flags."""
    header = os.path.join(root, "inc", "views.h")
    module = Unit(
        os.path.join(root, "m.c"),
        "c",
        "clang",
        functions=[_fn("PyInit_m", "views_init")],
        includes=[os.path.abspath(header), "/usr/include/python3.11/Python.h"],
    )
    return [module, Unit(header, "c", "clang", functions=[_fn("views_init")])]


@pytest.mark.parametrize("root", ["pkg", "./pkg", "pkg/sub/.."])
def test_relative_scan_paths_meet_absolute_includes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: str) -> None:
    monkeypatch.chdir(tmp_path)
    units = _units(root)
    included, includer = c_inclusions(units)
    assert included == {units[0].path: [units[1].path]}
    assert includer == {units[1].path: units[0].path}
    graph = CallGraph(units)
    # The module's init calls the header's static helper: one translation unit.
    assert graph.callers[(units[1].path, "views_init")] == {("", "PyInit_m")}


def test_a_same_named_file_elsewhere_is_not_included(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module, _header = _units("pkg")
    other = Unit(os.path.join("other", "inc", "views.h"), "c", "clang", functions=[_fn("views_init")])
    included, _ = c_inclusions([module, other])
    assert included == {}


def _class_units() -> list[Unit]:
    """Cython classes: `Base` defines `copy` and `init`, `Mid(Base)` inherits them, `Leaf(Mid)` overrides
    `copy`; `Other` defines a `copy` of its own; `Open(External)` derives from a class the scan lacks."""
    names = ["Base.copy", "Base.init", "Leaf.copy", "Other.copy"]
    fns = [Function(n, Span(1, 1, 1, 2), internal=False) for n in names]
    bases = {"Mid": ["Base"], "Leaf": ["Mid"], "Open": ["External"]}
    return [
        Unit("m.pyx", "cython", "cython", functions=fns, classes=["Base", "Mid", "Leaf", "Other", "Open"], bases=bases)
    ]


def test_a_call_through_a_class_name_reaches_its_own_or_inherited_method() -> None:
    graph = CallGraph(_class_units())
    unit = graph.units[0]
    assert graph.resolve_qualified(unit, "Mid.copy") == [("", "Base.copy")]  # inherited, no override
    assert graph.resolve_qualified(unit, "Leaf.copy") == [("", "Leaf.copy")]
    assert graph.resolve_qualified(unit, "Open.copy") is None  # External may define it
    assert graph.resolve_qualified(unit, "missing.copy") is None  # no class of the scan: left open
    unbound = Call("init", Span(2, 5, 2, 6), (), receiver="Mid")
    assert graph.resolve_unbound(unit, unbound) == [("", "Base.init")]
    typed = Call("copy", Span(2, 5, 2, 6), (), receiver="x", receiver_class="Base")
    assert graph.resolve_unbound(unit, typed) is None  # a variable: dispatched, by resolve_call
    assert sorted(graph.resolve_call(unit, typed)) == [("", "Base.copy"), ("", "Leaf.copy")]
