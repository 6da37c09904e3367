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

Every time is CPU seconds (user + system of the process and all its children,
ftaudit's workers and every clang-tidy process included), so the numbers mean
the same on a loaded machine; wall seconds are printed beside them. The run
ends with the table of the deep-parse targets (issue 16), the ratios side by
side: `--sections numpy,kiwisolver --no-extras` prints just that.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Cost:
    """What one or more processes cost: CPU seconds (user + system, children included) and wall seconds."""

    cpu: float
    wall: float


def timed(cmd: list[str], cwd: Path) -> Cost:
    """CPU and wall seconds of one process and everything it waited for (ftaudit's workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return Cost(_cpu_since(before), wall)


def _cpu_since(before: resource.struct_rusage) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


# The deep-parse targets of issue 16, filled in as the sections run: (measure, result, target).
TABLE: list[tuple[str, str, str]] = []


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
    tree: Path, subdir: str, runs: int, pattern: str = "*.c", inc: list[str] | None = None, target: str = ""
) -> float:
    """The median CPU ratio of `ftaudit --frontend clang --jobs 1` to clang-tidy over the same files."""
    files = sorted(f for part in subdir.split(",") for f in (tree / part).glob(pattern))
    inc = NUMPY_INCLUDES if inc is None else inc
    includes = [x for i in inc for x in ("-I", str(tree / i))]
    tidy_cmds = clang_tidy_args(tree, files, inc, cxx=pattern != "*.c")
    ours, theirs = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        for cmd in tidy_cmds:
            subprocess.run(cmd, capture_output=True)
        theirs.append(Cost(_cpu_since(before), time.perf_counter() - start))
        ours.append(
            timed(ftaudit(*map(str, files), *includes, "--frontend", "clang", "--jobs", "1", "--no-cache"), tree)
        )
    a, b = statistics.median(c.cpu for c in ours), statistics.median(c.cpu for c in theirs)
    wa, wb = statistics.median(c.wall for c in ours), statistics.median(c.wall for c in theirs)
    print(f"\n{subdir}/{pattern}: {len(files)} files, same flags, one job, median of {runs} (CPU s, wall s)")
    print(f"  clang-tidy concurrency-mt-unsafe   {b:7.2f} s  {wb:7.2f} s  (one process per file)")
    print(f"  ftaudit --frontend clang           {a:7.2f} s  {wa:7.2f} s  (every rule)")
    print(f"  ratio ftaudit / clang-tidy         {a / b:7.2f}")
    what = f"`--frontend clang --jobs 1` / clang-tidy `concurrency-mt-unsafe`, {tree.name} `{subdir}/{pattern}`"
    TABLE.append((f"{what} ({len(files)} files)", f"{a:.1f} s / {b:.1f} s = **{a / b:.2f}**", target))
    return a / b


def tree_sitter_floor(tree: Path, runs: int) -> None:
    files = c_files(tree)
    floor = statistics.median(raw_parse_time(files) for _ in range(runs))
    paths = [str(f) for f in files]  # the same files: the tree's Cython files are not in the floor
    ts = statistics.median(
        timed(ftaudit(*paths, "--frontend", "treesitter", "--no-cache"), tree).wall for _ in range(runs)
    )
    print(f"\n{tree.name}: {len(files)} C/C++ files")
    print(f"  tree-sitter raw parse              {floor:7.2f} s")
    print(f"  ftaudit --frontend treesitter      {ts:7.2f} s  ({ts / floor:.1f}x the raw parse, default jobs)")


def cold_and_warm(tree: Path, extra: list[str], what: str = "", target: str = "", jobs: int = 0) -> Cost:
    """A cold and a warm default scan of `tree`; the cold one goes into TABLE as `what` when given."""
    cache = tree / ".ftaudit_cache"  # explicit: a tree inside a git checkout would share its root's cache
    shutil.rmtree(cache, ignore_errors=True)
    j = ["--jobs", str(jobs)] if jobs else []
    cold = timed(ftaudit(str(tree), *extra, *j, "--cache-dir", str(cache)), tree)
    warm = timed(ftaudit(str(tree), *extra, *j, "--cache-dir", str(cache)), tree)
    print(f"  cold default scan (auto frontend)  {cold.cpu:7.2f} s CPU  {cold.wall:7.2f} s wall")
    print(f"  warm re-scan, nothing changed      {warm.cpu:7.2f} s CPU  ({100 * warm.cpu / cold.cpu:.1f}% of cold)")
    if what:
        TABLE.append((what, f"**{cold.cpu:.1f} s** CPU", target))
    return cold


def single_file(tree: Path, path: str, extra: list[str], how: str = "as pre-commit runs it") -> None:
    target = tree / path
    runs = [timed(ftaudit(str(target), *extra, "--no-cache"), tree) for _ in range(5)]
    cpu, wall = statistics.median(c.cpu for c in runs), statistics.median(c.wall for c in runs)
    print(f"  one file, {how:<25}{cpu:7.2f} s CPU  {wall:7.2f} s wall  ({path})")


def print_table() -> None:
    """The issue-16 targets measured in this run, as a Markdown table (docs/performance.md)."""
    if not TABLE:
        return
    print("\n| measure (CPU seconds) | result | target |\n| --- | --- | --- |")
    for measure, result, target in TABLE:
        print(f"| {measure} | {result} | {target} |")


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
        compare_with_clang_tidy(numpy, args.subdir, args.runs, target="<= 0.4")
        if not args.no_extras:
            tree_sitter_floor(numpy, args.runs)
            cold_and_warm(numpy, includes)
        print("  without -I (an unbuilt checkout, as users run it):")
        cold_and_warm(numpy, [], "cold default scan, numpy's tree without -I (1 job)", "<= 15 s", jobs=1)
        if not args.no_extras:
            single_file(numpy, "numpy/core/src/multiarray/dragon4.c", includes)
            forced = [*includes, "--frontend", "clang"]
            single_file(numpy, "numpy/core/src/multiarray/dragon4.c", forced, "libclang forced")

    if "kiwisolver" in sections:
        kiwi = fetch("kiwisolver==1.4.5", args.work)
        print(f"\n{kiwi.name}: C++")
        compare_with_clang_tidy(kiwi, "kiwi,py/src", args.runs, "*.[ch]*", ["."], target="<= 0.6")
        cold_and_warm(kiwi, [], "cold default scan, kiwisolver 1.4.5 (31 C++ files, 1 job)", "<= 12 s", jobs=1)

    if "sklearn" in sections:
        sklearn = fetch("scikit-learn==1.3.2", args.work)
        print(f"\n{sklearn.name}: Cython and C/C++")
        cold_and_warm(sklearn, [])
        single_file(sklearn, "sklearn/tree/_tree.pyx", [])

    print_table()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak memory of any one process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
