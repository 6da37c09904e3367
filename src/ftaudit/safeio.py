"""Reading and writing files when the scanned tree is untrusted (docs/security.md).

Everything in a scanned tree may be planted by whoever wrote it: a FIFO named
`x.c` blocks a plain `open`, a symbolic link to `/dev/zero` never ends, and
`ftaudit.sarif -> ~/.bashrc` turns a report into an overwrite of the user's
files. The two functions here are the only way ftaudit reads a file it did not
create itself or writes any file:

- `read_regular` opens without blocking, checks on the open descriptor that it
  is a regular file under a size limit, and never reads more than that limit;
- `write_atomic` writes a new file (created with O_EXCL beside the target) and
  renames it over the target, so a planted symbolic link at the target is
  replaced, never followed;
- `write_output` does the same for a report, except where the user names a
  stream (`-o /dev/null`, `-o /dev/stdout`, a FIFO, a terminal): that is
  written in place, since renaming over it (as root) replaced the system's
  `/dev/null` with a regular file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class UnsafeFileError(OSError):
    """The path is not a regular file (FIFO, device, socket, directory) or is over the size limit."""


def read_regular(path: str | os.PathLike[str], max_bytes: int, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file of at most `max_bytes` bytes.

    The file is opened with O_NONBLOCK (a FIFO cannot block the open) and judged by
    `fstat` on the descriptor, so what is read is what was checked. A file that grows
    past the limit while it is read is refused too. With `follow_symlinks=False` a
    symbolic link is refused (O_NOFOLLOW), as git refuses a linked `.gitignore`.

    Raises UnsafeFileError (not a regular file, or larger than `max_bytes`; its
    `strerror` says which) and OSError (cannot be opened or read)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(0, f"not a regular file ({file_kind(st.st_mode)})", os.fspath(path))
        if st.st_size > max_bytes:
            raise UnsafeFileError(0, f"{st.st_size} bytes, over the {max_bytes}-byte limit", os.fspath(path))
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise UnsafeFileError(0, f"grew past the {max_bytes}-byte limit while read", os.fspath(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def within(path: str, root: str) -> bool:
    """Is the resolved `path` `root` itself or below it (both real paths; `/a/bc` is not below `/a/b`)?"""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages: `a FIFO`, `a directory`, `a device`, `a socket`."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def write_atomic(target: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `target` through a new file in the same directory, renamed over it.

    The new file is created with O_EXCL (tempfile.mkstemp), so nothing planted can
    stand in for it, and `os.replace` swaps the directory entry: a symbolic link at
    `target` is replaced by the file, its destination untouched. `mode` is applied
    less the process umask (0o600 for secrets such as the cache key).

    Raises OSError when the directory is missing or not writable; nothing is left behind."""
    target = Path(target)
    directory = target.parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, mode & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _stream(target: Path) -> bool:
    """Is `target` (links followed) a stream a report may be written into in place: a FIFO, the null
    device or a terminal? Other devices (a disk, `/dev/mem`) are not: a planted link to one is replaced."""
    try:
        st = os.stat(target)
    except OSError:
        return False
    if stat.S_ISFIFO(st.st_mode):
        return True
    if not stat.S_ISCHR(st.st_mode):
        return False
    try:
        null = os.stat(os.devnull)
    except OSError:
        null = None
    if null is not None and stat.S_ISCHR(null.st_mode) and st.st_rdev == null.st_rdev:
        return True
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def write_output(target: str | os.PathLike[str], data: bytes) -> None:
    """Write a report: into `target` in place when it is a stream the user named (a FIFO, the null device,
    a terminal, `/dev/stdout` and `/proc/self/fd/N` leading to one), else as `write_atomic` does.

    A FIFO is opened without blocking (no reader: an error, not a hang). Raises OSError as the writes do."""
    target = Path(target)
    if not _stream(target):
        write_atomic(target, data)
        return
    fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        os.set_blocking(fd, True)  # opened without waiting for a reader; the writes themselves may wait
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
