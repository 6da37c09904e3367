"""SARIF 2.1.0 output built with sarif-om, as GitHub code scanning expects it.

sarif-om gives typed classes but no serialiser (its companion
jschema-to-python is unmaintained); `_to_json` walks the attrs fields and
uses their schema property names, dropping unset values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from .. import INFORMATION_URI, __version__
from ..catalogue import Catalogue, RuleInfo
from ..docs import code_language
from ..facts import Problem, Span
from ..fingerprint import LineReader
from ..names import fs_bytes
from ..scan import ScanResult
from .columns import Utf16Columns

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
_URI_SAFE = "/!$&'()*+,;=@"  # RFC 3986 sub-delims and "@" stand for themselves in a path; ":" would look like a scheme


def _to_json(obj: Any) -> Any:
    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        for f in attr.fields(type(obj)):
            value = getattr(obj, f.name)
            if value is None or (value == f.default and f.name != "level" and not isinstance(value, (list, dict))):
                continue
            out[f.metadata.get("schema_property_name", f.name)] = _to_json(value)
        return out
    if isinstance(obj, list):
        return [_to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _to_json(v) for k, v in obj.items()}
    return obj


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


def _descriptor(info: RuleInfo) -> om.ReportingDescriptor:
    return om.ReportingDescriptor(
        id=info.id,
        name=info.name,
        short_description=om.MultiformatMessageString(text=info.summary),
        full_description=om.MultiformatMessageString(text=" ".join(info.rationale.split())),
        help=om.MultiformatMessageString(text=_help_text(info), markdown=_help_markdown(info)),
        help_uri=info.help_uri,
        default_configuration=om.ReportingConfiguration(level=info.level, enabled=info.enabled),
    )


def _region(span: Span) -> om.Region:
    return om.Region(start_line=span.line, start_column=span.col, end_line=span.end_line, end_column=span.end_col)


def _location(
    path: str,
    span: Span | None,
    message: str | None = None,
    ident: int | None = None,
    columns: Utf16Columns | None = None,
) -> om.Location:
    if span is not None and columns is not None:
        span = columns.span(path, span)
    physical = om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=_uri(path), uri_base_id=None if _absolute(path) else SRCROOT),
        region=_region(span) if span else None,
    )
    return om.Location(id=ident, physical_location=physical, message=om.Message(text=message) if message else None)


def _absolute(path: str) -> bool:
    return Path(path).is_absolute()


def _uri(path: str) -> str:
    """A file's URI: `file://` when absolute, else relative to %SRCROOT%; percent-encoded from the
    name's bytes, so a newline or a byte that is not UTF-8 is `%0A`, `%FF`."""
    if _absolute(path):
        return Path(path).as_uri()
    return quote(fs_bytes(path), safe=_URI_SAFE)


def _notification(p: Problem) -> om.Notification:
    return om.Notification(
        message=om.Message(text=f"{p.message} [{p.code}]"),
        level="error" if p.level == "error" else "warning" if p.level == "warning" else "note",
        locations=[_location(p.path, Span(p.line, 1, p.line, 1) if p.line else None)],
        descriptor=om.ReportingDescriptorReference(id=p.code),
    )


def build(result: ScanResult, catalogue: Catalogue, category: str | None = None) -> dict[str, Any]:
    rule_ids = sorted(set(result.rules) | {f.rule for f in result.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    columns = Utf16Columns(LineReader(result.root), {rec.path for rec in result.files if rec.frontend == "cython"})
    results = []
    for f in result.findings:
        suppressions = (
            [om.Suppression(kind=f.suppression.kind, justification=f.suppression.justification or None)]
            if f.suppression is not None
            else None
        )
        results.append(
            om.Result(
                rule_id=f.rule,
                rule_index=index[f.rule],
                level=f.level,
                message=om.Message(text=f.message),
                locations=[_location(f.path, f.span, columns=columns)],
                related_locations=[
                    _location(r.path or f.path, r.span, r.message, i + 1, columns) for i, r in enumerate(f.related)
                ]
                or None,
                partial_fingerprints={"ftauditFingerprint/v1": f.fingerprint},
                suppressions=suppressions,
            )
        )
    descriptors = [_descriptor(catalogue.rules[rid]) for rid in rule_ids]
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="ftaudit",
                version=__version__,
                semantic_version=__version__,
                information_uri=INFORMATION_URI,
                rules=descriptors,
            )
        ),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=result.root.as_uri() + "/")},
        invocations=[
            om.Invocation(
                execution_successful=result.tool_errors == 0,
                tool_execution_notifications=[_notification(p) for p in result.problems] or None,
            )
        ],
        results=results,
        column_kind="utf16CodeUnits",
        automation_details=om.RunAutomationDetails(id=category if category.endswith("/") else category + "/")
        if category
        else None,
    )
    log = om.SarifLog(version="2.1.0", schema_uri=SCHEMA, runs=[run])
    doc: dict[str, Any] = _to_json(log)
    # Property bags are free-form: filled here, as sarif-om models them without fields.
    run_doc = doc["runs"][0]
    for desc in run_doc["tool"]["driver"]["rules"]:
        info = catalogue.rules[desc["id"]]
        desc["properties"] = {"tags": list(info.tags), "precision": info.precision, "problem.severity": info.level}
    for res in run_doc["results"]:
        res["properties"] = {"precision": catalogue.rules[res["ruleId"]].precision}
    # Which frontend analysed each file (libclang, tree-sitter, Cython), or why it was skipped.
    run_doc["artifacts"] = [
        {
            "location": {"uri": _uri(rec.path), **({} if _absolute(rec.path) else {"uriBaseId": SRCROOT})},
            "properties": {"frontend": rec.frontend, "language": rec.language},
        }
        for rec in result.files
    ]
    return doc


def render(result: ScanResult, catalogue: Catalogue, category: str | None = None) -> str:
    return json.dumps(build(result, catalogue, category), indent=2) + "\n"
