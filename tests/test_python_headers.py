"""The Python headers libclang parses against (frontends/pythonheaders.py): given, of the target version,
of a free-threaded interpreter on PATH found by its installation's layout (never run), else the running
interpreter's; free-threaded headers define Py_GIL_DISABLED for the parse; --show-settings and SARIF say
which were used. Every installation here is synthetic, under tmp_path."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from click.testing import CliRunner

from ftaudit.cli import main
from ftaudit.frontends.flags import FlagSettings
from ftaudit.frontends.pythonheaders import find_python_headers

FREE = "#define Py_GIL_DISABLED 1\n#define SIZEOF_VOID_P 8\n"


def _install(prefix: Path, name: str, pyconfig: str, version: str, multiarch: str = "") -> Path:
    """A fake installation: PREFIX/bin/NAME (an executable that must never run), its headers."""
    (prefix / "bin").mkdir(parents=True)
    exe = prefix / "bin" / name
    exe.write_text('#!/bin/sh\necho ran > "$0.ran"\n')
    exe.chmod(0o755)
    include = prefix / "include" / name
    include.mkdir(parents=True)
    (include / "Python.h").write_text("/* fake */\n")
    (include / "patchlevel.h").write_text(f'#define PY_VERSION "{version}"\n')
    config_dir = prefix / "include" / multiarch / name if multiarch else include
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "pyconfig.h").write_text(pyconfig)
    return exe


def test_a_free_threaded_interpreter_on_path_is_found_by_its_layout(tmp_path):
    exe = _install(tmp_path / "opt", "python3.14t", FREE, "3.14.0")
    found = find_python_headers(None, "", [], path=str(exe.parent))
    assert found.dirs == (str(tmp_path / "opt" / "include" / "python3.14t"),)
    assert found.free_threaded and found.version == "3.14.0"
    assert found.origin == f"python3.14t on PATH ({exe})"
    assert not Path(f"{exe}.ran").exists()  # never run


def test_3_14t_is_preferred_and_debians_multiarch_pyconfig_is_read(tmp_path):
    old = _install(tmp_path / "a", "python3.13t", FREE, "3.13.1", multiarch="x86_64-linux-gnu")
    new = _install(tmp_path / "b", "python3.14t", FREE, "3.14.2")
    path = os.pathsep.join([str(old.parent), str(new.parent)])
    assert find_python_headers(None, "", [], path=path).version == "3.14.2"
    found = find_python_headers(None, "3.13t", [], path=path)
    include = tmp_path / "a" / "include"
    assert found.dirs == (str(include / "python3.13t"), str(include / "x86_64-linux-gnu" / "python3.13t"))
    assert found.free_threaded and found.version == "3.13.1"


def test_a_symlinked_interpreter_is_followed_to_its_installation(tmp_path):
    exe = _install(tmp_path / "opt", "python3.14t", FREE, "3.14.0")
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python3.14t").symlink_to(exe)
    found = find_python_headers(None, "", [], path=str(tmp_path / "venv" / "bin"))
    assert found.dirs == (str(tmp_path / "opt" / "include" / "python3.14t"),) and found.free_threaded


def test_an_interpreter_inside_the_scanned_tree_is_passed_over(tmp_path):
    tree = tmp_path / "tree"
    exe = _install(tree / "venv", "python3.14t", FREE, "3.14.0")
    found = find_python_headers(None, "", [tree], path=str(exe.parent))
    assert found.origin == "the running interpreter"
    assert not found.free_threaded  # this test suite's interpreter is not free-threaded
    assert all(not d.startswith(str(tree)) for d in found.dirs)


def test_a_target_not_found_says_so(tmp_path):
    found = find_python_headers(None, "3.14t", [], path=str(tmp_path))
    assert found.origin == "the running interpreter (no python3.14t found on PATH)"
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert find_python_headers(None, running, [], path=str(tmp_path)).origin == "the running interpreter"


def test_given_free_threaded_headers_define_py_gil_disabled(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "Python.h").write_text("/* fake */\n")
    (inc / "pyconfig.h").write_text(FREE)
    flags = FlagSettings(python_include=[str(inc)])
    assert flags.python_headers.free_threaded and flags.python_headers.origin == "--python-include"
    args = flags.args_for(tmp_path / "m.c", "#include <Python.h>\nPyObject *o;\n", "c")
    assert "-DPy_GIL_DISABLED=1" in args
    assert args.index("-DPy_GIL_DISABLED=1") < args.index("-include")  # before the shim and Python.h
    (inc / "pyconfig.h").write_text("#define SIZEOF_VOID_P 8\n/* #define Py_GIL_DISABLED 1 */\n")
    flags = FlagSettings(python_include=[str(inc)])
    assert not flags.python_headers.free_threaded
    assert "-DPy_GIL_DISABLED=1" not in flags.args_for(tmp_path / "m.c", "PyObject *o;\n", "c")


def test_settings_and_sarif_name_the_headers(tmp_path, monkeypatch):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "Python.h").write_text("/* fake */\n")
    (inc / "pyconfig.h").write_text(FREE)
    (inc / "patchlevel.h").write_text('#define PY_VERSION "3.14.0"\n')
    src = tmp_path / "src"
    src.mkdir()
    (src / "m.c").write_text("static int n;\nint bump(void) { return ++n; }\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["scan", "src", "--no-config", "--python-include", str(inc), "--show-settings"])
    assert res.exit_code == 0, res.output
    assert "python-headers:\n" in res.output and "free-threaded: yes" in res.output
    assert "origin: --python-include" in res.output and "version: 3.14.0" in res.output
    out = tmp_path / "r.sarif"
    args = ["scan", "src", "--no-config", "--no-cache", "-j", "1", "--python-include", str(inc)]
    res = runner.invoke(main, [*args, "--format", "sarif", "-o", str(out)])
    assert res.exit_code in (0, 1), res.output
    headers = json.loads(out.read_text())["runs"][0]["properties"]["ftaudit.headers"]
    assert headers["python-include"] == [str(inc)]
    assert headers["python-headers"]["free-threaded"] is True and headers["python-headers"]["version"] == "3.14.0"


def test_target_version_is_a_configuration_key(tmp_path, monkeypatch):
    (tmp_path / "m.c").write_text("int x;\n")
    (tmp_path / "ftaudit.toml").write_text('target-version = "3.14t"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.14t there
    res = CliRunner().invoke(main, ["scan", ".", "--show-settings"])
    assert res.exit_code == 0, res.output
    assert "origin: the running interpreter (no python3.14t found on PATH)" in res.output
    (tmp_path / "ftaudit.toml").write_text('target-version = "2.7"\n')
    res = CliRunner().invoke(main, ["scan", ".", "--show-settings"])
    assert res.exit_code == 2 and "target-version" in res.output
