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


def _default(value: object) -> str:
    """A key's default as TOML, for the reference table."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (int, float)):
        return f"`{value:g}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return "`{}`" if not value else f"`{value}`"


_CONFIG_INTRO = """\
# Configuration

Generated from `src/ftaudit/config.py` by `scripts/gen_docs.py`; the same key table
validates configurations and generates the JSON Schema
[ftaudit.schema.json](ftaudit.schema.json) (for editors: taplo / Even Better TOML take
`#:schema` or a `$schema` mapping).

## Where ftaudit finds it

Walking up from the first scanned path, the first directory that has one of these
files decides, in this order (ruff's, with its names):

1. `.ftaudit.toml`, keys at the top level;
2. `ftaudit.toml`, keys at the top level;
3. `pyproject.toml` with a `[tool.ftaudit]` table (one without it is passed over).

`--config FILE` names the file instead (any name: a `pyproject.toml`, or keys at the
top level); `--no-config` uses none. Relative paths and patterns are relative to the
configuration file's directory. Unknown keys, wrong types and rule selectors that
match no rule (`FT5`, `FT999`) stop the scan with exit code 2 and a message naming the
file and key. `scan --show-settings` prints the file used and every setting the scan
would use; `scan --show-files` the files it would analyse.

## The command line

The command line is a layer over the file, as in ruff: `--select` replaces `select`
(and the file's `ignore` with it: `--select FT101` runs FT101 even where the file
ignores it), `--extend-select`, `--ignore` and `--extend-ignore` add to what the file
chose, and within a layer the most specific selector decides (`select = ["FT1"]`,
`ignore = ["FT101"]`: FT1 without FT101; `select = ["FT101"]`, `ignore = ["FT1"]`:
FT101). `--exclude` replaces `exclude`, `--extend-exclude` adds; their patterns are
relative to the working directory. `--per-file-ignores GLOB:RULES` replaces the file's
table and `--extend-per-file-ignores GLOB:RULES` adds to it. `--respect-gitignore` /
`--no-respect-gitignore` override `respect-gitignore`. `-I` and `-D` add to
`include-dirs` and `defines`; `--frontend` and `--compile-commands` replace theirs.

## What is walked

Directories are walked depth first; a file or directory is left out when

- `exclude` (by default: hidden directories, `build/`, `dist/`, `node_modules/`,
  `__pycache__/`, `venv/`, `env/`, `site-packages/`) then `extend-exclude`, read as
  one list of gitignore patterns (the last match decides, `!` re-includes), match it:
  `tests/*.c` matches `tests/u.c` and not `tests/sub/u.c`, `/gen` only the `gen` beside
  the configuration file, `gen/` only directories;
- a `.gitignore` ignores it (`respect-gitignore`), inside a git work tree (a `.git` at
  or above the scanned directory): the scanned directory's own and the nested ones,
  and those of the directories above it up to the work tree's top, a deeper file
  overriding a shallower one, as git reads them. As in git, a file git tracks is never
  ignored (ftaudit reads `.git/index`; ujson's `.gitignore` says `lib/`, where its C
  code is committed). Outside a work tree (an unpacked sdist) `.gitignore` files are
  not read: they describe a checkout, not what the sdist ships. Git is not run, and
  its global and `.git/info/exclude` files are not read. A `.gitignore` that is a
  symbolic link, not a regular file, over 256 KiB or 1,000 patterns, or beyond 64
  nested ones or 10,000 patterns in one scan is not used (a `gitignore` note says so);
- it is a directory holding a `pyvenv.cfg` (a virtual environment): always.

A path named on the command line is scanned whatever these say. With `-v`, one
`excluded` note per reason lists the directories left out.

## Keys

"""


def config_markdown() -> str:
    """The configuration reference, from the same key table validation uses."""
    from .config import KEYS, KINDS

    lines = [_CONFIG_INTRO.rstrip("\n"), "", "| key | type | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{k.name}` | {KINDS[k.kind]} | {_default(k.default)} | {k.help} |" for k in KEYS]
    lines += ["", "## Example", "", "```toml", "[tool.ftaudit]"]
    lines += [f"{k.name} = {k.example}" for k in KEYS]
    lines += ["```", ""]
    return "\n".join(lines)
