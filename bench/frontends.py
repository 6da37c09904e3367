"""Benchmark the C/C++ frontends on a real source tree (not a test: run it by hand).

    python bench/frontends.py                      # numpy 1.26.4's C/C++ sources
    python bench/frontends.py --sdist msgpack==1.0.7 --runs 5

Downloads the sdist once into --work (pip download, from PyPI), then scans the
C/C++ files of the unpacked tree with each frontend, alternating runs, and
prints files/s, lines/s and the median wall time, next to the raw tree-sitter
parse of the same files (the floor any tree-sitter analysis stands on).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path


def fetch(spec: str, work: Path) -> Path:
    """The unpacked sdist directory, downloading it the first time."""
    name, _, version = spec.partition("==")
    work.mkdir(parents=True, exist_ok=True)
    archives = [p for p in work.iterdir() if p.name.lower().startswith(f"{name.lower()}-{version}") and p.is_file()]
    if not archives:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, spec, "-d", str(work)]
        subprocess.run(cmd, check=True)
        archives = [p for p in work.iterdir() if p.name.lower().startswith(f"{name.lower()}-{version}") and p.is_file()]
    archive = archives[0]
    target = work / archive.name.removesuffix(".tar.gz").removesuffix(".zip")
    if not target.is_dir():
        if archive.suffix == ".zip":
            zipfile.ZipFile(archive).extractall(work)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(work, filter="data")
    return target


def c_files(tree: Path) -> list[Path]:
    """The C/C++ files ftaudit itself finds (same skipped directories)."""
    from ftaudit.discover import discover

    found, _ = discover([tree])
    return [sf.path for sf in found if sf.language in ("c", "cpp")]


def scan_time(files_root: Path, frontend: str) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "ftaudit", "scan", str(files_root), "--frontend", frontend, "-q", "--no-config"]
    cmd += ["--ignore", "FT402", "-o", "/dev/null"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ftaudit failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def raw_parse_time(files: list[Path]) -> float:
    import tree_sitter_c
    import tree_sitter_cpp
    from tree_sitter import Language, Parser

    parsers = {"c": Parser(Language(tree_sitter_c.language())), "cpp": Parser(Language(tree_sitter_cpp.language()))}
    data = [("c" if p.suffix in (".c", ".h") else "cpp", p.read_bytes()) for p in files]
    start = time.perf_counter()
    for lang, blob in data:
        parsers[lang].parse(blob)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdist", default="numpy==1.26.4", help="NAME==VERSION of a PyPI source distribution")
    ap.add_argument("--work", type=Path, default=Path(".bench-cache"), help="where sdists are kept")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frontends", default="treesitter,clang")
    args = ap.parse_args()

    tree = fetch(args.sdist, args.work)
    files = c_files(tree)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    size = sum(p.stat().st_size for p in files)
    print(f"{args.sdist}: {len(files)} C/C++ files, {lines} lines, {size / 1e6:.1f} MB ({tree})")
    frontends = args.frontends.split(",")
    times: dict[str, list[float]] = {fe: [] for fe in frontends}
    raw: list[float] = []
    for _ in range(args.runs):
        raw.append(raw_parse_time(files))
        for fe in frontends:  # alternating, so drift hits every frontend alike
            times[fe].append(scan_time(tree, fe))
    print(f"{'frontend':<22} {'wall (median)':>14} {'files/s':>10} {'lines/s':>12}")
    floor = statistics.median(raw)
    print(f"{'tree-sitter raw parse':<22} {floor:>13.2f}s {len(files) / floor:>10.0f} {lines / floor:>12.0f}")
    for fe in frontends:
        t = statistics.median(times[fe])
        print(f"{'ftaudit ' + fe:<22} {t:>13.2f}s {len(files) / t:>10.0f} {lines / t:>12.0f}")
    print("(ftaudit times are whole processes: start-up, discovery, analysis, rules and report; Cython files in")
    print(" the tree are scanned too, with Cython's parser, in every run.)")


if __name__ == "__main__":
    main()
