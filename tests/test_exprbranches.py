"""frontends/treesitter/exprbranches.py: one arm of an `#if` inside an expression."""

from ftaudit.frontends.treesitter.exprbranches import one_arm_in_expressions


def _kept(text: str) -> list[str]:
    out = one_arm_in_expressions(text)
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    return [line.strip() for line in out.split("\n") if line.strip()]


def test_the_else_arm_is_kept_inside_parentheses():
    text = 'f(a,\n#ifdef X\n "x",\n#elif Y\n "y",\n#else\n "z",\n#endif\n b);\n'
    assert _kept(text) == ["f(a,", '"z",', "b);"]


def test_without_else_no_arm_is_kept_and_nested_groups_follow():
    text = "g(a\n#ifdef X\n , x\n#endif\n#if A\n , (p\n#ifdef B\n , q\n#else\n , r\n#endif\n )\n#endif\n);\n"
    assert _kept(text) == ["g(a", ");"]
    nested = "h(a,\n#if A\n  p\n#else\n  k(1,\n#ifdef B\n  2\n#else\n  3\n#endif\n  )\n#endif\n);\n"
    assert _kept(nested) == ["h(a,", "k(1,", "3", ")", ");"]


def test_groups_outside_expressions_and_non_ascii_lines_stay():
    top = "#ifdef X\nint a;\n#else\nint b;\n#endif\n"
    assert one_arm_in_expressions(top) == top
    text = 'f(a,\n#ifdef X\n "é",\n#else\n "e",\n#endif\n b);\n'
    assert '"é"' in one_arm_in_expressions(text)
