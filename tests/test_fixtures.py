"""The generic fixture test: every annotated fixture, exact (line, rule) comparison."""

from __future__ import annotations

from collections import Counter

import pytest
from annotations import parse
from conftest import FIXTURES, scan_fixtures

from ftaudit.discover import language_of

# Every file ftaudit would scan: sources and templates (`x.c.src`, `x.pyx.in`).
SOURCES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and language_of(p) is not None)
FRONTENDS = {"c": ["clang", "treesitter"], "cpp": ["clang", "treesitter"], "cython": ["cython"]}
CASES = [(path, fe) for path in SOURCES for fe in FRONTENDS[path.relative_to(FIXTURES).parts[0]]]


def _scan_for(frontend: str):
    return scan_fixtures("clang" if frontend == "cython" else frontend)


def _found(scan_result, rel: str) -> Counter[tuple[int, str]]:
    return Counter((f.span.line, f.rule) for f in scan_result.findings if f.path == rel and f.counts)


@pytest.mark.parametrize(("path", "frontend"), CASES, ids=[f"{p.relative_to(FIXTURES)}[{fe}]" for p, fe in CASES])
def test_fixture(path, frontend):
    result = _scan_for(frontend)
    rel = path.relative_to(FIXTURES).as_posix()
    record = next(r for r in result.files if r.path == rel)
    assert record.frontend == frontend
    ann = parse(path, frontend)
    found = _found(result, rel)
    known_fp = Counter(ann.todo_ok)
    missing = ann.expect - found
    extra = found - ann.expect - known_fp
    lines = [f"missing {rel}:{line} {rule}" for (line, rule) in sorted(missing)]
    lines += [f"unexpected {rel}:{line} {rule}" for (line, rule) in sorted(extra)]
    for line, prefix in ann.ok:
        lines += [f"ok-violated {rel}:{line} {r}" for (ln, r) in found if ln == line and r.startswith(prefix)]
    assert not lines, "\n".join(lines)


TODOS = [
    pytest.param(path, fe, line, rule, kind, id=f"{path.relative_to(FIXTURES)}:{line}:{kind}:{rule}[{fe}]")
    for path, fe in CASES
    for kind, items in (("todo-expect", parse(path, fe).todo_expect), ("todo-ok", parse(path, fe).todo_ok))
    for line, rule in items
]


@pytest.mark.xfail(strict=True, reason="known gap, annotated todo- in the fixture")
@pytest.mark.parametrize(("path", "frontend", "line", "rule", "kind"), TODOS)
def test_known_gap(path, frontend, line, rule, kind):
    rel = path.relative_to(FIXTURES).as_posix()
    found = _found(_scan_for(frontend), rel)
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
    # Forced libclang (the fixture scan) parses it with an empty stand-in: the cause, and the syntax error it
    # leaves (SOMELIB_EXPORT came from that header), each once.
    assert sorted(p.code for p in problems) == ["stand-in-header", "syntax-error"]
    assert "somelib_not_installed.h" in next(p for p in problems if p.code == "stand-in-header").message


def test_cython_syntax_error_is_a_warning_with_position(fixture_scan):
    (p,) = [p for p in fixture_scan.problems if p.path == "cython/broken.pyx"]
    assert (p.code, p.level, p.line) == ("syntax-error", "warning", 3)
    assert "Cython cannot parse this file (line 3, column" in p.message


_STAND_IN = "c/forward_type.c"
# the static functions nothing calls (libclang's units): one note per file, in line order
_NEVER_CALLED = {
    "c/never_called.c": "format_debug, fill_debug, dump_debug",
    "c/stack_output_buffer.c": "deadbuf_init",
}


_TEMPLATE_PART = "c/included_template/tmpl_body.c"


def test_no_unexpected_problems(fixture_scan):
    others = [
        p
        for p in fixture_scan.problems
        if p.path
        not in {"c/missing_header.c", "c/library.c", "cpp/pybind.cpp", "cython/broken.pyx", "c/program.c", _STAND_IN}
        and p.code != "frozen-container"  # the `ok:` lines of the frozen fixtures: checked there
        and not (p.code == "never-called" and p.path in _NEVER_CALLED)
        and not p.path.startswith(("c/switches/", "c/defaults/"))
        and not (p.path.startswith("c/apiheader/") and p.code == "not-built")
        and p.path != _TEMPLATE_PART
    ]
    lock_files = ("lock_helpers.", "caller_lock.", "private_params_published.", "fresh_receivers_later.")
    under_lock = [(p.path, p.code) for p in others if p.path.split("/")[-1].startswith(lock_files)]
    assert under_lock == [
        ("c/lock_helpers.c", "under-callers-lock"),
        ("cython/caller_lock.pyx", "under-callers-lock"),
        ("cython/fresh_receivers_later.pyx", "under-callers-lock"),
        ("cython/lock_helpers.pyx", "under-callers-lock"),
        ("cython/private_params_published.pyx", "under-callers-lock"),
    ]
    [published] = [p for p in others if p.path == "cython/private_params_published.pyx"]
    assert "Holder.fill_and_return: its `p` is private or locked at every call, in `Holder.run`;" in published.message
    # private when it comes in, up to the line that publishes it (nothing of it before that line)
    until = "publish_then_fill: its `p` is private or locked at every call, in `Holder.run` (until its body"
    assert f"{until} publishes it, line 19)" in published.message
    assert [p for p in others if not p.path.split("/")[-1].startswith(lock_files)] == []
    # the template part's `#else` arm no module compiles: one note, naming the macro (includerarms.py)
    [part] = [p for p in fixture_scan.problems if p.path == _TEMPLATE_PART]
    assert part.code == "not-built" and "`TMPL_PERSISTENT`" in part.message and "TMPL_FAST" not in part.message
    # its generated header is a stand-in, by design (frontends/forward.py)
    assert [p.code for p in fixture_scan.problems if p.path == _STAND_IN] == ["stand-in-header"]
    [note] = [p for p in fixture_scan.problems if p.path == "c/program.c"]
    frozen = {(p.path, p.line) for p in fixture_scan.problems if p.code == "frozen-container"}
    assert {("c/frozen.c", 63), ("cpp/frozen.cpp", 27), ("cython/frozen.pyx", 42)} <= frozen
    assert note.code == "program-only" and "on_frame, report, main" in note.message
    never = {p.path: p.message for p in fixture_scan.problems if p.code == "never-called"}
    assert set(never) == set(_NEVER_CALLED)
    for path, names in _NEVER_CALLED.items():
        assert f": {names}; not judged" in never[path]


def test_code_a_default_build_leaves_out_is_noted(fixture_scan):
    """The opt-in switches of c/switches (switched.py) and the module only an environment variable adds
    (buildfiles/environ.py) are each one `not-built` note, and nothing else is said of those files."""
    notes = sorted((p.path, p.code, p.line) for p in fixture_scan.problems if p.path.startswith("c/switches/"))
    assert notes == [
        ("c/switches/faults.c", "not-built", 6),
        ("c/switches/switches.c", "not-built", 10),
        ("c/switches/switches_extra.c", "not-built", 7),
    ]
    by_path = {p.path: p.message for p in fixture_scan.problems if p.path.startswith("c/switches/")}
    assert "`SW_MEMORY_DEBUG`: commented-out `#define` at switches.c:7" in by_path["c/switches/switches.c"]
    assert "`SW_FAULT_INJECT`: named like a switch" in by_path["c/switches/switches.c"]
    assert "SW_TRACE_CALLS" not in by_path["c/switches/switches.c"]  # the build sets it
    assert "environment sets SW_EXPERIMENTAL (setup.py:9" in by_path["c/switches/switches_extra.c"]


def test_a_headers_arm_no_includer_compiles_is_noted(fixture_scan):
    """c/apiheader: the client arm of apx_api.h, which every includer of the scan skips by defining
    APX_MODULE first (includerarms.py), is one `not-built` note naming the macro and its includers; the
    look-alike headers (a client includer, a define under `#if`) get none."""
    notes = [p for p in fixture_scan.problems if p.path.startswith("c/apiheader/") and p.code == "not-built"]
    assert [(p.path, p.line) for p in notes] == [("c/apiheader/apx_api.h", 15)]
    assert "2 function(s)" in notes[0].message
    assert "`APX_MODULE`: defined by every includer of the scan" in notes[0].message
    assert "apimod.c:5, apimod_extra.c:3" in notes[0].message


def test_code_needing_a_macro_other_than_its_in_tree_default_is_noted(fixture_scan):
    """c/defaults: what needs DF_DEBUGLEVEL non-zero (its in-tree default is 0, switches.zero_defaults) is
    one `not-built` note naming the macro and its definition, and nothing else is said of those files."""
    notes = [p for p in fixture_scan.problems if p.path.startswith("c/defaults/")]
    assert [(p.path, p.code, p.line) for p in notes] == [("c/defaults/defaults.c", "not-built", 12)]
    assert "1 function(s)" in notes[0].message and "other part(s)" in notes[0].message
    assert "`DF_DEBUGLEVEL`: `#define DF_DEBUGLEVEL 0` at dfdebug.h:7" in notes[0].message
    assert "DF_LOGLEVEL" not in notes[0].message and "O_BINARY" not in notes[0].message
