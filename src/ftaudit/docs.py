"""Rule documentation rendered from the catalogue (for `explain` and docs/rules/)."""

from __future__ import annotations

from collections.abc import Sequence

from .catalogue import Library, RuleInfo


def code_language(info: RuleInfo) -> str:
    """The fence language of a rule's examples."""
    return {("cpp",): "cpp", ("cython",): "cython"}.get(info.languages, "c")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _globs(patterns: Sequence[str]) -> str:
    return ", ".join(f"`{p}`" for p in patterns)


def libraries_markdown(rule_id: str, libraries: Sequence[Library]) -> str:
    """The catalogue's libraries as a section of FT302's (unsafe calls) or FT303's (handles) page."""
    if rule_id == "FT302":
        rows = [lib for lib in libraries if lib.unsafe]
        head = "| library (`thread-safe-libraries` name) | calls that need a lock | condition | fix | source |"
        cells = [f"{_globs(lib.unsafe)}" for lib in rows]
        title = "Libraries ftaudit knows"
        intro = (
            "Calls of these functions are reported when no lock is held (patterns are globs; the library's "
            "reentrant API is not reported: "
            + "; ".join(
                f"{lib.title}: {_globs(lib.reentrant + lib.reentrant_headers)}"
                for lib in rows
                if lib.reentrant or lib.reentrant_headers
            )
            + ")."
        )
    elif rule_id == "FT303":
        rows = [lib for lib in libraries if lib.handles]
        head = "| library (`thread-safe-libraries` name) | handle types | condition | fix | source |"
        cells = [_globs(lib.handles) + (f" (not: {_globs(lib.readonly)})" if lib.readonly else "") for lib in rows]
        title = "Handles ftaudit knows"
        intro = "A field of one of these types, passed to a function of its library, is a use of the handle."
    else:
        return ""
    lines = [f"\n## {title}\n", intro, "", head, "|---|---|---|---|---|"]
    for lib, cell in zip(rows, cells, strict=True):
        lines.append(
            f"| {lib.title} (`{lib.name}`) | {cell} | {_cell(lib.condition)} | {_cell(lib.fix)} | <{lib.source}> |"
        )
    return "\n".join(lines) + "\n"


def rule_markdown(info: RuleInfo, libraries: Sequence[Library] = ()) -> str:
    """A rule's page: metadata, rationale, examples, fix, references (and, for the rules that use
    it, the library catalogue as a table)."""
    lang = code_language(info)
    table = libraries_markdown(info.id, libraries)
    refs = "\n".join(f"- {r}" for r in info.references)
    config = (
        f"\nWith this configuration in `pyproject.toml`:\n\n```toml\n[tool.ftaudit]\n{info.example_config}\n```\n"
        if info.example_config
        else ""
    )
    bad_build, good_build = _build(info, info.example_bad_build), _build(info, info.example_good_build)
    return f"""# {info.id} {info.name}

{info.summary}.

- Default level: {info.level}
- Precision: {info.precision}
- Enabled by default: {"yes" if info.enabled else "no"}
- Languages: {", ".join(info.languages)}

## Why is this a hazard?

{info.rationale}
{table}
## Example
{config}
```{lang}
{info.example_bad}```
{bad_build}
## Fix

{info.fix}

```{lang}
{info.example_good}```
{good_build}
## References

{refs}
"""


def _build(info: RuleInfo, text: str) -> str:
    """The build file an example sits next to, as a block after it ("" when there is none)."""
    if not text:
        return ""
    fence = "cmake" if info.example_build == "CMakeLists.txt" else ""
    return f"\nWith this `{info.example_build}` next to it:\n\n```{fence}\n{text}```\n"


def config_markdown() -> str:
    """The configuration reference, from the same key table validation uses."""
    from .config import KEYS

    kinds = {"list": "list of strings", "table": "table of strings", "string": "string"}
    lines = [
        "# Configuration",
        "",
        "Generated from `src/ftaudit/config.py` by `scripts/gen_docs.py`.",
        "",
        "ftaudit reads the `[tool.ftaudit]` table of the nearest `pyproject.toml`, walking up from the",
        "first scanned path (`--config FILE` names one; `--no-config` ignores them). Any other TOML",
        "file given to `--config` holds the keys at its top level. Relative paths are relative to the",
        "configuration file. Unknown keys and wrong types stop the scan with exit code 2 and a message",
        "naming the key. Command-line `--select` replaces `select`; `--ignore`, `-I` and `-D` add to",
        "`ignore`, `include-dirs` and `defines`.",
        "",
        "| key | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{k.name}` | {kinds[k.kind]} | {k.help} |" for k in KEYS]
    lines += ["", "## Example", "", "```toml", "[tool.ftaudit]"]
    lines += [f"{k.name} = {k.example}" for k in KEYS]
    lines += ["```", ""]
    return "\n".join(lines)
