"""libclang's errors read through its C functions (frontends/clang/diagnostics.py) say what cindex says."""

from __future__ import annotations

from clang import cindex as ci

from ftaudit.frontends.clang import diagnostics


def test_errors_are_cindex_errors_read_once(tmp_path):
    (tmp_path / "h.h").write_text("int broken(;\n")
    main = tmp_path / "m.c"
    main.write_text('#include "h.h"\n#include "gone.h"\n#warning careful\nint f(void) { return x; }\nint g(\n')
    tu = ci.Index.create().parse(str(main), args=["-x", "c", f"-I{tmp_path}"], options=0x200)
    want = [
        diagnostics.Error(
            d.spelling,
            d.location.file.name if d.location.file else None,
            d.location.line,
            bool(d.location.is_in_system_header),
        )
        for d in tu.diagnostics
        if d.severity >= ci.Diagnostic.Error
    ]
    got = diagnostics.errors(tu)
    assert got == want
    assert {e.file for e in got} == {str(tmp_path / "h.h"), str(main)}  # the header's error and the file's
    assert any("'gone.h' file not found" in e.spelling for e in got)
    assert not any("careful" in e.spelling for e in got)  # a warning is not read
    assert diagnostics.errors(tu) is got
