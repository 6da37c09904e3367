"""Command line: `ftaudit scan`, `ftaudit rules`, `ftaudit explain`.

Exit codes: 0 nothing found, 1 findings, 2 usage or tool error.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__, names
from . import catalogue as catalogue_mod
from .baseline import DEFAULT_NAME as DEFAULT_BASELINE
from .baseline import Baseline, BaselineError
from .catalogue import Catalogue
from .config import Config, ConfigError, find_config, load_config
from .engine import matches
from .names import display
from .report.text import Style
from .safeio import write_atomic
from .workers import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, Limits

FORMATS = ("text", "json", "sarif", "github", "gitlab")
# Problems that explain rather than warn: on stderr only with -v (always in JSON and SARIF).
VERBOSE_ONLY = {"program-only"}


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip().upper() for item in values for v in item.split(",") if v.strip()]


def _check_rule_patterns(cat: Catalogue, patterns: list[str], option: str) -> None:
    for p in patterns:
        if not any(rid.startswith(p) for rid in cat.rules) and not (p.startswith("FT") and len(p) <= 4):
            raise click.UsageError(f"{option}: {p!r} matches no rule (see `ftaudit rules`)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ftaudit")
def main() -> None:
    """Find the thread-safety hazards the GIL used to hide in C, C++ and Cython extensions."""


def scan_options(func: Callable[..., None]) -> Callable[..., None]:
    """Options shared by `scan` and `baseline write`: what to scan and how to parse it."""
    options = [
        click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--select", multiple=True, help="Rule ids or prefixes to run (e.g. FT2,FT301)."),
        click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip."),
        click.option(
            "--compile-commands",
            type=click.Path(exists=True, path_type=Path),
            help="compile_commands.json (or its directory); found at the root or in build/ otherwise.",
        ),
        click.option("-I", "--include", "includes", multiple=True, help="Extra include directory (repeatable)."),
        click.option("-D", "defines", multiple=True, help="Preprocessor macro NAME or NAME=VALUE (repeatable)."),
        click.option(
            "--python-include",
            multiple=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Python headers to parse against (default: the running interpreter's).",
        ),
        click.option(
            "--root",
            type=click.Path(file_okay=False, path_type=Path),
            help="Paths in reports are relative to this (default: the git work tree, else the cwd).",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Configuration file (default: the nearest pyproject.toml with [tool.ftaudit]).",
        ),
        click.option("--no-config", is_flag=True, help="Ignore configuration files."),
        click.option(
            "--frontend",
            type=click.Choice(["auto", "clang", "treesitter"]),
            help="C/C++ parser: libclang, tree-sitter, or auto (libclang unless it cannot parse the file well: "
            "then tree-sitter, per file). Default: the configuration's, else auto.",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=0),
            default=0,
            help="Worker processes analysing files (default: one per CPU); same output for any N.",
        ),
        click.option(
            "--timeout",
            "time_limit",
            type=click.FloatRange(min=0),
            default=DEFAULT_TIME_LIMIT,
            show_default=True,
            help="Seconds one file may take to analyse; past it the file is a `limit` error (0: no limit).",
        ),
        click.option(
            "--memory-limit",
            type=click.IntRange(min=0),
            default=DEFAULT_MEMORY_LIMIT,
            show_default=True,
            help="MiB of address space each analysis process may use (0: no limit).",
        ),
        click.option(
            "--no-cache", is_flag=True, help="Do not read or write the cache (facts of unchanged files, see `clean`)."
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="FTAUDIT_CACHE_DIR",
            help="Where the cache lives (default: a folder per project root in the user's cache directory; "
            "entries are authenticated with a key kept there). Env: FTAUDIT_CACHE_DIR.",
        ),
        click.option(
            "--include-vendored",
            is_flag=True,
            help="Also report findings inside third-party and generated code (vendor/, third_party/, "
            "linguist-vendored, f2c or SWIG output...), which are set aside by default.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Findings and errors only: no summary, no warnings or notes."),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            help="Also list each scanned file and its frontend, and the compile-database options not passed "
            "to libclang.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass
class Progress:
    """`[ 12/420] path` on stderr, rewritten in place; only on a terminal."""

    shown: bool = False

    def __call__(self, done: int, total: int, path: str) -> None:
        width = shutil.get_terminal_size((80, 20)).columns
        line = f"[{done:>{len(str(total))}}/{total}] {display(path)}"[: width - 1]
        click.echo("\r" + line.ljust(width - 1), err=True, nl=False)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            width = shutil.get_terminal_size((80, 20)).columns
            click.echo("\r" + " " * (width - 1) + "\r", err=True, nl=False)


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def use_colour(choice: str, is_tty: bool, environ: dict[str, str] | os._Environ[str]) -> bool:
    """`always`, `never`, or (auto) on a terminal unless NO_COLOR is set (https://no-color.org)."""
    return choice == "always" or (choice == "auto" and is_tty and "NO_COLOR" not in environ)


def _run(kw: dict[str, Any], baseline: Baseline | None = None, warn_unused: bool = False) -> tuple[Any, Catalogue]:
    """Scan with the shared options; exit 2 on usage or tool errors."""
    # Facts are millions of small objects that live until the scan ends, and the collector's default
    # thresholds walk them again and again: receiving numpy's facts from the workers took 1.7 s, not 0.3 s.
    gc.set_threshold(200_000, 30, 30)
    from .scan import ScanOptions
    from .scan import scan as run_scan

    cat = catalogue_mod.load()
    paths = list(kw["paths"])
    sel, ign = _split(kw["select"]), _split(kw["ignore"])
    _check_rule_patterns(cat, sel, "--select")
    _check_rule_patterns(cat, ign, "--ignore")
    config = _config(paths, kw["config_file"], kw["no_config"], cat)
    progress = Progress() if not kw["quiet"] and _stderr_is_tty() else None
    opts = ScanOptions(
        paths=paths,
        select=sel,
        ignore=ign,
        include_dirs=list(kw["includes"]),
        defines=list(kw["defines"]),
        python_include=[str(p) for p in kw["python_include"]] or None,
        compile_commands=kw["compile_commands"],
        root=kw["root"],
        config=config,
        baseline=baseline,
        warn_unused_ignores=warn_unused,
        progress=progress,
        frontend=kw["frontend"] or "",
        jobs=kw["jobs"],
        cache=not kw["no_cache"],
        cache_dir=kw["cache_dir"],
        limits=Limits(kw["time_limit"], kw["memory_limit"]),
        include_vendored=kw["include_vendored"],
        verbose=kw["verbose"],
    )
    try:
        result = run_scan(opts)
    except Exception as err:
        click.echo(f"ftaudit: error: {type(err).__name__}: {names.clean(str(err))}", err=True)
        sys.exit(2)
    finally:
        if progress is not None:
            progress.clear()
    return result, cat


def _report_problems(result: Any, kw: dict[str, Any], style: Any, causes_here: bool = True) -> None:
    """Problem lines on stderr; those that repeat across files (report/causes.py) only with -v, summed
    up by cause instead: here when `causes_here`, else in the text report itself."""
    from .report import text as text_report
    from .report.causes import GROUPED, cause_lines

    for p in result.problems:
        if kw["quiet"] and p.level != "error":  # errors stay: they are why the exit code is 2
            continue
        if (p.code in VERBOSE_ONLY or p.code in GROUPED) and not kw["verbose"]:
            continue
        click.echo(text_report.problem_line(p, style), err=True, color=style.colour)
    if causes_here and not kw["quiet"]:
        for line in cause_lines(result.problems, result.files):
            click.echo(line, err=True)
    if kw["verbose"]:
        for rec in result.files:
            click.echo(f"{display(rec.path)}: {rec.language}, {rec.frontend}", err=True)


def _render(fmt: str, result: Any, cat: Catalogue, category: str | None, quiet: bool, show: bool, style: Any) -> str:
    """The report in `fmt`; each writer is imported only when asked for (sarif-om alone costs 35 ms)."""
    if fmt == "json":
        from .report import json as json_report

        return json_report.render(result, cat)
    if fmt == "sarif":
        from .report import sarif as sarif_report

        return sarif_report.render(result, cat, category)
    if fmt == "github":
        from .report import github as github_report

        return github_report.render(result, cat)
    if fmt == "gitlab":
        from .report import gitlab as gitlab_report

        return gitlab_report.render(result, cat)
    from .report import text as text_report

    return text_report.render(result, cat, quiet, show, style)


def _write_or_exit(target: Path, text: str, what: str) -> None:
    """Write `text` to `target` replacing what is there (a planted symbolic link is replaced, not
    followed); a failure is one line on stderr and exit 2."""
    try:
        write_atomic(target, text.encode("utf-8"))
    except OSError as err:
        _fail_write(target, what, err)


def _fail_write(target: Path, what: str, err: OSError) -> NoReturn:
    click.echo(f"ftaudit: error: cannot write {what} to {display(target)}: {err.strerror or err}", err=True)
    sys.exit(2)


def _exit(result: Any) -> None:
    not_found = any(p.code == "not-found" for p in result.problems)
    if result.tool_errors or not_found:
        sys.exit(2)
    sys.exit(1 if result.failed else 0)


@main.command()
@scan_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only findings not in this baseline (see `ftaudit baseline write`).",
)
@click.option(
    "--warn-unused-ignores",
    is_flag=True,
    help="Report `ftaudit: ignore` comments (and NOLINT, noqa markers) that suppress nothing.",
)
@click.option("--show-suppressed", is_flag=True, help="Also print suppressed findings (text format).")
@click.option("--sarif-category", help="SARIF runs[].automationDetails.id, to tell several uploads apart.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour in text output (auto: on a terminal, unless NO_COLOR is set).",
)
def scan(
    fmt: str,
    output: Path | None,
    baseline_file: Path | None,
    warn_unused_ignores: bool,
    show_suppressed: bool,
    sarif_category: str | None,
    color: str,
    **kw: Any,
) -> None:
    """Scan files and directories for free-threading hazards."""
    from .report import text as text_report

    baseline = None
    if baseline_file is not None:
        try:
            baseline = Baseline.load(baseline_file)
        except BaselineError as err:
            raise click.UsageError(str(err)) from err
    result, cat = _run(kw, baseline, warn_unused_ignores)
    colour = use_colour(color, output is None and sys.stdout.isatty(), os.environ)
    style = text_report.Style(colour and fmt == "text")
    stderr_style = text_report.Style(use_colour(color, _stderr_is_tty(), os.environ))
    _report_problems(result, kw, stderr_style, causes_here=fmt != "text")
    report = _render(fmt, result, cat, sarif_category, kw["quiet"], show_suppressed, style)
    if output is not None:
        _write_or_exit(output, report, "report")
        if not kw["quiet"]:
            click.echo(text_report.summary(result), err=True)
    else:
        click.echo(report, nl=False, color=style.colour)
    _exit(result)


@main.group()
def baseline() -> None:
    """Accept today's findings so that only new ones are reported."""


@baseline.command("write")
@scan_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help=f"Baseline file (default: {DEFAULT_BASELINE} at the root).",
)
def baseline_write(output: Path | None, **kw: Any) -> None:
    """Scan and store the findings in a baseline file (exit 0 unless the scan fails)."""
    from .baseline import write

    result, _ = _run(kw)
    _report_problems(result, kw, Style(False))
    target = output or (result.root / DEFAULT_BASELINE)
    try:
        n = write(target, result.findings)
    except OSError as err:
        _fail_write(target, "baseline", err)
    click.echo(f"ftaudit: {n} finding(s) written to {display(target)}", err=True)
    not_found = any(p.code == "not-found" for p in result.problems)
    sys.exit(2 if result.tool_errors or not_found else 0)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FTAUDIT_CACHE_DIR",
    help="Empty this cache folder instead (as given to `scan --cache-dir`). Env: FTAUDIT_CACHE_DIR.",
)
@click.option("--all", "everything", is_flag=True, help="Remove every ftaudit cache of this user, and the cache key.")
def clean(paths: tuple[Path, ...], cache_dir: Path | None, everything: bool) -> None:
    """Remove the cache of the scan roots of PATHS (default: the current directory); exit 0."""
    from . import cachedirs
    from .cache import remove
    from .scan import find_root

    if everything:
        try:
            removed = cachedirs.remove_everything()
        except OSError as err:
            raise click.ClickException(f"cannot remove {cachedirs.user_cache()}: {err}") from err
        click.echo(f"removed {removed[0]}" if removed else f"no cache in {cachedirs.user_cache()}")
    if cache_dir is not None:
        folders = [cache_dir]
    elif everything:
        folders = []
    else:
        roots = {r for p in paths or (Path.cwd(),) for r in (find_root([p]), p.resolve())}
        folders = sorted({cachedirs.location_for(r) for r in roots})
    for folder in folders:
        count, freed = remove(folder)
        click.echo(f"removed {count} entries ({freed / 2**20:.1f} MiB) from {folder}")


def _config(paths: list[Path], config_file: Path | None, no_config: bool, cat: Catalogue) -> Config:
    """The configuration in effect; a broken one is one line naming the file and key, and exit 2."""
    if no_config:
        return Config()
    path = config_file or find_config(paths)
    if path is None:
        return Config()
    try:
        config = load_config(path)
        where = f"{path} [tool.ftaudit]"
        _check_rule_patterns(cat, [s.upper() for s in config.list("select")], f"{where} select")
        _check_rule_patterns(cat, [s.upper() for s in config.list("ignore")], f"{where} ignore")
    except (ConfigError, click.UsageError) as err:
        # One line, not click's usage text: the command line is fine, the file is not.
        click.echo(f"ftaudit: error: {err}", err=True)
        sys.exit(2)
    return config


@main.command()
@click.option("--select", multiple=True, help="Show only these rule ids or prefixes.")
def rules(select: tuple[str, ...]) -> None:
    """List the rule catalogue."""
    cat = catalogue_mod.load()
    sel = _split(select)
    width = max(len(r.name) for r in cat.rules.values())
    click.echo(f"{'id':<6} {'name':<{width}}  {'level':<7}  {'enabled':<7}  summary")
    for rid, info in cat.rules.items():
        if sel and not matches(rid, sel):
            continue
        on = "yes" if info.enabled else "no"
        click.echo(f"{rid:<6} {info.name:<{width}}  {info.level:<7}  {on:<7}  {info.summary}")


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Explain one rule: what it flags, why, an example and the fix."""
    from .docs import rule_markdown

    cat = catalogue_mod.load()
    info = cat.rules.get(rule_id.upper()) or next((r for r in cat.rules.values() if r.name == rule_id), None)
    if info is None:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `ftaudit rules`)")
    click.echo(rule_markdown(info))
