"""The command line's configuration options (ruff's names), kept apart from cli.py.

`config_options` adds them to a command; `overrides` takes their values out of the
command's keyword arguments as configuration values of the same keys (config.KEYS),
which scan.py layers over the configuration file's: `--extend-select`,
`--extend-ignore`, `--per-file-ignores` (replaces the file's table),
`--extend-per-file-ignores` (adds to it), `--exclude` (replaces `exclude`),
`--extend-exclude`, `--respect-gitignore/--no-respect-gitignore`. Patterns given
on the command line are relative to the working directory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .selection import parse_cli_ignores

_MULTI = {
    "extend_select": ("--extend-select", "Rule ids or prefixes to run besides those selected (e.g. FT103)."),
    "extend_ignore": ("--extend-ignore", "Rule ids or prefixes to skip, besides those ignored."),
    "per_file_ignores": (
        "--per-file-ignores",
        "GLOB:RULES, rules not to report in matching files (replaces the configuration's table; repeatable).",
    ),
    "extend_per_file_ignores": (
        "--extend-per-file-ignores",
        "GLOB:RULES added to the configuration's per-file-ignores (repeatable).",
    ),
    "exclude": (
        "--exclude",
        "Gitignore-style patterns not to walk, replacing the configured (or default) `exclude`; "
        "comma-separated, repeatable.",
    ),
    "extend_exclude": ("--extend-exclude", "Gitignore-style patterns not to walk, besides `exclude`."),
}


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def config_option_list() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The configuration options as click decorators, in the order `--help` shows them."""
    options = [
        click.option(flag, name, multiple=True, metavar="TEXT", help=help_text)
        for name, (flag, help_text) in _MULTI.items()
    ]
    options.append(
        click.option(
            "--respect-gitignore/--no-respect-gitignore",
            "respect_gitignore",
            default=None,
            help="Leave out what .gitignore files ignore, inside a git work tree (default: the configuration's, "
            "else yes).",
        )
    )
    return options


def config_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the configuration options to a click command."""
    for option in reversed(config_option_list()):
        func = option(func)
    return func


def show_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--show-settings` and `--show-files`: print what a scan would use, exit 0 without scanning."""
    func = click.option(
        "--show-files", is_flag=True, help="Print the files the scan would analyse, one a line, and exit."
    )(func)
    return click.option(
        "--show-settings",
        is_flag=True,
        help="Print the settings the scan would use (configuration file, headers, compile database, include "
        "directories, frontend, rules, exclusions) and exit.",
    )(func)


def overrides(kw: dict[str, Any]) -> dict[str, Any]:
    """The command line's configuration values, removed from `kw`, keyed as in config.KEYS.
    Raises click.UsageError for a `--per-file-ignores` value that is not GLOB:RULES."""
    out: dict[str, Any] = {}
    values = {name: kw.pop(name, ()) for name in _MULTI}
    for name in ("extend_select", "extend_ignore", "exclude", "extend_exclude"):
        if values[name]:
            out[name.replace("_", "-")] = _split(values[name])
    try:
        if values["per_file_ignores"]:
            out["per-file-ignores"] = parse_cli_ignores(values["per_file_ignores"])
        if values["extend_per_file_ignores"]:
            out["extend-per-file-ignores"] = parse_cli_ignores(values["extend_per_file_ignores"])
    except ValueError as err:
        raise click.UsageError(f"--per-file-ignores: {err}") from err
    respect = kw.pop("respect_gitignore", None)
    if respect is not None:
        out["respect-gitignore"] = respect
    return out
