"""A hostile scanned tree: symbolic links out of it, FIFOs, devices, deep nesting, planted
report targets and file names that forge CI output (docs/security.md).

Each test builds its tree in `tmp_path` with `good.c`, whose finding must still be
reported, and runs the command line in a subprocess (a hang is a timeout, not a stuck suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HAZARD = "#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n"
FORGED = "a\n::error file=x::forged.c"
FORMATS = ("text", "json", "sarif", "github", "gitlab")

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symbolic links")


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.c").write_text(HAZARD)
    return tree


def _outside(tmp_path: Path) -> Path:
    """A directory beside the tree with a hazard of its own and a FIFO that blocks whoever reads it."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "evil.c").write_text(HAZARD)
    os.mkfifo(out / "pipe.c")
    return out


def _ftaudit(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The command line in a subprocess; bytes out, as a file name need not be UTF-8."""
    return subprocess.run(
        [sys.executable, "-m", "ftaudit", *args],
        cwd=cwd,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _scan(tree: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`ftaudit scan` in the tree, of `.` unless `args` name paths (a last argument without a dash)."""
    paths = () if args and not args[-1].startswith("-") else (".",)
    return _ftaudit("scan", "--no-cache", "--root", str(tree), *args, *paths, cwd=tree)


def _no_traceback(proc: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")


def _good_found(proc: subprocess.CompletedProcess[bytes]) -> None:
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")
    assert b"good.c:2:" in proc.stdout and b"FT201" in proc.stdout


@posix_only
def test_symlinks_out_of_the_tree_are_not_followed(tmp_path):
    tree, out = _tree(tmp_path), _outside(tmp_path)
    (tree / "escape").symlink_to(out, target_is_directory=True)
    (tree / "evil_link.c").symlink_to(out / "evil.c")
    (tree / "root").symlink_to("/", target_is_directory=True)
    proc = _scan(tree)
    _no_traceback(proc)
    _good_found(proc)
    assert b"evil" not in proc.stdout
    notes = [line for line in proc.stderr.splitlines() if b"outside the scanned tree" in line]
    assert len(notes) == 1 and b"3 symbolic links" in notes[0], proc.stderr


@posix_only
def test_symlinks_inside_the_tree_are_still_followed(tmp_path):
    tree = _tree(tmp_path)
    (tree / ".hidden").mkdir()  # not walked itself: only through the link
    (tree / ".hidden" / "h.c").write_text(HAZARD)
    (tree / "visible").symlink_to(".hidden", target_is_directory=True)
    (tree / "sub").mkdir()
    (tree / "sub" / "loop").symlink_to("..", target_is_directory=True)
    proc = _scan(tree)
    _good_found(proc)
    assert b"visible/h.c:2:" in proc.stdout
    assert proc.stdout.count(b"good.c:2:") == 1  # the loop is not a second copy
    assert b"outside the scanned tree" not in proc.stderr


@posix_only
def test_fifo_named_like_a_source_file_does_not_hang(tmp_path):
    tree = _tree(tmp_path)
    os.mkfifo(tree / "x.c")
    (tree / "y.c").symlink_to("x.c")
    proc = _scan(tree)
    _no_traceback(proc)
    _good_found(proc)
    assert b"x.c: note: not a regular file (a FIFO): skipped [not-regular]" in proc.stderr, proc.stderr
    assert b"y.c: note: not a regular file (a FIFO): skipped [not-regular]" in proc.stderr, proc.stderr


@posix_only
def test_fifo_named_on_the_command_line_does_not_hang(tmp_path):
    tree = _tree(tmp_path)
    os.mkfifo(tree / "x.c")
    proc = _scan(tree, "x.c", "good.c")
    _no_traceback(proc)
    _good_found(proc)
    assert b"x.c: note: not a regular file (a FIFO): skipped [not-regular]" in proc.stderr, proc.stderr


@posix_only
def test_symlink_to_dev_zero_is_skipped(tmp_path):
    tree = _tree(tmp_path)
    (tree / "z.c").symlink_to("/dev/zero")
    proc = _scan(tree)
    _no_traceback(proc)
    _good_found(proc)
    assert b"outside the scanned tree" in proc.stderr and b"z.c -> /dev/zero" in proc.stderr
    # Named on the command line it is trusted, but still not a regular file: never read.
    proc = _scan(tree, "z.c", "good.c")
    _good_found(proc)
    assert b"z.c: note: not a regular file (a device): skipped [not-regular]" in proc.stderr, proc.stderr


def test_deeply_nested_directories(tmp_path):
    tree = _tree(tmp_path)
    levels = [str(tree)]
    for _ in range(2000):  # os.makedirs itself recurses once per level
        levels.append(os.path.join(levels[-1], "d"))
        os.mkdir(levels[-1])
    (Path(levels[-1]) / "deep.c").write_text(HAZARD)
    try:
        proc = _scan(tree)
    finally:  # bottom up: pytest's own clean-up (shutil.rmtree) recurses too
        os.unlink(os.path.join(levels[-1], "deep.c"))
        for level in reversed(levels[1:]):
            os.rmdir(level)
    _no_traceback(proc)
    _good_found(proc)
    assert (os.path.join(*(["d"] * 2000), "deep.c") + ":2:").encode() in proc.stdout


@posix_only
def test_planted_output_symlink_is_replaced_not_followed(tmp_path):
    tree = _tree(tmp_path)
    victim = tmp_path / "bashrc"
    victim.write_text("keep me\n")
    (tree / "ftaudit.sarif").symlink_to(victim)
    proc = _scan(tree, "--format", "sarif", "--output", "ftaudit.sarif", ".")
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    assert victim.read_text() == "keep me\n"
    assert not (tree / "ftaudit.sarif").is_symlink()
    assert json.loads((tree / "ftaudit.sarif").read_text())["runs"][0]["results"]


@posix_only
@pytest.mark.parametrize("planted", [".ftaudit-baseline.json", ".ftaudit-baseline.json.tmp"])
def test_planted_baseline_symlink_is_replaced_not_followed(tmp_path, planted):
    tree = _tree(tmp_path)
    victim = tmp_path / "bashrc"
    victim.write_text("keep me\n")
    (tree / planted).symlink_to(victim)
    proc = _ftaudit("baseline", "write", "--no-cache", "--root", str(tree), ".", cwd=tree)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "keep me\n"
    doc = json.loads((tree / ".ftaudit-baseline.json").read_text())
    assert [e["path"] for e in doc["findings"]] == ["good.c"]
    assert not (tree / ".ftaudit-baseline.json").is_symlink()


@posix_only
def test_planted_baseline_fifo_does_not_hang(tmp_path):
    tree = _tree(tmp_path)
    os.mkfifo(tree / ".ftaudit-baseline.json")
    proc = _scan(tree, "--baseline", ".ftaudit-baseline.json", ".")
    _no_traceback(proc)
    assert proc.returncode == 2
    assert b"not a regular file (a FIFO)" in proc.stderr


@posix_only
@pytest.mark.parametrize("fmt", ["text", "github"])
def test_file_names_cannot_forge_workflow_commands(tmp_path, fmt):
    tree = _tree(tmp_path)
    (tree / FORGED).write_text(HAZARD)
    (tree / "esc\x1b[31m.c").write_bytes(b"\0binary")  # a problem line on stderr, with a terminal escape
    proc = _scan(tree, "-v", "--format", fmt, ".")
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    assert b"good.c:2:" in proc.stdout or b"file=good.c," in proc.stdout
    for line in proc.stdout.splitlines() + proc.stderr.splitlines():
        assert not line.startswith(b"::error file=x"), line
        assert not line.startswith(b"::error file=x::forged.c"), line
        assert b"\x1b" not in line, line
    out = proc.stdout.decode()
    if fmt == "text":
        assert "a\\n::error file=x::forged.c:2:" in out
    else:
        assert "file=a\\n%3A%3Aerror file=x%3A%3Aforged.c," in out
    assert "esc\\x1b[31m.c" in proc.stderr.decode()


@posix_only
@pytest.mark.parametrize("fmt", FORMATS)
def test_undecodable_file_name_is_scanned_and_shown_escaped(tmp_path, fmt):
    tree = _tree(tmp_path)
    with open(os.path.join(os.fsencode(tree), b"caf\xff.c"), "w") as fh:
        fh.write(HAZARD)
    proc = _scan(tree, "-v", "--format", fmt, ".")
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout.decode("utf-8")  # valid UTF-8 whatever the names
    assert b"caf\\xff.c" in proc.stderr  # the -v file list
    if fmt == "text":
        assert "caf\\xff.c:2:" in out and "good.c:2:" in out
    elif fmt == "github":
        assert "file=caf\\xff.c," in out
    elif fmt == "sarif":
        uris = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(out)["runs"][0]["results"]
        ]
        assert sorted(uris) == ["caf%FF.c", "good.c"]
    elif fmt == "json":
        assert sorted(f["path"] for f in json.loads(out)["findings"]) == ["caf\\xff.c", "good.c"]
    else:
        assert sorted(i["location"]["path"] for i in json.loads(out)) == ["caf\\xff.c", "good.c"]


@pytest.mark.parametrize("where", ["missing/dir/report.json", "afile/report.json", "readonly/report.json", "adir"])
def test_unwritable_output_is_one_line_and_exit_2(tmp_path, where):
    tree = _tree(tmp_path)
    (tree / "adir").mkdir()
    (tree / "afile").write_text("")
    (tree / "readonly").mkdir()
    (tree / "readonly").chmod(0o555)
    if where.startswith("readonly") and os.access(tree / "readonly", os.W_OK):
        pytest.skip("running as root: a read-only directory is writable")
    proc = _scan(tree, "--format", "json", "--output", where, "good.c")
    (tree / "readonly").chmod(0o755)
    _no_traceback(proc)
    assert proc.returncode == 2
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ftaudit: error: cannot write report to {where}: "), lines


def test_display_escapes_what_could_break_a_line_and_nothing_else():
    from ftaudit.names import clean, display

    assert display("src/ok_name-1.2+x.c") == "src/ok_name-1.2+x.c"
    assert display("a\n::error\r\t\x1b[0m\x7f\x85\u2028.c") == "a\\n::error\\r\\t\\x1b[0m\\x7f\\x85\\u2028.c"
    assert display(os.fsdecode(b"caf\xff.c")) == "caf\\xff.c"
    assert display("caf\u00e9.c") == "caf\u00e9.c"  # printable non-ASCII is kept
    assert display("a\\n.c") == ("a\\n.c" if os.sep == "\\" else "a\\\\n.c")  # a name's own backslash
    assert clean("regex a\\d\nnext") == "regex a\\d\\nnext"
