"""frontends/mentions.py: which static functions a file's code never names outside their declarations."""

from ftaudit.facts import Function, Span
from ftaudit.frontends.mentions import is_header, mark_unmentioned


def _fns(*names: str, internal: bool = True) -> list[Function]:
    return [Function(n, Span(1, 1, 1, 1), internal=internal) for n in names]


def test_a_name_only_declared_is_unmentioned_and_any_other_use_keeps_it():
    text = (
        "static void dead(void);\n"  # a prototype libclang declared at (1, 13)
        "static void dead(void) { }\n"  # its definition, (2, 13)
        "static void used(void) { }\n"  # (3, 13)
        "static int x = used(\n"  # a call in a static's initialiser: a mention
        "static void other(void) { }\n"  # (5, 13)
        "#ifdef _WIN32\nvoid w(void) { other(); }\n#endif\n"  # named in a branch libclang left out
    )
    fns = _fns("dead", "used", "other")
    mark_unmentioned(fns, text, {(1, 13), (2, 13), (3, 13), (5, 13)})
    assert [f.mentioned for f in fns] == [False, True, True]


def test_declarations_libclang_did_not_read_are_no_mentions():
    """A copy of the helper in a branch libclang skipped (simdjson's per-CPU namespaces), on one line or
    with its name at the start of the next; comments and strings never count."""
    text = (
        "simdjson_unused static char * fmt(const char *t) { return 0; }\n"  # (1, 31) declared
        "#if ARM\nsimdjson_unused static char * fmt(const char *t) { return 0; }\n"
        "static char *\nfmt(int n)\n{ return 0; }\n#endif\n"
        '/* fmt(x) */ const char *s = "fmt(";\n'
    )
    fns = _fns("fmt")
    mark_unmentioned(fns, text, {(1, 31)})
    assert not fns[0].mentioned


def test_external_member_and_macro_made_functions_are_never_marked():
    text = "void ext(void) { }\n#define MAKE(n) static void init_##n(void) { }\nMAKE(mod)\n"
    fns = _fns("ext", internal=False) + _fns("init_mod") + _fns("Cls::method")
    mark_unmentioned(fns, text, {(1, 6), (3, 1)})
    assert all(f.mentioned for f in fns)


def test_headers_are_recognised():
    assert is_header("a/b.h") and is_header("x.hpp") and is_header("t.h.src")
    assert not is_header("a/b.c") and not is_header("m.cpp") and not is_header("t.c.src")
