"""The generic fixture test: every annotated fixture, exact (line, rule) comparison."""

from __future__ import annotations

from collections import Counter

import pytest
from annotations import parse
from conftest import FIXTURES

SOURCES = sorted(
    p for p in FIXTURES.rglob("*") if p.suffix in {".c", ".h", ".cpp", ".cc", ".hpp", ".pyx", ".pxd", ".pxi"}
)
FRONTENDS = {"c": ["clang"], "cpp": ["clang"], "cython": ["cython"]}


def _found(scan_result, rel: str) -> Counter[tuple[int, str]]:
    return Counter((f.span.line, f.rule) for f in scan_result.findings if f.path == rel and f.counts)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture(path, fixture_scan):
    rel = path.relative_to(FIXTURES).as_posix()
    record = next(r for r in fixture_scan.files if r.path == rel)
    assert record.frontend in FRONTENDS[path.parent.name]
    ann = parse(path)
    found = _found(fixture_scan, rel)
    known_fp = Counter(ann.todo_ok)
    missing = ann.expect - found
    extra = found - ann.expect - known_fp
    lines = [f"missing {rel}:{line} {rule}" for (line, rule) in sorted(missing)]
    lines += [f"unexpected {rel}:{line} {rule}" for (line, rule) in sorted(extra)]
    for line, prefix in ann.ok:
        lines += [f"ok-violated {rel}:{line} {r}" for (ln, r) in found if ln == line and r.startswith(prefix)]
    assert not lines, "\n".join(lines)


TODOS = [
    pytest.param(path, line, rule, kind, id=f"{path.relative_to(FIXTURES)}:{line}:{kind}:{rule}")
    for path in SOURCES
    for kind, items in (("todo-expect", parse(path).todo_expect), ("todo-ok", parse(path).todo_ok))
    for line, rule in items
]


@pytest.mark.xfail(strict=True, reason="known gap, annotated todo- in the fixture")
@pytest.mark.parametrize(("path", "line", "rule", "kind"), TODOS)
def test_known_gap(path, line, rule, kind, fixture_scan):
    rel = path.relative_to(FIXTURES).as_posix()
    found = _found(fixture_scan, rel)
    hit = any(ln == line and r.startswith(rule) for (ln, r) in found)
    assert hit if kind == "todo-expect" else not hit


def test_every_rule_has_expect_and_ok_fixtures():
    from ftaudit.catalogue import load

    expects, oks = set(), set()
    for path in SOURCES:
        ann = parse(path)
        expects |= {rule for (_, rule) in ann.expect}
        oks |= {rule for (_, rule) in ann.ok}
    for rid in load().rules:
        assert rid in expects, f"{rid} has no `expect:` fixture line"
        assert any(rid.startswith(p) for p in oks), f"{rid} has no `ok:` fixture line"


def test_missing_header_is_reported_once(fixture_scan):
    problems = [p for p in fixture_scan.problems if p.path == "c/missing_header.c"]
    assert [p.code for p in problems] == ["missing-header"]
    assert "somelib_not_installed.h" in problems[0].message


def test_cython_syntax_error_is_a_warning_with_position(fixture_scan):
    (p,) = [p for p in fixture_scan.problems if p.path == "cython/broken.pyx"]
    assert (p.code, p.level, p.line) == ("syntax-error", "warning", 3)
    assert "Cython cannot parse this file (line 3, column" in p.message


def test_no_unexpected_problems(fixture_scan):
    others = [
        p
        for p in fixture_scan.problems
        if p.path not in {"c/missing_header.c", "c/library.c", "cpp/pybind.cpp", "cython/broken.pyx"}
    ]
    assert others == []
