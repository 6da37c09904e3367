"""Init-naming macros of the scanned tree (frontends/initmacros.py): what is read, and what is not."""

from __future__ import annotations

import os
from pathlib import Path

from ftaudit.frontends.headerindex import HeaderIndex
from ftaudit.frontends.initmacros import MAX_HEADERS, init_macros, macros_in

USE = '#include "compat.h"\nPyMODINIT_FUNC\nINIT_MODULE(_mod)(void)\n{\n    return NULL;\n}\n'


def _tree(tmp_path: Path, header: str) -> tuple[Path, HeaderIndex]:
    (tmp_path / "setup.py").write_text("")
    (tmp_path / "compat.h").write_text(header)
    src = tmp_path / "mod.c"
    src.write_text(USE)
    return src, HeaderIndex([str(tmp_path)])


def test_macro_shapes() -> None:
    text = (
        "#define INIT_MODULE(m) PyInit_ ## m\n"
        "#define MOD_INIT(name) \\\n    PyMODINIT_FUNC PyInit_##name(void)\n"
        "#define OTHER(m) init_ ## m\n"  # another name pasted
        "#define SWAPPED(m) PyInit_ ## x\n"  # not its parameter
        "#define TAIL(m) PyInit_ ## m + 1\n"  # more than the name
        "/* #define COMMENTED(m) PyInit_ ## m */\n"
    )
    assert macros_in(text) == {"INIT_MODULE": False, "MOD_INIT": True}


def test_header_beside_the_file(tmp_path: Path) -> None:
    src, index = _tree(tmp_path, "#define INIT_MODULE(m) PyInit_ ## m\n")
    macros, read = init_macros(str(src), USE, index)
    assert macros == {"INIT_MODULE": False}
    assert read == [os.path.realpath(tmp_path / "compat.h")]


def test_no_head_reads_nothing(tmp_path: Path) -> None:
    src, index = _tree(tmp_path, "#define INIT_MODULE(m) PyInit_ ## m\n")
    assert init_macros(str(src), '#include "compat.h"\nint f(void) { return 0; }\n', index) == ({}, [])


def test_without_index_only_the_file(tmp_path: Path) -> None:
    src, _ = _tree(tmp_path, "#define INIT_MODULE(m) PyInit_ ## m\n")
    assert init_macros(str(src), USE, None) == ({}, [])
    own = "#define INIT_MODULE(m) PyInit_ ## m\n" + USE
    assert init_macros(str(src), own, None) == ({"INIT_MODULE": False}, [])


def test_nothing_outside_the_scan_roots(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "compat.h").write_text("#define INIT_MODULE(m) PyInit_ ## m\n")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "setup.py").write_text("")
    (root / "compat.h").symlink_to(outside / "compat.h")  # a symlink out of the tree
    src = root / "mod.c"
    climbing = USE.replace('"compat.h"', '"../outside/compat.h"') + '#include "/etc/hostname"\n'
    index = HeaderIndex([str(root)])
    assert init_macros(str(src), USE, index) == ({}, [])
    assert init_macros(str(src), climbing, index) == ({}, [])


def test_include_cycles_and_bounds(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("")
    for i in range(MAX_HEADERS + 10):  # a chain longer than the bound, each including the next and the first
        (tmp_path / f"h{i}.h").write_text(f'#include "h{i + 1}.h"\n#include "h0.h"\n')
    src = tmp_path / "mod.c"
    text = USE.replace('"compat.h"', '"h0.h"')
    macros, read = init_macros(str(src), text, HeaderIndex([str(tmp_path)]))
    assert macros == {}
    assert 0 < len(read) <= MAX_HEADERS
    assert len(set(read)) == len(read)
