"""The built wheel carries the rule catalogue and the analysis shim."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)], check=True
    )
    wheels = list((tmp / "dist").glob("ftaudit-*.whl"))
    assert len(wheels) == 1
    # Dependencies come from this environment (a .pth appended after the venv's
    # own site-packages); ftaudit itself only from the wheel.
    venv.EnvBuilder(with_pip=True).create(tmp / "venv")
    bindir = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    own_site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(own_site) / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheels[0])], check=True
    )
    return bindir


def test_rules_from_installed_wheel(wheel_venv, tmp_path):
    proc = subprocess.run(
        [str(wheel_venv / "ftaudit"), "rules"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "FT201" in proc.stdout and "borrowed-reference" in proc.stdout
    where = subprocess.run(
        [str(wheel_venv / "python"), "-c", "import ftaudit.catalogue as c; print(c.catalogue_root())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert "_catalogue" in where and str(ROOT / "rules") not in where


def test_scan_from_installed_wheel(wheel_venv, tmp_path):
    (tmp_path / "m.c").write_text("#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GET_ITEM(l, 0); }\n")
    proc = subprocess.run(
        [str(wheel_venv / "ftaudit"), "scan", "m.c"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert "FT202" in proc.stdout
