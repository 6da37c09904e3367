"""C++ member getters read by the tree-sitter frontend from the headers beside a file (frontends/treesitter/
getters.py): which headers it reads (bounded, inside the scan roots), what counts as a getter, and that a
getter found in a header makes `h.Get()` the holder's object in the facts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ftaudit.catalogue import load
from ftaudit.discover import SourceFile
from ftaudit.frontends.treesitter import TreeSitterFrontend
from ftaudit.frontends.treesitter.getters import MAX_HEADER_BYTES, MAX_HEADERS, scan_dirs, sibling_headers
from ftaudit.source import read_source

HOLDER = """\
#include <Python.h>
class Object {
    PyObject *p;
public:
    Object(PyObject *o) : p(o) {}
    PyObject *Get() { return p; }
    PyObject *Other() { return nullptr; }
};
"""

SOURCE = """\
#include "holder.h"
static PyObject *f(Py_ssize_t n) {
    Object t(PyTuple_New(n));
    PyTuple_SET_ITEM(t.Get(), 0, Py_None);
    return 0;
}
"""


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "holder.h").write_text(HOLDER)
    (src / "mod.cpp").write_text(SOURCE)
    return src


def _unit(path: Path, roots: list[Path]):
    source, problems = read_source(path)
    assert source is not None, problems
    frontend = TreeSitterFrontend(load(), roots=roots)
    return frontend.analyse(SourceFile(path, "cpp"), source)


def _held(unit) -> tuple:
    fn = next(f for f in unit.functions if f.name == "f")
    call = next(c for c in fn.calls if c.name == "PyTuple_SET_ITEM")
    return call.args[0]


def test_a_getter_in_a_header_beside_the_file_is_the_holders_object(tmp_path):
    src = _tree(tmp_path)
    unit = _unit(src / "mod.cpp", [src])
    assert _held(unit).path == "t"  # the local, judged as the local is (its origin: PyTuple_New)
    assert os.path.normpath(src / "holder.h") in unit.depends  # a change to the header makes the facts stale


def test_no_header_is_read_outside_the_scan_roots(tmp_path):
    src = _tree(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    unit = _unit(src / "mod.cpp", [other])
    assert _held(unit).path == "Get"  # the call, as before: the header's classes were not read
    assert _held(_unit(src / "mod.cpp", [src / "mod.cpp"])).path == "t"  # a file root: its directory


def test_a_symlinked_header_is_not_read(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    outside = tmp_path / "outside.h"
    outside.write_text(HOLDER)
    (src / "holder.h").symlink_to(outside)
    (src / "mod.cpp").write_text(SOURCE)
    assert sibling_headers(str(src / "mod.cpp"), SOURCE, scan_dirs([tmp_path])) == []


def test_only_quoted_names_under_the_directory_are_read(tmp_path):
    src = tmp_path / "pkg"
    (src / "sub").mkdir(parents=True)
    (tmp_path / "up.h").write_text(HOLDER)
    (src / "sub" / "down.h").write_text(HOLDER)
    (src / "here.h").write_text(HOLDER)
    text = (
        '#include "../up.h"\n#include "sub/../../up.h"\n#include <here.h>\n#include "here.h"\n'
        f'#include "sub/down.h"\n#include "{tmp_path / "up.h"}"\n#include "..\\\\up.h"\n'
    )
    found = sibling_headers(str(src / "mod.cpp"), text, scan_dirs([tmp_path]))
    assert [os.path.relpath(p, src) for p, _ in found] == ["here.h", os.path.join("sub", "down.h")]


def test_headers_are_bounded_in_number_and_size(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    for i in range(MAX_HEADERS + 4):
        (src / f"h{i}.h").write_text(HOLDER)
    (src / "big.h").write_bytes(b"//" + b"x" * MAX_HEADER_BYTES)
    text = '#include "big.h"\n' + "".join(f'#include "h{i}.h"\n' for i in range(MAX_HEADERS + 4))
    found = sibling_headers(str(src / "mod.cpp"), text, scan_dirs([src]))
    names = [os.path.basename(p) for p, _ in found]
    assert "big.h" not in names  # over the size limit: passed over
    assert names == [f"h{i}.h" for i in range(MAX_HEADERS - 1)]  # big.h counted among the 16 names


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_header_does_not_block(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    os.mkfifo(src / "holder.h")
    assert sibling_headers(str(src / "mod.cpp"), SOURCE, scan_dirs([src])) == []


def test_a_name_some_class_uses_otherwise_is_no_getter(tmp_path):
    src = _tree(tmp_path)
    (src / "other.h").write_text("class Cache { PyObject *q; public: PyObject *Get() { return lookup(q); } };\n")
    (src / "mod.cpp").write_text('#include "other.h"\n' + SOURCE)
    assert _held(_unit(src / "mod.cpp", [src])).path == "Get"  # not every `Get` returns its member
