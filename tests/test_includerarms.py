"""includerarms: the macros every includer of a header defines before including it, and the lines of
the header only their absence compiles."""

from __future__ import annotations

from ftaudit.includerarms import client_lines, defined_by_includers

HEADER = "#ifdef M_MODULE\nint real(void);\n#else\nstatic void **api;\n#endif\n"


def test_every_includer_defines_it():
    texts = {
        "/p/m.h": HEADER,
        "/p/a.c": '#define M_MODULE\n#include "m.h"\n',
        "/p/b.c": '#define M_MODULE 1\n#include "m.h"\n',
    }
    found = defined_by_includers(texts)
    assert list(found) == ["/p/m.h"] and "a.c:2" in found["/p/m.h"]["M_MODULE"]
    assert client_lines(HEADER, found["/p/m.h"]) == frozenset({1, 3, 4, 5})


def test_one_includer_without_it_or_with_it_undone():
    client = {"/p/m.h": HEADER, "/p/a.c": '#define M_MODULE\n#include "m.h"\n', "/p/b.c": '#include "m.h"\n'}
    assert defined_by_includers(client) == {}
    undone = {"/p/m.h": HEADER, "/p/a.c": '#define M_MODULE\n#undef M_MODULE\n#include "m.h"\n'}
    assert defined_by_includers(undone) == {}
    conditional = {"/p/m.h": HEADER, "/p/a.c": '#ifdef X\n#define M_MODULE\n#endif\n#include "m.h"\n'}
    assert defined_by_includers(conditional) == {}
    after = {"/p/m.h": HEADER, "/p/a.c": '#include "m.h"\n#define M_MODULE\n'}
    assert defined_by_includers(after) == {}


def test_every_include_of_the_name_counts():
    assert defined_by_includers({"/p/m.h": HEADER}) == {}  # nothing of the scan includes it
    # `<m.h>` from another directory may reach this header through an include path: it counts, and
    # does not define the macro
    texts = {"/p/m.h": HEADER, "/p/a.c": '#define M_MODULE\n#include "m.h"\n', "/p/sub/b.c": "#include <m.h>\n"}
    assert defined_by_includers(texts) == {}
    named = {"/p/m.h": HEADER, "/p/a.c": '#define M_MODULE\n#include "m.h"\n'}
    assert defined_by_includers(named, 'cdef extern from "m.h":\n    pass\n') == {}
    # an include in a comment includes nothing
    commented = {"/p/m.h": HEADER, "/p/a.c": '#define M_MODULE\n#include "m.h"\n', "/p/b.c": '/*\n#include "m.h"\n*/\n'}
    assert list(defined_by_includers(commented)) == ["/p/m.h"]


def test_a_copy_of_the_header_is_judged_by_the_same_includers():
    """gmpy2 ships src/gmpy2.h again as gmpy2/gmpy2.h; `#include "gmpy2.h"` names both (built.py too)."""
    texts = {"/p/src/m.h": HEADER, "/p/pkg/m.h": HEADER, "/p/src/a.c": '#define M_MODULE\n#include "m.h"\n'}
    assert sorted(defined_by_includers(texts)) == ["/p/pkg/m.h", "/p/src/m.h"]
    texts["/p/pkg/client.c"] = '#include "m.h"\n'  # a client of the copy: neither is judged so
    assert defined_by_includers(texts) == {}


BODY = "#ifdef M_PERSISTENT\nint kept;\n#else\nint never;\n#endif\n#ifndef M_FAST\nint slow;\n#endif\n"


def test_a_source_no_build_compiles_alone_is_judged_through_its_includers_chain():
    """BTrees' layout: each module defines the macro, includes the module template, which includes the
    part; the part's `#else` arm is no module's, the `#ifndef M_FAST` arm one module's."""
    texts = {
        "/p/body.c": BODY,
        "/p/module.c": '#include "body.c"\n',
        "/p/a.c": '#define M_PERSISTENT\n#define M_FAST\n#include "module.c"\n',
        "/p/b.c": '#define M_PERSISTENT\n#include "module.c"\n',
    }
    assert defined_by_includers(texts) == {}  # sources are judged so only when passed as included
    found = defined_by_includers(texts, included={"/p/body.c", "/p/module.c"})
    assert list(found) == ["/p/body.c"] and list(found["/p/body.c"]) == ["M_PERSISTENT"]
    assert (
        "module.c:1" in found["/p/body.c"]["M_PERSISTENT"] and "their includers" in found["/p/body.c"]["M_PERSISTENT"]
    )
    assert client_lines(BODY, found["/p/body.c"]) == frozenset({1, 3, 4, 5})  # directive lines hold no facts
    # an intermediate file compiled on its own gives only its own defines
    assert defined_by_includers(texts, included={"/p/body.c"}) == {}


def test_an_undef_in_the_chain_or_one_includer_without_it_keeps_the_arm():
    texts = {
        "/p/body.c": BODY,
        "/p/module.c": '#undef M_PERSISTENT\n#include "body.c"\n',
        "/p/a.c": '#define M_PERSISTENT\n#include "module.c"\n',
    }
    assert defined_by_includers(texts, included={"/p/body.c", "/p/module.c"}) == {}
    texts["/p/module.c"] = '#include "body.c"\n'
    texts["/p/c.c"] = '#include "module.c"\n'
    assert defined_by_includers(texts, included={"/p/body.c", "/p/module.c"}) == {}
    # a cycle of includes ends (and gives nothing more)
    cyclic = {"/p/x.c": '#include "y.c"\n#ifdef M\nint a;\n#endif\n', "/p/y.c": '#include "x.c"\n'}
    assert defined_by_includers(cyclic, included={"/p/x.c", "/p/y.c"}) == {}


def test_defined_tests_of_if_lines_count():
    header = "#if !defined(M_MODULE)\nstatic void **api;\n#endif\n"
    found = defined_by_includers({"/p/m.h": header, "/p/a.c": '#define M_MODULE\n#include "m.h"\n'})
    assert client_lines(header, found["/p/m.h"]) == frozenset({1, 2, 3})


def test_a_define_from_a_header_the_includer_includes_first_counts():
    config = "#ifndef CONFIG_H\n#define CONFIG_H\n#define M_PERSISTENT\n#endif\n"
    texts = {
        "/p/body.c": BODY,
        "/p/config.h": config,
        "/p/a.c": '#include "config.h"\n#include "body.c"\n',
        "/p/b.c": '#define M_PERSISTENT\n#include "body.c"\n',
    }
    found = defined_by_includers(texts, included={"/p/body.c"})
    assert list(found.get("/p/body.c", {})) == ["M_PERSISTENT"]
    # under a condition, or undone by the header, it does not
    texts["/p/a.c"] = '#ifdef X\n#include "config.h"\n#endif\n#include "body.c"\n'
    assert "/p/body.c" not in defined_by_includers(texts, included={"/p/body.c"})
    texts["/p/a.c"] = '#define M_PERSISTENT\n#include "undo.h"\n#include "body.c"\n'
    texts["/p/undo.h"] = "#ifdef Y\n#undef M_PERSISTENT\n#endif\n"
    assert "/p/body.c" not in defined_by_includers(texts, included={"/p/body.c"})


def test_what_a_header_defines_for_itself_is_not_its_includers():
    header = "#ifndef M_LEVEL\n#define M_LEVEL 1\n#endif\nint x;\n"
    texts = {"/p/m.h": header, "/p/a.c": '#include "m.h"\n#include "m.h"\n'}
    assert defined_by_includers(texts) == {}


def test_included_sources_are_those_no_build_compiles_alone():
    from ftaudit.buildfiles import BuildTarget, Description
    from ftaudit.facts import Unit
    from ftaudit.switched import included_sources

    alone, ctx, part, header = (
        Unit("/p/m.c", "c", "clang"),
        Unit("/p/t.c", "c", "clang"),
        Unit("/p/x.c", "c", "clang"),
        Unit("/p/h.h", "c", "clang"),
    )
    ctx.in_context = header.in_context = True
    assert included_sources([alone, ctx, part, header]) == {"/p/t.c"}  # no build read: only what cannot parse alone
    target = BuildTarget("m", "setup.py", "/p/setup.py", 1, ("/p/m.c",))
    known = Description((target,), (), (), (("/p", True, 1),))
    assert included_sources([alone, ctx, part, header], known) == {"/p/t.c", "/p/x.c"}  # x.c: listed by none
    listing = Description((BuildTarget("t", "setup.py", "/p/setup.py", 2, ("/p/t.c",)),), (), ("dynamic",), ())
    assert included_sources([alone, ctx, part], listing) == frozenset()  # a target compiles t.c alone


def test_a_header_named_in_angle_brackets_elsewhere_may_be_the_systems():
    config = "#define M_PERSISTENT\n"
    texts = {"/p/body.c": BODY, "/p/inc/config.h": config, "/p/a.c": '#include <config.h>\n#include "body.c"\n'}
    assert defined_by_includers(texts, included={"/p/body.c"}) == {}
    texts["/p/a.c"] = '#include "config.h"\n#include "body.c"\n'
    assert list(defined_by_includers(texts, included={"/p/body.c"})) == ["/p/body.c"]
