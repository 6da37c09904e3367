"""setup.py extensions only an environment variable adds (buildfiles/environ.py, `BuildTarget.opt_in`),
read without running the file, and what built.py does with their modules."""

from __future__ import annotations

import ast
from pathlib import Path

from test_built import MODULE, found, scan, write

from ftaudit.buildfiles import read_description, setuppy
from ftaudit.buildfiles.environ import default_off

LZ4_SHAPE = """
import os
from setuptools import Extension, setup
experimental_env = os.environ.get("PYLZ4_EXPERIMENTAL", "False")
if experimental_env.upper() in ("1", "TRUE"):
    experimental = True
else:
    experimental = False
stream_sources = ["stream.c"]
stream_sources.extend(["lz4.c"])
block = Extension("pkg.block", ["block.c"])
stream = Extension("pkg.stream", stream_sources)
ext_modules = [block]
if experimental is True:
    ext_modules.append(stream)
setup(ext_modules=ext_modules)
"""


def _opt_in(text: str, tmp_path: Path) -> dict[str, str]:
    return {t.name: t.opt_in for t in setuppy.targets(text, str(tmp_path / "setup.py"))}


def test_an_extension_appended_only_when_an_environment_variable_is_set_is_opt_in(tmp_path):
    assert _opt_in(LZ4_SHAPE, tmp_path) == {"pkg.block": "", "pkg.stream": "PYLZ4_EXPERIMENTAL"}


def test_an_extension_inside_an_environment_test_is_opt_in_and_an_opt_out_is_built(tmp_path):
    text = """
import os
from setuptools import Extension, setup
exts = [Extension("always", ["a.c"])]
if "WITH_SPEEDUPS" in os.environ:
    exts.append(Extension("speedups", ["s.c"]))
if not os.getenv("NO_FAST"):
    exts.append(Extension("fast", ["f.c"]))
if int(os.environ.get("BUILD_DEBUG", "0")):
    exts.append(Extension("debug", ["d.c"]))
else:
    exts.append(Extension("release", ["r.c"]))
setup(ext_modules=exts)
"""
    assert _opt_in(text, tmp_path) == {
        "always": "",
        "speedups": "WITH_SPEEDUPS",
        "fast": "",
        "debug": "BUILD_DEBUG",
        "release": "",
    }


def test_tests_the_walk_cannot_decide_keep_the_extension_built(tmp_path):
    text = """
import os, sys
from setuptools import Extension, setup
flag = os.environ.get("X", "0") == "1" or sys.platform == "win32"
exts = []
if flag:
    exts.append(Extension("maybe", ["m.c"]))
if os.environ["REQUIRED"]:
    exts.append(Extension("keyed", ["k.c"]))
try:
    forced = os.environ.get("FORCE")
except Exception:
    forced = "1"
if forced:
    exts.append(Extension("forced", ["f.c"]))
def enable():
    global late
    late = True
late = os.environ.get("LATE")
if late:
    exts.append(Extension("late", ["l.c"]))
setup(ext_modules=exts)
"""
    assert _opt_in(text, tmp_path) == {"maybe": "", "keyed": "", "forced": "", "late": ""}


def test_default_off_names_the_branch_and_its_variables():
    (off,) = default_off(ast.parse("import os\nif os.environ.get('A') and True:\n    x = 1\n"))
    assert off.variables == {"A"} and [ast.unparse(s) for s in off.statements] == ["x = 1"]


def test_a_file_that_may_build_modules_another_way_keeps_them_built(tmp_path):
    write(tmp_path, {"setup.py": LZ4_SHAPE + "from helpers import more\n", "helpers.py": ""})
    description = read_description([tmp_path / "setup.py"])
    assert {t.name: t.opt_in for t in description.targets} == {"pkg.block": "", "pkg.stream": ""}


STREAM = MODULE.replace('"a"', '"stream"').replace("PyInit_a", "PyInit_stream") + "static long n;\n"
STREAM += "static PyObject *bump(PyObject *s, PyObject *a) { n++; return PyLong_FromLong(n); }\n"
STREAM += 'static PyMethodDef more[] = {{"bump", bump, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\n'


def test_the_module_of_an_opt_in_extension_is_not_judged_even_when_the_description_is_incomplete(tmp_path):
    block = MODULE.replace('"a"', '"block"').replace("PyInit_a", "PyInit_block")
    write(tmp_path, {"setup.py": LZ4_SHAPE, "block.c": block, "stream.c": STREAM, "lz4.c": "int lz4(void);\n"})
    assert read_description([tmp_path / "setup.py"]).unknown  # `stream_sources.extend()`
    _, doc = scan(tmp_path)
    assert found(doc) == {("block.c", "FT401")}
    [note] = [p for p in doc["problems"] if p["code"] == "not-built"]
    assert note["path"].endswith("stream.c") and "environment sets PYLZ4_EXPERIMENTAL" in note["message"]
    _, judged = scan(tmp_path, "--include-unbuilt")
    assert {("stream.c", "FT401"), ("stream.c", "FT101")} <= found(judged)


def test_an_opt_in_module_file_another_file_calls_into_is_judged(tmp_path):
    block = MODULE.replace('"a"', '"block"').replace("PyInit_a", "PyInit_block")
    block += "long stream_count(void);\nlong use(void) { return stream_count(); }\n"
    stream = STREAM + "long stream_count(void) { n++; return n; }\n"
    write(tmp_path, {"setup.py": LZ4_SHAPE, "block.c": block, "stream.c": stream, "lz4.c": "int lz4(void);\n"})
    _, doc = scan(tmp_path)
    assert ("stream.c", "FT101") in found(doc)
