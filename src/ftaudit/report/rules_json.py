"""`ftaudit rules --format json`: the catalogue's rules as a JSON list, one object a rule, with the
catalogue's own field names (catalogue.RuleInfo) plus `help_uri` and the SARIF security-severity."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict

from ..catalogue import RuleInfo
from .sarif import SECURITY_SEVERITY


def render(rules: Iterable[RuleInfo]) -> str:
    rows = [
        {**asdict(info), "help_uri": info.help_uri, "security_severity": SECURITY_SEVERITY[info.level]}
        for info in rules
    ]
    return json.dumps(rows, indent=2) + "\n"
