"""ftaudit performance against clang-tidy and the tree-sitter floor (not a test: run it by hand).

    python bench/perf.py                 # numpy 1.26.4 and scikit-learn 1.3.2 from PyPI
    python bench/perf.py --sections numpy,kiwisolver --runs 1 --work /work/sdists

Needs `clang-tidy` on PATH (`pip install clang-tidy` gives LLVM's own build).
For the numpy C files of --subdir it compares, with the same flags and one
process per file as clang-tidy runs in CI, `clang-tidy
-checks=-*,concurrency-mt-unsafe` and `ftaudit scan --frontend clang --jobs 1`,
alternating runs, and prints the medians and their ratio. Then: the raw
tree-sitter parse of the whole tree against `ftaudit --frontend treesitter`,
a cold and a warm (cached) default scan, the latency of a one-file scan (a
pre-commit hook), and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from frontends import c_files, fetch, raw_parse_time

NUMPY_INCLUDES = [
    "numpy/core/include",
    "numpy/core/src/common",
    "numpy/core/src/multiarray",
    "numpy/core/src/umath",
    "numpy/core/src/npymath",
    "numpy/core/src",
]


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and exit code of one process."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return time.perf_counter() - start, proc.returncode


def ftaudit(*args: str) -> list[str]:
    return [sys.executable, "-m", "ftaudit", "scan", *args, "-q", "--no-config", "-o", "/dev/null"]


def clang_tidy_args(tree: Path, files: list[Path], includes: list[str], cxx: bool = False) -> list[list[str]]:
    """clang-tidy command lines with exactly the compiler flags ftaudit uses (minus its analysis shim)."""
    from ftaudit.frontends.flags import FlagSettings

    flags = FlagSettings(include_dirs=[str(tree / i) for i in includes], roots=[tree])
    cmds = []
    for f in files:
        args = flags.args_for(f, f.read_text(errors="replace"), "cpp" if cxx or f.suffix == ".cpp" else "c")
        cleaned, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a == "-include":
                skip = True
                continue
            cleaned.append(a)
        cmds.append(["clang-tidy", "-checks=-*,concurrency-mt-unsafe", "--quiet", str(f), "--", *cleaned])
    return cmds


def compare_with_clang_tidy(
    tree: Path, subdir: str, runs: int, pattern: str = "*.c", inc: list[str] | None = None
) -> None:
    files = sorted(f for part in subdir.split(",") for f in (tree / part).glob(pattern))
    inc = NUMPY_INCLUDES if inc is None else inc
    includes = [x for i in inc for x in ("-I", str(tree / i))]
    tidy_cmds = clang_tidy_args(tree, files, inc, cxx=pattern != "*.c")
    ours, theirs = [], []
    for _ in range(runs):
        start = time.perf_counter()
        for cmd in tidy_cmds:
            subprocess.run(cmd, capture_output=True)
        theirs.append(time.perf_counter() - start)
        t, _ = timed(ftaudit(*map(str, files), *includes, "--frontend", "clang", "--jobs", "1", "--no-cache"), tree)
        ours.append(t)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"\n{subdir}/{pattern}: {len(files)} files, same flags, one job, median of {runs}")
    print(f"  clang-tidy concurrency-mt-unsafe   {b:7.2f} s  (one process per file)")
    print(f"  ftaudit --frontend clang           {a:7.2f} s  (every rule)")
    print(f"  ratio ftaudit / clang-tidy         {a / b:7.2f}")


def tree_sitter_floor(tree: Path, runs: int) -> None:
    files = c_files(tree)
    floor = statistics.median(raw_parse_time(files) for _ in range(runs))
    paths = [str(f) for f in files]  # the same files: the tree's Cython files are not in the floor
    ts = statistics.median(
        timed(ftaudit(*paths, "--frontend", "treesitter", "--no-cache"), tree)[0] for _ in range(runs)
    )
    print(f"\n{tree.name}: {len(files)} C/C++ files")
    print(f"  tree-sitter raw parse              {floor:7.2f} s")
    print(f"  ftaudit --frontend treesitter      {ts:7.2f} s  ({ts / floor:.1f}x the raw parse, default jobs)")


def cold_and_warm(tree: Path, extra: list[str]) -> None:
    cache = tree / ".ftaudit_cache"  # explicit: a tree inside a git checkout would share its root's cache
    shutil.rmtree(cache, ignore_errors=True)
    cold, _ = timed(ftaudit(str(tree), *extra, "--cache-dir", str(cache)), tree)
    warm, _ = timed(ftaudit(str(tree), *extra, "--cache-dir", str(cache)), tree)
    print(f"  cold default scan (auto frontend)  {cold:7.2f} s")
    print(f"  warm re-scan, nothing changed      {warm:7.2f} s  ({100 * warm / cold:.1f}% of cold)")


def single_file(tree: Path, path: str, extra: list[str], how: str = "as pre-commit runs it") -> None:
    target = tree / path
    runs = [timed(ftaudit(str(target), *extra, "--no-cache"), tree)[0] for _ in range(5)]
    print(f"  one file, {how:<25}{statistics.median(runs):7.2f} s  ({path})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(".bench-cache"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--subdir", default="numpy/core/src/multiarray")
    ap.add_argument("--sections", default="numpy,sklearn", help="comma-separated: numpy, kiwisolver (C++), sklearn")
    ap.add_argument("--no-extras", action="store_true", help="skip the tree-sitter floor and one-file latencies")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    if shutil.which("clang-tidy") is None:
        raise SystemExit("clang-tidy not found: pip install clang-tidy")

    args.work = args.work.resolve()  # the scans run inside the unpacked trees
    if "numpy" in sections:
        numpy = fetch("numpy==1.26.4", args.work)
        includes = [x for i in NUMPY_INCLUDES for x in ("-I", str(numpy / i))]
        compare_with_clang_tidy(numpy, args.subdir, args.runs)
        if not args.no_extras:
            tree_sitter_floor(numpy, args.runs)
        cold_and_warm(numpy, includes)
        print("  without -I (an unbuilt checkout, as users run it):")
        cold_and_warm(numpy, [])
        if not args.no_extras:
            single_file(numpy, "numpy/core/src/multiarray/dragon4.c", includes)
            forced = [*includes, "--frontend", "clang"]
            single_file(numpy, "numpy/core/src/multiarray/dragon4.c", forced, "libclang forced")

    if "kiwisolver" in sections:
        kiwi = fetch("kiwisolver==1.4.5", args.work)
        print(f"\n{kiwi.name}: C++")
        compare_with_clang_tidy(kiwi, "kiwi,py/src", args.runs, "*.[ch]*", ["."])
        cold_and_warm(kiwi, [])

    if "sklearn" in sections:
        sklearn = fetch("scikit-learn==1.3.2", args.work)
        print(f"\n{sklearn.name}: Cython and C/C++")
        cold_and_warm(sklearn, [])
        single_file(sklearn, "sklearn/tree/_tree.pyx", [])

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak memory of any one process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
