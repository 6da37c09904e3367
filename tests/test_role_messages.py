"""Messages that say what a function is read as sentences: `f` is a deallocator, `f` is code that may
run after import (Role.noun), never `f` is a may run after import (Role.value, the parenthesised label)."""

from __future__ import annotations

import re

from ftaudit.rules._roles import Role

_BROKEN = re.compile(r"is an? (may|module init\b|Py_mod_exec|called only|run once|object constructor|GC trav)")


def test_every_role_has_a_noun_phrase_distinct_from_its_label():
    for role in Role:
        assert role.noun and role.noun != role.value
        assert role.noun.split()[0] in {"a", "an", "the", "code", "module"}, role.noun


def test_fixture_findings_name_roles_as_nouns(fixture_scan):
    texts = [f.text for f in fixture_scan.findings if f.rule in {"FT101", "FT102", "FT103", "FT105"}]
    assert any("is code that may run after import" in t or "is a Python entry point" in t for t in texts)
    broken = [t for t in texts if _BROKEN.search(t) or re.search(r"\ba [aeiou_]", t.split(";")[0])]
    assert not broken, broken[:3]
