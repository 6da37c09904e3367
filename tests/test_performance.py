"""Parallel and cached scans give exactly the output of a plain one."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from ftaudit.cachedirs import location_for
from ftaudit.cli import main


def run(*args):
    return CliRunner().invoke(main, ["scan", *map(str, args)])


def copy_fixtures(tmp_path):
    tree = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, tree)
    return tree


def test_jobs_do_not_change_the_output(tmp_path):
    tree = copy_fixtures(tmp_path)
    outputs = []
    for jobs in ("1", "2", "3"):
        res = run(tree, "--select", "FT", "--format", "sarif", "--root", tree, "--jobs", jobs, "--no-cache", "-q")
        assert res.exit_code == 1, res.output
        outputs.append(res.output)
    assert outputs[0] == outputs[1] == outputs[2]


def test_cold_and_warm_runs_are_identical(tmp_path, user_cache_dir):
    tree = copy_fixtures(tmp_path)
    args = (tree, "--select", "FT", "--format", "json", "--root", tree, "-q")
    cold = run(*args)
    cache = location_for(tree)
    assert cache.is_relative_to(user_cache_dir) and not (tree / ".ftaudit_cache").exists()
    entries = list(cache.rglob("*.facts"))
    assert len(entries) > 30
    assert len(list(cache.rglob("*.scan"))) == 1
    warm = run(*args)  # the whole-scan entry
    assert cold.output == warm.output
    shutil.rmtree(cache / "scans")
    assert run(*args).output == cold.output  # every file's facts decoded from its entry, the rules run again
    assert run(*args, "--no-cache").output == cold.output
    sarif = (tree, "--select", "FT", "--format", "sarif", "--root", tree, "-q")
    assert run(*sarif).output == run(*sarif, "--no-cache").output


def test_cache_notices_changed_files_headers_and_settings(tmp_path):
    (tmp_path / "common.h").write_text("#define COUNTER_TYPE long\n")
    src = tmp_path / "mod.c"
    src.write_text('#include "common.h"\nstatic COUNTER_TYPE n;\nvoid bump(void) { n++; }\n')
    first = run(tmp_path, "--format", "json", "-q", "--root", tmp_path, "--select", "FT101")
    assert '"(long)' in first.output or "(long)" in first.output
    # A header the file includes changed: the cached facts of mod.c are stale.
    (tmp_path / "common.h").write_text("#define COUNTER_TYPE _Atomic long\n")
    assert run(tmp_path, "--format", "json", "-q", "--root", tmp_path, "--select", "FT101").exit_code == 0
    # The file itself changed.
    src.write_text('#include "common.h"\nstatic long m;\nvoid bump(void) { m++; }\n')
    res = run(tmp_path, "--format", "json", "-q", "--root", tmp_path, "--select", "FT101")
    assert res.exit_code == 1 and "`m`" in res.output
    # Settings that shape the facts (here, a lock macro) are part of the key.
    src.write_text(
        '#include "common.h"\n#define L() 0\n#define U() 0\nstatic long m;\nvoid bump(void) { L(); m++; U(); }\n'
    )
    assert run(tmp_path, "--format", "json", "-q", "--root", tmp_path, "--select", "FT101").exit_code == 1
    (tmp_path / "pyproject.toml").write_text('[tool.ftaudit]\nlock-macros = { L = "U" }\n')
    assert run(tmp_path, "--format", "json", "-q", "--root", tmp_path, "--select", "FT101").exit_code == 0


def test_cache_dir_option_and_environment(tmp_path, monkeypatch):
    tree = tmp_path / "src"
    tree.mkdir()
    (tree / "mod.c").write_text("static long n;\nvoid bump(void) { n++; }\n")
    elsewhere = tmp_path / "cache"
    res = run(tree, "--root", tree, "-q", "--cache-dir", elsewhere)
    assert res.exit_code == 1, res.output
    assert list(elsewhere.rglob("*.facts")) and not (tree / ".ftaudit_cache").exists()
    assert (elsewhere / ".gitignore").is_file()
    monkeypatch.setenv("FTAUDIT_CACHE_DIR", str(tmp_path / "env"))
    assert run(tree, "--root", tree, "-q").output == res.output
    assert list((tmp_path / "env").rglob("*.facts"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_worker_crash_loses_one_file_not_the_scan(tmp_path, monkeypatch, jobs):
    import os

    import ftaudit.analyse as analyse

    for k in range(6):
        (tmp_path / f"ok{k}.c").write_text(f"static long n{k};\nvoid bump{k}(void) {{ n{k}++; }}\n")
    (tmp_path / "crash.c").write_text("int f(void) { return 0; }\n" + "/* padding */\n" * 5000)
    parent, real = os.getpid(), analyse.analyse_file

    def crashing(sf, *args):
        assert os.getpid() != parent, "files are parsed in workers only"
        if sf.path.name == "crash.c":
            os._exit(3)  # what a segfault in libclang looks like from here
        return real(sf, *args)

    monkeypatch.setattr(analyse, "analyse_file", crashing)
    res = run(tmp_path, "--root", tmp_path, "--jobs", jobs, "--no-cache", "--format", "json", "--select", "FT101")
    assert res.exit_code == 2, res.output  # a tool error, but the report is complete
    doc = json.loads(res.output[res.output.index("{") :])
    assert {f["path"] for f in doc["findings"]} == {f"ok{k}.c" for k in range(6)}
    crash = [p for p in doc["problems"] if p["path"] == "crash.c"]
    assert [p["code"] for p in crash] == ["crash"] and "died (exit code 3)" in crash[0]["message"]


def test_deep_parse_shortcuts_change_no_output(tmp_path, monkeypatch):
    """The preamble parsed without function bodies, and no walk of a libclang tree that falls back to
    tree-sitter (frontends/clang): the fixture tree's report is the one of full parses, fully walked."""
    from ftaudit.frontends import clang

    tree = copy_fixtures(tmp_path)
    args = (tree, "--select", "FT", "--format", "sarif", "--root", tree, "--jobs", "1", "--no-cache", "-q")
    fast = run(*args)
    assert fast.exit_code == 1, fast.output
    real_init, real_analyse = clang.Preambles.__init__, clang.ClangFrontend.analyse

    def with_bodies(self, index, skip_bodies=True):
        real_init(self, index, skip_bodies=False)

    def walking(self, sf, src, args=None, plan=None, unwalked=frozenset()):
        return real_analyse(self, sf, src, args, plan)

    monkeypatch.setattr(clang.Preambles, "__init__", with_bodies)  # the workers are forked: they see it
    monkeypatch.setattr(clang.ClangFrontend, "analyse", walking)
    assert run(*args).output == fast.output


def test_a_failed_parse_the_caller_discards_is_not_walked(tmp_path):
    from ftaudit.catalogue import load
    from ftaudit.discover import SourceFile
    from ftaudit.frontends.clang import ClangFrontend
    from ftaudit.frontends.flags import FlagSettings
    from ftaudit.source import read_source

    path = tmp_path / "m.c"
    path.write_text('#include "nowhere.h"\nstatic long n;\nvoid bump(void) { n++; }\n')
    src, _ = read_source(path, 1 << 20)
    fe = ClangFrontend(load(), FlagSettings(roots=[tmp_path]))
    sf = SourceFile(path, "c")
    walked = fe.analyse(sf, src)
    assert [f.name for f in walked.functions] == ["bump"] and walked.statics
    skipped = fe.analyse(sf, src, unwalked=frozenset({"missing-header"}))
    assert not skipped.functions and not skipped.statics
    assert [p.code for p in skipped.problems] == [p.code for p in walked.problems] == ["missing-header"]
    assert skipped.missing_headers == walked.missing_headers == ["nowhere.h"]


@pytest.mark.parametrize("name", ["m.c", "m.cpp"])
def test_the_bodiless_preamble_is_accepted(tmp_path, name):
    """The shared preamble, parsed with function bodies skipped, builds and is used (a refused one
    would silently cost every file a plain parse)."""
    from ftaudit.catalogue import load
    from ftaudit.discover import SourceFile
    from ftaudit.frontends.clang import ClangFrontend
    from ftaudit.frontends.flags import FlagSettings
    from ftaudit.source import read_source

    path = tmp_path / name
    body = "static long n;\nstatic PyObject *bump(PyObject *s, PyObject *a) { n++; Py_RETURN_NONE; }\n"
    cxx = "#include <vector>\nstatic std::vector<int> v;\nvoid push(void) { v.push_back(1); }\n"
    path.write_text('#include "Python.h"\n' + body + (cxx if name.endswith(".cpp") else ""))
    src, _ = read_source(path, 1 << 20)
    fe = ClangFrontend(load(), FlagSettings(roots=[tmp_path]))
    unit = fe.analyse(SourceFile(path, "cpp" if name.endswith(".cpp") else "c"), src)
    assert fe.preambles.skip_bodies and fe.preambles.built and all(fe.preambles.built.values())
    assert not [p for p in unit.problems if p.level != "note"], unit.problems
    assert {f.name for f in unit.functions} >= {"bump"}


def test_line_index_places_every_offset():
    from ftaudit.frontends.textscan import LineIndex

    text = "ab\n\nc\nlast"
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        line = text.count("\n", 0, offset) + 1
        assert index.at(offset) == (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)
    assert index.at(0) == (1, 1) and index.at(3) == (2, 1) and index.at(len(text)) == (4, 5)
