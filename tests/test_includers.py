"""Headers that are not standalone, parsed in their includer's context (includers.py), and templates
of the project above the scan root (HeaderIndex.outer_root)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ftaudit.cli import main
from ftaudit.frontends.headerindex import HeaderIndex
from ftaudit.frontends.includers import code_prefix, context_files, directive_prefix, includer_chain
from ftaudit.frontends.includes import MissingHeaders


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _scan(root: Path, *paths: Path) -> dict[str, object]:
    out = root.parent / f"{root.name}-report.json"
    targets = [str(p) for p in paths] or [str(root)]
    args = ["scan", *targets, "--no-config", "--no-cache", "--jobs", "1", "--root", str(root)]
    res = CliRunner().invoke(main, [*args, "--format", "json", "--output", str(out)])
    assert res.exit_code in (0, 1), res.output
    return json.loads(out.read_text())


def test_the_prefix_keeps_directives_and_line_numbers_and_closes_open_blocks():
    text = (
        "#include <Python.h>\n"
        "/* a comment\n   #define NOT_THIS 1 */\n"
        "static int code_is_dropped;\n"
        "#define LONG_ONE(a) \\\n    (a + 1)\n"
        '#if HAVE_X\n#include "cfg.h"  // a comment\n'
        '#include "target.h"\n'
        "#endif\n"
    )
    prefix = directive_prefix(text, 9)
    lines = prefix.split("\n")
    assert lines[0] == "#include <Python.h>"
    assert "NOT_THIS" not in prefix and "code_is_dropped" not in prefix
    assert lines[4:6] == ["#define LONG_ONE(a) \\", "    (a + 1)"]
    assert lines[7].rstrip() == '#include "cfg.h"'
    assert "target.h" not in prefix
    assert prefix.endswith("#endif\n")  # the #if HAVE_X still open at line 9


def test_the_includer_is_the_first_source_in_path_order_else_a_header(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "src/b.c": '#include "lib.h"\n',
            "src/a.c": '#include "cfg.h"\n#include "lib.h"\n',
            "src/lib.h": '#include "inner/part.h"\n',
            "src/inner/part.h": "int part;\n",
            "other/lib.h": "",  # same name elsewhere: a.c's `"lib.h"` is its own directory's
        },
    )
    index = HeaderIndex([str(tmp_path)])
    inc = index.includer_of(str(tmp_path / "src/lib.h"))
    assert inc is not None and (inc.includer, inc.line) == (str(tmp_path / "src/a.c"), 2)
    assert index.includer_of(str(tmp_path / "other/lib.h")) is None
    chain = includer_chain(index, str(tmp_path / "src/inner/part.h"))
    assert [(c.includer, c.line) for c in chain] == [(str(tmp_path / "src/lib.h"), 1), (str(tmp_path / "src/a.c"), 2)]
    files = context_files(chain)
    assert files is not None and len(files) == 2
    outer, inner = files
    assert outer[1].startswith('#include "cfg.h"\n') and outer[1].endswith(f'#include "{inner[0]}"\n')
    assert inner[0].startswith(str(tmp_path / "src")) and "part.h" not in inner[1]


_TREE = {
    "pyproject.toml": "",
    "src/cfg.h": (
        "#ifndef CFG_H\n#define CFG_H\n#define PKG_EXPORT static\ntypedef struct { int n; } counter_t;\n#endif\n"
    ),
    # flagged: a static counter written without a lock; `PKG_EXPORT` and `counter_t` come from the
    # includer's cfg.h, included before this header
    "src/counter.h": "PKG_EXPORT counter_t hits;\nPKG_EXPORT void bump(void) { hits.n++; }\n",
    # its safe look-alike: the same, thread-local
    "src/local.h": "PKG_EXPORT _Thread_local counter_t seen;\nPKG_EXPORT void see(void) { seen.n++; }\n",
    "src/mod.c": (
        '#include "cfg.h"\n#include "counter.h"\n#include "local.h"\nint use(void) { bump(); see(); return 0; }\n'
    ),
}


def test_a_header_that_is_not_standalone_parses_in_its_includers_context(tmp_path):
    _write(tmp_path, _TREE)
    report = _scan(tmp_path)
    frontends = {f["path"]: f["frontend"] for f in report["files"]}  # type: ignore[index]
    assert frontends["src/counter.h"] == frontends["src/local.h"] == "clang"
    found = sorted((f["rule"], f["path"], f["line"]) for f in report["findings"])  # type: ignore[index]
    # only the headers' own lines give facts: nothing is reported in cfg.h or mod.c for them
    assert [f for f in found if f[1] in ("src/counter.h", "src/local.h")] == [("FT101", "src/counter.h", 1)]
    assert not [p for p in report["problems"] if p["path"].endswith(".h")]  # type: ignore[index]


def test_a_standalone_header_is_parsed_alone_and_a_hidden_one_falls_back(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            # cfg.h includes guarded.h itself: in mod.c's context, guarded.h's guard is already set
            "src/cfg.h": '#define PKG_EXPORT static\ntypedef int pkg_t;\n#include "guarded.h"\n',
            "src/guarded.h": "#ifndef GUARDED_H\n#define GUARDED_H\nPKG_EXPORT pkg_t g;\n#endif\n",
            "src/mod.c": '#include "cfg.h"\n#include "guarded.h"\n',
        },
    )
    index = HeaderIndex([str(tmp_path)])
    plan = MissingHeaders(index).plan(str(tmp_path / "src/guarded.h"), (tmp_path / "src/guarded.h").read_text(), [])
    assert plan.context is not None  # planned, but the parse it gives hides the header: not taken
    report = _scan(tmp_path)
    frontends = {f["path"]: f["frontend"] for f in report["files"]}  # type: ignore[index]
    assert frontends["src/guarded.h"] == "treesitter"
    assert frontends["src/cfg.h"] == "clang"


def test_a_template_of_the_project_above_the_scan_root_is_used(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "cpu/meson.build": "configure_file(input: 'cpu_config.h.in', output: 'pkg_cpu_config.h')\n",
            "cpu/cpu_config.h.in": "#define PKG_FINLINE static inline\n",
            "pkg/meson.build": "",
            "pkg/src/m.c": '#include "pkg_cpu_config.h"\nPKG_FINLINE int f(void) { return 0; }\n',
        },
    )
    index = HeaderIndex([str(tmp_path / "pkg")])
    assert index.outer_root(str(tmp_path / "pkg")) == str(tmp_path)
    found = index.template_of(str(tmp_path / "pkg/src"), "pkg_cpu_config.h")
    assert found is not None and found.template == str(tmp_path / "cpu/cpu_config.h.in")
    report = _scan(tmp_path / "pkg")
    assert [f["frontend"] for f in report["files"]] == ["clang"]  # type: ignore[index]


def test_no_template_is_read_outside_the_project_above_the_scan_root(tmp_path):
    _write(
        tmp_path,
        {
            # the parent of the project holds no marker: the project ends at `proj`
            "cpu/cpu_config.h.in": "#define PKG_FINLINE static inline\n",
            "proj/pyproject.toml": "",
            "proj/pkg/meson.build": "",
            "proj/pkg/src/m.c": '#include "cpu_config.h"\n',
        },
    )
    (tmp_path / "proj/cpu_config.h.in").symlink_to(tmp_path / "cpu/cpu_config.h.in")  # a link out
    index = HeaderIndex([str(tmp_path / "proj/pkg")])
    assert index.outer_root(str(tmp_path / "proj/pkg")) == str(tmp_path / "proj")
    assert index.template_of(str(tmp_path / "proj/pkg/src"), "cpu_config.h") is None
    # a scan root whose parent has no marker has no project above it
    assert HeaderIndex([str(tmp_path / "cpu")]).outer_root(str(tmp_path / "cpu")) is None


def test_a_generated_header_the_prefix_reaches_gets_its_stand_in(tmp_path):
    tree = dict(_TREE)
    tree["src/cfg.h"] = '#include "pkg_generated.h"\n' + tree["src/cfg.h"]  # written by the build: missing
    _write(tmp_path, tree)
    report = _scan(tmp_path)
    frontends = {f["path"]: f["frontend"] for f in report["files"]}  # type: ignore[index]
    assert frontends["src/counter.h"] == "clang"
    found = [(f["rule"], f["path"], f["line"]) for f in report["findings"]]  # type: ignore[index]
    assert ("FT101", "src/counter.h", 1) in found
    codes = {p["code"] for p in report["problems"] if p["path"] == "src/counter.h"}  # type: ignore[index]
    assert codes == {"stand-in-header"}


def test_a_numpy_header_template_is_the_stand_in_of_its_header(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            # numpy's `x.h.src`: the build writes x.h by expanding it; so does the stand-in
            "src/kinds.h.src": (
                "/**begin repeat\n * #name = byte, short#\n */\ntypedef int @name@_t;\n/**end repeat**/\n"
            ),
            "src/m.c": '#include "kinds.h"\nstatic short_t hits;\nvoid count(void) { hits++; }\n',
        },
    )
    plan = MissingHeaders(HeaderIndex([str(tmp_path)])).plan(
        str(tmp_path / "src/m.c"), (tmp_path / "src/m.c").read_text(), []
    )
    assert [t[1] for t in plan.texts] == [str(tmp_path / "src/kinds.h.src")]
    assert "typedef int short_t;" in plan.texts[0][2]
    report = _scan(tmp_path, tmp_path / "src/m.c")
    assert [f["frontend"] for f in report["files"]] == ["clang"]  # type: ignore[index]
    assert [(f["rule"], f["line"]) for f in report["findings"]] == [("FT101", 2)]  # type: ignore[index]


def test_a_code_prefix_keeps_everything_before_a_file_scope_include():
    text = '#if A\ntypedef int t; /* { */\n#define M { \\\n  }\nstatic const char *s = "{";\n#include "x.c"\n#endif\n'
    prefix = code_prefix(text, 6, '#include "next"')
    assert prefix is not None
    assert prefix.split("\n")[:5] == text.split("\n")[:5]  # code, comments and directives, same lines
    assert prefix.endswith('\n#include "next"\n#endif\n')
    # an include inside a function body or an initialiser has no file-scope context before it
    assert code_prefix('void f(void) {\n#include "body.c"\n}\n', 2) is None


def test_a_source_includers_chain_goes_through_sources(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": "",
            "c/backend.c": 'typedef int backend_t;\n#include "module.c"\n',
            "c/module.c": 'typedef backend_t module_t;\n#include "part.c"\n',
            "c/part.c": "module_t part;\n",
        },
    )
    index = HeaderIndex([str(tmp_path)])
    part = str(tmp_path / "c/part.c")
    assert [c.includer for c in includer_chain(index, part)] == [str(tmp_path / "c/module.c")]
    chain = includer_chain(index, part, source=True)
    assert [c.includer for c in chain] == [str(tmp_path / "c/module.c"), str(tmp_path / "c/backend.c")]
    files = context_files(chain, source=True)
    assert files is not None
    (_, outer), (inner_path, inner) = files
    assert outer == f'typedef int backend_t;\n#include "{inner_path}"\n'
    assert inner == "typedef backend_t module_t;\n"


def test_a_source_included_by_another_parses_in_its_context(tmp_path):
    """The fixture c/included_source: inner.c alone has syntax errors (its types and macros are outer.c's
    code) and went to tree-sitter; in outer.c's context libclang parses it whole, facts at its own lines."""
    import shutil

    from conftest import FIXTURES

    root = tmp_path / "included_source"
    shutil.copytree(FIXTURES / "c" / "included_source", root)
    report = _scan(root)
    frontends = {f["path"]: f["frontend"] for f in report["files"]}  # type: ignore[index]
    assert frontends == {"inner.c": "clang", "outer.c": "clang"}
    assert not report["problems"]
    found = sorted((f["rule"], f["path"], f["line"]) for f in report["findings"])  # type: ignore[index]
    assert found == [("FT101", "inner.c", 5), ("FT405", "outer.c", 25)]
