"""The paths git tracks in a work tree, read from `.git/index` without running git.

A `.gitignore` pattern does not apply to a tracked file: ujson's checkout ignores
`lib/` (a Python template's line) while its own C code is committed there. So the
walk asks which paths are tracked before it lets a `.gitignore` leave one out.

The index is untrusted data (docs/security.md): only a `.git` *directory* inside the
work tree is read (a `.git` file names its git directory, possibly anywhere), through
`safeio.read_regular` under INDEX_MAX_BYTES, and parsed with bounds checks; anything
unexpected (another hash size, a split index, a truncated entry) makes the answer
"unknown" (None), and then the .gitignore files decide alone, as ruff lets them.
Format: git's Documentation/gitformat-index.txt, versions 2 to 4, SHA-1.
"""

from __future__ import annotations

import os
import struct

from .safeio import read_regular

INDEX_MAX_BYTES = 256 << 20
_FIXED = 62  # ctime, mtime, dev, ino, mode, uid, gid, size (40 bytes), SHA-1 (20), flags (2)
_EXTENDED = 0x4000
_NAME_MASK = 0x0FFF


class _Bad(ValueError):
    """The index is not one this reader understands."""


def tracked(work_tree: str) -> frozenset[str] | None:
    """The tracked paths (relative, `/`-separated, undecodable bytes as surrogate escapes) and every
    directory above one (`dir/`), or None when the index is missing or not understood."""
    git_dir = os.path.join(work_tree, ".git")
    if os.path.islink(git_dir) or not os.path.isdir(git_dir):
        return None
    try:
        data = read_regular(os.path.join(git_dir, "index"), INDEX_MAX_BYTES, follow_symlinks=False)
        paths = parse(data)
    except (OSError, _Bad):
        return None
    out = set(paths)
    for path in paths:
        cut = path.rfind("/")
        while cut > 0:
            directory = path[: cut + 1]
            if directory in out:
                break
            out.add(directory)
            cut = path.rfind("/", 0, cut)
    return frozenset(out)


def parse(data: bytes) -> list[str]:
    """The entry paths of an index file's bytes. Raises _Bad for anything else."""
    if len(data) < 12 or data[:4] != b"DIRC":
        raise _Bad("not an index")
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4) or count > len(data) // _FIXED:
        raise _Bad("unknown version or impossible entry count")
    pos, previous, out = 12, b"", []
    for _ in range(count):
        if pos + _FIXED > len(data):
            raise _Bad("truncated entry")
        (flags,) = struct.unpack(">H", data[pos + 60 : pos + 62])
        start = pos + _FIXED + (2 if version >= 3 and flags & _EXTENDED else 0)
        if version == 4:
            strip, start = _varint(data, start)
            end = data.find(b"\0", start)
            if end < 0 or strip > len(previous):
                raise _Bad("bad path")
            name = previous[: len(previous) - strip] + data[start:end]
            pos = end + 1
        else:
            end = data.find(b"\0", start)
            if end < 0:
                raise _Bad("bad path")
            name = data[start:end]
            if flags & _NAME_MASK != _NAME_MASK and len(name) != flags & _NAME_MASK:
                raise _Bad("path length mismatch (not SHA-1?)")
            pos += (end - pos + 8) & ~7  # NUL-padded to a multiple of eight bytes
        previous = name
        out.append(os.fsdecode(name))
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Git's offset varint (gitformat-index: each continuation adds one) at `pos`; (value, next)."""
    if pos >= len(data):
        raise _Bad("truncated varint")
    byte = data[pos]
    value = byte & 0x7F
    pos += 1
    while byte & 0x80:
        if pos >= len(data) or value > 1 << 32:
            raise _Bad("bad varint")
        byte = data[pos]
        value = ((value + 1) << 7) | (byte & 0x7F)
        pos += 1
    return value, pos
