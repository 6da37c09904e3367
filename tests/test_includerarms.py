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
