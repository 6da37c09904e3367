"""Facts of unchanged files, and whole unchanged scans, kept between runs (docs/security.md).

A cache folder holds, for one scan root:

- `files/<kk>/<key>.deps`: the headers a file read, with their size and mtime (checked on every run);
- `files/<kk>/<key>.facts`: the file's `FileResult` (loaded only when needed);
- `scans/<key>.scan`: a whole scan's result, keyed by every file key and the rules selected.

Every entry is `MAGIC + HMAC-SHA256 + msgpack payload`. The MAC covers the entry's kind, its key and
the payload, under a secret only the user can read (cachedirs.secret), so an entry planted or edited
by anyone else fails the check. The payload is decoded by msgspec into the exact types of the facts
model: decoding builds dataclasses and tuples and never runs code. Anything wrong with an entry
(missing, truncated, forged, undecodable, of another type) is a miss: the file is analysed again and
its entry rewritten. Entries are read with `safeio.read_regular` and written with `safeio.write_atomic`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from .analyse import FileRecord, FileResult
from .discover import SourceFile
from .facts import Problem
from .findings import Finding
from .membership import Module
from .safeio import read_regular, write_atomic

MAX_TOTAL_BYTES = 512 * 1024 * 1024  # all entries under one cache base; the oldest go first beyond it
MAX_ENTRY_BYTES = 256 * 1024 * 1024  # a bigger file is not ours: never read it
SCANS_KEPT = 4  # whole-scan entries kept per root: the latest runs (branches, settings), not every one
_MAGIC = b"FTA2"
_MAC_BYTES = 32
_IGNORE = b"# Created by ftaudit\n"
_ENTRY_NAME = re.compile(r"^[0-9a-f]{64}\.(deps|facts|scan)$")

# What a whole scan leaves to report: records, findings, problems of the files, tool errors, unused ignores,
# modules.
ScanPayload = tuple[list[FileRecord], list[Finding], list[Problem], int, int, list[Module]]
Deps = list[tuple[str, int, int]]  # (header path, st_mtime_ns, st_size)


def _enc_hook(obj: object) -> object:
    # Cython's parser hands out str subclasses (EncodedString): stored as the plain str they equal.
    if isinstance(obj, str):
        return str(obj)
    raise NotImplementedError(f"{type(obj).__name__} is not part of the facts model")


_ENCODER = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_DECODERS: dict[bytes, msgspec.msgpack.Decoder[Any]] = {
    b"deps": msgspec.msgpack.Decoder(Deps),
    b"facts": msgspec.msgpack.Decoder(FileResult),
    b"scan": msgspec.msgpack.Decoder(ScanPayload),
}


class Cache:
    """The cache of one scan root in `location`, entries authenticated with `secret`.

    `digest` (Settings.digest) is the part of every key that is not a file's own bytes. `shared`
    is the folder whose sub-folders are all capped together at MAX_TOTAL_BYTES (the user cache's
    folder of roots); None caps `location` alone. No method raises: a cache that cannot be read
    is empty, one that cannot be written is skipped."""

    def __init__(self, location: Path, digest: str, secret: bytes, shared: Path | None = None) -> None:
        self.location = location
        self.digest = digest
        self.shared = shared
        self._secret = secret
        self._written = False
        self._dirs_ok: set[Path] = set()

    # -- keys and paths

    def _key(self, sf: SourceFile, data: bytes) -> str:
        h = hashlib.sha256(self.digest.encode())
        h.update(os.fsencode(sf.path) + b"\0" + sf.language.encode() + b"\0" + data)
        return h.hexdigest()

    def _file(self, key: str, suffix: str) -> Path:
        return self.location / "files" / key[:2] / f"{key}{suffix}"

    def scan_key(self, keys: list[str], extra: object) -> str:
        """The key of a whole scan: every file key, in order, and `extra` (rules, options, problems)."""
        h = hashlib.sha256(self.digest.encode())
        for key in keys:
            h.update(key.encode())
        h.update(json.dumps(extra, sort_keys=True, default=str).encode())
        return h.hexdigest()

    # -- per-file entries

    def plan(self, files: list[SourceFile]) -> list[tuple[str | None, bool]]:
        """For each file: its key (None if unreadable) and whether a valid entry exists (without loading it)."""
        return [self._check(sf) for sf in files]

    def _check(self, sf: SourceFile) -> tuple[str | None, bool]:
        try:
            data = read_regular(sf.path, MAX_ENTRY_BYTES)
        except OSError:
            return None, False
        key = self._key(sf, data)
        deps: Deps | None = self._read(self._file(key, ".deps"), b"deps", key)
        if deps is None:
            return key, False
        for path, mtime, size in deps:
            try:
                st = os.stat(path)
            except OSError:
                return key, False
            if st.st_mtime_ns != mtime or st.st_size != size:
                return key, False
        return key, True

    def load(self, key: str) -> FileResult | None:
        """The facts stored under `key`, or None (missing or not a valid entry)."""
        result: FileResult | None = self._read(self._file(key, ".facts"), b"facts", key)
        return result

    def put(self, key: str, result: FileResult) -> None:
        """Store `result` under `key`, with the size and mtime of the headers its unit read."""
        deps: Deps = []
        unit = result.unit
        for inc in [*unit.includes, *unit.depends] if unit is not None else []:
            try:
                st = os.stat(inc)
            except OSError:
                continue
            deps.append((inc, st.st_mtime_ns, st.st_size))
        # Facts first: a .deps entry is what says the facts are there.
        if self._write(self._file(key, ".facts"), b"facts", key, result):
            self._write(self._file(key, ".deps"), b"deps", key, deps)

    # -- whole-scan entries

    def load_scan(self, key: str) -> ScanPayload | None:
        """The whole-scan result stored under `key`, or None."""
        payload: ScanPayload | None = self._read(self.location / "scans" / f"{key}.scan", b"scan", key)
        return payload

    def put_scan(self, key: str, payload: ScanPayload) -> None:
        """Store a whole scan's result; only the SCANS_KEPT most recent of this root are kept."""
        scans = self.location / "scans"
        if not self._write(scans / f"{key}.scan", b"scan", key, payload):
            return
        entries = sorted(_entries_in(scans), key=lambda e: e[1], reverse=True)
        for path, _, _ in entries[SCANS_KEPT:]:
            with contextlib.suppress(OSError):
                path.unlink()

    # -- bound

    def prune(self, limit: int | None = None) -> None:
        """After a scan that wrote entries: delete the oldest entries (by mtime) until all of them,
        under `shared` or else `location`, take at most `limit` bytes (default MAX_TOTAL_BYTES)."""
        if not self._written:
            return
        self._written = False
        cap = MAX_TOTAL_BYTES if limit is None else limit
        prune(_locations(self.shared) if self.shared is not None else [self.location], cap)

    # -- entry format

    def _mac(self, kind: bytes, key: str, payload: bytes | memoryview) -> bytes:
        h = hmac.new(self._secret, kind + b"\0" + key.encode() + b"\0", hashlib.sha256)
        h.update(payload)
        return h.digest()

    def _read(self, path: Path, kind: bytes, key: str) -> Any:
        try:
            blob = read_regular(path, MAX_ENTRY_BYTES)
        except OSError:
            return None
        head = len(_MAGIC) + _MAC_BYTES
        if len(blob) < head or not blob.startswith(_MAGIC):
            return None
        payload = memoryview(blob)[head:]
        if not hmac.compare_digest(blob[len(_MAGIC) : head], self._mac(kind, key, payload)):
            return None
        try:
            return _DECODERS[kind].decode(payload)
        except (msgspec.DecodeError, ValueError, TypeError):
            return None

    def _write(self, path: Path, kind: bytes, key: str, value: object) -> bool:
        try:
            payload = _ENCODER.encode(value)
            self._ensure_dir(path.parent)
            write_atomic(path, _MAGIC + self._mac(kind, key, payload) + payload, mode=0o600)
        except (OSError, TypeError, ValueError):
            return False  # a read-only or odd cache folder: scan without it
        self._written = True
        return True

    def _ensure_dir(self, folder: Path) -> None:
        """Create `folder` below `location`, refusing a component that is not a real directory: a
        symbolic link planted in a cache folder inside the tree must not carry entries elsewhere."""
        if folder in self._dirs_ok:
            return
        if not self.location.is_dir():
            self.location.mkdir(parents=True, mode=0o700)
        if not (self.location / ".gitignore").exists():  # a cache folder inside a checkout stays out of git
            write_atomic(self.location / ".gitignore", _IGNORE + b"*\n")
        current = self.location
        for part in folder.relative_to(self.location).parts:
            current = current / part
            with contextlib.suppress(FileExistsError):
                current.mkdir(mode=0o700)
            if not stat.S_ISDIR(current.lstat().st_mode):
                raise NotADirectoryError(0, "not a directory (a symbolic link?)", str(current))
        self._dirs_ok.add(folder)


def _locations(shared: Path) -> list[Path]:
    try:
        return [p for p in shared.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []


def _entries_in(folder: Path) -> Iterator[tuple[Path, int, int]]:
    """(path, mtime_ns, size) of the regular files in `folder` named like an entry; nothing else."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not _ENTRY_NAME.match(name):
            continue
        path = folder / name
        try:
            st = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            yield path, st.st_mtime_ns, st.st_size


def entries(location: Path) -> Iterator[tuple[Path, int, int]]:
    """Every entry of the cache folder `location` as (path, mtime_ns, size); symbolic links are not
    followed and files not named like an entry are not listed (a cache folder may be anywhere)."""
    files = location / "files"
    if files.is_dir() and not files.is_symlink():
        try:
            subs = sorted(os.listdir(files))
        except OSError:
            subs = []
        for sub in subs:
            folder = files / sub
            if len(sub) == 2 and folder.is_dir() and not folder.is_symlink():
                yield from _entries_in(folder)
    scans = location / "scans"
    if scans.is_dir() and not scans.is_symlink():
        yield from _entries_in(scans)


def prune(locations: list[Path], limit: int) -> int:
    """Delete the oldest entries of `locations` until they total at most `limit` bytes (to 3/4 of it,
    so that the next scans do not prune again at once). A file's .deps and .facts go together.
    Returns the number of bytes freed."""
    groups: dict[Path, list[tuple[Path, int, int]]] = {}
    for location in locations:
        for entry in entries(location):
            groups.setdefault(entry[0].with_suffix(""), []).append(entry)
    total = sum(size for group in groups.values() for _, _, size in group)
    if total <= limit:
        return 0
    freed = 0
    for group in sorted(groups.values(), key=lambda g: max(m for _, m, _ in g)):
        if total - freed <= limit * 3 // 4:
            break
        for path, _, size in group:
            with contextlib.suppress(OSError):
                path.unlink()
                freed += size
    return freed


def remove(location: Path) -> tuple[int, int]:
    """Delete every entry of the cache folder `location`, then its empty folders and `.gitignore`.
    Returns (entries removed, bytes freed); files that are not entries are left alone."""
    count = freed = 0
    for path, _, size in list(entries(location)):
        with contextlib.suppress(OSError):
            path.unlink()
            count += 1
            freed += size
    for folder in [*(location / "files").glob("??"), location / "files", location / "scans"]:
        with contextlib.suppress(OSError):
            if not folder.is_symlink():
                folder.rmdir()
    with contextlib.suppress(OSError):
        ignore = location / ".gitignore"
        if [p.name for p in location.iterdir()] == [ignore.name] and read_regular(ignore, 4096).startswith(_IGNORE):
            ignore.unlink()
        location.rmdir()  # only when nothing else is left
    return count, freed
