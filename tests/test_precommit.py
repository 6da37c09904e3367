"""The real pre-commit binary runs the hook from this repository (`pre-commit try-repo`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

from conftest import ROOT

HAZARD = textwrap.dedent(
    """
    #include <Python.h>
    static long ncalls;
    static PyObject *count(PyObject *self, PyObject *unused) { return PyLong_FromLong(++ncalls); }
    static PyMethodDef methods[] = {{"count", count, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
    """
)


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def snapshot_of_this_repo(dest):
    """This working tree (tracked and new files) as a one-commit repository, as pre-commit clones it."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-q", "-m", "snapshot")


def try_repo(project, hook_repo, home):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "ftaudit", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PRE_COMMIT_HOME": str(home)},
        timeout=900,
    )


def test_pre_commit_hook_fails_on_hazard_and_passes_after_fix(tmp_path):
    hook_repo = tmp_path / "ftaudit"
    hook_repo.mkdir()
    snapshot_of_this_repo(hook_repo)
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / "mod.c").write_text(HAZARD)
    (project / "notes.txt").write_text("not C: the hook must not see it\n")
    git(project, "add", "-A")

    res = try_repo(project, hook_repo, tmp_path / "home")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "ftaudit (free-threading hazards)" in res.stdout and "Failed" in res.stdout
    assert "mod.c:3:13: FT101" in res.stdout
    assert "notes.txt" not in res.stdout

    (project / "mod.c").write_text(HAZARD.replace("static long ncalls;", "static _Atomic long ncalls;"))
    git(project, "add", "-A")
    res = try_repo(project, hook_repo, tmp_path / "home")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Passed" in res.stdout
