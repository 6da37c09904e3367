"""Code no built extension module contains is not judged (built.py), when the build description was
read completely (buildfiles.unknowns); a dynamic or missing one keeps every file judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftaudit.buildfiles import read_description
from ftaudit.cli import main

MODULE = """#include <Python.h>
static PyMethodDef methods[] = {{NULL, NULL, 0, NULL}};
static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "a", NULL, -1, methods};
PyMODINIT_FUNC PyInit_a(void) { return PyModule_Create(&moduledef); }
"""
HAZARD = "static long n;\nvoid bump(void) { n++; }\n"
SETUP = 'from setuptools import Extension, setup\nsetup(ext_modules=[Extension("a", ["a.c"])])\n'


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def scan(root: Path, *extra: str, frontend: str = "treesitter") -> tuple[int, dict]:
    args = ["scan", str(root), "--format", "json", "--no-cache", "--jobs", "1", "--frontend", frontend, *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def found(doc: dict) -> set[tuple[str, str]]:
    return {(Path(f["path"]).name, f["rule"]) for f in doc["findings"] if f["suppressed"] is None}


def not_built(doc: dict) -> set[str]:
    return {Path(p["path"]).name for p in doc["problems"] if p["code"] == "not-built"}


def test_a_file_no_extension_lists_is_not_judged_and_a_note_says_so(tmp_path):
    write(tmp_path, {"setup.py": SETUP, "a.c": MODULE, "bench/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 0 and found(doc) == set()
    assert not_built(doc) == {"b.c"}
    note = next(p for p in doc["problems"] if p["code"] == "not-built")
    assert "setup.py" in note["message"] and "--include-unbuilt" in note["message"] and note["line"] == 2


def test_include_unbuilt_and_the_built_patterns_judge_it(tmp_path):
    write(tmp_path, {"setup.py": SETUP, "a.c": MODULE, "bench/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1", "--include-unbuilt")
    assert code == 1 and found(doc) == {("b.c", "FT101")} and not_built(doc) == set()
    (tmp_path / "ftaudit.toml").write_text('built = ["bench/*.c"]\n')
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("b.c", "FT101")}


@pytest.mark.parametrize(
    "setup",
    [
        # A source list changed after it is named: b.c may be built.
        'from setuptools import Extension, setup\nsrc = ["a.c"]\nsrc.append("bench/b.c")\n'
        'setup(ext_modules=[Extension("a", src)])\n',
        # The extensions come from a module beside setup.py (matplotlib's setupext.py).
        "from setuptools import setup\nimport setupext\nsetup(ext_modules=setupext.extensions())\n",
        # A computed name, a glob.
        'import glob\nfrom setuptools import Extension, setup\nname = "a" + ""\n'
        'setup(ext_modules=[Extension(name, glob.glob("*.c"))])\n',
        'from Cython.Build import cythonize\nfrom setuptools import setup\nsetup(ext_modules=cythonize("**/*.pyx"))\n',
    ],
)
def test_a_build_description_not_read_completely_keeps_everything_judged(tmp_path, setup):
    write(tmp_path, {"setup.py": setup, "setupext.py": "", "a.c": MODULE, "bench/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("b.c", "FT101")} and not_built(doc) == set()
    assert not read_description([tmp_path / "setup.py"]).known


def test_no_build_file_keeps_everything_judged(tmp_path):
    write(tmp_path, {"a.c": MODULE, "bench/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("b.c", "FT101")}


def test_meson_extension_module(tmp_path):
    meson = "py = import('python').find_installation()\npy.extension_module('a', 'a.c', install: true)\n"
    write(tmp_path, {"meson.build": meson, "a.c": MODULE, "tools/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 0 and not_built(doc) == {"b.c"}
    meson += "py.extension_module(get_option('name'), 'c.c')\n"  # a computed name: unknown
    (tmp_path / "meson.build").write_text(meson)
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("b.c", "FT101")}


@pytest.mark.parametrize("frontend", ["treesitter", "auto"])
def test_a_header_a_member_includes_is_judged_one_nobody_includes_is_not(tmp_path, frontend):
    inline = "static long hits;\nstatic inline void count(void) { hits++; }\n"
    write(
        tmp_path,
        {
            "setup.py": SETUP,
            "a.c": '#include "inc/shared.h"\n' + MODULE,
            "inc/shared.h": inline,
            "bench/nanobench.h": inline,
        },
    )
    code, doc = scan(tmp_path, "--select", "FT1", frontend=frontend)
    assert code == 1 and found(doc) == {("shared.h", "FT101")}
    assert not_built(doc) == {"nanobench.h"}


def test_a_platform_header_included_under_if_is_built(tmp_path):
    select = '#if defined(__ppc__)\n#include "platform/ppc.h"\n#else\n#include "platform/x86.h"\n#endif\n'
    inline = "static long hits;\nstatic inline void count(void) { hits++; }\n"
    write(
        tmp_path,
        {
            "setup.py": SETUP,
            "a.c": '#include "select.h"\n' + MODULE,
            "select.h": select,
            "platform/ppc.h": inline,
            "platform/x86.h": inline,
        },
    )
    _, doc = scan(tmp_path, "--select", "FT1", frontend="auto")
    assert found(doc) == {("ppc.h", "FT101"), ("x86.h", "FT101")} and not_built(doc) == set()


def test_an_include_of_a_macro_keeps_every_header_built(tmp_path):
    inline = "static long hits;\nstatic inline void count(void) { hits++; }\n"
    a = '#define IMPL "impl/fast.h"\n#include IMPL\n' + MODULE
    write(tmp_path, {"setup.py": SETUP, "a.c": a, "impl/fast.h": inline})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("fast.h", "FT101")} and not_built(doc) == set()


def test_a_file_reached_only_through_a_members_call_is_judged(tmp_path):
    member = MODULE.replace(
        "static PyMethodDef methods[] = {{NULL, NULL, 0, NULL}};",
        "void helper(void);\n"
        "static PyObject *run(PyObject *self, PyObject *args) { helper(); Py_RETURN_NONE; }\n"
        'static PyMethodDef methods[] = {{"run", run, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};',
    )
    helper = "static long n;\nvoid helper(void) { n++; }\n"
    write(tmp_path, {"setup.py": SETUP, "a.c": member, "lib/helper.c": helper, "bench/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("helper.c", "FT101")} and not_built(doc) == {"b.c"}


def test_an_example_module_no_build_description_builds_gets_no_declaration_note(tmp_path):
    setup = (
        "from Cython.Build import cythonize\nfrom setuptools import Extension, setup\n"
        'setup(ext_modules=cythonize([Extension("pkg.mod", ["pkg/mod.pyx"])]))\n'
    )
    write(
        tmp_path,
        {"setup.py": setup, "pkg/mod.pyx": "def f():\n    pass\n", "examples/demo.pyx": "def g():\n    pass\n"},
    )
    code, doc = scan(tmp_path, "--select", "FT402")
    assert code == 1 and found(doc) == {("mod.pyx", "FT402")}
    assert not_built(doc) == {"demo.pyx"}
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--format", "sarif", "--no-cache", "--select", "FT402"])
    notes = json.loads(result.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("not built into any extension module" in n["message"]["text"] for n in notes)


def test_a_generated_c_source_counts_for_its_pyx(tmp_path):
    setup = 'from setuptools import Extension, setup\nsetup(ext_modules=[Extension("pkg.mod", ["pkg/mod.c"])])\n'
    write(tmp_path, {"setup.py": setup, "pkg/mod.pyx": "def f():\n    pass\n"})
    code, doc = scan(tmp_path, "--select", "FT402")
    assert code == 1 and found(doc) == {("mod.pyx", "FT402")} and not_built(doc) == set()


def test_a_build_file_speaks_only_for_its_directory(tmp_path):
    write(tmp_path, {"proj/setup.py": SETUP, "proj/a.c": MODULE, "proj/bench/b.c": HAZARD, "other/c.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("c.c", "FT101")} and not_built(doc) == {"b.c"}
    # An example's own complete setup.py under a dynamic one: the dynamic one keeps it all judged.
    dynamic = 'from setuptools import Extension, setup\nsrc = ["proj/a.c"]\nsrc += ["x.c"]\n'
    dynamic += 'setup(ext_modules=[Extension("a", src)])\n'
    write(tmp_path, {"setup.py": dynamic})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert found(doc) == {("b.c", "FT101"), ("c.c", "FT101")} and not_built(doc) == set()


def test_a_setup_py_naming_no_extension_is_unknown(tmp_path):
    cffi = 'from setuptools import setup\nsetup(cffi_modules=["build_ffi.py:ffi"])\n'
    write(tmp_path, {"setup.py": cffi, "src/b.c": HAZARD})
    code, doc = scan(tmp_path, "--select", "FT1")
    assert code == 1 and found(doc) == {("b.c", "FT101")}
