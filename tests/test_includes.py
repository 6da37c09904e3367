"""Headers a file is sure to miss are found before any parse, so auto mode skips a doomed libclang parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftaudit.analyse import FrontendChooser, Settings
from ftaudit.catalogue import load
from ftaudit.discover import SourceFile
from ftaudit.frontends.flags import FlagSettings
from ftaudit.frontends.includes import MissingHeaders, search_dirs, unconditional_includes
from ftaudit.source import read_source


def test_unconditional_includes_skip_if_blocks_and_comments_but_not_guards():
    text = (
        "#ifndef MOD_H\n#define MOD_H\n"
        '#include "a.h"\n'
        "#ifdef _WIN32\n#include <windows.h>\n#else\n#include <unistd.h>\n#endif\n"
        '/* #include "commented.h" */\n'
        "  #  include <b.h>\n"
        '#if 0\n#include "dead.h"\n#endif\n'
        "#endif\n"
    )
    assert unconditional_includes(text) == [("a.h", True, 3), ("b.h", False, 10)]
    # An #ifndef that is not a guard makes its body conditional.
    assert unconditional_includes('#ifndef HAVE_X\n#include "x.h"\n#endif\n') == []


def test_search_dirs_keep_order_and_kind():
    quote, angle = search_dirs(["-x", "c", "-Iinc", "-I", "more", "-iquote", "q", "-isystem", "sys", "-DX"])
    assert quote == ("q",)
    assert angle[:3] == ("inc", "more", "sys")


def test_missing_header_found_through_a_chain(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "api.h").write_text('#pragma once\n#include "config.h"\n#include <stdio.h>\n')
    (tmp_path / "inc" / "ok.h").write_text("#include <stddef.h>\n")
    main = tmp_path / "m.c"
    text = '#include "ok.h"\n#include <api.h>\n#include <not_a_system_header_we_know.h>\n'
    headers = MissingHeaders()
    assert headers.of_file(str(main), text, ["-I", str(tmp_path / "inc")]) == (["config.h"], 2)
    (tmp_path / "inc" / "config.h").write_text("#define X 1\n")
    assert MissingHeaders().of_file(str(main), text, ["-I", str(tmp_path / "inc")]) == ([], None)
    # Without the directory, the quoted name is missing itself; an angle name never is.
    assert MissingHeaders().of_file(str(main), text, []) == (["ok.h"], 1)


def test_include_cycles_end(tmp_path):
    (tmp_path / "a.h").write_text('#include "b.h"\n#include "gone.h"\n')
    (tmp_path / "b.h").write_text('#include "a.h"\n')
    assert MissingHeaders().of_file(str(tmp_path / "m.c"), '#include "a.h"\n', []) == (["gone.h"], 1)


def test_auto_mode_does_not_parse_a_file_it_knows_lacks_headers(tmp_path, monkeypatch):
    """Without stand-ins (test_headers.py has them)."""
    src = tmp_path / "lib.c"
    src.write_text('#include "generated_config.h"\nstatic int n;\nint bump(void) { return ++n; }\n')
    settings = Settings(load(), FlagSettings(roots=[tmp_path], standins=False), "auto", {}, 10_000_000)
    chooser = FrontendChooser(settings)

    def no_parse(*_args: object) -> None:
        pytest.fail("libclang parsed a file whose header is certainly missing")

    monkeypatch.setattr(type(chooser.clang), "analyse", no_parse)
    text, _ = read_source(Path(src))
    assert text is not None
    unit = chooser.analyse(SourceFile(src, "c"), text)
    assert unit.frontend == "treesitter"
    assert [p.code for p in unit.problems] == ["missing-header"]  # one problem per fallback
    assert "generated_config.h" in unit.problems[0].message and unit.problems[0].line == 1
