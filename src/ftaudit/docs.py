"""Rule documentation rendered from the catalogue (for `explain` and docs/rules/)."""

from __future__ import annotations

from .catalogue import RuleInfo


def rule_markdown(info: RuleInfo) -> str:
    lang = "cpp" if info.languages == ("cpp",) else "c"
    refs = "\n".join(f"- {r}" for r in info.references)
    config = (
        f"\nWith this configuration in `pyproject.toml`:\n\n```toml\n[tool.ftaudit]\n{info.example_config}\n```\n"
        if info.example_config
        else ""
    )
    return f"""# {info.id} {info.name}

{info.summary}.

- Default level: {info.level}
- Precision: {info.precision}
- Enabled by default: {"yes" if info.enabled else "no"}
- Languages: {", ".join(info.languages)}

## Why is this a hazard?

{info.rationale}

## Example
{config}
```{lang}
{info.example_bad}```

## Fix

{info.fix}

```{lang}
{info.example_good}```

## References

{refs}
"""
