"""The JSON Schema of ftaudit's configuration, generated from config.KEYS.

The same table that validates a configuration describes it for editors (taplo,
Even Better TOML, VS Code's JSON schema store): `[tool.ftaudit]` of a pyproject.toml
and the top level of `ftaudit.toml` / `.ftaudit.toml` have this shape.
docs/ftaudit.schema.json is this function's output (a test fails when stale;
`python scripts/gen_docs.py` rewrites it).
"""

from __future__ import annotations

import json
from typing import Any

from .config import KEYS, Key

SCHEMA_ID = "https://github.com/ftaudit/ftaudit/blob/main/docs/ftaudit.schema.json"


def _property(key: Key) -> dict[str, Any]:
    prop: dict[str, Any] = {"description": key.help}
    string: dict[str, Any] = {"type": "string"}
    if key.kind == "list":
        items = dict(string)
        if key.item is not None:
            items["pattern"] = f"^(?:{key.item.pattern})$"
        prop |= {"type": "array", "items": items}
    elif key.kind == "bool":
        prop["type"] = "boolean"
    elif key.kind == "number":
        prop |= {"type": "number", "minimum": 0}
    elif key.kind == "table":
        values = {"type": "string", "enum": list(key.choices)} if key.choices else string
        prop |= {"type": "object", "additionalProperties": values}
    elif key.kind == "list-table":
        prop |= {"type": "object", "additionalProperties": {"type": "array", "items": string}}
    else:
        prop["type"] = "string"
        if key.choices:
            prop["enum"] = list(key.choices)
    if key.default is not None:
        prop["default"] = key.default
    return prop


def config_schema() -> dict[str, Any]:
    """The schema (draft 2020-12) of one configuration table: every key of KEYS, no other."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ftaudit configuration",
        "description": "[tool.ftaudit] of pyproject.toml, or the top level of ftaudit.toml / .ftaudit.toml. "
        "Generated from src/ftaudit/config.py; see docs/configuration.md.",
        "type": "object",
        "properties": {key.name: _property(key) for key in KEYS},
        "additionalProperties": False,
    }


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
