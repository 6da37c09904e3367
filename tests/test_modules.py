"""Module membership (membership.py), readiness (readiness.py) and `ftaudit modules` in every format."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from ftaudit.cli import main
from ftaudit.readiness import BLOCKED, DECLARED_HAZARDOUS, READY, READY_TO_DECLARE, readiness
from ftaudit.scan import ScanOptions, scan


def _modules(result):
    return {m.name: m for m in result.modules}


def test_three_file_module_is_linked_through_the_call_graph(fixture_scan):
    trio = _modules(fixture_scan)["trio"]
    assert {f.path: f.via for f in trio.files} == {
        "c/trio/trio_init.c": ("definition",),
        "c/trio/trio_methods.c": ("calls",),
        "c/trio/trio_helper.c": ("calls",),
    }
    (r,) = [r for r in readiness(fixture_scan.modules, fixture_scan.findings) if r.module.name == "trio"]
    assert r.verdict == DECLARED_HAZARDOUS
    assert r.hazard_places() == [("FT101", "c/trio/trio_helper.c", 1)]


def test_build_descriptions_give_sources_the_calls_do_not(fixture_scan):
    mods = _modules(fixture_scan)
    assert {f.path: f.via for f in mods["viasetup"].files} == {
        "c/viasetup/src/viasetup.c": ("definition", "build"),
        "c/viasetup/src/viasetup_state.c": ("build",),
    }
    assert [(b.kind, b.path, b.line) for b in mods["viasetup"].builds] == [("setup.py", "c/viasetup/setup.py", 8)]
    assert {f.path for f in mods["viameson"].files} == {"c/viameson/viameson.c", "c/viameson/viameson_util.c"}
    assert [b.kind for b in mods["viameson"].builds] == ["meson"]


def test_verdicts_and_declaration_states(fixture_scan):
    verdicts = {
        r.module.name: (r.module.state, r.verdict) for r in readiness(fixture_scan.modules, fixture_scan.findings)
    }
    assert verdicts["viameson"] == ("not declared", READY_TO_DECLARE)
    assert verdicts["nb_free"] == ("declared", READY)
    assert verdicts["nb_plain"] == ("not declared", READY_TO_DECLARE)
    assert verdicts["viasetup"] == ("declared", DECLARED_HAZARDOUS)
    assert verdicts["split"] == ("declared Py_MOD_GIL_USED", BLOCKED)
    assert _modules(fixture_scan)["nb_orphan"].notes  # no CMake target: says it cannot tell


def test_a_cython_call_does_not_reach_cpp_methods_of_that_name(fixture_scan):
    capi = _modules(fixture_scan)["capi"]  # calls stdlib.rand(); cpp/guards.cpp has Counter::rand
    assert [f.path for f in capi.files] == ["cython/capi.pyx"]


SHARED = {
    "shared.c": "int shared_hits;\nint shared_touch(void) { return ++shared_hits; }\n",
    "one.c": """#include <Python.h>
int shared_touch(void);
static PyObject *go(PyObject *s, PyObject *u) { return PyLong_FromLong(shared_touch()); }
static PyMethodDef one_methods[] = {{"go", go, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef one_def = {PyModuleDef_HEAD_INIT, "one", NULL, -1, one_methods};
PyMODINIT_FUNC PyInit_one(void) { return PyModule_Create(&one_def); }
""",
    "two.c": """#include <Python.h>
static PyModuleDef_Slot two_slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef two_def = {PyModuleDef_HEAD_INIT, "two", NULL, 0, NULL, two_slots};
PyMODINIT_FUNC PyInit_two(void) { return PyModuleDef_Init(&two_def); }
""",
    "meson.build": (
        "py.extension_module('one', 'one.c', 'shared.c')\npy.extension_module('two', ['two.c', 'shared.c'])\n"
    ),
}


def _tree(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_file_used_by_two_modules_counts_for_each(tmp_path):
    root = _tree(tmp_path, SHARED)
    result = scan(ScanOptions([root], root=root, jobs=1))
    by_name = {r.module.name: r for r in readiness(result.modules, result.findings)}
    assert by_name["one"].verdict == BLOCKED
    assert by_name["two"].verdict == DECLARED_HAZARDOUS  # through meson.build only
    assert {f.path: f.via for f in by_name["one"].module.files}["shared.c"] == ("build",)
    assert [f.rule for f in result.findings if f.rule == "FT405"] == ["FT405"]


def test_calls_stop_at_files_of_other_modules(tmp_path):
    # No build file: one.c calls into shared.c (linked with it); two.c defines its own module and is
    # never entered from one.c, even though one.c calls a function two.c defines.
    files = dict(SHARED)
    del files["meson.build"]
    files["two.c"] += "int two_api(void) { static int calls; return ++calls; }\n"
    files["one.c"] = files["one.c"].replace("shared_touch()); }", "shared_touch() + two_api()); }")
    files["one.c"] = "int two_api(void);\n" + files["one.c"]
    root = _tree(tmp_path, files)
    result = scan(ScanOptions([root], root=root, jobs=1))
    one = {m.name: m for m in result.modules}["one"]
    assert {f.path: f.via for f in one.files} == {"one.c": ("definition",), "shared.c": ("calls",)}


def test_whole_scan_cache_keeps_modules_and_sees_build_file_changes(tmp_path):
    root = _tree(tmp_path / "tree", SHARED) if (tmp_path / "tree").mkdir() is None else None
    cache = tmp_path / "cache"
    first = scan(ScanOptions([root], root=root, jobs=1, cache=True, cache_dir=cache))
    again = scan(ScanOptions([root], root=root, jobs=1, cache=True, cache_dir=cache))
    assert again.modules == first.modules
    (root / "meson.build").write_text("py.extension_module('two', ['two.c'])\n")
    changed = scan(ScanOptions([root], root=root, jobs=1, cache=True, cache_dir=cache))
    two = {m.name: m for m in changed.modules}["two"]
    assert [f.path for f in two.files] == ["two.c"]
    assert not any(f.rule == "FT405" for f in changed.findings)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_modules_json_markdown_text_and_exit_codes(tmp_path):
    paths = [str(FIXTURES / "c" / "viameson"), str(FIXTURES / "cpp" / "nanobind"), "--root", str(FIXTURES)]
    res = run("modules", *paths, "--format", "json", "--no-cache", "-j", "1")
    assert res.exit_code == 0, res.output  # nothing declared while hazardous
    doc = json.loads(res.output)
    assert [(m["name"], m["verdict"], m["declaration"]) for m in doc["modules"]] == [
        ("nb_plain", "ready to declare", "not declared"),
        ("viameson", "ready to declare", "not declared"),
        ("nb_free", "ready", "declared"),
    ]
    assert doc["modules"][1]["files"] == [
        {"path": "c/viameson/viameson.c", "via": ["definition", "build"]},
        {"path": "c/viameson/viameson_util.c", "via": ["build"]},
    ]
    assert doc["modules"][0]["findings"] == {"FT404": 1}
    md = run("modules", *paths, "--format", "markdown", "--no-cache", "-j", "1").output
    assert md.startswith("| module | defined in | declaration | files | findings by rule | verdict |\n")
    assert "| `viameson` | `c/viameson/viameson.c:16` | not declared | 2 | FT401 x1 | **ready to declare** |" in md
    res = run("modules", str(FIXTURES / "c" / "trio"), "--root", str(FIXTURES), "--no-cache", "-j", "1")
    assert res.exit_code == 1
    assert "trio  declared but hazardous (1 hazard)" in res.output
    assert "  hazard: FT101 x1 in c/trio/trio_helper.c" in res.output
    out = tmp_path / "m.md"
    res = run("modules", str(FIXTURES / "c" / "trio"), "--format", "markdown", "-o", str(out), "--no-cache")
    assert res.exit_code == 1 and "- FT101 x1 in `" in out.read_text()


def test_markdown_and_html_escape_names_from_the_tree(tmp_path):
    (tmp_path / "a<i>b.pyx").write_text("def f():\n    return 1\n")
    (tmp_path / "c|d.pyx").write_text("def g():\n    return 2\n")
    html = run("modules", str(tmp_path), "--format", "html", "--no-cache").output
    assert "<i>" not in html and "a&lt;i&gt;b" in html
    # Self-contained: nothing to fetch (the only URLs are the SVG namespace and the CSP's name).
    assert " src=" not in html and " href=" not in html and "<script" not in html
    assert html.count("http") == html.count('xmlns="http://www.w3.org/2000/svg"') + html.count("http-equiv")
    md = run("modules", str(tmp_path), "--format", "markdown", "--no-cache").output
    assert "`c\\|d`" in md and "<i>" not in md


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs the Debian package: .ci/run)")
def test_html_report_renders_every_module_and_verdict_in_chromium(tmp_path):
    page = tmp_path / "modules.html"
    common = [str(FIXTURES), "--root", str(FIXTURES), "--cache-dir", str(tmp_path / "cache")]
    res = run("modules", *common, "--format", "html", "-o", str(page))
    assert res.exit_code == 1, res.output  # fixtures hold modules declared while hazardous
    doc = tmp_path / "modules.json"
    run("modules", *common, "--format", "json", "-o", str(doc))  # the same scan, from the cache
    items = json.loads(doc.read_text())["modules"]
    assert {m["verdict"] for m in items} == {READY, READY_TO_DECLARE, BLOCKED, DECLARED_HAZARDOUS}
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count('<tr class="module">') == len(items)
    rows = dom.split('<tr class="module">')[1:]
    for m in items:
        assert any(f">{m['name']}</code>" in row and f">{m['verdict']}" in row for row in rows), m["name"]
    assert "<svg" in dom and "<script" not in dom
