"""The headers next to a file that the tree-sitter frontend reads macros from: bounded, inside the tree."""

from __future__ import annotations

import os

import pytest

from ftaudit.frontends.treesitter import headermacros
from ftaudit.frontends.treesitter.headermacros import header_macros, neighbour_headers


def _tree(tmp_path):
    src = tmp_path / "pkg"
    (src / "sub").mkdir(parents=True)
    (src / "shared.h").write_text("#define ENTER(o) PyMutex_Lock(&(o)->m)\n")
    (src / "sub" / "deep.h").write_text("#define DEEP 1\n")
    (tmp_path / "outside.h").write_text("#define OUTSIDE 1\n")
    return src


def test_quoted_includes_under_the_directory_are_read(tmp_path):
    src = _tree(tmp_path)
    text = '#include "shared.h"\n#include "sub/deep.h"\n#include <stdio.h>\n#include "missing.h"\n'
    found = neighbour_headers(str(src / "m.c"), text)
    assert found == [str(src / "shared.h"), str(src / "sub" / "deep.h")]
    assert "ENTER" in header_macros(found[0])


def test_names_leaving_the_directory_are_skipped(tmp_path):
    src = _tree(tmp_path)
    text = f'#include "../outside.h"\n#include "{tmp_path / "outside.h"}"\n#include "sub/../../outside.h"\n'
    assert neighbour_headers(str(src / "m.c"), text) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_symbolic_links_are_not_followed(tmp_path):
    src = _tree(tmp_path)
    (src / "link.h").symlink_to(tmp_path / "outside.h")
    (src / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    text = '#include "link.h"\n#include "linkdir/outside.h"\n'
    assert neighbour_headers(str(src / "m.c"), text) == []
    assert header_macros(str(src / "link.h")) == {}


def test_at_most_max_headers_and_bytes(tmp_path, monkeypatch):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(headermacros.MAX_HEADERS + 4):
        (src / f"h{i}.h").write_text(f"#define H{i} {i}\n")
    text = "".join(f'#include "h{i}.h"\n' for i in range(headermacros.MAX_HEADERS + 4))
    assert len(neighbour_headers(str(src / "m.c"), text)) == headermacros.MAX_HEADERS
    big = src / "big.h"
    big.write_text("#define BIG 1\n" + " " * 64)
    monkeypatch.setattr(headermacros, "MAX_HEADER_BYTES", 16)
    headermacros._macros.cache_clear()
    assert header_macros(str(big)) == {}


def test_a_fifo_is_not_read(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    src = tmp_path / "f"
    src.mkdir()
    os.mkfifo(src / "pipe.h")
    assert neighbour_headers(str(src / "m.c"), '#include "pipe.h"\n') == []
    assert header_macros(str(src / "pipe.h")) == {}
