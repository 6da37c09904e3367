"""Command line: `ftaudit scan`, `ftaudit modules`, `ftaudit rules`, `ftaudit explain`.

Exit codes: 0 nothing found, 1 findings, 2 usage or tool error.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__, names
from . import catalogue as catalogue_mod
from .baseline import DEFAULT_NAME as DEFAULT_BASELINE
from .baseline import Baseline, BaselineError
from .catalogue import Catalogue
from .cliopts import config_option_list, overrides, show_options
from .config import Config, ConfigError, find_config, load_config
from .engine import matches
from .frontends.pythonheaders import TARGETS
from .names import display
from .report.outputs import FORMATS, STATISTICS_FORMATS, ReportSpec, ReportSpecError
from .report.text import Style
from .safeio import write_output
from .terminal import use_colour
from .workers import DEFAULT_MEMORY_LIMIT, DEFAULT_PARSE_LIMIT, DEFAULT_TIME_LIMIT, Limits

# Problems that explain rather than warn: on stderr only with -v (always in JSON and SARIF).
VERBOSE_ONLY = {"program-only", "never-called", "build-file", "not-built", "frozen-container"}


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip().upper() for item in values for v in item.split(",") if v.strip()]


def _check_rule_patterns(cat: Catalogue, patterns: list[str], option: str) -> None:
    """A usage error (exit 2) naming the first selector that matches no rule (`FT5`, `FT999`)."""
    from .selection import unknown_selector

    bad = unknown_selector(cat, patterns)
    if bad is not None:
        raise click.UsageError(f"{option}: {bad!r} matches no rule (see `ftaudit rules`)")


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
            help="Python headers to parse against (default: those of --target-version, else of a python3.14t "
            "or python3.13t on PATH, else the running interpreter's; --show-settings says which).",
        ),
        click.option(
            "--target-version",
            type=click.Choice(TARGETS),
            help="The Python the extension is built for (t: free-threaded): parse against the headers of "
            "pythonX.Y[t] on PATH (never run). Default: the configuration's `target-version`.",
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
            help="Configuration file (default: the nearest .ftaudit.toml, ftaudit.toml, or pyproject.toml with "
            "[tool.ftaudit]).",
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
            help="CPU seconds one file may take to analyse (wall seconds where the system does not say; at most "
            "3 times as many wall seconds); past it the file is a `limit` error (0: no limit).",
        ),
        click.option(
            "--parse-timeout",
            "parse_limit",
            type=click.FloatRange(min=0),
            default=None,
            help="CPU seconds libclang may take on one C/C++ file before the file goes to tree-sitter instead "
            f"(a `parse-time-limit` problem, not an error; 0: no such limit). Default: the configuration's "
            f"`parse-timeout`, else {DEFAULT_PARSE_LIMIT:g}.",
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
            "linguist-vendored, f2c or SWIG output...), and analyse it with libclang: by default its findings "
            "are set aside and auto mode gives it to tree-sitter.",
        ),
        click.option(
            "--include-unbuilt",
            is_flag=True,
            help="Also judge files no extension module is built from (a benchmark, an example with its own "
            "setup.py), which are not judged when the build description could be read completely.",
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
    options[3:3] = config_option_list()  # --extend-select ... --respect-gitignore, after --select/--ignore
    for option in reversed(options):
        func = option(func)
    return func


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def _options(
    kw: dict[str, Any], baseline: Baseline | None = None, warn_unused: bool = False, progress: Any = None
) -> Any:
    """The ScanOptions of the shared options (reporting to `progress`, a progress.Progress); a usage
    error (exit 2) for a bad selector or configuration."""
    from .scan import ScanOptions
    from .selection import config_selectors

    cat = catalogue_mod.load()
    paths = list(kw["paths"])
    sel, ign = _split(kw["select"]), _split(kw["ignore"])
    _check_rule_patterns(cat, sel, "--select")
    _check_rule_patterns(cat, ign, "--ignore")
    cli_values = overrides(kw)
    for key, selectors in config_selectors(cli_values).items():
        _check_rule_patterns(cat, [s.upper() for s in selectors], f"--{key.split()[0]}")
    config = _config(paths, kw["config_file"], kw["no_config"], cat)
    return ScanOptions(
        paths=paths,
        select=sel,
        ignore=ign,
        include_dirs=list(kw["includes"]),
        defines=list(kw["defines"]),
        python_include=[str(p) for p in kw["python_include"]] or None,
        target_version=kw["target_version"] or "",
        compile_commands=kw["compile_commands"],
        root=kw["root"],
        config=config,
        baseline=baseline,
        warn_unused_ignores=warn_unused,
        progress=progress.file_done if progress is not None else None,
        phase=progress.phase if progress is not None else None,
        frontend=kw["frontend"] or "",
        jobs=kw["jobs"],
        cache=not kw["no_cache"],
        cache_dir=kw["cache_dir"],
        limits=Limits(kw["time_limit"], kw["memory_limit"]),
        parse_limit=kw["parse_limit"],
        include_vendored=kw["include_vendored"],
        include_unbuilt=kw["include_unbuilt"],
        verbose=kw["verbose"],
        overrides=cli_values,
    )


def _run(
    kw: dict[str, Any],
    baseline: Baseline | None = None,
    warn_unused: bool = False,
    baseline_commit: str | None = None,
) -> tuple[Any, Catalogue]:
    """Scan with the shared options (and with `baseline_commit`, keep only the findings new since that
    commit: baseline_commit.py); exit 2 on usage or tool errors. The catalogue returned has the
    configuration's `severity` levels, which every report shows."""
    # Facts are millions of small objects that live until the scan ends, and the collector's default
    # thresholds walk them again and again: receiving numpy's facts from the workers took 1.7 s, not 0.3 s.
    gc.set_threshold(200_000, 30, 30)
    from .scan import scan as run_scan

    progress = _progress(kw["quiet"])
    opts = _options(kw, baseline, warn_unused, progress)
    try:
        result = run_scan(opts)
        if baseline_commit is not None:
            result = _since_commit(result, opts, baseline_commit)
    except Exception as err:
        if progress is not None:
            progress.stop()
        click.echo(f"ftaudit: error: {type(err).__name__}: {names.clean(str(err))}", err=True)
        sys.exit(2)
    if progress is not None:
        progress.finish(len(result.counted))
    return result, opts.config.apply(catalogue_mod.load())


def _since_commit(result: Any, opts: Any, ref: str) -> Any:
    """The findings new since `ref`; a git problem (no repository, unknown ref) is one line and exit 2."""
    from .baseline_commit import apply
    from .gitobjects import GitError

    try:
        return apply(result, opts, ref)
    except GitError as err:
        click.echo(f"ftaudit: error: --baseline-commit {names.clean(ref)}: {names.clean(str(err))}", err=True)
        sys.exit(2)


def _progress(quiet: bool) -> Any:
    """The scan's progress on stderr: in place on a terminal, lines in CI, else none (progress.py)."""
    from .progress import Progress, in_ci

    if quiet:
        return None
    if _stderr_is_tty():
        return Progress(sys.stderr, terminal=True)
    return Progress(sys.stderr, terminal=False) if in_ci(os.environ) else None


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
        for line in cause_lines(result.problems, result.files, str(result.root)):
            click.echo(line, err=True)
    if kw["verbose"]:
        from .frontends.availability import describe

        click.echo(describe(result.frontend), err=True)
        for rec in result.files:
            click.echo(f"{display(rec.path)}: {rec.language}, {rec.frontend}", err=True)


def _write_or_exit(target: Path, text: str, what: str) -> None:
    """Write `text` to `target` replacing what is there (a planted symbolic link is replaced, not
    followed; a stream such as /dev/null or /dev/stdout is written into); a failure is one line on stderr
    and exit 2."""
    try:
        write_output(target, text.encode("utf-8"))
    except OSError as err:
        _fail_write(target, what, err)


def _fail_write(target: Path, what: str, err: OSError) -> NoReturn:
    click.echo(f"ftaudit: error: cannot write {what} to {display(target)}: {err.strerror or err}", err=True)
    sys.exit(2)


def _report_spec(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[ReportSpec]:
    try:
        return [ReportSpec.parse(v) for v in values]
    except ReportSpecError as err:
        raise click.BadParameter(str(err)) from err


@main.command()
@scan_options
@show_options
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(FORMATS),
    default="full",
    show_default=True,
    help="full: each finding with its code, a caret and the fix; concise: one line a finding; text: full's "
    "old name; json, sarif, github (annotations), gitlab (code quality).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--report",
    "reports",
    multiple=True,
    callback=_report_spec,
    metavar="FORMAT:PATH",
    help="Also write a report in FORMAT to PATH (repeatable): --report sarif:ftaudit.sarif --report json:r.json.",
)
@click.option("--statistics", is_flag=True, help="Print how many findings each rule has, instead of the findings.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "note"]),
    default="note",
    show_default=True,
    help="Exit 1 only for findings of this level or above (error: warnings and notes do not fail).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings count (tool errors still exit 2).")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only findings not in this baseline (see `ftaudit baseline write`).",
)
@click.option(
    "--baseline-commit",
    metavar="REF",
    help="Report only findings that did not exist at this git commit (PR mode: e.g. origin/main); "
    "REF's versions of the changed files are read from git's objects and scanned (docs/ci.md).",
)
@click.option(
    "--warn-unused-ignores",
    is_flag=True,
    help="Report `ftaudit: ignore` comments (and NOLINT, noqa markers) that suppress nothing.",
)
@click.option("--show-suppressed", is_flag=True, help="Also print suppressed findings (text format).")
@click.option("--sarif-category", help="SARIF runs[].automationDetails.id, to tell several uploads apart.")
@click.option(
    "--fix",
    is_flag=True,
    help="Declare free-threading support (FT401-FT404) in modules with no hazards left, and switch buffers that "
    "never leave their function from PyObject_Malloc to PyMem_Malloc (FT206); refuse the others, saying why.",
)
@click.option("--diff", "show_diff", is_flag=True, help="Print the --fix edits as a unified diff; write nothing.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour in text output (auto: on a terminal or with FORCE_COLOR/CLICOLOR_FORCE, never with NO_COLOR).",
)
def scan(
    fmt: str,
    output: Path | None,
    reports: list[ReportSpec],
    statistics: bool,
    fail_on: str,
    exit_zero: bool,
    baseline_file: Path | None,
    baseline_commit: str | None,
    warn_unused_ignores: bool,
    show_suppressed: bool,
    sarif_category: str | None,
    fix: bool,
    show_diff: bool,
    color: str,
    show_settings: bool,
    show_files: bool,
    **kw: Any,
) -> None:
    """Scan files and directories for free-threading hazards."""
    from .outcome import exit_code
    from .report import outputs
    from .report import text as text_report

    if show_settings or show_files:
        from .showsettings import show

        sys.exit(show(_options(kw), show_settings, show_files))
    if statistics and fmt not in STATISTICS_FORMATS:
        raise click.UsageError(f"--statistics prints counts as text or json, not {fmt}")
    baseline = None
    if baseline_file is not None:
        try:
            baseline = Baseline.load(baseline_file)
        except BaselineError as err:
            raise click.UsageError(str(err)) from err
    result, cat = _run(kw, baseline, warn_unused_ignores, baseline_commit)
    if fix or show_diff:
        result = _fix(result, list(kw["paths"]), show_diff, kw["quiet"], kw["verbose"])
    colour = use_colour(color, output is None and sys.stdout.isatty(), os.environ)
    style = text_report.Style(colour and outputs.ALIASES.get(fmt, fmt) in outputs.TEXT_FORMS)
    stderr_style = text_report.Style(use_colour(color, _stderr_is_tty(), os.environ))
    # The text forms sum up repeated problems by cause at the report's end; other formats, on stderr.
    in_report = outputs.ALIASES.get(fmt, fmt) in outputs.TEXT_FORMS and not statistics
    _report_problems(result, kw, stderr_style, causes_here=not in_report)
    for spec in reports:  # extra reports: never coloured, always complete
        _write_or_exit(spec.path, outputs.render(spec.fmt, result, cat, sarif_category), f"{spec.fmt} report")
    if "sarif" in [fmt, *(s.fmt for s in reports)]:
        _warn_display_limit(result)
    if statistics:
        report = outputs.statistics(fmt, result, cat)
    else:
        report = outputs.render(fmt, result, cat, sarif_category, kw["quiet"], show_suppressed, style)
    if output is not None:
        _write_or_exit(output, report, "report")
        if not kw["quiet"]:
            click.echo(text_report.summary(result), err=True)
    else:
        click.echo(report, nl=False, color=style.colour)
    sys.exit(exit_code(result, fail_on, exit_zero))


def _warn_display_limit(result: Any) -> None:
    """A warning on stderr when a SARIF run holds more results than GitHub code scanning shows."""
    from .report import sarif

    if len(result.findings) > sarif.GITHUB_DISPLAY_LIMIT:
        click.echo(f"ftaudit: warning: {sarif.too_many_results(len(result.findings))}", err=True)


def _fix(result: Any, paths: list[Path], show_diff: bool, quiet: bool, verbose: bool = False) -> Any:
    """Apply (or, with --diff, print and exit) the edits; the result without the findings they fixed.
    Refused declarations are always said; refused FT206 buffers with --diff or -v (the finding itself
    stays in the report). Exit codes with --diff, as ruff's: 1 when there are edits, 0 when none, 2 on
    errors."""
    from . import fix as fixes

    p = fixes.plan(result, [Path(x) for x in paths])
    for r in p.refused:
        if r.rule == "FT206" and not (show_diff or verbose):
            continue
        what = f"module `{r.module}`: " if r.module else ""
        click.echo(f"{r.path}: not fixed: {what}{r.reason}", err=True)
    if show_diff:
        click.echo(p.diff(), nl=False)
        sys.exit(2 if result.tool_errors else 1 if p.files else 0)
    failed = fixes.write(p)
    for r in failed:
        click.echo(f"{r.path}: not fixed: {r.reason}", err=True)
    written = {r.path for r in failed}
    declared = [m for m in p.declared if m.path not in written]
    if not quiet:
        for m in declared:
            click.echo(f"{m.path}: fixed: declared free-threading support for module `{m.name}`", err=True)
        for f in p.buffers:
            if f.path not in written:
                click.echo(
                    f"{f.path}: fixed: FT206 at line {f.span.line}: the buffer's calls now use PyMem_*", err=True
                )
    fixed = {id(f) for f in p.fixed if f.path not in written}
    result.findings = [f for f in result.findings if id(f) not in fixed]
    if failed:
        result.tool_errors += len(failed)
    return result


MODULE_FORMATS = ("text", "json", "markdown", "html")


@main.command()
@scan_options
@click.option("--format", "fmt", type=click.Choice(MODULE_FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
def modules(fmt: str, output: Path | None, **kw: Any) -> None:
    """Per extension module: its files, findings and whether it can declare free-threading support.

    Runs the same scan as `ftaudit scan` (same options). Exit 1 when a module declares support while
    hazards remain (declared but hazardous), 2 on a tool error, else 0."""
    from .readiness import DECLARED_HAZARDOUS, readiness
    from .report import modules as modules_report

    result, _cat = _run(kw)
    _report_problems(result, kw, Style(use_colour("auto", _stderr_is_tty(), os.environ)))
    if fmt == "html":
        from .report.modules_html import render_html

        report = render_html(result)
    else:
        render = {"json": modules_report.render_json, "markdown": modules_report.render_markdown}
        report = render.get(fmt, modules_report.render_text)(result)
    if output is not None:
        _write_or_exit(output, report, "report")
    else:
        click.echo(report, nl=False)
    hazardous = any(r.verdict == DECLARED_HAZARDOUS for r in readiness(result.modules, result.findings))
    not_found = any(p.code == "not-found" for p in result.problems)
    sys.exit(2 if result.tool_errors or not_found else 1 if hazardous else 0)


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
    from .selection import config_selectors

    if no_config:
        return Config()
    path = config_file or find_config(paths)
    if path is None:
        return Config()
    try:
        config = load_config(path)
        where = f"{path} [tool.ftaudit]" if path.name == "pyproject.toml" else str(path)
        for key, selectors in config_selectors(config.values).items():
            _check_rule_patterns(cat, [s.upper() for s in selectors], f"{where} {key}")
        config.apply(cat)  # names a `thread-safe-libraries` entry the catalogue does not know
    except (ConfigError, click.UsageError) as err:
        # One line, not click's usage text: the command line is fine, the file is not.
        click.echo(f"ftaudit: error: {err}", err=True)
        sys.exit(2)
    return config


@main.command()
@click.option("--select", multiple=True, help="Show only these rule ids or prefixes.")
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: a list of the rules with every catalogue field (docs/output.md).",
)
def rules(select: tuple[str, ...], fmt: str) -> None:
    """List the rule catalogue."""
    cat = catalogue_mod.load()
    sel = _split(select)
    if fmt == "json":
        from .report.rules_json import render

        click.echo(render([info for rid, info in cat.rules.items() if not sel or matches(rid, sel)]), nl=False)
        return
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
    click.echo(rule_markdown(info, cat.libraries))
