"""Read a commit's files from the object database of the user's repository, through the system
git, with nothing from the repository able to run a command.

The repository is untrusted (docs/security.md): its `.git/config` may name an fsmonitor, a
pager, an external diff, textconv or filter drivers, and its `.gitattributes` may attach them to
files. Only plumbing that reads objects is used (`rev-parse`, `ls-tree`, `cat-file --batch`),
which apply none of those; on top, every call overrides the keys that could run something
(`-c core.fsmonitor=false`, `core.hooksPath=/dev/null`, `core.pager=cat`, `protocol.allow=never`
so a partial clone cannot fetch from a remote the repository names), with `--no-pager`, no
terminal prompt, no optional locks, no lazy fetch. Whether a working-tree file changed is decided
here, by hashing its bytes as git hashes a blob, so git never reads the working tree (where clean
filters would run).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.askPass=",
    "credential.helper=",
    "protocol.allow=never",
    "core.untrackedCache=false",
)
MAX_TREE_BYTES = 256 * 1024 * 1024  # an `ls-tree -r` listing past this is not read
TIMEOUT = 120.0


class GitError(Exception):
    """git is missing, the path is not in a repository, the ref is unknown, or git failed."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_NO_LAZY_FETCH="1",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_PAGER="cat",
        PAGER="cat",
    )
    return env


@dataclass(frozen=True)
class Entry:
    mode: str
    oid: str


class Repository:
    """The git repository holding `path` (its work tree's top level is `top`)."""

    def __init__(self, path: Path) -> None:
        start = path if path.is_dir() else path.parent
        self.cwd = start
        top = self._git("rev-parse", "--show-toplevel").decode("utf-8", errors="surrogateescape").strip()
        if not top:
            raise GitError(f"{path} is not inside a git work tree")
        self.top = Path(top)
        self.cwd = self.top
        fmt = self._git("rev-parse", "--show-object-format").decode().strip() or "sha1"
        self.hash_name = "sha256" if fmt == "sha256" else "sha1"

    def _git(self, *args: str, stdin: bytes | None = None) -> bytes:
        cmd = ["git", "--no-pager"]
        for item in SAFE_CONFIG:
            cmd += ["-c", item]
        try:
            proc = subprocess.run(
                [*cmd, *args],
                cwd=self.cwd,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                env=_env(),
                timeout=TIMEOUT,
                check=False,
            )
        except FileNotFoundError as err:
            raise GitError("git is not installed (needed for --baseline-commit)") from err
        except subprocess.TimeoutExpired as err:
            raise GitError(f"git {args[0]} took more than {TIMEOUT:.0f} s") from err
        if proc.returncode != 0:
            why = " ".join(proc.stderr.decode("utf-8", errors="replace").split())[:300]
            raise GitError(f"git {args[0]} failed: {why or f'exit code {proc.returncode}'}")
        return proc.stdout

    def commit(self, ref: str) -> str:
        """The commit id `ref` names; GitError when it names none. An option-like ref is refused."""
        if not ref or ref.startswith("-"):
            raise GitError(f"{ref!r} is not a commit")
        return self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()

    def tree(self, commit: str) -> dict[str, Entry]:
        """Every regular file of `commit` (path relative to the top level, posix) -> its blob."""
        out = self._git("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit)
        if len(out) > MAX_TREE_BYTES:
            raise GitError("the commit's file list is too large to read")
        files: dict[str, Entry] = {}
        for record in out.split(b"\0"):
            head, tab, name = record.partition(b"\t")
            parts = head.split()
            if not tab or len(parts) != 3 or parts[1] != b"blob" or parts[0] not in (b"100644", b"100755"):
                continue  # symbolic links (120000), submodules, anything odd
            path = name.decode("utf-8", errors="surrogateescape")
            if safe_relative(path):
                files[path] = Entry(parts[0].decode(), parts[2].decode())
        return files

    def blob_id(self, data: bytes) -> str:
        """The id git gives a blob of `data` (what decides whether a working-tree file changed)."""
        h = hashlib.new(self.hash_name)
        h.update(b"blob %d\0" % len(data))
        h.update(data)
        return h.hexdigest()

    def blobs(self, oids: list[str], max_bytes: int) -> dict[str, bytes]:
        """The contents of the blobs `oids` (one `cat-file --batch`, which applies no filter or
        textconv); a blob larger than `max_bytes` is left out."""
        if not oids:
            return {}
        out = self._git("cat-file", "--batch", stdin="".join(f"{o}\n" for o in oids).encode())
        found: dict[str, bytes] = {}
        pos = 0
        while pos < len(out):
            eol = out.index(b"\n", pos)
            header = out[pos:eol].split()
            pos = eol + 1
            if len(header) != 3:  # `<oid> missing`
                continue
            size = int(header[2])
            if size <= max_bytes:
                found[header[0].decode()] = out[pos : pos + size]
            pos += size + 1
        return found


def safe_relative(path: str) -> bool:
    """A tree path that stays inside a folder when joined to it (git's own trees never hold
    anything else, a crafted object might)."""
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and all(part not in ("", ".", "..", ".git") for part in p.parts)
