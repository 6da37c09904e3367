"""Build descriptions read statically: setup.py (ast), meson.build, CMakeLists.txt."""

from __future__ import annotations

import os
from pathlib import Path

from ftaudit.buildfiles import BuildTarget, cmake, meson, read_targets, setuppy
from ftaudit.discover import discover


def _rel(t: BuildTarget, base: Path) -> list[str]:
    return [os.path.relpath(s, base) for s in t.sources]


def test_setup_py_literals_variables_and_concatenation(tmp_path):
    text = """
from setuptools import Extension, setup
import os
COMMON = ["src/common.c"]
COMMON += ["src/more.c"]
exts = [
    Extension("pkg._fast", sources=["src/fast.c"] + COMMON),
    Extension(name="pkg.slow", sources=[os.path.join("src", "slow.c"), *COMMON]),
    Extension("pkg.globbed", sources=glob.glob("src/*.c")),
]
setup(ext_modules=exts)
"""
    fast, slow, globbed = setuppy.targets(text, str(tmp_path / "setup.py"))
    assert (fast.name, fast.module, fast.complete) == ("pkg._fast", "_fast", True)
    assert _rel(fast, tmp_path) == ["src/fast.c", "src/common.c", "src/more.c"]
    assert _rel(slow, tmp_path) == ["src/slow.c", "src/common.c", "src/more.c"]
    assert (globbed.sources, globbed.complete) == ((), False)


def test_setup_py_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "setup.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\nfrom setuptools import Extension\nExtension('m', ['m.c'])\n"
    )
    targets, problems = read_targets([tmp_path / "setup.py"])
    assert [t.name for t in targets] == ["m"] and problems == []
    assert not marker.exists()


def test_unparseable_build_files_are_one_note_each(tmp_path):
    (tmp_path / "setup.py").write_text("def broken(:\n")
    (tmp_path / "meson.build").write_text("x = [" * 5000 + "\n")
    (tmp_path / "CMakeLists.txt").write_text("nanobind_add_module(ok ok.cpp)\n")
    targets, problems = read_targets([tmp_path / n for n in ("setup.py", "meson.build", "CMakeLists.txt")])
    assert [t.name for t in targets] == ["ok"]
    assert sorted((Path(p.path).name, p.code, p.level) for p in problems) == [
        ("meson.build", "build-file", "note"),
        ("setup.py", "build-file", "note"),
    ]


def test_meson_lists_files_variables_foreach_and_link_with(tmp_path):
    text = """
py = import('python').find_installation(pure: false)
src_file = generator(find_program('tempita'), arguments: ['@INPUT@'], output: '@BASENAME@')
lib = static_library('helpers', ['lib/a.c', 'lib/b.c'], c_args: ['-O2'])
srcs = files('main.c', 'methods.c')
srcs += [src_file.process('loops.c.src'), 'extra.c']
if host_machine.system() == 'windows'
  srcs += ['win.c']
endif
py.extension_module('_core', srcs, link_with: [lib], install: true, subdir: 'pkg')
foreach name: [['_one', 'one.c'], ['_two', 'two.c']]
  py.extension_module(name[0], name[1], install: true)
endforeach
py.extension_module('_opaque', [some_unknown_var, 'known.c'])
"""
    core, one, two, opaque = meson.targets(text, str(tmp_path / "meson.build"))
    assert core.name == "_core" and core.complete
    assert _rel(core, tmp_path) == [
        "main.c",
        "methods.c",
        "loops.c.src",
        "extra.c",
        "win.c",
        "lib/a.c",
        "lib/b.c",
    ]
    assert (one.name, _rel(one, tmp_path)) == ("_one", ["one.c"])
    assert (two.name, _rel(two, tmp_path)) == ("_two", ["two.c"])
    assert (opaque.complete, _rel(opaque, tmp_path)) == (False, ["known.c"])


def test_cmake_commands_variables_and_options(tmp_path):
    text = """
# nanobind_add_module(commented out.cpp)
#[[ pybind11_add_module(bracket_comment x.cpp) ]]
set(SRCS a.cpp "b c.cpp")
list(APPEND SRCS d.cpp)
nanobind_add_module(fast FREE_THREADED NB_DOMAIN dom ${SRCS} ${CMAKE_CURRENT_SOURCE_DIR}/e.cpp)
pybind11_add_module(slow MODULE src/slow.cpp)
target_sources(slow PRIVATE src/more.cpp)
Python_add_library(plain MODULE WITH_SOABI plain.c ${NOT_SET} $<$<CONFIG:Debug>:debug.c>)
"""
    fast, slow, plain = cmake.targets(text, str(tmp_path / "CMakeLists.txt"))
    assert (fast.kind, fast.options, fast.complete) == ("nanobind", ("FREE_THREADED", "NB_DOMAIN"), True)
    assert _rel(fast, tmp_path) == ["a.cpp", "b c.cpp", "d.cpp", "e.cpp"]
    assert (slow.kind, _rel(slow, tmp_path)) == ("pybind11", ["src/slow.cpp", "src/more.cpp"])
    assert (plain.kind, plain.options, plain.complete) == ("python", ("MODULE", "WITH_SOABI"), False)
    assert _rel(plain, tmp_path) == ["plain.c"]


def test_discover_collects_build_files_in_the_walk_only(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("setup.py", "sub/meson.build", "sub/CMakeLists.txt", "sub/m.c", "other.py"):
        (tmp_path / name).write_text("\n")
    builds: list[Path] = []
    files, _ = discover([tmp_path], builds=builds)
    assert [f.path.name for f in files] == ["m.c"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in builds) == [
        "setup.py",
        "sub/CMakeLists.txt",
        "sub/meson.build",
    ]
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "meson.build")  # not a regular file: never collected, never opened
    builds.clear()
    discover([tmp_path / "fifo", tmp_path / "sub" / "m.c"], builds=builds)
    assert builds == []  # a file named on the command line is scanned alone, its directory not walked
