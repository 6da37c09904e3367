"""Reports written to streams the user names (`-o /dev/null`, `-o /dev/stdout`, a FIFO) go into them in
place; anything else is replaced through a new file (safeio.write_output). Renaming over `/dev/null`, as
root, once turned the system's null device into a regular file."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from ftaudit.safeio import write_output

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/null")


@posix_only
def test_a_link_to_the_null_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "report.sarif"
    link.symlink_to(os.devnull)
    write_output(link, b"{}\n")
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@posix_only
def test_a_fifo_with_a_reader_receives_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    for _ in range(1000):  # no reader yet: the open fails at once (ENXIO) instead of waiting
        try:
            write_output(fifo, b"x" * 200_000)
            break
        except OSError:
            threading.Event().wait(0.01)
    reader.join(timeout=10)
    assert got == [b"x" * 200_000]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@posix_only
def test_a_fifo_without_a_reader_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        write_output(fifo, b"{}\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@posix_only
def test_a_link_to_another_device_is_replaced_not_followed(tmp_path: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    link = tmp_path / "report.sarif"
    link.symlink_to("/dev/zero")
    write_output(link, b"{}\n")
    assert not link.is_symlink() and link.read_bytes() == b"{}\n"
