"""The parse time limit (`--parse-timeout`, workers.py): a C/C++ file libclang parses for longer than it
is not an error but a fallback. Its worker is killed, the file goes to tree-sitter on another worker with
a `parse-time-limit` problem, and the per-file `--timeout` still bounds that second pass."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftaudit.analyse import FileRecord, FileResult, FrontendChooser, Settings
from ftaudit.catalogue import load
from ftaudit.discover import SourceFile
from ftaudit.facts import Problem
from ftaudit.frontends.flags import FlagSettings
from ftaudit.report.causes import cause_lines
from ftaudit.workers import WALL_FACTOR, Limits, WorkerPool

GOOD = "#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n"
# A 1 KB macro bomb (as in test_hostile_tree.py): 2^39 tokens libclang tries to expand for minutes;
# tree-sitter does not expand macros, so it reads the file at once. The static below it is FT101's.
BOMB = "\n".join(
    [
        "#define A0 x",
        *(f"#define A{i} A{i - 1} A{i - 1}" for i in range(1, 40)),
        "static int calls;",
        "void bump(void) { calls++; }",
        "int y = A39;",
    ]
)


def scan(root: Path, *args: str) -> tuple[int, dict, str]:
    cmd = [sys.executable, "-m", "ftaudit", "scan", ".", "--format", "json", "--no-cache", *args]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=150, check=False)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_slow_parse_goes_to_tree_sitter(tmp_path: Path, jobs: str) -> None:
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / "bomb.c").write_text(BOMB + "\n")
    (tmp_path / "other.c").write_text(GOOD.replace("f(", "g("))
    code, out, err = scan(tmp_path, "--parse-timeout", "2", "--timeout", "60", "-j", jobs)
    assert code == 1, err  # findings, no tool error
    bomb = [p for p in out["problems"] if p["path"] == "bomb.c"]
    assert [p["code"] for p in bomb] == ["parse-time-limit"], bomb
    assert "2-second parse time limit" in bomb[0]["message"] and "tree-sitter" in bomb[0]["message"]
    frontends = {f["path"]: f["frontend"] for f in out["files"]}
    assert frontends == {"bomb.c": "treesitter", "good.c": "clang", "other.c": "clang"}, frontends
    found = {(f["path"], f["rule"]) for f in out["findings"]}
    assert {("bomb.c", "FT101"), ("good.c", "FT201"), ("other.c", "FT201")} <= found, found


def test_the_limit_is_the_configurations_and_grouped_in_the_text_report(tmp_path: Path) -> None:
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / "bomb.c").write_text(BOMB + "\n")
    (tmp_path / "ftaudit.toml").write_text("parse-timeout = 2\n")
    cmd = [sys.executable, "-m", "ftaudit", "scan", ".", "--no-cache", "-j", "1"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=150, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert "1 file(s) analysed with tree-sitter instead of libclang: libclang was stopped" in text
    assert "bomb.c" not in proc.stderr  # the per-file line only with -v


def test_a_bad_parse_timeout_in_the_configuration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / "ftaudit.toml").write_text('parse-timeout = "soon"\n')
    cmd = [sys.executable, "-m", "ftaudit", "scan", ".", "--no-cache"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "parse-timeout" in proc.stderr, proc.stderr


def test_forced_libclang_has_only_the_file_limit(tmp_path: Path) -> None:
    (tmp_path / "good.c").write_text(GOOD)
    (tmp_path / "bomb.c").write_text(BOMB + "\n")
    code, out, err = scan(tmp_path, "--frontend", "clang", "--parse-timeout", "1", "--timeout", "3", "-j", "1")
    assert code == 2, err
    assert [p["code"] for p in out["problems"] if p["path"] == "bomb.c"] == ["limit"]


# --- the pool itself, with an analysis that never ends: both limits in turn ------------------------------


def _never_ends(sf: SourceFile, chooser: FrontendChooser, max_bytes: int) -> FileResult:
    """An analysis that spins (CPU time: what the parse time limit counts) on `stuck.*` always, on
    `slow.c` until it is given to tree-sitter, and finishes at once on any other file."""
    path = str(sf.path)
    name = sf.path.name
    if sf.path.stem != "stuck" and (name != "slow.c" or chooser.stopped_after):
        frontend = "treesitter" if chooser.stopped_after else chooser.settings.frontend
        return FileResult(FileRecord(path, sf.language, frontend), None)
    while True:
        pass


def _lost(sf: SourceFile, code: str, message: str) -> FileResult:
    problem = Problem(str(sf.path), "error", code, message)
    return FileResult(FileRecord(str(sf.path), sf.language, "skipped"), None, [problem])


def _settings(frontend: str) -> Settings:
    return Settings(load(), FlagSettings(), frontend, {}, 1 << 20)


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_pool_requeues_a_file_past_the_parse_limit(tmp_path: Path, jobs: int) -> None:
    files = [SourceFile(tmp_path / n, "c") for n in ("slow.c", "quick.c", "other.c")]
    pool = WorkerPool(_settings("auto"), jobs, Limits(time=60, memory=0, parse=1), _never_ends, _lost)
    results = dict(pool.run(files, [[0, 1], [2]]))
    assert pool.reparse == {0}
    assert {i: (r.record.frontend, r.problems) for i, r in results.items()} == {
        0: ("treesitter", []),
        1: ("auto", []),
        2: ("auto", []),
    }


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_file_limit_still_bounds_the_second_pass(tmp_path: Path, jobs: int) -> None:
    files = [SourceFile(tmp_path / "stuck.c", "c"), SourceFile(tmp_path / "quick.c", "c")]
    # Half a CPU second, then 12 wall seconds: a loaded machine (a load of 13 on 2 cores) gives a spinning
    # process a sixth of a core, and the wall limit must not come first.
    pool = WorkerPool(_settings("auto"), jobs, Limits(time=12, memory=0, parse=0.5), _never_ends, _lost)
    start = time.monotonic()
    results = dict(pool.run(files, [[0, 1]]))
    took = time.monotonic() - start
    assert results[1].problems == []
    assert pool.reparse == {0}  # stopped at the parse limit once, then...
    [problem] = results[0].problems
    assert problem.code == "limit" and "12-second limit" in problem.message  # ...at the file limit
    assert 12.5 <= took < 120, took


def test_no_parse_limit_for_cython(tmp_path: Path) -> None:
    files = [SourceFile(tmp_path / "stuck.pyx", "cython")]
    pool = WorkerPool(_settings("auto"), 1, Limits(time=3, memory=0, parse=1), _never_ends, _lost)
    [(_, result)] = list(pool.run(files, [[0]]))
    assert [p.code for p in result.problems] == ["limit"]
    assert pool.reparse == set()  # stopped once, at the file limit, not queued again


def test_causes_group_parse_time_limits() -> None:
    problems = [
        Problem(f"f{i}.cpp", "warning", "parse-time-limit", "libclang took longer than the 30-second ...")
        for i in range(3)
    ]
    records = [FileRecord(f"f{i}.cpp", "cpp", "treesitter") for i in range(3)]
    [line] = cause_lines(problems, records)
    assert line.startswith("3 file(s) analysed with tree-sitter instead of libclang: libclang was stopped")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="CPU time of another process: Linux's /proc")
def test_cpu_seconds_of_a_process() -> None:
    import os

    from ftaudit.cputime import cpu_seconds

    before = cpu_seconds(os.getpid())
    assert before is not None
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    after = cpu_seconds(os.getpid())
    assert after is not None and after - before >= 0.2
    assert cpu_seconds(2**22 + 12345) is None  # above Linux's pid_max: no such process


def _sleeps(sf: SourceFile, chooser: FrontendChooser, max_bytes: int) -> FileResult:
    """An analysis that blocks without using CPU on `asleep.*` (a parser waiting on a FIFO) and spins on
    `stuck.*`; any other file finishes at once."""
    if sf.path.stem == "asleep":
        time.sleep(600)
    return _never_ends(sf, chooser, max_bytes)


def test_the_file_limit_counts_cpu_and_a_blocked_worker_is_stopped_by_the_wall_bound(tmp_path: Path) -> None:
    # 1 CPU second per file: the spinning file is stopped once it has used it; the blocked one uses none,
    # so only the wall bound (WALL_FACTOR seconds) stops it: a loaded machine, which slows a worker's CPU
    # the same way, no longer turns a slow file into an error at the first wall second.
    files = [SourceFile(tmp_path / "asleep.pyx", "cython"), SourceFile(tmp_path / "quick.pyx", "cython")]
    pool = WorkerPool(_settings("auto"), 1, Limits(time=1, memory=0, parse=0), _sleeps, _lost)
    start = time.monotonic()
    results = dict(pool.run(files, [[0, 1]]))
    took = time.monotonic() - start
    assert [p.code for p in results[0].problems] == ["limit"]
    assert results[1].problems == []
    assert WALL_FACTOR - 0.5 <= took < 60, took
