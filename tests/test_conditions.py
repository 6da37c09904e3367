"""Preprocessor conditions decided for a free-threaded 3.14 build (frontends/conditions.py)."""

from __future__ import annotations

import pytest

from ftaudit.frontends.conditions import blank_dead_branches, evaluate


@pytest.mark.parametrize(
    ("directive", "condition", "expected"),
    [
        ("if", "PY_MAJOR_VERSION >= 3", True),
        ("if", "PY_MAJOR_VERSION < 3", False),
        ("if", "PY_VERSION_HEX >= 0x030D00A1", True),
        ("if", "PY_VERSION_HEX < 0x030E0000", False),
        ("ifndef", "Py_GIL_DISABLED", False),
        ("ifdef", "Py_LIMITED_API", False),
        ("if", "!defined(PYPY_VERSION)", True),
        ("if", "defined(HAVE_FOO)", None),  # a build feature: both branches stay
        ("ifdef", "HAVE_FOO", None),
        ("if", "HAVE_FOO && PY_MAJOR_VERSION == 2", False),  # false whatever HAVE_FOO is
        ("if", "HAVE_FOO || PY_MINOR_VERSION >= 13", True),
        ("if", "HAVE_FOO && PY_MAJOR_VERSION >= 3", None),
        ("if", "0", False),
        ("if", "(PY_MAJOR_VERSION > 3) || (PY_MAJOR_VERSION == 3 && PY_MINOR_VERSION >= 7)", True),
        ("if", "PY_VERSION_HEX >= 0x03080000 &&", None),  # unreadable
        ("if", "sizeof(long) == 8", None),
    ],
)
def test_evaluate(directive: str, condition: str, expected: bool | None) -> None:
    assert evaluate(directive, condition) is expected


def test_blanking_keeps_lines_and_joins_a_split_function_head() -> None:
    text = "#if PY_MAJOR_VERSION >= 3\nPyObject *PyInit_m(void)\n#else\nvoid initm(void)\n#endif\n{ body; }\n"
    out = blank_dead_branches(text)
    assert out.count("\n") == text.count("\n") and len(out) == len(text)
    assert [ln.strip() for ln in out.splitlines() if ln.strip()] == ["PyObject *PyInit_m(void)", "{ body; }"]


def test_an_undecided_conditional_keeps_its_directives_and_loses_only_dead_branches() -> None:
    text = "#if HAVE_FOO\na();\n#elif PY_MAJOR_VERSION < 3\nb();\n#else\nc();\n#endif\n"
    kept = [ln.strip() for ln in blank_dead_branches(text).splitlines() if ln.strip()]
    assert kept == ["#if HAVE_FOO", "a();", "#else", "c();", "#endif"]


def test_a_branch_after_a_taken_one_is_dead_even_if_its_own_condition_holds() -> None:
    text = "#if PY_MAJOR_VERSION >= 3\na();\n#elif PY_MINOR_VERSION >= 0\nb();\n#endif\n"
    assert [ln.strip() for ln in blank_dead_branches(text).splitlines() if ln.strip()] == ["a();"]


def test_nested_dead_branches_and_unbalanced_directives() -> None:
    text = "#ifndef Py_GIL_DISABLED\n#if X\nx();\n#endif\n#endif\n#endif\ny();\n"
    kept = [ln.strip() for ln in blank_dead_branches(text).splitlines() if ln.strip()]
    assert kept == ["#endif", "y();"]  # the stray #endif is left alone


def test_a_macro_the_file_defines_where_the_build_compiles_it_decides_later_conditions() -> None:
    # cffi: `#if PY_VERSION_HEX >= 0x03080000` / `# define USE_WRITEUNRAISABLEMSG`, then `#ifdef ... #else`
    text = (
        "#if PY_VERSION_HEX >= 0x03080000\n# define USE_NEW\n#endif\n#define LEVEL 2\n"
        "#ifdef USE_NEW\nnew();\n#else\nold();\n#endif\n"
        "#if LEVEL >= 2 && defined(USE_NEW)\nhigh();\n#else\nlow();\n#endif\n"
    )
    kept = [ln.strip() for ln in blank_dead_branches(text).splitlines() if ln.strip()]
    assert kept == ["# define USE_NEW", "#define LEVEL 2", "new();", "high();"]


def test_a_macro_defined_or_undefined_where_the_build_may_not_compile_it_stays_unknown() -> None:
    undecided = "#ifdef HAVE_FOO\n#define USE_FOO\n#endif\n#ifdef USE_FOO\nfoo();\n#else\nbar();\n#endif\n"
    assert "bar();" in blank_dead_branches(undecided)
    undefined = "#define USE_NEW\n#ifdef HAVE_FOO\n#undef USE_NEW\n#endif\n"
    undefined += "#ifdef USE_NEW\nnew();\n#else\nold();\n#endif\n"
    assert "old();" in blank_dead_branches(undefined)
    before = "#ifdef USE_NEW\nnew();\n#else\nold();\n#endif\n#define USE_NEW\n"  # defined only after the test
    assert "old();" in blank_dead_branches(before)
    dead = "#if PY_MAJOR_VERSION < 3\n#define OLD\n#endif\n#ifdef OLD\nold();\n#else\nnew();\n#endif\n"
    assert "old();" in blank_dead_branches(dead)  # not defined by the file: the build may still -DOLD


def test_a_directive_continued_with_backslashes_is_read_whole() -> None:
    text = "#if PY_MAJOR_VERSION < 3 \\\n    && defined(X)\nold();\n#else\nnew();\n#endif\nafter();\n"
    out = blank_dead_branches(text)
    assert [ln.strip() for ln in out.splitlines() if ln.strip()] == ["new();", "after();"]
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    endless = "#if PY_MAJOR_VERSION < 3 \\\n" + "  && X \\\n" * 40 + "  && Y\nold();\n#endif\n"
    assert "old();" in blank_dead_branches(endless)  # past the bound: not read, both branches stay
