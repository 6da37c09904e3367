"""A hostile tree's .gitignore, .gitattributes and ftaudit.toml: never a crash, a hang, or a file read
outside the tree (docs/security.md). Each test runs the command line in a subprocess with a timeout,
and `good.c`'s finding must still be reported."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

HAZARD = "#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n"
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symbolic links")


def scan(tree: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "ftaudit", "scan", "-j", "1", "--no-cache", "--frontend", "treesitter", *args, "."]
    return subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def good_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / ".git").mkdir()  # the scan root
    (tree / "good.c").write_text(HAZARD)
    return tree


def assert_good_reported(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 1, res.stderr
    assert "good.c" in res.stdout and "FT201" in res.stdout


@posix_only
def test_gitignore_fifo_is_not_opened(tmp_path):
    tree = good_tree(tmp_path)
    os.mkfifo(tree / ".gitignore")
    res = scan(tree, timeout=30)
    assert_good_reported(res)
    assert "[gitignore]" in res.stderr and "not a regular file" in res.stderr


@posix_only
def test_gitignore_symlink_out_of_the_tree_is_not_followed(tmp_path):
    tree = good_tree(tmp_path)
    (tmp_path / "outside.txt").write_text("*.c\n")
    os.symlink(tmp_path / "outside.txt", tree / ".gitignore")
    res = scan(tree)
    assert_good_reported(res)
    assert "symbolic link: not followed" in res.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"# " + b"x" * (300 * 1024) + b"\n*.c\n", "over the 262144-byte limit"),
        (b"".join(b"p%d/*.c\n" % i for i in range(1500)) + b"*.c\n", "1501 patterns, over the limit"),
    ],
    ids=["huge", "many-patterns"],
)
def test_oversized_gitignore_is_not_used(tmp_path, content, message):
    tree = good_tree(tmp_path)
    (tree / ".gitignore").write_bytes(content)
    res = scan(tree)
    assert_good_reported(res)
    assert message in res.stderr


def test_gitignore_of_binary_junk_does_not_crash(tmp_path):
    tree = good_tree(tmp_path)
    (tree / ".gitignore").write_bytes(b"\x00\xff\xfe[\\\n\\\n!\n/\n**/**/**\n[z-a]\n\xc3(\n")
    assert_good_reported(scan(tree))


@pytest.mark.parametrize("where", [".gitignore", ".gitattributes", "exclude"])
def test_backtracking_patterns_do_not_hang(tmp_path, where):
    """With Python's `re`, `*a*a*a*a*a*b` against a 200-character name took 35 s (four stars)."""
    tree = good_tree(tmp_path)
    pattern = "*a" * 12 + "*b"
    for i in range(20):
        (tree / ("a" * 200 + f"{i}.c")).write_text("int x;\n")
    if where == "exclude":
        (tree / "ftaudit.toml").write_text(f'exclude = ["{pattern}"]\n')
    else:
        line = pattern if where == ".gitignore" else f"{pattern} linguist-vendored"
        (tree / where).write_text(line + "\n")
    start = time.monotonic()
    res = scan(tree, timeout=60)
    assert_good_reported(res)
    assert time.monotonic() - start < 30


def test_nested_gitignore_files_beyond_the_depth_limit_are_not_read(tmp_path):
    tree = good_tree(tmp_path)
    d = tree
    for i in range(80):
        d = d / f"d{i}"
        d.mkdir()
        (d / ".gitignore").write_text(f"never{i}.c\n")
    (d / "deep.c").write_text(HAZARD)
    res = scan(tree)
    assert_good_reported(res)
    assert "deep.c" in res.stdout
    assert "more than 64 nested .gitignore files" in res.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "invalid TOML"),
        (b"exclude = []\n# " + b"x" * (2 << 20) + b"\n", "over the 1048576-byte limit"),
        (b"\xff\xfe\x00 = 1\n", "invalid TOML"),
        (b"exclude = [" + b'"*a*a*a*a*a*a*a*a*b", ' * 5000 + b"]\n", "`exclude`"),
    ],
    ids=["deeply-nested", "huge", "binary", "pattern-set-too-big"],
)
def test_planted_ftaudit_toml_is_one_line_and_exit_2(tmp_path, content, message):
    tree = good_tree(tmp_path)
    (tree / "ftaudit.toml").write_bytes(content)
    res = scan(tree)
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 2, res.stderr
    [line] = [x for x in res.stderr.splitlines() if x.strip()]
    assert message in line and "ftaudit.toml" in line


@posix_only
def test_ftaudit_toml_symlink_out_of_its_directory_is_not_used(tmp_path):
    tree = good_tree(tmp_path)
    (tmp_path / "elsewhere.toml").write_text('select = ["FT1"]\n')
    os.symlink(tmp_path / "elsewhere.toml", tree / "ftaudit.toml")
    assert_good_reported(scan(tree))  # FT201 reported: the linked file's `select` was not read


def _index_with(count: int, body: bytes, version: int = 2) -> bytes:
    return b"DIRC" + version.to_bytes(4, "big") + count.to_bytes(4, "big") + body


@pytest.mark.parametrize(
    "index",
    [
        _index_with(2**31, b"\0" * 100),  # an entry count the file cannot hold
        _index_with(1, b"\0" * 60 + b"\x0f\xff" + b"x" * 50),  # a name that never ends
        _index_with(2, b"\0" * 62 + b"\0" * 10, version=4),  # a varint past the end
        _index_with(1, b"\0" * 60 + b"\x00\x05" + b"ab\0" + b"\0" * 5),  # length mismatch
        b"\xff" * 4096,
    ],
    ids=["count", "unterminated", "varint", "length", "junk"],
)
def test_planted_git_index_does_not_crash(tmp_path, index):
    tree = good_tree(tmp_path)
    (tree / ".gitignore").write_text("ignored/\n")
    (tree / "ignored").mkdir()
    (tree / "ignored" / "x.c").write_text(HAZARD)
    (tree / ".git" / "index").write_bytes(index)
    res = scan(tree)
    assert_good_reported(res)
    assert "ignored/x.c" not in res.stdout


def test_truncated_real_index_is_refused_not_misread():
    from ftaudit.gitindex import _Bad, parse

    data = (ROOT / ".git" / "index").read_bytes() if (ROOT / ".git").is_dir() else None
    if data is None:
        pytest.skip("not a git checkout with its own .git directory")
    paths = parse(data)
    assert "src/ftaudit/gitindex.py" in paths or "pyproject.toml" in paths
    for cut in range(12, min(len(data), 4000), 97):
        try:
            got = parse(data[:cut])
        except _Bad:
            continue
        assert got == paths[: len(got)]
