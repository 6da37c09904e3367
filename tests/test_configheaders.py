"""Stand-ins for configure-time headers written from their templates (configheaders.py), the
templates found for a missing header (headerindex.template_of, the build files' configure_file),
and a tree whose generated header parses with libclang only when its template is there."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

from click.testing import CliRunner

from ftaudit.buildfiles import cmake, meson
from ftaudit.cli import main
from ftaudit.frontends.configheaders import build_values, macro_value, standin_text
from ftaudit.frontends.headerindex import HeaderIndex
from ftaudit.frontends.includes import MissingHeaders


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# -- values


def test_sizes_are_the_hosts_exports_empty_and_features_undefined():
    assert macro_value("NPY_SIZEOF_LONG") == str(ctypes.sizeof(ctypes.c_long))
    assert macro_value("SIZEOF_PY_INTPTR_T") == str(ctypes.sizeof(ctypes.c_void_p))
    assert macro_value("NPY_SIZEOF_COMPLEX_LONGDOUBLE") == str(2 * ctypes.sizeof(ctypes.c_longdouble))
    assert macro_value("NPY_SIZEOF_OFF_T") == "8"
    assert macro_value("SIZEOF_STRUCT_FOO") is None  # a size of something unknown: not guessed
    assert macro_value("NPY_VISIBILITY_HIDDEN") == ""
    assert macro_value("MYLIB_EXPORT") == "" and macro_value("MYLIB_API") == ""
    assert macro_value("NPY_API_VERSION") is None  # not an `_API` macro
    assert macro_value("HAVE_BACKTRACE") is None and macro_value("NPY_NO_SMP") is None


# -- each directive kind


def test_mesondefine_lines_are_defined_or_commented_out():
    text = "#mesondefine NPY_SIZEOF_INT\n  #  mesondefine HAVE_BACKTRACE\n#mesondefine NPY_VISIBILITY_HIDDEN\n"
    assert standin_text(text) == (
        f"#define NPY_SIZEOF_INT {ctypes.sizeof(ctypes.c_int)}\n  /* #undef HAVE_BACKTRACE */\n"
        "#define NPY_VISIBILITY_HIDDEN\n"
    )


def test_cmakedefine_keeps_its_value_and_cmakedefine01_is_zero_or_one():
    text = (
        "#cmakedefine HAVE_UNISTD_H 1\n"
        "#cmakedefine SIZEOF_LONG @SIZEOF_LONG@\n"
        "#cmakedefine MYLIB_EXPORT\n"
        "#cmakedefine01 HAVE_PTHREAD\n"
        "#cmakedefine01 MYLIB_EXPORT\n"
    )
    long_ = ctypes.sizeof(ctypes.c_long)
    assert standin_text(text, cmake=True) == (
        f"/* #undef HAVE_UNISTD_H */\n#define SIZEOF_LONG {long_}\n#define MYLIB_EXPORT\n"
        "#define HAVE_PTHREAD 0\n#define MYLIB_EXPORT 1\n"
    )


def test_autoconf_undef_only_without_meson_or_cmake_directives():
    autoconf = "/* Define if you have backtrace. */\n#undef HAVE_BACKTRACE\n#undef SIZEOF_INT\n"
    expected = "/* Define if you have backtrace. */\n/* #undef HAVE_BACKTRACE */\n#define SIZEOF_INT 4\n"
    assert standin_text(autoconf) == expected
    # In a meson template an `#undef` is the template's own code: kept as written.
    assert standin_text("#mesondefine HAVE_X\n#undef SIZEOF_INT\n") == "/* #undef HAVE_X */\n#undef SIZEOF_INT\n"


def test_substitutions_known_unknown_in_comments_and_in_code():
    text = '/* built by @BUILDER@ */\n#define NAME "@PACKAGE@"\n#define W @SIZEOF_WCHAR_T@\n#define C ${SIZEOF_CHAR}\n'
    wchar = ctypes.sizeof(ctypes.c_wchar)
    # meson syntax: ${VAR} is not a substitution; unknown @VAR@ in a comment or string is empty
    assert standin_text(text) == f'/* built by  */\n#define NAME ""\n#define W {wchar}\n#define C ${{SIZEOF_CHAR}}\n'
    assert standin_text(text, cmake=True) == f'/* built by  */\n#define NAME ""\n#define W {wchar}\n#define C 1\n'
    # an unknown value in a macro's body: that macro undefined, continuation lines and all
    text = "#define N_TARGETS @N@\n#define CALL(cb) \\\n@CALLS@\nint after;\n"
    assert standin_text(text) == "/* #undef N_TARGETS */\n/* #undef CALL */\n\nint after;\n"
    # anywhere else in code (a macro's name, a declaration): no stand-in from this template (an
    # empty one is better than a guess)
    assert standin_text("#define @P@_CPU_H_\n") is None
    assert standin_text("int n = ${COUNT};\n", cmake=True) is None
    assert (
        standin_text("#define @P@_CPU_H_\n", values=lambda n: "NPY_" if n == "P" else None) == "#define NPY__CPU_H_\n"
    )
    # a known prefix in the name of a macro left out goes with it (numpy's main_config.h.in)
    prefix = {"P": "NPY_"}.get
    assert standin_text("#define @P@WITH_N @N@\nint x;\n", values=prefix) == "/* #undef NPY_WITH_N */\nint x;\n"


# -- the build files' configure_file


def test_meson_configure_file_inputs_and_outputs(tmp_path):
    text = """
cdata = configuration_data()
config_h = configure_file(input: 'config.h.in', output: 'config.h', configuration: cdata)
configure_file(input: files('ver.h.in'), output: '@BASENAME@', configuration: cdata, format: 'cmake@')
configure_file(input: 'raw.h', output: 'raw_copy.h', copy: true)
configure_file(input: 'gen.h.in', output: 'gen.h', command: [py, '@INPUT@', '@OUTPUT@'])
configure_file(input: name_unknown, output: 'unknown.h', configuration: cdata)
"""
    found = meson.configured_files(text, str(tmp_path / "meson.build"))
    assert [(Path(c.template).name, c.output, c.syntax, c.line) for c in found] == [
        ("config.h.in", "config.h", "meson", 3),
        ("ver.h.in", "ver.h", "cmake@", 4),
        ("raw.h", "raw_copy.h", "copy", 5),
    ]
    assert found[0].template == str(tmp_path / "config.h.in")


def test_meson_configuration_values_known_for_certain(tmp_path):
    text = """
API = '0x11'
vis = ''
if cc.has_function_attribute('visibility:hidden')
  vis = '__attribute__((visibility("hidden")))'
  cdata.set10('HAVE_VIS', true)
endif
cdata = configuration_data()
cdata.set('PKG_API_VERSION', API)
cdata.set('PKG_VISIBILITY_HIDDEN', vis)
cdata.set10('PKG_NO_SMP', false)
cdata.set('PKG_SIZEOF_LONG', cc.sizeof('long'))
cdata.set_quoted('PKG_NAME', 'pkg')
if cc.has_header('endian.h')
  cdata.set10('PKG_HAVE_ENDIAN_H', true)
endif
configure_file(input: 'pkgconfig.h.in', output: 'pkgconfig.h', configuration: cdata)
conf = {'P': 'PKG_'}
conf += {'N': n_targets.length()}
configure_file(input: 'cpu.h.in', output: 'cpu.h', configuration: configuration_data(conf))
configure_file(input: 'sep.h.in', output: 'sep.h', configuration: configuration_data({'sep': vis}))
"""
    pkg, cpu, sep = meson.configured_files(text, str(tmp_path / "meson.build"))
    unknown = meson.UNKNOWN_VALUE
    assert dict(pkg.values) == {
        "PKG_API_VERSION": "0x11",
        "PKG_VISIBILITY_HIDDEN": unknown,  # `vis` is assigned inside an `if`: a guess
        "PKG_NO_SMP": "0",
        "PKG_SIZEOF_LONG": unknown,
        "PKG_NAME": '"pkg"',
        "PKG_HAVE_ENDIAN_H": unknown,  # set inside an `if`
    }
    assert dict(cpu.values) == {"P": "PKG_", "N": unknown}
    assert sep.values == ()
    values = build_values(pkg)
    assert values("PKG_API_VERSION") == "0x11" and values("PKG_HAVE_ENDIAN_H") is None
    assert values("PKG_VISIBILITY_HIDDEN") == "" and values("PKG_SIZEOF_LONG") == str(ctypes.sizeof(ctypes.c_long))
    template = "#mesondefine PKG_NO_SMP\n#mesondefine PKG_API_VERSION\n"
    assert standin_text(template, values=values) == "#define PKG_NO_SMP 0\n#define PKG_API_VERSION 0x11\n"


def test_a_meson_value_that_doubles_stays_bounded(tmp_path):
    # Nothing in the tree is trusted: `s += s` 200 times would be 2**200 characters.
    text = "s = 'ab'\nl = ['x']\nforeach i : " + str(list(range(200))) + "\n  s += s\n  l += l\nendforeach\n"
    text += "configure_file(input: 'c.h.in', output: 'c.h', configuration: configuration_data({'S': s}))\n"
    (found,) = meson.configured_files(text, str(tmp_path / "meson.build"))
    assert found.values == (("S", meson.UNKNOWN_VALUE),)


def test_cmake_configure_file_inputs_and_outputs(tmp_path):
    text = """
set(GEN ${CMAKE_CURRENT_SOURCE_DIR}/cmake)
configure_file(${GEN}/config.h.cmake ${CMAKE_CURRENT_BINARY_DIR}/include/config.h @ONLY)
configure_file(version.h.in version.h)
configure_file(plain.h plain_copy.h COPYONLY)
configure_file(${NOT_SET}/x.h.in x.h)
"""
    found = cmake.configured_files(text, str(tmp_path / "CMakeLists.txt"))
    assert [(c.template, c.output, c.syntax) for c in found] == [
        (str(tmp_path / "cmake/config.h.cmake"), "include/config.h", "cmake@"),
        (str(tmp_path / "version.h.in"), "version.h", "cmake"),
        (str(tmp_path / "plain.h"), "plain_copy.h", "copy"),
    ]


# -- discovery


def test_the_template_of_a_missing_header(tmp_path):
    _write(
        tmp_path,
        {
            "meson.build": "configure_file(input: 'cpu/main_config.h.in', output: 'cpu_config.h', configuration: c)\n",
            "cpu/main_config.h.in": "",
            "include/pkg/_pkgconfig.h.in": "",
            "cm/version.h.cmake": "",
            "a/twice.h.in": "",
            "b/twice.h.in": "",
            "src/m.c": "",
        },
    )
    index = HeaderIndex([str(tmp_path)])
    src = str(tmp_path / "src")
    by_meson = index.template_of(src, "cpu_config.h")  # named by configure_file, not by its suffix
    assert by_meson is not None and by_meson.syntax == "meson"
    assert by_meson.template == str(tmp_path / "cpu/main_config.h.in")
    by_suffix = index.template_of(src, "pkg/_pkgconfig.h")
    assert by_suffix is not None and by_suffix.template == str(tmp_path / "include/pkg/_pkgconfig.h.in")
    assert index.template_of(src, "pkg/other/_pkgconfig.h") is None  # the path must end like the name
    by_cmake = index.template_of(src, "version.h")
    assert by_cmake is not None and by_cmake.syntax == "cmake"
    assert index.template_of(src, "twice.h") is None  # two templates: which one is not known
    assert index.template_of(src, "nowhere.h") is None


def test_a_template_outside_the_scan_roots_is_not_read(tmp_path):
    _write(
        tmp_path,
        {
            "outside/config.h.in": "#mesondefine NPY_SIZEOF_INT\n",
            "pkg/meson.build": "configure_file(input: '../outside/config.h.in', output: 'config.h')\n",
            "pkg/m.c": '#include "config.h"\n',
        },
    )
    index = HeaderIndex([str(tmp_path / "pkg")])
    assert index.template_of(str(tmp_path / "pkg"), "config.h") is None
    plan = MissingHeaders(index).plan(str(tmp_path / "pkg/m.c"), '#include "config.h"\n', [])
    assert plan.standins and plan.texts == ()


def test_the_plan_writes_the_stand_in_and_follows_its_includes(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "inc/conf.h.in": '#mesondefine MY_EXPORT\n#include "conf_extra.h"\n',
            "src/m.c": '#include "conf.h"\n',
        },
    )
    plan = MissingHeaders(HeaderIndex([str(tmp_path)])).plan(str(tmp_path / "src/m.c"), '#include "conf.h"\n', [])
    conf, extra = str(tmp_path / "src/conf.h"), str(tmp_path / "src/conf_extra.h")
    assert plan.standins == ((conf, "conf.h"), (extra, "conf_extra.h"))
    assert plan.texts == ((conf, str(tmp_path / "inc/conf.h.in"), '#define MY_EXPORT\n#include "conf_extra.h"\n'),)


# -- end to end: the template decides the frontend


_TREE = {
    "pyproject.toml": "",
    "include/_pkgconfig.h.in": (
        "#mesondefine PKG_SIZEOF_LONG\n#mesondefine PKG_VISIBILITY_HIDDEN\n#mesondefine PKG_HAVE_X\n"
    ),
    "include/pkgconfig.h": '#include "_pkgconfig.h"\n#if PKG_SIZEOF_LONG == 8\ntypedef long pkg_int64;\n#endif\n',
    # flagged: a static counter written without a lock; its type needs the size from the template
    "src/counter.c": (
        '#include "pkgconfig.h"\nstatic pkg_int64 hits;\nPKG_VISIBILITY_HIDDEN void count(void) { hits++; }\n'
    ),
    # its safe look-alike: the counter is thread-local
    "src/local.c": (
        '#include "pkgconfig.h"\n'
        "static _Thread_local pkg_int64 hits;\n"
        "PKG_VISIBILITY_HIDDEN void count(void) { hits++; }\n"
    ),
}


def _scan(root: Path) -> dict[str, object]:
    out = root / "report.json"
    args = ["scan", str(root), "--no-config", "--no-cache", "--jobs", "1", "--root", str(root)]
    res = CliRunner().invoke(main, [*args, "--format", "json", "--output", str(out)])
    assert res.exit_code in (0, 1), res.output
    return json.loads(out.read_text())


def test_a_generated_header_with_its_template_parses_with_libclang(tmp_path):
    _write(tmp_path, _TREE)
    report = _scan(tmp_path)
    frontends = {f["path"]: f["frontend"] for f in report["files"]}  # type: ignore[index]
    assert frontends["src/counter.c"] == frontends["src/local.c"] == "clang"
    found = [(f["rule"], f["path"], f["line"]) for f in report["findings"]]  # type: ignore[index]
    assert ("FT101", "src/counter.c", 2) in found
    assert not [f for f in found if f[1] == "src/local.c"]
    codes = [p["code"] for p in report["problems"] if p["path"] == "src/counter.c"]  # type: ignore[index]
    assert codes == ["stand-in-header"]


def test_the_same_tree_without_the_template_falls_back(tmp_path):
    _write(tmp_path, {k: v for k, v in _TREE.items() if not k.endswith(".in")})
    report = _scan(tmp_path)
    frontends = {f["path"]: f["frontend"] for f in report["files"]}  # type: ignore[index]
    assert frontends["src/counter.c"] == frontends["src/local.c"] == "treesitter"
    codes = [p["code"] for p in report["problems"] if p["path"] == "src/counter.c"]  # type: ignore[index]
    assert codes == ["missing-header"]
