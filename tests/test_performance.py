"""Parallel and cached scans give exactly the output of a plain one."""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from conftest import FIXTURES

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


def test_cold_and_warm_runs_are_identical(tmp_path):
    tree = copy_fixtures(tmp_path)
    args = (tree, "--select", "FT", "--format", "json", "--root", tree, "-q")
    cold = run(*args)
    cache = tree / ".ftaudit_cache"
    assert cache.is_dir() and (cache / ".gitignore").read_text().strip().endswith("*")
    entries = list(cache.rglob("*.pickle"))
    assert len(entries) > 30
    warm = run(*args)
    assert cold.output == warm.output
    assert run(*args, "--no-cache").output == cold.output


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
    assert list(elsewhere.rglob("*.pickle")) and not (tree / ".ftaudit_cache").exists()
    assert (elsewhere / ".gitignore").is_file()
    monkeypatch.setenv("FTAUDIT_CACHE_DIR", str(tmp_path / "env"))
    assert run(tree, "--root", tree, "-q").output == res.output
    assert list((tmp_path / "env").rglob("*.pickle"))
