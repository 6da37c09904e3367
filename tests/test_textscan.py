"""Text scans shared by the frontends (frontends/textscan.py)."""

from __future__ import annotations

from ftaudit.frontends.textscan import Assertions


def test_assertion_ranges_and_first_arguments():
    """Each assertion's range runs from its name to its closing parenthesis (nested ones counted),
    or to the end of the text when it is never closed; its first argument ends at the first `,` or
    `)` of its own level."""
    text = 'assert(f(a, b) && c);\nNPY_ASSERT(x, "m");\nassert((y)\n'
    a = Assertions(text)
    assert a.ranges == [(0, 20), (22, 40), (42, len(text))]
    assert [(name, first) for name, first, _ in a.uses] == [
        ("assert", "f(a, b) && c"),
        ("NPY_ASSERT", "x"),
        ("assert", "(y)\n"),
    ]
    assert a.contains(1, 8) and not a.contains(1, 21) and a.contains(3, 3)
