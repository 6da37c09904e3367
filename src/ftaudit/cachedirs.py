"""Where caches live, and the secret that authenticates their entries (docs/security.md).

The default cache is outside the scanned tree, in the user's cache directory
(`platformdirs.user_cache_dir("ftaudit")`, `$XDG_CACHE_HOME/ftaudit` on Linux):

    <user cache>/key              32 random bytes, mode 0600: the HMAC key of every entry
    <user cache>/roots/<hash>/    the cache of one scan root (hash of its absolute resolved path)

`--cache-dir` (FTAUDIT_CACHE_DIR) names the cache folder of a scan instead; its entries are still
authenticated with the key in the user's cache directory, since the folder given may be in the tree.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import platformdirs

from .safeio import read_regular, write_atomic

_KEY_BYTES = 32


def user_cache() -> Path:
    """The user's ftaudit cache directory (it may not exist yet)."""
    return Path(platformdirs.user_cache_dir("ftaudit", appauthor=False))


def roots_folder() -> Path:
    """The folder holding one cache folder per scan root."""
    return user_cache() / "roots"


def location_for(root: Path) -> Path:
    """The default cache folder of the scan root `root` (made absolute and resolved)."""
    digest = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32]
    return roots_folder() / digest


def secret() -> bytes | None:
    """The HMAC key, created on first use (32 random bytes, mode 0600); None when it can be neither
    read nor created (a read-only home): then the scan runs without a cache.

    A key file that is not a regular file, has another length, or can be read by the group or others
    is replaced: whoever can read the key can forge entries."""
    path = user_cache() / "key"
    key = _read_key(path)
    if key is not None:
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, os.urandom(_KEY_BYTES), mode=0o600)
    except OSError:
        return None
    # Two scans may create the key at once: the last rename wins, so use what is there now.
    return _read_key(path)


def _read_key(path: Path) -> bytes | None:
    try:
        key = read_regular(path, _KEY_BYTES)
        st = path.stat()
    except OSError:
        return None
    if len(key) != _KEY_BYTES:
        return None
    if os.name == "posix" and (st.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or st.st_uid != os.getuid()):
        return None
    return key


def remove_everything() -> list[Path]:
    """Delete the user's whole ftaudit cache directory (every root's cache, and the key).
    Returns what was removed (empty if there was nothing). Raises OSError if it cannot be deleted."""
    base = user_cache()
    if not base.exists() and not base.is_symlink():
        return []
    if base.is_symlink():
        base.unlink()  # never delete what a link points to
    else:
        shutil.rmtree(base)
    return [base]
