"""The -D/-U options build files give what they compile (buildfiles/defines.py), read statically."""

from __future__ import annotations

import os
from pathlib import Path

from ftaudit.buildfiles import cmake, meson, read_compiled, setuppy
from ftaudit.buildfiles.defines import BuildDefines, CompiledSources, define_options
from ftaudit.frontends.flags import FlagSettings


def test_define_options_keeps_whole_define_and_undef_options_only():
    given = ["-DA", "-DB=1", "-UC", "-O2", "-D", "-D1X", "-Dx y=2", "-DA", "-Wall", "-DNL=a\nb"]
    assert define_options(given) == ("-DA", "-DB=1", "-UC")
    assert define_options([meson.Branched("-DREAD_INSIDE_IF")]) == ()


def test_meson_c_args_of_targets_outside_if_blocks(tmp_path):
    text = """
common = ['-DINTERNAL', '-DHAVE_CONFIG_H', other_file_variable]
cpp_common = common + ['-D__STDC_VERSION__=0']
if host_machine.system() == 'windows'
  common += ['-DWINDOWS_ONLY']
  add_project_arguments('-DGUESSED', language: 'c')
endif
add_project_arguments('-DWIDE=1', language: ['c', 'cpp'])
lib = static_library('helpers', 'src/helper.c', c_args: ['-DLIB'])
py.extension_module('_mod', ['src/mod.c', gen.process('src/loops.c.src')],
  c_args: common, cpp_args: cpp_common, link_with: lib)
if get_option('blas')
  py.extension_module('_blas', 'src/blas.c', c_args: ['-DHAVE_CBLAS'])
endif
"""
    found = meson.compiled_sources(text, str(tmp_path / "meson.build"))
    by_first = {os.path.relpath(c.sources[0], tmp_path) if c.sources else "": c for c in found}
    assert by_first[""].c == ("-DWIDE=1",) and by_first[""].directory == str(tmp_path)
    assert by_first["src/helper.c"].c == ("-DLIB",)
    mod = by_first["src/mod.c"]
    # the `+=` inside the `if` is a configuration's choice; the literals before it are the code's
    assert mod.c == ("-DINTERNAL", "-DHAVE_CONFIG_H")
    assert mod.cpp == ("-DINTERNAL", "-DHAVE_CONFIG_H", "-D__STDC_VERSION__=0")
    assert [os.path.relpath(s, tmp_path) for s in mod.sources] == ["src/mod.c", "src/loops.c.src"]
    assert "src/blas.c" not in by_first  # its only option was written inside an `if`
    assert not any("-DGUESSED" in c.c for c in found)


def test_setup_py_define_macros_undef_macros_and_extra_compile_args(tmp_path):
    text = """
from setuptools import Extension, setup
import sys
MACROS = [("FAST", None), ("LEVEL", "2")]
ext = Extension("m", ["m.c"], define_macros=MACROS, undef_macros=["NDEBUG"], extra_compile_args=["-O3", "-DEXTRA"])
if sys.platform == "win32":
    win = Extension("w", ["w.c"], define_macros=[("WIN", None)])
computed = Extension("c", ["c.c"], define_macros=[(name, None) for name in NAMES])
setup(ext_modules=[ext])
"""
    found = setuppy.compiled_sources(text, str(tmp_path / "setup.py"))
    assert len(found) == 1
    assert found[0].c == ("-DFAST", "-DLEVEL=2", "-UNDEBUG", "-DEXTRA") == found[0].cpp
    assert found[0].sources == (str(tmp_path / "m.c"),)


def test_cmake_definitions_outside_blocks(tmp_path):
    text = """
add_definitions(-DWIDE)
add_compile_definitions(ALSO=1)
pybind11_add_module(_core MODULE src/core.cpp)
target_compile_definitions(_core PRIVATE CORE_BUILD -DVERSION=3)
if(WIN32)
  target_compile_definitions(_core PRIVATE ON_WINDOWS)
  add_definitions(-DGUESSED)
endif()
"""
    found = cmake.compiled_sources(text, str(tmp_path / "CMakeLists.txt"))
    wide = [c for c in found if c.directory]
    assert [c.c for c in wide] == [("-DWIDE",), ("-DALSO=1",)]
    (core,) = [c for c in found if c.sources]
    assert core.cpp == ("-DCORE_BUILD", "-DVERSION=3")
    assert core.sources == (str(tmp_path / "src" / "core.cpp"),)


def _entry(tmp_path: Path, build: str, sources: list[str], c: tuple[str, ...], directory: str = "") -> CompiledSources:
    return CompiledSources(str(tmp_path / build), 1, tuple(str(tmp_path / s) for s in sources), c, c, directory)


def test_listed_files_get_what_every_target_agrees_on(tmp_path):
    d = BuildDefines(
        (
            _entry(tmp_path, "meson.build", ["a/x.c", "a/shared.c"], ("-DA", "-DONE")),
            _entry(tmp_path, "meson.build", ["a/shared.c", "b/y.c.src"], ("-DONE", "-DTWO")),
            _entry(tmp_path, "meson.build", [], ("-DWIDE",), str(tmp_path)),
            _entry(tmp_path, "sub/meson.build", ["sub/z.c"], ("-DSUB",)),
        )
    )
    assert d.for_file(str(tmp_path / "a/x.c"), False) == ("-DWIDE", "-DA", "-DONE")
    assert d.for_file(str(tmp_path / "a/shared.c"), False) == ("-DWIDE", "-DONE")
    # a template's expansion is analysed under the generated name
    assert d.for_file(str(tmp_path / "b/y.c"), False) == ("-DWIDE", "-DONE", "-DTWO")


def test_unlisted_files_get_their_nearest_sources_options(tmp_path):
    d = BuildDefines(
        (
            _entry(tmp_path, "meson.build", ["src/x.c"], ("-DX",)),
            _entry(tmp_path, "meson.build", ["src/y.c"], ("-DY", "-DBOTH")),
            _entry(tmp_path, "meson.build", ["src/deep/z.c"], ("-DZ", "-DBOTH")),
            _entry(tmp_path, "lib/meson.build", ["lib/w.c"], ("-DW",)),
        )
    )
    assert d.for_file(str(tmp_path / "src/x.h"), False) == ("-DX",)  # same directory and stem
    assert d.for_file(str(tmp_path / "src/other.h"), False) == ()  # same directory: x.c and y.c agree on nothing
    assert d.for_file(str(tmp_path / "src/deep/more/q.h"), False) == ("-DZ", "-DBOTH")  # deepest shared directory
    assert d.for_file(str(tmp_path / "lib/inner/q.h"), False) == ("-DW",)
    # the top's three targets agree on nothing; lib/meson.build does not speak for a file outside lib/
    assert d.for_file(str(tmp_path / "other/q.h"), False) == ()
    only_lib = BuildDefines((_entry(tmp_path, "lib/meson.build", ["lib/w.c"], ("-DW",)),))
    assert only_lib.for_file(str(tmp_path / "q.h"), False) == ()
    assert d.for_file(str(tmp_path / "src/deep/z.cpp"), True) == ("-DZ", "-DBOTH")


def test_flags_give_build_defines_unless_a_compile_database_speaks(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "meson.build").write_text("py.extension_module('m', 'src/m.c', c_args: ['-DINTERNAL'])\n")
    defines = BuildDefines(tuple(read_compiled([tmp_path / "meson.build"])))
    flags = FlagSettings(defines=["USER"], roots=[tmp_path], build_defines=defines)
    args = flags.args_for(tmp_path / "src" / "m.c", "int x;\n", "c")
    assert args.index("-DINTERNAL") < args.index("-DUSER")
    assert "-DINTERNAL" in flags.args_for(tmp_path / "src" / "m.h", "int x;\n", "c")


def test_fixture_parses_whole_with_its_meson_c_args():
    """The fixture c/builddefines needs its meson.build's -DBD_INTERNAL_BUILD: without it libclang's parse
    has syntax errors (`BD_NO_EXPORT`) and auto mode sends the file to tree-sitter."""
    from conftest import FIXTURES

    from ftaudit.scan import ScanOptions, scan

    result = scan(ScanOptions([FIXTURES / "c" / "builddefines"], select=["FT"], root=FIXTURES, frontend="auto"))
    record = next(r for r in result.files if r.path == "c/builddefines/builddefines.c")
    assert record.frontend == "clang"
    assert not [p for p in result.problems if p.path.endswith("builddefines.c")]
    assert [(f.span.line, f.rule) for f in result.findings if f.path == "c/builddefines/builddefines.c"] == [
        (7, "FT101"),
        (34, "FT405"),
    ]


def test_a_doubling_setup_py_is_bounded_and_a_huge_literal_costs_only_its_list() -> None:
    # `S += S` per line (and `S = [S, S]`, nested) would double time and memory per line: past the bound the
    # sources are not understood, at once.
    for grow in ("S += S", "S = [S, S]", "S = [*S, *S]", "S = S + S"):
        text = "from setuptools import Extension\nS = ['m.c']\n" + f"{grow}\n" * 40 + "Extension('m', S)\n"
        [target] = setuppy.targets(text, "/p/setup.py")
        assert target.sources == () and not target.complete
    # A 5000-digit int does not convert to text (Python's limit): that define_macros is not read, the
    # file's other options still are, and nothing raises.
    text = (
        "from setuptools import Extension\n"
        f"Extension('m', ['m.c'], define_macros=[('BIG', 0x{'f' * 5000})], undef_macros=['U'])\n"
    )
    [entry] = setuppy.compiled_sources(text, "/p/setup.py")
    assert entry.c == ("-UU",)
