"""Regenerate docs/rules/*.md, docs/configuration.md and docs/ftaudit.schema.json (tests fail when stale)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ftaudit.catalogue import load  # noqa: E402
from ftaudit.docs import config_markdown, rule_markdown  # noqa: E402
from ftaudit.schema import schema_text  # noqa: E402


def expected() -> dict[Path, str]:
    cat = load()
    out = {ROOT / "docs" / "rules" / f"{rid}.md": rule_markdown(info, cat.libraries) for rid, info in cat.rules.items()}
    index = [
        "# Rules",
        "",
        "Generated from `rules/` by `scripts/gen_docs.py`.",
        "",
        "| id | name | level | summary |",
        "|---|---|---|---|",
    ]
    index += [f"| [{rid}]({rid}.md) | {i.name} | {i.level} | {i.summary} |" for rid, i in cat.rules.items()]
    out[ROOT / "docs" / "rules" / "README.md"] = "\n".join(index) + "\n"
    out[ROOT / "docs" / "configuration.md"] = config_markdown()
    out[ROOT / "docs" / "ftaudit.schema.json"] = schema_text()
    return out


if __name__ == "__main__":
    for path, text in expected().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
