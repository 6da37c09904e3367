"""A hostile tree's compile database, configuration and file names never reach libclang as options
that write or read files outside the tree, and a bad one is one line and exit 2 (docs/security.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from ftaudit.frontends.flags import CompileDatabase

HAZARD = "#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n"
SECRET = "ftaudit-secret-4f1c9e0b7a"


def ftaudit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess: what libclang prints to file descriptor 2 is captured too."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "ftaudit", "scan", "-j", "1", "--no-cache", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def tree_with_database(tmp_path: Path, flags: list[str]) -> Path:
    """tmp_path/tree/m.c (an FT201 hazard) and its compile_commands.json entry with `flags`."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "m.c").write_text(HAZARD)
    entry = {"directory": str(tree), "file": "m.c", "arguments": ["cc", *flags, "-c", "m.c"]}
    (tree / "compile_commands.json").write_text(json.dumps([entry]))
    return tree


def error_lines(res: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in res.stderr.splitlines() if "error" in line]


@pytest.mark.parametrize(
    "flags",
    [
        ["-Wp,-MD,{out}", "-Wp,-MT,planted line"],
        ["-MD", "-MF", "{out}"],
        ["-Xclang", "-dependency-file", "-Xclang", "{out}", "-Xclang", "-MT", "-Xclang", "x"],
        ["@{rsp}"],
    ],
    ids=["Wp-MD", "MD-MF", "Xclang-dependency-file", "response-file"],
)
def test_database_flags_write_no_file(tmp_path: Path, flags: list[str]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = outside / "marker.d"
    rsp = tmp_path / "flags.rsp"
    rsp.write_text(f"-MD -MF {out}\n")
    tree = tree_with_database(tmp_path, [f.format(out=out, rsp=rsp) for f in flags])
    res = ftaudit(str(tree), "--frontend", "clang")
    assert not out.exists(), f"libclang wrote {out}"
    assert res.returncode == 1, res.stderr
    assert "FT201" in res.stdout


def test_sanitizer_ignorelist_does_not_print_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET} is not a sanitizer rule\n")
    tree = tree_with_database(tmp_path, [f"-fsanitize-ignorelist={secret}", "-fsanitize=address"])
    res = ftaudit(str(tree), "--frontend", "clang", "-v")
    assert SECRET not in res.stdout + res.stderr
    assert res.returncode == 1 and "FT201" in res.stdout


def test_dropped_flags_are_listed_with_verbose(tmp_path: Path) -> None:
    tree = tree_with_database(tmp_path, ["-Wp,-MD,/nonexistent/x.d", "-DOK=1"])
    quiet = ftaudit(str(tree), "--frontend", "clang")
    assert "compile-flags-dropped" not in quiet.stderr
    loud = ftaudit(str(tree), "--frontend", "clang", "-v")
    [note] = [line for line in loud.stderr.splitlines() if "compile-flags-dropped" in line]
    assert "-Wp,-MD,/nonexistent/x.d" in note and "-DOK=1" not in note


def test_compile_commands_dev_zero_in_config(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HAZARD)
    (tmp_path / "pyproject.toml").write_text('[tool.ftaudit]\ncompile-commands = "/dev/zero"\n')
    res = ftaudit(str(tmp_path))
    assert res.returncode == 2
    [line] = error_lines(res)
    assert "/dev/zero" in line and "not a regular file" in line
    assert "Traceback" not in res.stderr


def test_compile_commands_fifo_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HAZARD)
    fifo = tmp_path / "compile_commands.json"
    os.mkfifo(fifo)
    res = ftaudit(str(tmp_path / "m.c"), "--compile-commands", str(fifo))
    assert res.returncode == 2
    [line] = error_lines(res)
    assert "FIFO" in line
    assert "Traceback" not in res.stderr


def test_config_file_fifo_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HAZARD)
    fifo = tmp_path / "ftaudit.toml"
    os.mkfifo(fifo)
    res = ftaudit(str(tmp_path), "--config", str(fifo))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "FIFO" in res.stderr


def test_oversized_compile_database(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HAZARD)
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(65 << 20)  # sparse: 65 MiB of nothing on disk
    res = ftaudit(str(tmp_path / "m.c"), "--compile-commands", str(big))
    assert res.returncode == 2
    [line] = error_lines(res)
    assert "limit" in line


@pytest.mark.parametrize("name", ["-include.c", "-Wp,-MD,x.c"])
def test_file_named_like_an_option_is_a_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(HAZARD)
    res = ftaudit(".", "--frontend", "clang", "--format", "json", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    found = json.loads(res.stdout)["findings"]
    assert [(f["path"], f["rule"]) for f in found] == [(name, "FT201")]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written (no `x.d`)


def test_deeply_nested_toml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HAZARD)
    (tmp_path / "pyproject.toml").write_text("[tool.ftaudit]\nselect = " + "[" * 100_000 + "\n")
    res = ftaudit(str(tmp_path))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    [line] = res.stderr.strip().splitlines()
    assert "pyproject.toml" in line and "TOML" in line


def test_config_define_cannot_smuggle_a_flag(tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text(HAZARD)
    (tmp_path / "pyproject.toml").write_text('[tool.ftaudit]\ndefines = ["-Wp,-MD,x.d"]\n')
    res = ftaudit(str(tmp_path), "--frontend", "clang")
    assert res.returncode == 2
    [line] = res.stderr.strip().splitlines()
    assert "`defines`" in line and "-Wp,-MD,x.d" in line


@pytest.mark.parametrize(
    "flag",
    [
        "-DNAME",
        "-DNAME=a b",
        "-UNAME",
        "-std=c11",
        "-std=gnu++17",
        "-m64",
        "-march=x86-64-v3",
        "-mavx2",
        "-mno-sse4.2",
        "-fexceptions",
        "-fno-exceptions",
        "-fno-rtti",
        "-fsigned-char",
        "-fms-extensions",
        "-fopenmp",
        "-fno-strict-aliasing",
        "-fPIC",
        "-fvisibility=hidden",
        "--target=aarch64-linux-gnu",
        "-pthread",
    ],
)
def test_allowlist_keeps_path_free_flags(tmp_path: Path, flag: str) -> None:
    db = load(tmp_path, [flag])
    assert db.args_for(tmp_path / "m.c") == [flag]
    assert db.dropped == {}


@pytest.mark.parametrize(
    "flag",
    [
        "-Wall",
        "-Werror",
        "-Wp,-MD,/tmp/x.d",
        "-MD",
        "-MMD",
        "-fsanitize=address",
        "-fsanitize-ignorelist=/etc/passwd",
        "-fsanitize-blacklist=/etc/passwd",
        "-fprofile-use=/tmp/p",
        "-fprofile-instr-generate",
        "-fplugin=/tmp/evil.so",
        "-fpass-plugin=/tmp/evil.so",
        "-fmodules-cache-path=/tmp/m",
        "-fcrash-diagnostics-dir=/tmp",
        "-fdebug-prefix-map=/a=/b",
        "-march=/tmp/x",
        "-mllvm",
        "-std=c11 -MD",
        "-xc++;-MD",
        "--target=../../x",
        "@/tmp/rsp",
        "--config=/tmp/x.cfg",
        "-O2",
        "-g",
        "-DA\n#include </etc/passwd>",
    ],
)
def test_allowlist_drops_everything_else(tmp_path: Path, flag: str) -> None:
    db = load(tmp_path, [flag])
    assert db.args_for(tmp_path / "m.c") == []
    assert flag in db.dropped


@pytest.mark.parametrize(
    ("flags", "kept", "dropped"),
    [
        (["-I", "inc", "-Isrc"], ["-I{t}/inc", "-I{t}/src"], []),
        (["-isystem", "/usr/x", "-iquote", "q", "-idirafter/d"], ["-isystem", "/usr/x", "-iquote", "{t}/q"], []),
        (["-D", "A=1", "-U", "B", "-D", "-x"], ["-DA=1", "-UB", "-D-x"], []),
        (["-x", "c++", "-x", "fortran"], ["-x", "c++"], ["-x"]),
        (["-target", "x86_64-linux-gnu", "-target", "-MD"], ["-target", "x86_64-linux-gnu"], ["-target"]),
        (["-include", "cfg.h", "-include", "/etc/passwd"], ["-include", "{t}/cfg.h"], ["-include"]),
        (["-imacros", "../outside.h"], [], ["-imacros"]),
        (["-o", "-DX", "-MF", "dep.d", "-Xclang", "-I/x"], [], ["-o", "-MF", "-Xclang"]),
        (["--config", "x.cfg", "-c", "other.c"], [], ["--config", "-c"]),
    ],
)
def test_allowlist_separate_values(tmp_path: Path, flags: list[str], kept: list[str], dropped: list[str]) -> None:
    db = load(tmp_path, flags)
    t = str(tmp_path.resolve())
    want = [k.format(t=t) for k in kept]
    if "-idirafter/d" in flags:
        want += ["-idirafter", "/d"]
    assert db.args_for(tmp_path / "m.c") == want
    assert sorted(db.dropped) == sorted(dropped)


def test_database_must_be_a_list_of_entries(tmp_path: Path) -> None:
    path = tmp_path / "compile_commands.json"
    for bad in ('{"file": "m.c"}', '[{"directory": ".", "file": 1, "arguments": []}]', "[" * 100_000):
        path.write_text(bad)
        with pytest.raises(ValueError, match=r"compile_commands\.json"):
            CompileDatabase.load(path, [tmp_path])


def load(tmp_path: Path, flags: list[str]) -> CompileDatabase:
    """A one-entry database for tmp_path/m.c with `flags`, loaded with tmp_path as the scan root."""
    entry = {"directory": str(tmp_path), "file": "m.c", "arguments": ["cc", *flags, "m.c"]}
    path = tmp_path / "compile_commands.json"
    path.write_text(json.dumps([entry]))
    return CompileDatabase.load(path, [tmp_path])
