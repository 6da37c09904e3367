"""Headers of an unbuilt checkout: the project header index, stand-ins for generated headers, build
directories' compile databases (headerindex.py, includes.py, flags.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ftaudit.analyse import FrontendChooser, Settings
from ftaudit.catalogue import load
from ftaudit.discover import SourceFile
from ftaudit.frontends.flags import CompileDatabase, FlagSettings, build_databases, find_compile_database
from ftaudit.frontends.headerindex import HeaderIndex, project_root
from ftaudit.frontends.includes import MissingHeaders
from ftaudit.source import read_source


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _analyse(root: Path, name: str, flags: FlagSettings | None = None):
    chooser = FrontendChooser(Settings(load(), flags or FlagSettings(roots=[root]), "auto", {}, 10_000_000))
    path = root / name
    src, _ = read_source(path)
    assert src is not None
    return chooser.analyse(SourceFile(path, "c"), src)


# -- the index


def test_index_resolves_a_name_and_a_path_suffix_to_the_one_file(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "lib/core/src/common/npy_config.h": "",
            "lib/core/include/numpy/ndarraytypes.h": "",
            "lib/a/dup.h": "",
            "lib/b/dup.h": "",
            "lib/src/x.c": "",
        },
    )
    index = HeaderIndex([str(tmp_path)])
    here = str(tmp_path / "lib" / "src")
    assert index.resolve(here, "npy_config.h") == str(tmp_path / "lib/core/src/common")
    assert index.resolve(here, "numpy/ndarraytypes.h") == str(tmp_path / "lib/core/include")
    assert index.resolve(here, "include/numpy/ndarraytypes.h") == str(tmp_path / "lib/core")
    # The suffix must match whole components, and exactly one file.
    assert index.resolve(here, "py/ndarraytypes.h") is None
    assert index.resolve(here, "dup.h") is None
    assert index.resolve(here, "a/dup.h") == str(tmp_path / "lib")
    # Names that climb or are absolute are never looked up.
    assert index.resolve(here, "../common/npy_config.h") is None
    assert index.resolve(here, str(tmp_path / "lib/a/dup.h")) is None


def test_index_stays_inside_the_scan_roots(tmp_path):
    outside = tmp_path / "outside"
    _write(outside, {"secret.h": "", "pyproject.toml": ""})
    root = tmp_path / "proj" / "src"
    _write(root, {"m.c": "", "sub/own.h": ""})
    (root / "link.h").symlink_to(outside / "secret.h")
    (root / "linkdir").symlink_to(outside)
    index = HeaderIndex([str(root)])
    # The project marker above the scan root is not reached: the root is the boundary.
    assert index.root_for(str(root)) == str(root)
    assert index.resolve(str(root), "own.h") == str(root / "sub")
    assert index.resolve(str(root), "secret.h") is None  # not through a directory link, nor a file link out
    assert index.resolve(str(root), "link.h") is None
    # An includer outside the roots (an installed header) resolves nothing.
    assert index.resolve(str(outside), "own.h") is None


def test_project_root_is_the_outermost_marker_inside_the_boundary(tmp_path):
    _write(
        tmp_path,
        {"meson.build": "", "numpy/meson.build": "", "numpy/linalg/setup.py": "", "numpy/core/x.c": "", "o/x.c": ""},
    )
    base = str(tmp_path)
    assert project_root(str(tmp_path / "numpy" / "linalg"), base) == base
    assert project_root(str(tmp_path / "numpy" / "core"), str(tmp_path / "numpy")) == str(tmp_path / "numpy")
    assert project_root(str(tmp_path / "numpy" / "linalg"), str(tmp_path / "numpy" / "linalg")) == str(
        tmp_path / "numpy" / "linalg"
    )
    bare = tmp_path / "o"
    assert project_root(str(bare), str(bare)) == str(bare)  # no marker: the boundary


def test_plan_adds_the_index_directories_and_stand_ins(tmp_path):
    _write(
        tmp_path,
        {
            "setup.py": "",
            "inc/api.h": '#include "config.h"\n#ifdef _WIN32\n#include "win_only.h"\n#endif\n',
            "src/m.c": '#include "api.h"\n#include <kiwi/kiwi.h>\n',
            "kiwi/kiwi.h": "",
        },
    )
    plan = MissingHeaders(HeaderIndex([str(tmp_path)])).plan(str(tmp_path / "src/m.c"), "", [])
    assert plan.missing == ()
    text = (tmp_path / "src/m.c").read_text()
    plan = MissingHeaders(HeaderIndex([str(tmp_path)])).plan(str(tmp_path / "src/m.c"), text, [])
    assert plan.dirs == (str(tmp_path / "inc"), str(tmp_path))
    assert plan.args() == ["-idirafter", str(tmp_path / "inc"), "-idirafter", str(tmp_path)]
    # Stand-ins next to their includer, for conditional includes too; only unconditional ones are certain.
    assert plan.standins == (
        (str(tmp_path / "inc/config.h"), "config.h"),
        (str(tmp_path / "inc/win_only.h"), "win_only.h"),
    )
    assert plan.missing == ("config.h",) and plan.line == 1
    # Without the index, api.h is itself missing.
    assert MissingHeaders().plan(str(tmp_path / "src/m.c"), text, []).missing == ("api.h",)


def test_builtin_headers_are_never_missing(tmp_path):
    text = '#include "float.h"\n#include "stddef.h"\n#include "stdatomic.h"\n'
    plan = MissingHeaders().plan(str(tmp_path / "m.c"), text, [])
    assert plan.missing == () and plan.standins == ()


# -- libclang with the index and stand-ins


def test_a_header_found_by_the_index_gives_libclang_its_declarations(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "include/mylib/state.h": "typedef struct { int n; } state_t;\n",
            "src/m.c": '#include "mylib/state.h"\nstatic state_t s;\nvoid bump(void) { s.n++; }\n',
        },
    )
    unit = _analyse(tmp_path, "src/m.c", FlagSettings(roots=[tmp_path / "src"]))
    # The header is outside the scanned path: not searched. An empty stand-in loses `state_t`, and with
    # it the declaration of `s`, so tree-sitter takes the file, and the missing header is the problem.
    assert unit.frontend == "treesitter"
    assert [p.code for p in unit.problems] == ["missing-header"] and "mylib/state.h" in unit.problems[0].message
    unit = _analyse(tmp_path, "src/m.c")
    assert unit.frontend == "clang" and unit.problems == []
    assert str(tmp_path / "include/mylib/state.h") in unit.includes


def test_a_generated_header_gets_an_empty_stand_in(tmp_path):
    _write(tmp_path, {"m.c": '#include "config.h"\nstatic int n;\nint bump(void) { return ++n; }\n'})
    unit = _analyse(tmp_path, "m.c")
    assert unit.frontend == "clang"
    assert [(p.code, p.line) for p in unit.problems] == [("stand-in-header", 1)]
    assert "config.h" in unit.problems[0].message and unit.missing_headers == ["config.h"]
    assert all(not inc.endswith("config.h") for inc in unit.includes)  # nothing on disk to check for the cache
    assert [v.name for v in unit.statics.values()] == ["n"]


def test_stand_ins_that_break_the_parse_end_on_tree_sitter_with_one_problem(tmp_path):
    # NPY_TLS_ATTR comes from the generated header: without it the declaration does not parse.
    _write(tmp_path, {"m.c": '#include "config.h"\nstatic int n NPY_TLS_ATTR;\nint bump(void) { return ++n; }\n'})
    unit = _analyse(tmp_path, "m.c")
    assert unit.frontend == "treesitter"
    assert [(p.code, p.line) for p in unit.problems] == [("missing-header", 1)]
    assert "config.h" in unit.problems[0].message and "tree-sitter" in unit.problems[0].message


def test_a_type_lost_to_a_stand_in_in_a_header_ends_on_tree_sitter(tmp_path):
    # numpy's f2c.h: `typedef CBLAS_INT integer;` with CBLAS_INT from a header found nowhere.
    _write(
        tmp_path,
        {
            "f2c.h": '#include "npy_cblas.h"\ntypedef CBLAS_INT integer;\n',
            "blas.c": '#include "f2c.h"\nint axpy_(void) { static integer i__; i__ = 1; return 0; }\n',
        },
    )
    unit = _analyse(tmp_path, "blas.c")
    assert unit.frontend == "treesitter"
    assert [p.code for p in unit.problems] == ["missing-header"] and "npy_cblas.h" in unit.problems[0].message
    assert [v.name for v in unit.statics.values()] == ["axpy_()::i__"]


def test_without_stand_ins_a_file_missing_a_header_is_not_parsed_by_libclang(tmp_path):
    _write(tmp_path, {"m.c": '#include "config.h"\nstatic int n;\nint bump(void) { return ++n; }\n'})
    unit = _analyse(tmp_path, "m.c", FlagSettings(roots=[tmp_path], standins=False))
    assert unit.frontend == "treesitter"
    assert [(p.code, p.line) for p in unit.problems] == [("missing-header", 1)]


# -- build directories


def _db(directory: Path, entries: list[dict[str, object]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "compile_commands.json").write_text(json.dumps(entries))
    return directory / "compile_commands.json"


def test_build_directories_are_found_newest_first(tmp_path):
    paths = [
        _db(tmp_path / "build" / "cp311", []),
        _db(tmp_path / "builddir", []),
        _db(tmp_path / "build-release", []),
        _db(tmp_path / "_skbuild" / "linux-x86_64-3.12" / "cmake-build", []),
    ]
    for n, p in enumerate(paths):
        os.utime(p, ns=(n * 10**9, n * 10**9))
    _db(tmp_path / "deep" / "build", [])  # not a build directory of the root
    assert build_databases([tmp_path]) == paths[::-1]
    assert find_compile_database([tmp_path]) == paths[-1]


def test_a_build_directory_linked_outside_the_roots_is_ignored(tmp_path):
    outside = tmp_path / "elsewhere"
    _db(outside, [])
    root = tmp_path / "proj"
    root.mkdir()
    (root / "build").symlink_to(outside)
    assert find_compile_database([root]) is None


def test_every_entry_is_kept_and_the_baseline_one_used(tmp_path):
    src = tmp_path / "loops.dispatch.c"
    src.write_text("")
    entry = {"directory": str(tmp_path), "file": str(src)}
    db_path = _db(
        tmp_path,
        [
            {**entry, "arguments": ["cc", "-DNPY_MTARGETS_CURRENT=AVX2", "-mavx2", "-mfma", "-c", str(src)]},
            {**entry, "arguments": ["cc", "-DNPY_MTARGETS_CURRENT=baseline", "-m64", "-c", str(src)]},
            {**entry, "arguments": ["cc", "-DNPY_MTARGETS_CURRENT=AVX512F", "-mavx512f", "-c", str(src)]},
        ],
    )
    db = CompileDatabase.load(db_path, [tmp_path])
    assert len(db.entries[os.path.realpath(src)]) == 3
    assert db.args_for(src) == ["-DNPY_MTARGETS_CURRENT=baseline", "-m64"]


def test_a_header_gets_the_flags_of_its_sibling_source(tmp_path):
    for name in ("src/a.c", "src/b.cpp", "lib/c.c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    db_path = _db(
        tmp_path,
        [
            {"directory": str(tmp_path), "file": "src/a.c", "arguments": ["cc", "-DA", "-std=c11", "-c", "src/a.c"]},
            {"directory": str(tmp_path), "file": "src/b.cpp", "arguments": ["c++", "-DB", "-std=c++17", "src/b.cpp"]},
            {"directory": str(tmp_path), "file": "lib/c.c", "arguments": ["cc", "-DC", "lib/c.c"]},
        ],
    )
    db = CompileDatabase.load(db_path, [tmp_path])
    assert db.args_for(tmp_path / "src" / "b.h") == ["-DB", "-std=c++17"]  # same stem first
    assert db.args_for(tmp_path / "src" / "other.h") == ["-DA", "-std=c11"]  # then the same directory
    assert db.args_for(tmp_path / "lib" / "sub" / "d.h") == ["-DC"]  # then the deepest common one
    flags = FlagSettings(compile_db=db, roots=[tmp_path], python_include=[])
    header = tmp_path / "src" / "b.h"
    # Judged C, the C++ donor's -std= is dropped (clang would refuse the parse).
    assert "-std=c++17" not in flags.args_for(header, "int x;\n", "c")
    assert "-std=c++17" in flags.args_for(header, "namespace n {}\n", "c")


# -- one explanation per cause


def _cli(*args: str):
    from click.testing import CliRunner

    from ftaudit.cli import main

    return CliRunner().invoke(main, list(args))


def test_missing_headers_are_summed_up_by_cause(tmp_path):
    _write(
        tmp_path,
        {
            "meson.build": "conf = configure_file(output : 'config.h', configuration : cdata)\n",
            "include/_numpyconfig.h.in": "",
            **{
                f"src/m{i}.c": '#include "config.h"\n#include "_numpyconfig.h"\nstatic int n NPY_ATTR;\n'
                for i in range(3)
            },
            "src/lone.c": '#include "config.h"\nstatic int n;\nint bump(void) { return ++n; }\n',
        },
    )
    res = _cli("scan", str(tmp_path), "--no-config", "--no-cache", "--jobs", "1", "--root", str(tmp_path))
    out = res.output
    assert "[missing-header]" not in out and "[stand-in-header]" not in out  # no line per file
    assert "4 file(s) analysed without some of their headers (3 analysed with tree-sitter instead of libclang, " in out
    assert "1 by libclang without their declarations" in out
    assert (
        "`config.h` missing in 4 (generated by the build, an output in `meson.build`: run `meson setup build` "
        "or pass --compile-commands)" in out
    )
    assert "`_numpyconfig.h` missing in 3 (generated by the build from `include/_numpyconfig.h.in`: run" in out
    # Each file, and its one problem, with -v and in JSON.
    res = _cli("scan", str(tmp_path), "--no-config", "--no-cache", "--jobs", "1", "--root", str(tmp_path), "-v")
    assert res.output.count("[missing-header]") == 3 and res.output.count("[stand-in-header]") == 1
    report = tmp_path / "report.json"
    res = _cli(
        "scan",
        str(tmp_path),
        "--no-config",
        "--no-cache",
        "--root",
        str(tmp_path),
        "--format",
        "json",
        "-o",
        str(report),
    )
    assert "`config.h` missing in 4" in res.output  # the summary goes to stderr for other formats
    doc = json.loads(report.read_text())
    assert sorted((p["path"], p["code"]) for p in doc["problems"]) == [
        ("src/lone.c", "stand-in-header"),
        ("src/m0.c", "missing-header"),
        ("src/m1.c", "missing-header"),
        ("src/m2.c", "missing-header"),
    ]


def test_header_syntax_errors_are_summed_up_by_header(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "inc/odd.h": "int x = ;\n",
            "inc/worse.h": "int y = ;\nint z = ;\n",
            **{f"src/m{i}.c": f'#include "odd.h"\nstatic int n{i};\n' for i in range(3)},
            "src/w.c": '#include "worse.h"\n#include "odd.h"\nstatic int w;\n',
        },
    )
    args = ["scan", str(tmp_path / "src"), "-I", str(tmp_path / "inc"), "--no-config", "--no-cache", "--jobs", "1"]
    res = _cli(*args, "--root", str(tmp_path))
    out = res.output
    assert "[header-syntax-error]" not in out  # no line per file
    assert "4 file(s) include headers with syntax errors under libclang" in out
    lines = out.splitlines()
    odd = next(i for i, line in enumerate(lines) if line.endswith("  `inc/odd.h`:1 in 3"))
    worse = next(i for i, line in enumerate(lines) if line.endswith("  `inc/worse.h`:1 in 1"))
    assert odd < worse  # most files first; w.c's first error is in worse.h, so it counts there
    res = _cli(*args, "--root", str(tmp_path), "-v")
    assert res.output.count("[header-syntax-error]") == 4


def test_a_fallback_drops_libclangs_header_errors(tmp_path):
    # `gen.h` is generated (a stand-in), and its macro missing breaks the file and the header alike: the
    # file goes to tree-sitter with one problem, the missing header; the header's errors are its effect.
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "inc/uses.h": '#include "gen.h"\nint GEN_ATTR helper(void);\n',
            "src/m.c": '#include "uses.h"\nstatic int GEN_ATTR n;\nint bump(void) { return ++n; }\n',
        },
    )
    unit = _analyse(tmp_path, "src/m.c", FlagSettings(include_dirs=[str(tmp_path / "inc")], roots=[tmp_path]))
    assert unit.frontend == "treesitter"
    assert [p.code for p in unit.problems] == ["missing-header"], unit.problems


# -- language


def test_a_header_is_cxx_by_its_text_or_its_includers(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "c_api.h": "#include <string.h>\n#include <memory.h>\nint f(void);\n",
            "shared.h": "struct S { int n; };\n",
            "widget.h": "struct W { int get() const { return n; } int n; };\n",
            "lib/api.h": "struct A { int get() const; };\n",
            "a.cpp": '#include "widget.h"\n#include "shared.h"\n#include <lib/api.h>\n',
            "b.c": '#include "shared.h"\n#include "c_api.h"\n',
        },
    )
    flags = FlagSettings(roots=[tmp_path])
    for name, want in (("c_api.h", "c"), ("shared.h", "c"), ("widget.h", "cpp"), ("lib/api.h", "cpp"), ("b.c", "c")):
        path = tmp_path / name
        assert flags.language_of(path, path.read_text(), "c") == want, name
    assert flags.language_of(tmp_path / "x.h", "#include <vector>\n", "c") == "cpp"
    unit = _analyse(tmp_path, "widget.h")
    assert (unit.language, unit.frontend, unit.problems) == ("cpp", "clang", [])


# -- where headers come from


def test_binding_library_headers_are_found_without_importing_them(tmp_path, monkeypatch):
    import importlib
    import sys

    from ftaudit.frontends.flags import binding_include_dirs

    site = tmp_path / "site"
    _write(site, {"cppy/__init__.py": "raise SystemExit('imported')\n", "cppy/include/cppy/cppy.h": ""})
    _write(site, {"pybind11/__init__.py": "raise SystemExit('imported')\n"})  # no headers: not listed
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert str(site / "cppy" / "include") in binding_include_dirs()
    assert not any(d.startswith(str(site / "pybind11")) for d in binding_include_dirs())
    assert "cppy" not in sys.modules


def test_header_facts_are_data(tmp_path):
    from ftaudit.frontends.flags import header_facts

    _write(tmp_path, {"pyproject.toml": "", "src/m.c": ""})
    db = _db(tmp_path / "build" / "cp311", [{"directory": str(tmp_path), "file": "src/m.c", "arguments": ["cc"]}])
    flags = FlagSettings(compile_db=CompileDatabase.load(db, [tmp_path]), roots=[tmp_path], python_include=[])
    facts = header_facts(flags)
    assert facts["compile-commands"] == str(db) and facts["compile-commands-files"] == 1
    assert facts["build-databases"] == [str(db)]
    assert facts["header-index-roots"] == [str(tmp_path)]
    assert facts["stand-ins"] is True and facts["python-include"] == []
    assert json.loads(json.dumps(facts)) == facts
