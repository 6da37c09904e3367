"""Which Python's C headers libclang parses against: those given (`--python-include`), else those of the
target Python (`target-version`, e.g. "3.14t"), else of a free-threaded interpreter on PATH
(`python3.14t`, then `python3.13t`), else the running interpreter's (with the shim, as always).

An interpreter found on PATH is never run: its headers are found from its installation's layout,
`PREFIX/bin/python3.14t` -> `PREFIX/include/python3.14t/` (and Debian's `PREFIX/include/<multiarch>/
python3.14t/pyconfig.h`), through the real path of a symbolic link too. One inside a scanned tree (a
planted `venv/bin` on PATH) is passed over. Whether the headers are free-threaded comes from their own
`pyconfig.h` (`#define Py_GIL_DISABLED 1`), their version from `patchlevel.h`; files are read at most
`_MAX_BYTES` each, and an unreadable file counts as absent.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..safeio import UnsafeFileError, read_regular, within

TARGETS = ("3.13", "3.13t", "3.14", "3.14t", "3.15", "3.15t")  # what `target-version` accepts
FREE_THREADED_NAMES = ("python3.14t", "python3.13t")  # looked for on PATH, in this order
_GIL_DISABLED = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+Py_GIL_DISABLED[ \t]+1\b", re.M)
_VERSION = re.compile(rb'^[ \t]*#[ \t]*define[ \t]+PY_VERSION[ \t]+"([^"\n]{1,32})"', re.M)
_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class PythonHeaders:
    """The Python headers of a scan: directories (include, then platinclude), the version they declare
    ("" unknown), whether they are free-threaded, and where they came from (for --show-settings)."""

    dirs: tuple[str, ...]
    version: str
    free_threaded: bool
    origin: str

    def describe(self) -> dict[str, object]:
        return {
            "dirs": list(self.dirs),
            "version": self.version,
            "free-threaded": self.free_threaded,
            "origin": self.origin,
        }


def find_python_headers(
    given: Sequence[str] | None, target: str = "", roots: Sequence[Path] = (), path: str | None = None
) -> PythonHeaders:
    """The headers to parse against (see the module docstring). `given`: --python-include's
    directories (None: not given); `target`: a TARGET string or ""; `roots`: the scanned paths;
    `path`: the PATH to search (None: the environment's)."""
    if given is not None:
        return _judge(tuple(given), "--python-include")
    names = [f"python{target}"] if target else list(FREE_THREADED_NAMES)
    for name in names:
        found = _installed(name, roots, path)
        if found is not None:
            return found
    running = _judge(_running_dirs(), "the running interpreter")
    if target:
        if running.version and _matches(running, target):
            return running
        return PythonHeaders(
            running.dirs,
            running.version,
            running.free_threaded,
            f"the running interpreter (no python{target} found on PATH)",
        )
    return running


def _matches(headers: PythonHeaders, target: str) -> bool:
    free = target.endswith("t")
    major_minor = target.rstrip("t")
    return headers.free_threaded == free and (headers.version + ".").startswith(major_minor + ".")


def _running_dirs() -> tuple[str, ...]:
    dirs: list[str] = []
    for key in ("include", "platinclude"):
        d = sysconfig.get_paths().get(key)
        if d and os.path.isfile(os.path.join(d, "Python.h")) and d not in dirs:
            dirs.append(d)
    return tuple(dirs)


def _installed(name: str, roots: Sequence[Path], path: str | None) -> PythonHeaders | None:
    """The headers of interpreter `name` found on PATH, by its installation's layout (None: none)."""
    exe = shutil.which(name, path=path)
    if exe is None:
        return None
    inside = [os.path.realpath(r if r.is_dir() else r.parent) for r in roots]
    for candidate in dict.fromkeys([os.path.abspath(exe), os.path.realpath(exe)]):
        if any(within(candidate, r) for r in inside):
            continue
        prefix = os.path.dirname(os.path.dirname(candidate))
        include = os.path.join(prefix, "include", name)
        if not os.path.isfile(os.path.join(include, "Python.h")) or any(within(include, r) for r in inside):
            continue
        dirs = [include]
        if not os.path.isfile(os.path.join(include, "pyconfig.h")):  # Debian: include/<multiarch>/pythonX.Y
            plat = sorted(glob.glob(os.path.join(glob.escape(prefix), "include", "*", name, "pyconfig.h")))
            dirs += [os.path.dirname(plat[0])] if plat else []
        return _judge(tuple(dirs), f"{name} on PATH ({exe})")
    return None


def _judge(dirs: tuple[str, ...], origin: str) -> PythonHeaders:
    """`dirs` with the version and free-threading their own headers declare."""
    free = any(_GIL_DISABLED.search(_read(os.path.join(d, "pyconfig.h"))) for d in dirs)
    version = ""
    for d in dirs:
        m = _VERSION.search(_read(os.path.join(d, "patchlevel.h")))
        if m:
            version = m.group(1).decode("ascii", "replace")
            break
    return PythonHeaders(dirs, version, free, origin)


def _read(path: str) -> bytes:
    """The bytes of a regular file of at most _MAX_BYTES (a FIFO is not opened); b"" otherwise."""
    try:
        return read_regular(Path(path), _MAX_BYTES)
    except (OSError, UnsafeFileError):
        return b""
