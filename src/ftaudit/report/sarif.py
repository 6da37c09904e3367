"""SARIF 2.1.0 output, as GitHub code scanning expects it, built as plain JSON data.

Property names are the schema's (https://docs.oasis-open.org/sarif/sarif/v2.1.0/);
values that equal the schema's defaults are left out. tests/test_sarif.py
validates the log against the schema vendored in tests/schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import INFORMATION_URI, __version__
from ..catalogue import Catalogue, RuleInfo
from ..docs import code_language
from ..facts import Problem, Span
from ..findings import Finding
from ..fingerprint import LineReader
from ..names import fs_bytes
from ..scan import ScanResult
from .columns import Utf16Columns

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub code scanning shows at most this many results of a run (the rest are uploaded but not displayed).
GITHUB_DISPLAY_LIMIT = 5000
# GitHub's `security-severity` (a string number, 0.0-10.0: 9+ critical, 7+ high, 4+ medium, else low),
# from the rule's level: a race on an error-level hazard corrupts memory, a note is a missing declaration.
SECURITY_SEVERITY = {"error": "7.0", "warning": "5.0", "note": "2.0"}
SRCROOT = "%SRCROOT%"
_URI_SAFE = "/!$&'()*+,;=@"  # RFC 3986 sub-delims and "@" stand for themselves in a path; ":" would look like a scheme


def _help_markdown(info: RuleInfo) -> str:
    lang = code_language(info)
    return (
        f"**{info.id} {info.name}**: {info.summary}\n\n## Why is this a hazard?\n{info.rationale}\n\n"
        f"## Example\n```{lang}\n{info.example_bad}```\n\n## Fix\n{info.fix}\n\n```{lang}\n{info.example_good}```\n\n"
        + "## References\n"
        + "\n".join(f"- {r}" for r in info.references)
        + "\n"
    )


def _help_text(info: RuleInfo) -> str:
    return f"{info.summary}\n\n{info.rationale}\n\nFix: {info.fix}"


def _descriptor(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": " ".join(info.rationale.split())},
        "help": {"text": _help_text(info), "markdown": _help_markdown(info)},
        "helpUri": info.help_uri,
        "defaultConfiguration": {"level": info.level, **({} if info.enabled else {"enabled": False})},
    }


def _region(span: Span) -> dict[str, int]:
    return {"startLine": span.line, "startColumn": span.col, "endLine": span.end_line, "endColumn": span.end_col}


def _artifact(path: str) -> dict[str, str]:
    return {"uri": _uri(path), **({} if _absolute(path) else {"uriBaseId": SRCROOT})}


def _location(
    path: str,
    span: Span | None,
    message: str | None = None,
    ident: int | None = None,
    columns: Utf16Columns | None = None,
) -> dict[str, Any]:
    if span is not None and columns is not None:
        span = columns.span(path, span)
    physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
    if span is not None:
        physical["region"] = _region(span)
    loc: dict[str, Any] = {} if ident is None else {"id": ident}
    loc["physicalLocation"] = physical
    if message:
        loc["message"] = {"text": message}
    return loc


def _absolute(path: str) -> bool:
    return Path(path).is_absolute()


def _uri(path: str) -> str:
    """A file's URI: `file://` when absolute, else relative to %SRCROOT%; percent-encoded from the
    name's bytes, so a newline or a byte that is not UTF-8 is `%0A`, `%FF`."""
    if _absolute(path):
        return Path(path).as_uri()
    return quote(fs_bytes(path), safe=_URI_SAFE)


def _notification(p: Problem) -> dict[str, Any]:
    return {
        "message": {"text": f"{p.message} [{p.code}]"},
        "descriptor": {"id": p.code},
        "level": "error" if p.level == "error" else "warning" if p.level == "warning" else "note",
        "locations": [_location(p.path, Span(p.line, 1, p.line, 1) if p.line else None)],
    }


def _result(f: Finding, index: int, catalogue: Catalogue, columns: Utf16Columns) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": f.level,
        "message": {"text": f.text},
        "locations": [_location(f.path, f.span, columns=columns)],
    }
    if f.related:
        res["relatedLocations"] = [
            _location(r.path or f.path, r.span, r.message, i + 1, columns) for i, r in enumerate(f.related)
        ]
    res["partialFingerprints"] = {"ftauditFingerprint/v1": f.fingerprint}
    if f.suppression is not None:
        sup = {"kind": f.suppression.kind}
        if f.suppression.justification:
            sup["justification"] = f.suppression.justification
        res["suppressions"] = [sup]
    res["properties"] = {"precision": catalogue.rules[f.rule].precision}
    return res


def build(result: ScanResult, catalogue: Catalogue, category: str | None = None) -> dict[str, Any]:
    """The SARIF log of `result` as plain JSON data (one run)."""
    rule_ids = sorted(set(result.rules) | {f.rule for f in result.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    columns = Utf16Columns(LineReader(result.root), {rec.path for rec in result.files if rec.frontend == "cython"})
    descriptors = []
    for rid in rule_ids:
        info = catalogue.rules[rid]
        desc = _descriptor(info)
        desc["properties"] = {
            "tags": list(info.tags),
            "precision": info.precision,
            "problem.severity": info.level,
            "security-severity": SECURITY_SEVERITY[info.level],
        }
        descriptors.append(desc)
    invocation: dict[str, Any] = {"executionSuccessful": result.tool_errors == 0}
    notifications = [_notification(p) for p in result.problems]
    if len(result.findings) > GITHUB_DISPLAY_LIMIT:
        notifications.append(
            {
                "message": {"text": too_many_results(len(result.findings))},
                "descriptor": {"id": "too-many-results"},
                "level": "warning",
            }
        )
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "ftaudit",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
    }
    if category:
        run["automationDetails"] = {"id": category if category.endswith("/") else category + "/"}
    run["columnKind"] = "utf16CodeUnits"
    run["originalUriBaseIds"] = {SRCROOT: {"uri": result.root.as_uri() + "/"}}
    run["invocations"] = [invocation]
    if result.headers:  # which Python and project headers libclang parsed against (flags.header_facts)
        run["properties"] = {"ftaudit.headers": result.headers}
    run["results"] = [_result(f, index[f.rule], catalogue, columns) for f in result.findings]
    for res, fixes in zip(run["results"], _fixes(result), strict=True):
        if fixes:
            res["fixes"] = fixes
    # Which frontend analysed each file (libclang, tree-sitter, Cython), or why it was skipped.
    run["artifacts"] = [
        {"location": _artifact(rec.path), "properties": {"frontend": rec.frontend, "language": rec.language}}
        for rec in result.files
    ]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


_FIXABLE = ("FT206", "FT401", "FT402", "FT403", "FT404")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _fixes(result: ScanResult) -> list[list[dict[str, Any]]]:
    """Per finding of `result`, the SARIF `fixes` of the edit `ftaudit scan --fix` would make for it
    (fix.plan: a declaration of a module ready to declare, an FT206 buffer that never leaves its
    function), else []. Offsets are UTF-16 code units of the file as read (the run's columnKind)."""
    none: list[list[dict[str, Any]]] = [[] for _ in result.findings]
    if not any(f.rule in _FIXABLE for f in result.findings):
        return none
    from ..fix import plan  # fix builds on the scan result; imported only when a fix may exist

    changes = plan(result, result.paths or [result.root]).changes
    out = none
    for i, f in enumerate(result.findings):
        edits = changes.get(id(f))
        if not edits:
            continue
        by_file: dict[str, list[dict[str, Any]]] = {}
        for shown, ft, e in edits:
            by_file.setdefault(shown, []).append(
                {
                    "deletedRegion": {
                        "charOffset": _utf16(ft.text[: e.offset]),
                        "charLength": _utf16(ft.text[e.offset : e.offset + e.length]),
                    },
                    "insertedContent": {"text": e.text},
                }
            )
        what = (
            "use the PyMem_* allocator for this buffer, its reallocations and frees"
            if f.rule == "FT206"
            else "declare free-threading support for this module (it has no hazard left)"
        )
        out[i] = [
            {
                "description": {"text": what},
                "artifactChanges": [
                    {"artifactLocation": _artifact(path), "replacements": reps}
                    for path, reps in sorted(by_file.items())
                ],
            }
        ]
    return out


def too_many_results(count: int) -> str:
    """The warning for a run GitHub code scanning will not show in full."""
    return (
        f"{count} results in one run: GitHub code scanning displays at most {GITHUB_DISPLAY_LIMIT:,} per run; "
        "narrow the scan (--select, a baseline, --baseline-commit) to see them all"
    )


def render(result: ScanResult, catalogue: Catalogue, category: str | None = None) -> str:
    return json.dumps(build(result, catalogue, category), indent=2) + "\n"
