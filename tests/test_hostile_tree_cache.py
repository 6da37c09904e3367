"""The cache cannot be used against the scan: entries planted in the tree, forged or broken entries,
symbolic links where an entry is written (docs/security.md)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import ftaudit.cache
from ftaudit import catalogue as catalogue_mod
from ftaudit.cachedirs import location_for
from ftaudit.cli import main

SOURCE = "static long n;\nvoid bump(void) { n++; }\n"


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def make_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / ".git").mkdir(parents=True)  # the scan root, as in a CI checkout
    (tree / "mod.c").write_text(SOURCE)
    return tree


class _Payload:
    """Unpickling this writes `marker`: what a planted entry would do to the user running the scan."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def _legacy_keys(tree: Path) -> tuple[str, str]:
    """The per-file and whole-scan keys the pickle cache of ftaudit <= 4b47ec5 computed for `tree`:
    anyone can compute them, so a pull request can commit entries at exactly these names."""
    from ftaudit import catalogue as catalogue_mod
    from ftaudit.analyse import Settings
    from ftaudit.config import Config
    from ftaudit.discover import discover
    from ftaudit.engine import selected_rules
    from ftaudit.frontends.flags import FlagSettings
    from ftaudit.source import DEFAULT_MAX_BYTES

    files, problems = discover([tree])
    flags = FlagSettings([], [], None, None, [tree])
    settings = Settings(catalogue_mod.load(), flags, "auto", Config().cython_directives(), DEFAULT_MAX_BYTES)
    digest = settings.digest({})
    keys = []
    for sf in files:
        h = hashlib.sha256(digest.encode())
        h.update(str(sf.path).encode() + b"\0" + sf.language.encode() + b"\0" + sf.path.read_bytes())
        keys.append(h.hexdigest())
    rule_ids = selected_rules(catalogue_mod.load(), [], [])
    h = hashlib.sha256(digest.encode())
    for key in keys:
        h.update(key.encode())
    h.update(json.dumps([rule_ids, False, problems], sort_keys=True, default=str).encode())
    assert len(keys) == 1
    return keys[0], h.hexdigest()


def test_planted_pickle_entries_in_the_tree_are_never_loaded(tmp_path):
    tree = make_tree(tmp_path)
    marker = tmp_path / "marker"
    file_key, scan_key = _legacy_keys(tree)
    blob = pickle.dumps(_Payload(marker))
    for key in (file_key, scan_key):
        folder = tree / ".ftaudit_cache" / "v1" / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.pickle").write_bytes(blob)
        (folder / f"{key}.scan").write_bytes(blob)
        (folder / f"{key}.deps").write_text("[]")
    (tree / ".ftaudit_cache" / ".gitignore").write_text("*\n")
    for _ in range(2):  # cold, then warm: neither loads the planted entries
        res = run("scan", tree, "--format", "json", "--no-config")
        assert not marker.exists(), "a pickle planted in the scanned tree was executed"
        assert res.exit_code == 1, res.output
        doc = json.loads(res.output[res.output.index("{") :])
        assert [(f["rule"], f["path"]) for f in doc["findings"]] == [("FT101", "mod.c")]


def scan_json(tree: Path, *extra: object) -> tuple[int, list[tuple[str, str]]]:
    res = run("scan", tree, "--format", "json", "--no-config", *extra)
    doc = json.loads(res.output[res.output.index("{") :])
    return res.exit_code, [(f["rule"], f["path"]) for f in doc["findings"]]


def entry_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".facts", ".deps", ".scan"))


def _flip(blob: bytes) -> bytes:
    return blob[:-1] + bytes([blob[-1] ^ 1])


def _forge(blob: bytes, kind: str, key: str, secret: bytes) -> bytes:
    """An entry with `blob`'s payload and a MAC for (`kind`, `key`) under `secret`."""
    import hmac

    payload = blob[36:]
    mac = hmac.new(secret, kind.encode() + b"\0" + key.encode() + b"\0" + payload, hashlib.sha256).digest()
    return blob[:4] + mac + payload


@pytest.mark.parametrize(
    "damage",
    [_flip, lambda b: b[: len(b) // 2], lambda b: b"", lambda b: os.urandom(200), lambda b: b"FTA2" + b"\0" * 32],
    ids=["flipped-byte", "truncated", "empty", "garbage", "no-payload"],
)
def test_a_broken_entry_is_a_miss_and_is_rewritten(tmp_path, damage):
    tree = make_tree(tmp_path)
    expected = (1, [("FT101", "mod.c")])
    assert scan_json(tree) == expected
    cache = location_for(tree)
    files = entry_files(cache)
    assert {p.suffix for p in files} == {".facts", ".deps", ".scan"}
    good = {p: p.read_bytes() for p in files}
    for path in files:  # each kind of entry alone, then all at once
        path.write_bytes(damage(good[path]))
        if path.suffix == ".facts":  # read only when the whole scan is not cached
            next(p for p in files if p.suffix == ".scan").unlink()
        assert scan_json(tree) == expected, path.name
        assert path.read_bytes() == good[path], f"{path.name} was not rewritten"
    for path in files:
        path.write_bytes(damage(good[path]))
    assert scan_json(tree) == expected
    assert {p: p.read_bytes() for p in files} == good


@pytest.mark.parametrize("how", ["another-key", "moved"])
def test_a_forged_entry_is_ignored(tmp_path, user_cache_dir, how):
    tree = make_tree(tmp_path)
    assert scan_json(tree) == (1, [("FT101", "mod.c")])
    # Facts of a file without the finding (valid entries of another root) put under mod.c's names.
    other = make_tree(tmp_path / "other")
    (other / "mod.c").write_text("int f(void) { return 0; }\n")
    assert scan_json(other) == (0, [])
    theirs = {p.suffix: p for p in entry_files(location_for(other))}
    secret = b"k" * 32 if how == "another-key" else (user_cache_dir / "key").read_bytes()
    for path in entry_files(location_for(tree)):
        blob = theirs[path.suffix].read_bytes()
        # "moved": their entry with a valid MAC under the user's key, but for their key name.
        key = path.stem if how == "another-key" else theirs[path.suffix].stem
        path.write_bytes(_forge(blob, path.suffix[1:], key, secret))
    assert scan_json(tree) == (1, [("FT101", "mod.c")])


def test_a_symlink_in_the_cache_dir_is_replaced_not_followed(tmp_path):
    tree = make_tree(tmp_path)
    cache = tree / "cache"  # --cache-dir inside the tree: the tree chooses what is there
    assert scan_json(tree, "--cache-dir", cache)[0] == 1
    files = entry_files(cache)
    for path in files:
        path.unlink()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for path in files:
        path.symlink_to(victim)
    assert scan_json(tree, "--cache-dir", cache) == (1, [("FT101", "mod.c")])
    assert victim.read_text() == "precious\n"
    assert all(p.is_file() and not p.is_symlink() for p in files)
    # A linked folder of entries is refused: nothing is written through it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tree / "mod.c").write_text(SOURCE + "static long m;\nvoid more(void) { m++; }\n")
    for sub in (cache / "files").iterdir():
        if sub.is_dir():
            for p in sub.iterdir():
                p.unlink()
            sub.rmdir()
    (cache / "files").rmdir()
    (cache / "files").symlink_to(elsewhere)
    assert scan_json(tree, "--cache-dir", cache)[0] == 1
    assert list(elsewhere.iterdir()) == []


def test_the_key_is_private_to_the_user(tmp_path, user_cache_dir):
    tree = make_tree(tmp_path)
    assert scan_json(tree)[0] == 1
    key = user_cache_dir / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    entries = entry_files(location_for(tree))
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)
    # A key others can read is replaced (whoever reads it can forge entries); old entries become misses.
    old = key.read_bytes()
    key.chmod(0o644)
    assert scan_json(tree) == (1, [("FT101", "mod.c")])
    assert key.read_bytes() != old and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_clean_removes_the_cache_of_a_root_or_everything(tmp_path, user_cache_dir):
    one, two = make_tree(tmp_path / "a"), make_tree(tmp_path / "b")
    for tree in (one, two):
        assert scan_json(tree)[0] == 1
    assert entry_files(location_for(one)) and entry_files(location_for(two))
    res = run("clean", one / "mod.c")
    assert res.exit_code == 0 and "removed 3 entries" in res.output, res.output
    assert not location_for(one).exists() and entry_files(location_for(two))
    assert (user_cache_dir / "key").exists()
    elsewhere = tmp_path / "elsewhere"
    assert scan_json(one, "--cache-dir", elsewhere)[0] == 1
    (elsewhere / "notes.txt").write_text("not ours\n")
    res = run("clean", "--cache-dir", elsewhere)
    assert res.exit_code == 0 and entry_files(elsewhere) == [] and (elsewhere / "notes.txt").exists()
    res = run("clean", "--all")
    assert res.exit_code == 0 and str(user_cache_dir) in res.output
    assert not user_cache_dir.exists()
    assert run("clean", "--all").exit_code == 0


def test_the_cache_stays_under_its_size_cap(tmp_path, monkeypatch):
    trees = [make_tree(tmp_path / str(k)) for k in range(3)]
    for tree in trees:
        (tree / "big.c").write_text("".join(f"static long v{i};\nvoid f{i}(void) {{ v{i}++; }}\n" for i in range(300)))
    assert scan_json(trees[0])[0] == 1
    one_root = sum(p.stat().st_size for p in entry_files(location_for(trees[0])))
    cap = one_root * 3 // 2  # room for one root's cache and a half
    monkeypatch.setattr(ftaudit.cache, "MAX_TOTAL_BYTES", cap)
    for tree in trees[1:]:
        assert scan_json(tree)[0] == 1
        total = sum(p.stat().st_size for t in trees for p in entry_files(location_for(t)))
        assert 0 < total <= cap
    assert entry_files(location_for(trees[-1]))  # the newest entries are kept
    assert not entry_files(location_for(trees[0]))  # the oldest went first
    code, found = scan_json(trees[0])  # a pruned root is scanned afresh
    assert code == 1 and ("FT101", "mod.c") in found


def test_only_the_latest_whole_scan_entries_are_kept(tmp_path):
    tree = make_tree(tmp_path)
    others = [rid for rid in catalogue_mod.load().rules if not rid.startswith("FT1")]
    assert len(others) >= ftaudit.cache.SCANS_KEPT + 3
    for rid in others[: ftaudit.cache.SCANS_KEPT + 3]:  # a selector must match a rule (FT5 does not)
        assert scan_json(tree, "--select", f"FT1,{rid}")[0] == 1
    scans = list((location_for(tree) / "scans").iterdir())
    assert len(scans) == ftaudit.cache.SCANS_KEPT
