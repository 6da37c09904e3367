"""The containers a local may hold (rules/_containers._LocalTargets): each listed once, in the order the
definitions give them, however the locals' definitions chain and loop."""

from __future__ import annotations

from ftaudit.facts import Assignment, Function, OriginKind, Param, Span, StaticVar, Storage, Unit
from ftaudit.rules._containers import _MAX_DEPTH, _LocalTargets

_AT = Span(1, 1, 1, 1)


def _name(source: str) -> Assignment:
    return Assignment(OriginKind.NAME, source=source)


def _unit(fn: Function) -> Unit:
    var = StaticVar(key="c:@cache", name="cache", path="m.c", span=_AT, storage=Storage.FILE, type="PyObject *")
    return Unit(path="m.c", language="c", frontend="test", functions=[fn], statics={var.key: var})


def test_a_loop_of_locals_lists_each_target_once() -> None:
    # `p = self->map; p = q; q = p; q = cache;` in a loop: every local reaches the others again and again.
    locals_ = {
        "p": [Assignment(OriginKind.OTHER, source="self.map"), _name("q")],
        "q": [_name("p"), _name("cache"), _name("arg")],
    }
    fn = Function(name="f", span=_AT, params=[Param("arg", "PyObject *", 0)], locals=locals_)
    targets = _LocalTargets()(_unit(fn), fn, "p")
    assert len(targets) == len(set(targets))
    assert targets[0] == ("field", "map")
    # The loop reaches the depth bound (a local of unknown origin: never frozen) before the other definitions.
    assert set(targets) == {("field", "map"), ("unknown", "q"), ("static", "c:@cache"), 0}


def test_a_chain_within_the_bound_is_followed_to_its_end() -> None:
    locals_ = {f"v{i}": [_name(f"v{i + 1}")] for i in range(_MAX_DEPTH)}
    locals_[f"v{_MAX_DEPTH}"] = [Assignment(OriginKind.OTHER, source="self.items")]
    fn = Function(name="g", span=_AT, locals=locals_)
    assert _LocalTargets()(_unit(fn), fn, "v0") == [("field", "items")]


def test_a_name_with_no_local_definition_is_a_parameter_or_a_static() -> None:
    fn = Function(name="h", span=_AT, params=[Param("d", "PyObject *", 2)])
    targets = _LocalTargets()
    assert targets(_unit(fn), fn, "d") == [2]
    assert targets(_unit(fn), fn, "cache") == [("static", "c:@cache")]
    assert targets(_unit(fn), fn, "other") == []
