"""`ftaudit scan --fix` and `--diff`: declarations added only to modules with no hazards left, and
each fixed file scanned again to prove the edit declares (and, for C, still parses with libclang)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftaudit.cli import main

MULTI = """#include <Python.h>

static int exec_mod(PyObject *m) { return 0; }

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_mod},
    {0, NULL}
};

static struct PyModuleDef multi = {
    PyModuleDef_HEAD_INIT, "multi", NULL, 0, NULL, slots,
};

PyMODINIT_FUNC PyInit_multi(void) { return PyModuleDef_Init(&multi); }
"""

SINGLE_RETURN = """#include <Python.h>

static struct PyModuleDef plain = {
    PyModuleDef_HEAD_INIT, "plain", NULL, -1, NULL,
};

PyMODINIT_FUNC PyInit_plain(void) { return PyModule_Create(&plain); }
"""

SINGLE_ASSIGN = """#include <Python.h>

static struct PyModuleDef assigned = {
    PyModuleDef_HEAD_INIT, "assigned", NULL, -1, NULL,
};

PyMODINIT_FUNC
PyInit_assigned(void)
{
    PyObject *m = PyModule_Create(&assigned);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "answer", 42) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
"""

GUARDED_RETURN = """#include <Python.h>

static struct PyModuleDef guarded = {PyModuleDef_HEAD_INIT, "guarded", NULL, -1, NULL};

PyMODINIT_FUNC
PyInit_guarded(void)
{
    if (PyErr_Occurred() == NULL)
        return PyModule_Create(&guarded);
    return NULL;
}
"""

USED = """#include <Python.h>

static int exec_mod(PyObject *m) { return 0; }

static PyModuleDef_Slot used_slots[] = {
    {Py_mod_exec, exec_mod},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef used = {PyModuleDef_HEAD_INIT, "used", NULL, 0, NULL, used_slots};

PyMODINIT_FUNC PyInit_used(void) { return PyModuleDef_Init(&used); }
"""

BLOCKED = """#include <Python.h>

static long calls;

static PyObject *bump(PyObject *self, PyObject *unused) { calls++; Py_RETURN_NONE; }

static PyMethodDef methods[] = {{"bump", bump, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};

static struct PyModuleDef blocked = {
    PyModuleDef_HEAD_INIT, "blocked", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit_blocked(void) { return PyModule_Create(&blocked); }
"""

CYTHON = """# cython: language_level=3
def double(int x):
    return 2 * x
"""

PYBIND = """#include <pybind11/pybind11.h>
namespace py = pybind11;

int add(int a, int b) { return a + b; }

PYBIND11_MODULE(adder, m) {
    m.def("add", &add);
}
"""


def _scan(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["scan", *args, "--no-cache", "--jobs", "1"])
    return r.exit_code, r.stdout, r.stderr


def _rules(path: Path, frontend: str = "auto") -> set[tuple[str, str]]:
    _code, out, _err = _scan(str(path), "--format", "json", "--frontend", frontend)
    return {(os.path.basename(f["path"]), f["rule"]) for f in json.loads(out)["findings"]}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("multi.c", MULTI),
        ("plain.c", SINGLE_RETURN),
        ("assigned.c", SINGLE_ASSIGN),
        ("guarded.c", GUARDED_RETURN),
    ],
)
def test_c_module_ready_to_declare_is_declared_and_still_parses(tmp_path: Path, name: str, text: str) -> None:
    src = tmp_path / name
    src.write_text(text)
    assert (name, "FT401") in _rules(tmp_path)
    code, out, err = _scan(str(tmp_path), "--fix")
    assert "fixed: declared free-threading support" in err, err
    assert "FT401" not in out
    after = src.read_text()
    assert "#ifdef Py_GIL_DISABLED" in after and "Py_MOD_GIL_NOT_USED" in after
    code, out, err = _scan(str(tmp_path), "--frontend", "clang", "--format", "json")
    assert code == 0, (after, out, err)  # declared, and libclang parses it without a problem
    assert "syntax-error" not in err and "frontend-fallback" not in err


def test_a_module_declared_gil_used_is_turned_to_not_used(tmp_path: Path) -> None:
    src = tmp_path / "used.c"
    src.write_text(USED)
    _scan(str(tmp_path), "--fix")
    assert src.read_text() == USED.replace("{Py_mod_gil, Py_MOD_GIL_USED}", "{Py_mod_gil, Py_MOD_GIL_NOT_USED}")


def test_diff_shows_the_edit_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "multi.c"
    src.write_text(MULTI)
    code, out, _err = _scan(str(tmp_path), "--diff")
    assert code == 1
    assert out.startswith("--- a/") and "multi.c\n+++ b/" in out
    assert "+#ifdef Py_GIL_DISABLED\n+    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n+#endif\n" in out
    assert src.read_text() == MULTI


def test_a_module_with_hazards_is_refused_with_what_blocks_it(tmp_path: Path) -> None:
    src = tmp_path / "blocked.c"
    src.write_text(BLOCKED)
    code, out, err = _scan(str(tmp_path), "--fix")
    assert "not fixed: module `blocked`: 1 hazard(s) block the declaration: FT101 in " in err
    assert src.read_text() == BLOCKED
    assert code == 1 and "FT401" in out
    code, out, _err = _scan(str(tmp_path), "--diff")
    assert code == 0 and out == ""


def test_cython_module_gets_the_directive(tmp_path: Path) -> None:
    src = tmp_path / "fast.pyx"
    src.write_text(CYTHON)
    assert ("fast.pyx", "FT402") in _rules(tmp_path)
    _scan(str(tmp_path), "--fix")
    assert (
        src.read_text()
        == "# cython: language_level=3\n# cython: freethreading_compatible = True\n" + CYTHON.split("\n", 1)[1]
    )
    assert not any(rule == "FT402" for _p, rule in _rules(tmp_path))


def test_pybind11_module_gets_mod_gil_not_used(tmp_path: Path) -> None:
    src = tmp_path / "adder.cpp"
    src.write_text(PYBIND)
    assert ("adder.cpp", "FT403") in _rules(tmp_path, "treesitter")
    _scan(str(tmp_path), "--fix", "--frontend", "treesitter")
    assert "PYBIND11_MODULE(adder, m, pybind11::mod_gil_not_used()) {" in src.read_text()
    assert not any(rule == "FT403" for _p, rule in _rules(tmp_path, "treesitter"))


def test_nanobind_target_gets_free_threaded_in_cmake(tmp_path: Path) -> None:
    (tmp_path / "CMakeLists.txt").write_text("nanobind_add_module(nbmod nbmod.cpp)\n")
    (tmp_path / "nbmod.cpp").write_text(
        "#define NB_MODULE(name, variable) static void nb_init_##name(int &variable)\nNB_MODULE(nbmod, m) { m = 2; }\n"
    )
    assert ("nbmod.cpp", "FT404") in _rules(tmp_path, "treesitter")
    _scan(str(tmp_path), "--fix", "--frontend", "treesitter")
    assert (tmp_path / "CMakeLists.txt").read_text() == "nanobind_add_module(nbmod FREE_THREADED nbmod.cpp)\n"
    assert not any(rule == "FT404" for _p, rule in _rules(tmp_path, "treesitter"))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_symlinked_module_file_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "multi.c"
    target.write_text(MULTI)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "multi.c").symlink_to(target)
    (tree / "real.c").write_text(SINGLE_RETURN)
    _scan(str(tree), "--fix")
    assert target.read_text() == MULTI
    assert "Py_MOD_GIL_NOT_USED" in (tree / "real.c").read_text()
