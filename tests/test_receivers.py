"""Method calls through typed Cython receivers (Call.receiver / receiver_class, Unit.bases), the call graph's
dispatch over the class hierarchy (callgraph.resolve_call) and which methods publish their receiver
(receivers.py). The fixture cython/caller_lock.pyx shows the rules' side."""

from __future__ import annotations

from ftaudit.callgraph import CallGraph
from ftaudit.config import Config
from ftaudit.facts import Arg, ArgKind, Assignment, Call, Function, OriginKind, Span, Unit
from ftaudit.receivers import publishers
from ftaudit.scan import ScanOptions, scan

TYPED = """
cdef class Base:
    cdef object x
    cdef m(self):
        pass
    cdef keep(self):
        return self

cdef class Sub(Base):
    cdef Base other
    cdef m(self):
        self.x = 1
    cdef n(self, Base a, p):
        cdef Sub s = Sub()
        self.other.m()
        a.m()
        (<Sub>p).m()
        s.m()
        self.m()
        p.m()
"""


def _units(tmp_path, name: str, text: str) -> list[Unit]:
    from ftaudit import scan as scan_mod

    seen: list[Unit] = []
    real = scan_mod.with_held_locks

    def spy(units, graph, *rest):
        seen.extend(units)
        return real(units, graph, *rest)

    (tmp_path / name).write_text(text)
    scan_mod.with_held_locks = spy
    try:
        scan(ScanOptions([tmp_path], root=tmp_path, config=Config(), jobs=1))
    finally:
        scan_mod.with_held_locks = real
    return seen


def test_cython_records_receivers_their_declared_class_and_bases(tmp_path):
    [unit] = _units(tmp_path, "typed.pyx", TYPED)
    fns = {fn.name: fn for fn in unit.functions}
    calls = [(c.receiver, c.receiver_class) for c in fns["Sub.n"].calls if c.name == "m"]
    assert calls == [("self.other", "Base"), ("a", "Base"), ("p", "Sub"), ("s", "Sub"), ("self", "Sub"), ("p", "")]
    assert unit.bases == {"Sub": ["Base"]}
    # The untyped `self` and `p` are parameters as `a` is (Cython parses a bare name as a type, no declarator).
    assert fns["Sub.n"].receiver == "self"
    assert [(p.name, p.type, p.index) for p in fns["Sub.n"].params] == [("self", "", 0), ("a", "Base", 1), ("p", "", 2)]
    assert [r.source for r in fns["Base.keep"].returns if r.kind == OriginKind.NAME] == ["self"]
    # A subclass method writing a field its base declares writes a field of the object.
    assert [(w.path, w.object_field) for w in fns["Sub.m"].field_writes] == [("self.x", True)]


def _fn(name: str, *calls: Call, receiver: str = "self") -> Function:
    return Function(name, Span(1, 1, 1, 2), calls=list(calls), internal=False, receiver=receiver)


def _call(name: str, receiver: str = "", cls: str = "") -> Call:
    return Call(name, Span(2, 5, 2, 6), (), receiver=receiver, receiver_class=cls)


def _graph(functions: list[Function], bases: dict[str, list[str]], classes: list[str]) -> tuple[CallGraph, Unit]:
    unit = Unit("m.pyx", "cython", "cython", functions=functions, classes=classes, bases=bases)
    return CallGraph([unit]), unit


def test_a_typed_call_reaches_the_inherited_method_and_every_override():
    fns = [_fn("A.m"), _fn("B.other"), _fn("C.m"), _fn("D.m"), _fn("Z.m")]
    graph, unit = _graph(fns, {"B": ["A"], "C": ["B"], "D": ["A"]}, ["A", "B", "C", "D", "Z"])
    targets = lambda cls: sorted(k[1] for k in graph.resolve_call(unit, _call("m", "x", cls)))  # noqa: E731
    assert targets("B") == ["A.m", "C.m"]  # inherited from A, overridden below in C; not D's (a sibling)
    assert targets("A") == ["A.m", "C.m", "D.m"]
    assert targets("C") == ["C.m"]
    assert targets("") == ["A.m", "C.m", "D.m", "Z.m"]  # no class: every method of that name
    assert targets("Unknown") == ["A.m", "C.m", "D.m", "Z.m"]


def test_a_class_with_a_base_outside_the_scan_is_not_narrowed():
    graph, unit = _graph([_fn("A.m"), _fn("Z.m")], {"B": ["External"]}, ["A", "B", "Z"])
    assert sorted(k[1] for k in graph.resolve_call(unit, _call("m", "x", "B"))) == ["A.m", "Z.m"]


def test_what_publishes_a_receiver():
    quiet = _fn("A.quiet")
    returns = _fn("A.returns")
    returns.returns = [Assignment(OriginKind.NAME, source="self")]
    passes = _fn("A.passes", Call("keep", Span(3, 1, 3, 5), (Arg(ArgKind.NAME, "self", "self"),)))
    unknown = _fn("A.unknown", _call("nowhere", "self", "A"))
    through = _fn("A.through", _call("returns", "self", "A"))
    cycle_a = _fn("A.ping", _call("pong", "self", "A"))
    cycle_b = _fn("A.pong", _call("ping", "self", "A"))
    graph, _unit = _graph([quiet, returns, passes, unknown, through, cycle_a, cycle_b], {}, ["A"])
    assert sorted(k[1] for k in publishers(graph)) == ["A.passes", "A.returns", "A.through", "A.unknown"]
