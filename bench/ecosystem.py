"""Ecosystem check: scan pinned real projects and measure precision against hand-made verdicts.

A benchmark run by hand, not a test (in the spirit of ruff's ecosystem check and mypy_primer).
Run it with this tree's ftaudit importable (installed, or ``PYTHONPATH=src``); it scans with
``sys.executable -m ftaudit``:

    PYTHONPATH=src python bench/ecosystem.py                  # scan all, write the snapshot, print precision
    PYTHONPATH=src python bench/ecosystem.py --diff           # scan, print changes against the snapshot
    PYTHONPATH=src python bench/ecosystem.py --project X --update  # rescan X, replace it in the snapshot
    python bench/ecosystem.py --no-scan --sample 60 --seed 1  # unjudged findings of the snapshot to judge
    python bench/ecosystem.py --no-scan                       # precision per rule of the snapshot

In: ``bench/ecosystem/projects.toml`` (``name``/``version`` pins), ``bench/ecosystem/verdicts.toml``
(hand-edited judgements). Out: ``bench/ecosystem/findings.json`` (the snapshot: sorted findings and a
summary per project) and tables on stdout. The sdists are downloaded with ``pip download`` once
into ``--work-dir`` (default ``~/.cache/ftaudit-ecosystem``), unpacked and scanned there, one
project at a time with default options (``--jobs 2``; ftaudit's cache under the work dir, in a directory
named after a digest of the ftaudit code, so a changed rule is never answered from an old cache).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

HERE = Path(__file__).resolve().parent / "ecosystem"
PROJECTS = HERE / "projects.toml"
SNAPSHOT = HERE / "findings.json"
VERDICTS = HERE / "verdicts.toml"
VERDICT_VALUES = ("true", "false", "debatable")


@dataclass(frozen=True)
class Project:
    """One pinned project: PyPI name and version."""

    name: str
    version: str
    holdout: bool = False  # added after the rules were tuned: judged before any change aimed at it

    @property
    def spec(self) -> str:
        """``name==version``, as pip takes it."""
        return f"{self.name}=={self.version}"


def load_projects(path: Path = PROJECTS) -> list[Project]:
    """The pinned projects of ``projects.toml``, in file order."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    return [Project(p["name"], p["version"], bool(p.get("holdout", False))) for p in data["project"]]


def normalise(code: str) -> str:
    """A source line with its whitespace collapsed (the part of a verdict's key that survives line shifts)."""
    return " ".join(code.split())


# --- download and scan ------------------------------------------------------------------------------------------


def _archive(project: Project, sdists: Path) -> Path | None:
    name = project.name.lower()
    prefixes = {f"{name}-{project.version}", f"{name.replace('-', '_')}-{project.version}"}
    for p in sorted(sdists.iterdir()):
        stem = p.name.lower().removesuffix(".tar.gz").removesuffix(".zip")
        if p.is_file() and stem in prefixes:
            return p
    return None


def fetch(project: Project, work: Path) -> Path:
    """The unpacked sdist root of ``project`` under ``work``, downloading (pip) and unpacking it the first time."""
    sdists = work / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    archive = _archive(project, sdists)
    if archive is None:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", project.name]
        subprocess.run([*cmd, project.spec, "-d", str(sdists)], check=True)
        archive = _archive(project, sdists)
        if archive is None:
            raise SystemExit(f"pip downloaded no sdist for {project.spec}")
    target = work / "src" / f"{project.name}-{project.version}"
    if not target.is_dir():
        tmp = work / "src" / f".unpack-{project.name}"
        tmp.mkdir(parents=True, exist_ok=True)
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
        (inner,) = list(tmp.iterdir())  # an sdist holds one top directory
        inner.rename(target)
        tmp.rmdir()
    return target


def read_line(root: Path, path: str, line: int) -> str:
    """Line ``line`` (1-based) of ``root/path``, whitespace-normalised; empty when unreadable."""
    try:
        with (root / path).open(encoding="utf-8", errors="replace", newline="") as f:
            for i, text in enumerate(f, 1):
                if i == line:
                    return normalise(text)
    except OSError:
        pass
    return ""


def code_digest() -> str:
    """A digest of the ftaudit package ``sys.executable`` imports (every file but bytecode).

    The benchmark's cache directory is named after it, so runs of different ftaudit code never share one
    (ftaudit's own keys cover its code too; this keeps old directories from being pruned into each other)."""
    out = subprocess.run([sys.executable, "-c", "import ftaudit; print(ftaudit.__file__)"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    package = Path(out.stdout.strip()).parent
    h = hashlib.sha256()
    for f in sorted(package.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.relative_to(package).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def scan(project: Project, work: Path, jobs: int, cache: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Scan one project's sdist with default options (ftaudit's cache in ``cache``): its findings (snapshot
    records) and its summary."""
    root = fetch(project, work)
    out = work / "reports" / f"{project.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # a failed scan must not leave the previous report to be read as this one's
    # `-P` (3.11+): `python -m` would otherwise put the project's directory first on sys.path, and a module of
    # the scanned tree (a `click.py`, an `ftaudit/`) would be imported in place of ftaudit's own: code from it.
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    cmd = [sys.executable, *safe_path, "-m", "ftaudit", "scan", ".", "--format", "json", "-o", str(out), "-q"]
    cmd += ["--jobs", str(jobs), "--cache-dir", str(cache), "--root", "."]
    # The scan runs in the project's directory: a relative PYTHONPATH (`PYTHONPATH=src`) would no longer name
    # this checkout there, and the subprocess would silently import another installed ftaudit.
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1, 2) or not out.is_file():
        raise SystemExit(f"ftaudit failed on {project.spec} ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    findings = [
        {
            "project": project.name,
            "path": f["path"],
            "line": f["line"],
            "rule": f["rule"],
            "message": f["message"],
            "code": read_line(root, f["path"], f["line"]),
        }
        for f in report["findings"]
        if not f.get("suppressed")
    ]
    problems = collections.Counter(p["code"] for p in report["problems"])
    summary = {
        "project": project.name,
        "version": project.version,
        "files": sum(1 for f in report["files"] if f.get("frontend") != "skipped"),
        "findings": len(findings),
        "problems": dict(sorted(problems.items())),
        "exit_code": proc.returncode,
        "seconds": round(seconds, 1),
    }
    return findings, summary


def sort_key(f: dict[str, Any]) -> tuple[str, str, int, str, str]:
    """The snapshot's order: project, path, line, rule, message."""
    return (f["project"].lower(), f["path"], f["line"], f["rule"], f["message"])


def scan_all(projects: list[Project], work: Path, jobs: int) -> dict[str, Any]:
    """Scan every project, one at a time: the snapshot (``projects`` summaries and sorted ``findings``)."""
    findings: list[dict[str, Any]] = []
    summaries = []
    cache = work / "ftaudit-cache" / code_digest()
    for project in projects:
        found, summary = scan(project, work, jobs, cache)
        print(f"{project.spec:24} {summary['findings']:5} findings  {summary['files']:5} files  "
              f"exit {summary['exit_code']}  {summary['seconds']:6.1f} s  problems {summary['problems']}",
              file=sys.stderr)  # fmt: skip
        findings += found
        summaries.append(summary)
    return {"projects": summaries, "findings": sorted(findings, key=sort_key)}


def load_snapshot(path: Path = SNAPSHOT) -> dict[str, Any]:
    """The committed snapshot (``{"projects": [...], "findings": [...]}``)."""
    return json.loads(path.read_text(encoding="utf-8"))


def merged(old: dict[str, Any], new: dict[str, Any], order: list[Project]) -> dict[str, Any]:
    """`old` with the projects scanned in `new` replaced by their new summaries and findings, the
    summaries in projects.toml order (`order`). For adding or re-scanning a few projects on code that
    gives the others the same findings (a held-out set just pinned); a changed rule needs a full scan."""
    scanned = {s["project"] for s in new["projects"]}
    summaries = {s["project"]: s for s in old["projects"] if s["project"] not in scanned}
    summaries.update({s["project"]: s for s in new["projects"]})
    findings = [f for f in old["findings"] if f["project"] not in scanned] + new["findings"]
    return {
        "projects": [summaries[p.name] for p in order if p.name in summaries],
        "findings": sorted(findings, key=sort_key),
    }


def write_snapshot(snapshot: dict[str, Any], path: Path = SNAPSHOT) -> None:
    """Write the snapshot as stable, diff-friendly JSON (one finding a line)."""
    lines = ["{", '  "projects": [']
    lines.append(",\n".join("    " + json.dumps(s, sort_keys=True) for s in snapshot["projects"]))
    lines += ["  ],", '  "findings": [']
    lines.append(",\n".join("    " + json.dumps(f, sort_keys=True) for f in snapshot["findings"]))
    lines += ["  ]", "}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# --- diff -------------------------------------------------------------------------------------------------------


def diff(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Print findings added and removed per project (line numbers ignored) and the per-rule count changes."""

    def ident(f: dict[str, Any]) -> tuple[str, str, str, str]:
        return (f["project"], f["path"], f["rule"], f.get("code") or f["message"])

    old_c = collections.Counter(ident(f) for f in old["findings"])
    new_c = collections.Counter(ident(f) for f in new["findings"])
    by_ident = {ident(f): f for f in old["findings"] + new["findings"]}
    added, removed = new_c - old_c, old_c - new_c
    projects = sorted({k[0] for k in added} | {k[0] for k in removed}, key=str.lower)
    for project in projects:
        print(f"\n## {project}")
        for sign, counter in (("+", added), ("-", removed)):
            for key in sorted(k for k in counter if k[0] == project):
                f = by_ident[key]
                print(f"{sign} {f['path']}:{f['line']}: {f['rule']} {f['message'][:140]}" + (
                    f"  (x{counter[key]})" if counter[key] > 1 else ""))  # fmt: skip
    old_r = collections.Counter(f["rule"] for f in old["findings"])
    new_r = collections.Counter(f["rule"] for f in new["findings"])
    print("\nrule     before  after  change")
    for r in sorted(old_r.keys() | new_r.keys()):
        if old_r[r] != new_r[r]:
            print(f"{r:8} {old_r[r]:6} {new_r[r]:6} {new_r[r] - old_r[r]:+7}")
    print(f"total    {sum(old_r.values()):6} {sum(new_r.values()):6} {sum(new_r.values()) - sum(old_r.values()):+7}")
    if not projects:
        print("no findings added or removed")


# --- verdicts, precision, sampling -----------------------------------------------------------------------------


def verdict_key(project: str, path: str, rule: str, code: str) -> tuple[str, str, str, str]:
    """A finding's identity for verdicts: project, path, rule and the normalised source line (not the line number)."""
    return (project, path, rule, normalise(code))


def load_verdicts(path: Path = VERDICTS) -> list[dict[str, Any]]:
    """The ``[[verdict]]`` tables of ``verdicts.toml``; exits naming the first malformed one."""
    if not path.is_file():
        return []
    with path.open("rb") as f:
        verdicts = tomllib.load(f).get("verdict", [])
    for i, v in enumerate(verdicts, 1):
        missing = {"project", "path", "line", "rule", "code", "verdict", "why"} - v.keys()
        if missing or v["verdict"] not in VERDICT_VALUES:
            raise SystemExit(f"{path}: verdict #{i} ({v.get('path')}:{v.get('line')}): missing {sorted(missing)} "
                             f"or verdict not one of {VERDICT_VALUES}")  # fmt: skip
    return verdicts


def precision(
    findings: list[dict[str, Any]], verdicts: list[dict[str, Any]], holdout: frozenset[str] = frozenset()
) -> None:
    """Print precision per rule (true / (true + false)) over the verdicts that match a current finding,
    the debatable ones apart, coverage (current findings with a verdict) and the stale verdicts; then the
    same table for the held-out projects (``holdout``: project names) alone, the measure of what tuning on
    the others did not buy."""
    _table(findings, verdicts, "all projects")
    if holdout:
        _table(
            [f for f in findings if f["project"] in holdout],
            verdicts,
            "held-out projects: " + ", ".join(sorted(holdout)),
        )
    current = collections.Counter(verdict_key(f["project"], f["path"], f["rule"], f["code"]) for f in findings)
    judged = {k for v in verdicts if (k := verdict_key(v["project"], v["path"], v["rule"], v["code"])) in current}
    stale = [v for v in verdicts if verdict_key(v["project"], v["path"], v["rule"], v["code"]) not in current]
    covered = sum(n for k, n in current.items() if k in judged)
    print(f"\ncoverage: {covered} of {len(findings)} current findings have a verdict ({len(judged)} distinct keys)")
    print(f"stale: {len(stale)} verdict(s) match no current finding")
    for v in stale:
        print(f"  {v['project']} {v['path']}:{v['line']} {v['rule']} ({v['verdict']}): {v['code'][:80]}")


def _table(findings: list[dict[str, Any]], verdicts: list[dict[str, Any]], title: str) -> None:
    """One precision table (per rule, then FT1-FT3 and FT4) of ``findings`` against ``verdicts``."""
    current = collections.Counter(verdict_key(f["project"], f["path"], f["rule"], f["code"]) for f in findings)
    per_rule: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    judged: set[tuple[str, str, str, str]] = set()
    for v in verdicts:
        key = verdict_key(v["project"], v["path"], v["rule"], v["code"])
        if key in current and key not in judged:
            per_rule[v["rule"]][v["verdict"]] += 1
            judged.add(key)
    all_rules = collections.Counter(f["rule"] for f in findings)
    print(f"\n{title}\nrule     findings  judged  true  false  debatable  precision")
    groups = {"FT1-FT3": collections.Counter[str](), "FT4": collections.Counter[str]()}
    for rule in sorted(all_rules.keys() | per_rule.keys()):
        c = per_rule[rule]
        groups["FT4" if rule.startswith("FT4") else "FT1-FT3"].update(c)
        print(_row(rule, all_rules[rule], c))
    for name, c in groups.items():
        n = sum(v for k, v in all_rules.items() if k.startswith("FT4") == (name == "FT4"))
        print(_row(name, n, c))


def _row(name: str, findings: int, c: collections.Counter[str]) -> str:
    decided = c["true"] + c["false"]
    p = f"{c['true'] / decided:.2f}" if decided else "-"
    return f"{name:8} {findings:8} {sum(c.values()):7} {c['true']:5} {c['false']:6} {c['debatable']:10}  {p:>9}"


def sample(findings: list[dict[str, Any]], verdicts: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """A seeded random sample of ``n`` findings without a verdict, one per verdict key: first up to 5 of each
    rule (so every rule with findings is represented), then random ones; at most ~25% from one project while
    other projects still have candidates. Returned in snapshot order."""
    rng = random.Random(seed)
    judged = {verdict_key(v["project"], v["path"], v["rule"], v["code"]) for v in verdicts}
    pool: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for f in findings:
        key = verdict_key(f["project"], f["path"], f["rule"], f["code"])
        if key not in judged:
            pool.setdefault(key, f)
    candidates = list(pool.values())
    rng.shuffle(candidates)
    cap = max(1, math.ceil(n * 0.25))
    chosen: list[dict[str, Any]] = []
    per_project: collections.Counter[str] = collections.Counter()

    def take(cands: list[dict[str, Any]], limit: int) -> None:
        for capped in (True, False):  # respect the project cap first, drop it only if nothing else is left
            for f in cands:
                if limit <= 0 or len(chosen) >= n:
                    return
                if f in chosen or (capped and per_project[f["project"]] >= cap):
                    continue
                chosen.append(f)
                per_project[f["project"]] += 1
                limit -= 1

    by_rule: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for f in candidates:
        by_rule[f["rule"]].append(f)
    for rule in sorted(by_rule):
        take(by_rule[rule], 5)
    take(candidates, n - len(chosen))
    return sorted(chosen, key=sort_key)


def print_sample(chosen: list[dict[str, Any]]) -> None:
    """Print each sampled finding as a ``[[verdict]]`` stub to fill in and paste into ``verdicts.toml``."""
    for f in chosen:
        print(f"\n# {f['message'][:300]}")
        print("[[verdict]]")
        for k in ("project", "path", "line", "rule", "code"):
            print(f"{k} = {json.dumps(f[k], ensure_ascii=False)}")
        print('verdict = ""\nwhy = ""')


# --- main -------------------------------------------------------------------------------------------------------


def main() -> None:
    """Command line: scan (or read the snapshot), then diff, sample or print precision."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_work = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ftaudit-ecosystem"
    ap.add_argument("--work-dir", type=Path, default=default_work, help="sdists, unpacked trees, reports, cache")
    ap.add_argument("--jobs", type=int, default=2, help="ftaudit --jobs for each project (default 2)")
    ap.add_argument(
        "--project", action="append", help="scan (or sample) only this project (repeatable; written only with --update)"
    )
    ap.add_argument("--update", action="store_true", help="with --project: replace those projects in the snapshot")
    ap.add_argument("--diff", action="store_true", help="compare a fresh scan with the snapshot; do not write it")
    ap.add_argument("--no-scan", action="store_true", help="use the committed snapshot instead of scanning")
    ap.add_argument("--sample", type=int, metavar="N", help="print N unjudged findings to judge")
    ap.add_argument("--seed", type=int, default=0, help="seed of --sample")
    args = ap.parse_args()

    projects = load_projects()
    if args.project:
        wanted = {p.lower() for p in args.project}
        projects = [p for p in projects if p.name.lower() in wanted]
    if args.no_scan:
        snapshot = load_snapshot()
    else:
        snapshot = scan_all(projects, args.work_dir, args.jobs)
        if args.diff:
            old = load_snapshot()
            if args.project:
                names = {p.name for p in projects}
                old = {"findings": [f for f in old["findings"] if f["project"] in names]}
            diff(old, snapshot)
            return
        if args.project and args.update:
            snapshot = merged(load_snapshot(), snapshot, load_projects())
        if not args.project or args.update:
            write_snapshot(snapshot)
            print(f"wrote {SNAPSHOT}", file=sys.stderr)
    verdicts = load_verdicts()
    if args.sample:
        names = {p.name for p in projects}  # `--project` narrows the pool
        pool = [f for f in snapshot["findings"] if f["project"] in names]
        print_sample(sample(pool, verdicts, args.sample, args.seed))
        return
    per_rule = collections.Counter(f["rule"] for f in snapshot["findings"])
    print("project        version   files  findings  exit  seconds  problems")
    for s in snapshot.get("projects", []):
        probs = ", ".join(f"{k} {v}" for k, v in s["problems"].items())
        print(f"{s['project']:14} {s['version']:8} {s['files']:6} {s['findings']:9} {s['exit_code']:5} "
              f"{s['seconds']:8}  {probs}")  # fmt: skip
    print("\nfindings per rule: " + ", ".join(f"{r} {n}" for r, n in sorted(per_rule.items())))
    precision(snapshot["findings"], verdicts, frozenset(p.name for p in projects if p.holdout))


if __name__ == "__main__":
    main()
