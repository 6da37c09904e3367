"""The catalogue of thread-unsafe libraries (rules/api/libraries.toml), its docs, and the configuration
that extends and retracts it (FT302, FT303)."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner
from conftest import ROOT

from ftaudit.catalogue import load
from ftaudit.cli import main
from ftaudit.frontends.textscan import defined_macros, expand_name

# The families the catalogue must know (issue 15): global-state libraries and per-handle ones.
FAMILIES = {
    "libxml2", "libxslt", "qhull", "geos", "libcurl", "hdf5", "readline", "tcl", "freetype", "zlib", "bzip2",
    "lzma", "expat", "iconv", "sqlite", "libpng", "libjpeg", "proj", "zstd", "brotli", "xxhash",
}  # fmt: skip

H5_CALL = textwrap.dedent(
    """
    #include <Python.h>
    int H5Fopen(const char *name, unsigned flags, int fapl);
    static PyObject *open_file(PyObject *self, PyObject *arg) {
        return PyLong_FromLong(H5Fopen("x.h5", 0, 0));
    }
    static PyMethodDef methods[] = {{"open_file", open_file, METH_O, NULL}, {NULL, NULL, 0, NULL}};
    """
)


def _scan(tmp_path, config: str, files: dict[str, str]) -> list[dict]:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + textwrap.dedent(config))
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    res = CliRunner().invoke(
        main, ["scan", str(tmp_path), "--root", str(tmp_path), "--format", "json", "--frontend", "treesitter"]
    )
    assert res.exit_code in (0, 1), res.output
    return [f for f in json.loads(res.output)["findings"] if f["rule"] in ("FT302", "FT303")]


def test_catalogue_knows_every_family_with_its_source():
    libraries = {lib.name: lib for lib in load().libraries}
    assert set(libraries) >= FAMILIES
    for lib in libraries.values():
        assert lib.functions and lib.condition and lib.fix, lib.name
        assert lib.source.startswith("https://"), lib.name
        assert lib.unsafe or lib.handles, f"{lib.name} says nothing is unsafe"


def test_rule_docs_list_every_library_from_the_catalogue():
    ft302 = (ROOT / "docs" / "rules" / "FT302.md").read_text(encoding="utf-8")
    ft303 = (ROOT / "docs" / "rules" / "FT303.md").read_text(encoding="utf-8")
    for lib in load().libraries:
        page = ft302 if lib.unsafe else ft303
        assert f"(`{lib.name}`)" in page and lib.source in page, lib.name
        if lib.handles:
            assert f"(`{lib.name}`)" in ft303, lib.name


def test_catalogue_call_is_reported_without_configuration(tmp_path):
    found = _scan(tmp_path, "", {"src/h5.c": H5_CALL})
    assert [(f["rule"], f["line"]) for f in found] == [("FT302", 5)]
    assert "HDF5" in found[0]["message"]


@pytest.mark.parametrize(
    "config", ['[tool.ftaudit]\nthread-safe-libraries = ["hdf5"]\n', '[tool.ftaudit]\nsafe-functions = ["H5F*"]\n']
)
def test_configuration_retracts_catalogue_entries(tmp_path, config):
    assert _scan(tmp_path, config, {"src/h5.c": H5_CALL}) == []


def test_unknown_thread_safe_library_is_a_usage_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ftaudit]\nthread-safe-libraries = ["hdf6"]\n')
    (tmp_path / "m.c").write_text(H5_CALL)
    res = CliRunner().invoke(main, ["scan", str(tmp_path)])
    assert res.exit_code == 2
    assert "`thread-safe-libraries` entry 'hdf6' is not a catalogued library" in res.output


def test_configured_library_bundled_in_the_tree_is_not_a_binding(tmp_path):
    """scipy with `qh_*` configured: its bundled qhull sources define qh_* and call each other."""
    binding = H5_CALL.replace("H5Fopen", "qh_compute")
    lib = "int qh_compute(const char *a, unsigned b, int c) { return qh_helper(); }\nint qh_helper(void);\n"
    other = "int qh_helper(void);\nint report(void) { return qh_helper(); }\n"
    files = {"src/binding.c": binding, "qhull/src/compute.c": lib, "qhull/src/report.c": other}
    found = _scan(tmp_path, '[tool.ftaudit]\nunsafe-functions = ["qh_*"]\n', files)
    assert [(f["path"], f["line"]) for f in found] == [("src/binding.c", 5)]


def test_macro_built_callees():
    macros = defined_macros(
        "#define FNAME(name) BLAS_FUNC(name)\n#define LAPACK(f) \\\n    FNAME(f)\n#define P(x) x ## _\n"
    )
    assert expand_name(macros, "LAPACK", "dgesv") == "dgesv"  # BLAS_FUNC is a header's: the name stays
    assert expand_name(macros, "P", "dgesv") == "dgesv_"
    assert expand_name(macros, "get_handler", "x") == ""  # a call returning a function, not a macro


def test_pxi_sees_the_cimports_of_its_module_from_its_own_directory(tmp_path):
    from ftaudit.frontends.cython.siblings import module_cimports

    (tmp_path / "mod.pyx").write_text('from lxml.includes cimport tree\ninclude "part.pxi"\ninclude "other.pxi"\n')
    (tmp_path / "other.pxi").write_text("from lxml.includes cimport xslt\ncimport cython\n")
    (tmp_path / "part.pxi").write_text("tree.xmlFreeDoc(NULL)\n")
    assert module_cimports(str(tmp_path / "part.pxi")).splitlines() == [
        "from lxml.includes cimport tree",
        "from lxml.includes cimport xslt",
        "cimport cython",
    ]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.pyx").write_text('from secret cimport x\ninclude "lonely.pxi"\n')
    (tmp_path / "evil.pyx").symlink_to(outside / "evil.pyx")  # a link out of the directory is not read
    (tmp_path / "lonely.pxi").write_text("x.f()\n")
    assert module_cimports(str(tmp_path / "lonely.pxi")) == ""
