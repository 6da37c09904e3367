"""Command line: `ftaudit scan`, `ftaudit rules`, `ftaudit explain`.

Exit codes: 0 nothing found, 1 findings, 2 usage or tool error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from . import catalogue as catalogue_mod
from .catalogue import Catalogue
from .config import Config, ConfigError, find_config, load_config
from .engine import matches

FORMATS = ("text", "json", "sarif")


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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--select", multiple=True, help="Rule ids or prefixes to run (e.g. FT2,FT301).")
@click.option("--ignore", multiple=True, help="Rule ids or prefixes to skip.")
@click.option(
    "--compile-commands",
    type=click.Path(exists=True, path_type=Path),
    help="compile_commands.json (or its directory); found at the root or in build/ otherwise.",
)
@click.option("-I", "--include", "includes", multiple=True, help="Extra include directory (repeatable).")
@click.option("-D", "defines", multiple=True, help="Preprocessor macro NAME or NAME=VALUE (repeatable).")
@click.option(
    "--python-include",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Python headers to parse against (default: the running interpreter's).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Paths in reports are relative to this (default: the git work tree, else the cwd).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: the nearest pyproject.toml with [tool.ftaudit]).",
)
@click.option("--no-config", is_flag=True, help="Ignore configuration files.")
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no summary, no problem messages.")
@click.option("-v", "--verbose", is_flag=True, help="Also list each scanned file and its frontend.")
def scan(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    compile_commands: Path | None,
    includes: tuple[str, ...],
    defines: tuple[str, ...],
    python_include: tuple[Path, ...],
    root: Path | None,
    config_file: Path | None,
    no_config: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Scan files and directories for free-threading hazards."""
    from .report import json as json_report
    from .report import sarif as sarif_report
    from .report import text as text_report
    from .scan import ScanOptions
    from .scan import scan as run_scan

    cat = catalogue_mod.load()
    sel, ign = _split(select), _split(ignore)
    _check_rule_patterns(cat, sel, "--select")
    _check_rule_patterns(cat, ign, "--ignore")
    config = _config(list(paths), config_file, no_config, cat)
    opts = ScanOptions(
        paths=list(paths),
        select=sel,
        ignore=ign,
        include_dirs=list(includes),
        defines=list(defines),
        python_include=[str(p) for p in python_include] or None,
        compile_commands=compile_commands,
        root=root,
        config=config,
    )
    try:
        result = run_scan(opts)
    except Exception as err:
        click.echo(f"ftaudit: error: {type(err).__name__}: {err}", err=True)
        sys.exit(2)
    if not quiet:
        for p in result.problems:
            click.echo(text_report.problem_line(p), err=True)
        if verbose:
            for rec in result.files:
                click.echo(f"{rec.path}: {rec.language}, {rec.frontend}", err=True)
    if fmt == "json":
        report = json_report.render(result, cat)
    elif fmt == "sarif":
        report = sarif_report.render(result, cat)
    else:
        report = text_report.render(result, cat, quiet)
    if output is not None:
        output.write_text(report, encoding="utf-8")
        if fmt != "text" and not quiet:
            click.echo(text_report.render(result, cat, quiet=False).splitlines()[-1], err=True)
    else:
        click.echo(report, nl=False)
    not_found = any(p.code == "not-found" for p in result.problems)
    if result.tool_errors or not_found:
        sys.exit(2)
    sys.exit(1 if result.findings else 0)


def _config(paths: list[Path], config_file: Path | None, no_config: bool, cat: Catalogue) -> Config:
    """The configuration in effect; a broken one is a usage error (exit 2) naming the key."""
    if no_config:
        return Config()
    path = config_file or find_config(paths)
    if path is None:
        return Config()
    try:
        config = load_config(path)
    except ConfigError as err:
        raise click.UsageError(str(err)) from err
    where = f"{path} [tool.ftaudit]"
    _check_rule_patterns(cat, [s.upper() for s in config.list("select")], f"{where} select")
    _check_rule_patterns(cat, [s.upper() for s in config.list("ignore")], f"{where} ignore")
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
