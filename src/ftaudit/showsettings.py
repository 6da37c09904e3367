"""`scan --show-settings` and `scan --show-files`: what a scan would use, without scanning.

`settings(prep, opts)` is the one description of a scan's settings, a plain dict of
strings, lists and dicts (JSON-ready), so the text printer here and any report that
records the settings (SARIF run properties, for instance) show the same facts. A new
kind of setting (headers found without a build, say) is one more entry in it.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import click

from .buildfiles.defines import BuildDefines
from .config import ConfigError
from .names import display
from .scan import Prepared, ScanOptions, prepare


def frontend_availability() -> dict[str, bool]:
    """Which C/C++ parsers can be imported here (without loading them)."""
    return {
        "clang": importlib.util.find_spec("clang") is not None,
        "treesitter": importlib.util.find_spec("tree_sitter") is not None,
        "cython": importlib.util.find_spec("Cython") is not None,
    }


def settings(prep: Prepared, opts: ScanOptions) -> dict[str, Any]:
    """The settings of the scan `prep` describes (files not read, nothing parsed)."""
    flags = prep.flags
    db = flags.compile_db
    config = prep.config
    levels = {rid: prep.catalogue.rules[rid].level for rid in prep.rule_ids}
    return {
        "configuration": str(config.path) if config.path is not None else None,
        "root": str(prep.root),
        "paths": [str(p) for p in opts.paths],
        "frontend": {"choice": prep.frontend, "installed": frontend_availability()},
        "python-include": list(flags.python_dirs),
        "python-headers": flags.python_headers.describe(),
        "other-include": list(flags.external_dirs),
        "include-dirs": list(flags.include_dirs),
        "tree-include-dirs": list(flags.tree_dirs),
        "defines": list(flags.defines),
        "build-defines": build_defines(flags.build_defines),
        "compile-database": os.path.abspath(db.path) if db is not None and db.path else None,
        "cython-directives": config.cython_directives(),
        "rules": levels,
        "per-file-ignores": prep.per_file_ignores.describe(),
        "exclude": [
            {"origin": p.origin, "relative-to": p.base, "patterns": list(p.lines)} for p in prep.pathfilter.exclude
        ],
        "respect-gitignore": prep.pathfilter.gitignore,
        "vendored": config.list("vendored"),
        "not-vendored": config.list("not-vendored"),
        "built": config.list("built"),
        "build-description": "known" if prep.description.known else "unknown",
        "files": len(prep.files),
    }


SHOWN_ENTRIES = 50  # build-file entries `--show-settings` lists; the rest are counted
SHOWN_OPTIONS = 20  # options shown per entry


def build_defines(defines: BuildDefines) -> list[str]:
    """The -D/-U options the build files give (buildfiles/defines.py), one line per build-file entry: where
    it is, what it covers (a directory and below, or how many listed sources), its C and C++ options;
    at most SHOWN_ENTRIES lines of at most SHOWN_OPTIONS options each, then what was left out."""
    out: list[str] = []
    for e in defines.entries[:SHOWN_ENTRIES]:
        covers = f"{e.directory}/ and below" if e.directory else f"{len(e.sources):,} source(s)"
        langs = [("C", e.c), ("C++", e.cpp)] if e.c != e.cpp else [("C/C++", e.c)]
        shown = "; ".join(f"{lang}: {_first(opts)}" for lang, opts in langs if opts)
        out.append(f"{e.path}:{e.line} ({covers}): {shown}")
    if len(defines.entries) > SHOWN_ENTRIES:
        out.append(f"... {len(defines.entries) - SHOWN_ENTRIES:,} more")
    return out


def _first(options: tuple[str, ...]) -> str:
    more = f" ... {len(options) - SHOWN_OPTIONS:,} more" if len(options) > SHOWN_OPTIONS else ""
    return " ".join(options[:SHOWN_OPTIONS]) + more


def render(values: dict[str, Any]) -> str:
    """`values` as text: one `key: value` line each, lists and tables indented below their key."""
    lines: list[str] = []
    for key, value in values.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            lines.append(f"{key}:")
            lines += [f"  {display(v)}" for v in value]
        elif isinstance(value, (list, dict)) and value:
            lines.append(f"{key}:")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                shown = _inline(v)
                lines.append(f"  {shown}" if isinstance(value, list) else f"  {k}: {shown}")
        else:
            shown = "(none)" if value is None or value == [] or value == {} else value
            lines.append(f"{key}: {display(str(shown))}")
    return "\n".join(lines) + "\n"


def _inline(value: Any) -> str:
    """A value on one line: a table as `key: value; ...`, a list space-separated."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_inline(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(_inline(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return display(str(value))


def show(opts: ScanOptions, show_settings: bool, show_files: bool) -> int:
    """Print the settings and/or the files; the exit code: 0, or 2 when the setup has an error
    (a path not found, a compile database that cannot be used), which is printed on stderr."""
    try:
        prep = prepare(opts)
    except ConfigError as err:
        click.echo(f"ftaudit: error: {err}", err=True)
        return 2
    if show_settings:
        click.echo(render(settings(prep, opts)), nl=False)
    if show_files:
        for sf in prep.files:
            click.echo(display(str(sf.path)))
    errors = [p for p in [*prep.problems, *prep.db_problems] if p.level == "error"]
    for p in errors:
        click.echo(f"{display(p.path)}: error: {p.message} [{p.code}]", err=True)
    return 2 if errors else 0
