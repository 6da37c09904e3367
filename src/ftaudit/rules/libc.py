"""FT3: thread-unsafe C library calls (FT301)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import PurePath

from ..engine import Context, rule
from ..facts import ArgKind, Unit
from ..findings import Finding
from ._protection import holds_mutex
from ._roles import roles_of

# A directory or file name that says the code is built on one platform only, as projects lay out
# platform code (psutil's arch/windows/, _psutil_windows.c; CPython's PC/ is not an extension).
_PLATFORM_DIRS = {"windows": "windows", "win32": "windows", "win": "windows", "msvc": "windows"}
_PLATFORM_STEM = re.compile(r"(?:^|_)(windows|win32|win64)$|^win32_", re.I)


@lru_cache(maxsize=4096)
def platform_of(path: str, root: str = "") -> str | None:
    """The one platform a file is built for, judged from its path below `root` (the directories
    above the scanned tree say nothing: `/home/win/project`): "windows" when a directory is named
    windows/win32/win/msvc or the file stem ends in `_windows`/`_win32`; None otherwise (most files:
    built everywhere, or not known)."""
    parts = PurePath(os.path.relpath(os.path.abspath(path), root) if root else path).parts
    for part in parts[:-1]:
        platform = _PLATFORM_DIRS.get(part.lower())
        if platform is not None:
            return platform
    if _PLATFORM_STEM.search(PurePath(path).stem):
        return "windows"
    return None


# The platforms free-threaded CPython builds for (PEP 703 wheels: Linux with glibc or musl, macOS,
# Windows). A function whose C library keeps its state per thread on every one of them is not a
# hazard anywhere, whatever platform a file is built for.
EVERY_PLATFORM = frozenset({"linux", "macos", "windows"})


def _common_root(units: Sequence[Unit]) -> str:
    """The deepest directory holding every scanned file."""
    paths = [os.path.abspath(u.path) for u in units]
    try:
        return os.path.dirname(os.path.commonpath(paths)) if len(paths) == 1 else os.path.commonpath(paths)
    except ValueError:  # no files, or paths on different drives
        return ""


@rule("FT301")
def mt_unsafe_libc(unit: Unit, ctx: Context) -> Iterator[Finding]:
    table = ctx.catalogue.libc
    roles = roles_of(unit, ctx)
    root = ctx.project.memo("common-root", lambda: _common_root(ctx.project.units))
    for fn in unit.functions:
        if roles[fn.name].init_only:
            continue  # module init runs once, before the module's functions can be called
        for call in fn.calls:
            info = table.get(call.name)
            if info is None or call.user_defined or holds_mutex(call.locks):
                continue
            if call.abort_path:
                continue  # the process ends right after: `fprintf(stderr, "%s", strerror(errno)); abort();`
            if info.reentrant_arity is not None and len(call.args) >= info.reentrant_arity:
                continue  # another platform's reentrant form, with a caller-supplied buffer
            if info.safe_on and (set(info.safe_on) >= EVERY_PLATFORM or platform_of(unit.path, root) in info.safe_on):
                continue  # that platform's C library (or every one) keeps the hidden state per thread
            idx = info.unsafe_if_null_arg
            if idx is not None and idx < len(call.args):
                a = call.args[idx]
                if not (a.kind == ArgKind.LITERAL and a.value == 0):
                    continue  # a caller-provided state or buffer: the reentrant form
            yield ctx.finding(unit, call.span, info.summary(), fn.name, detail=info.detail())
