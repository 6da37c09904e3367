"""SARIF structure: schema-valid, GitHub-ready, stable fingerprints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, ROOT

from ftaudit.catalogue import load
from ftaudit.report import sarif
from ftaudit.scan import ScanOptions, scan

SCHEMA = ROOT / "tests" / "schemas" / "sarif-2.1.0.json"  # vendored: see tests/schemas/README.md


def _doc(paths, root):
    return sarif.build(scan(ScanOptions(paths, select=["FT"], root=root)), load())


@pytest.fixture(scope="module")
def doc():
    return _doc([FIXTURES], FIXTURES)


def _validate(doc) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8-sig"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_validates_against_sarif_schema(doc):
    _validate(doc)


def test_schema_test_can_fail(doc):
    bad = json.loads(json.dumps(doc))
    bad["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)


def test_driver_and_rule_descriptors(doc):
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ftaudit" and driver["version"] and driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(load().rules)
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["help"]["text"] and "## Why is this a hazard?" in r["help"]["markdown"]
        assert r["helpUri"].endswith(f"{r['id']}.md")
        assert r["defaultConfiguration"]["level"] in {"note", "warning", "error"}
        assert r["properties"]["tags"] and r["properties"]["precision"]


def test_results_point_into_srcroot(doc):
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(loc["region"])
        assert res["partialFingerprints"]["ftauditFingerprint/v1"]


def test_invocation_and_notifications(doc):
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is True
    texts = [n["message"]["text"] for n in inv["toolExecutionNotifications"]]
    assert any("somelib_not_installed.h" in t for t in texts)


def test_fingerprints_survive_unrelated_lines_above(tmp_path):
    src = (FIXTURES / "c" / "borrowed.c").read_text()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.c").write_text(src)
    (tmp_path / "b" / "m.c").write_text("/* a new\n * header comment\n */\n#define UNRELATED 1\n" + src)

    def prints(d: Path):
        res = _doc([d], d)["runs"][0]["results"]
        return [(r["ruleId"], r["partialFingerprints"]["ftauditFingerprint/v1"]) for r in res], [
            r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in res
        ]

    fa, la = prints(tmp_path / "a")
    fb, lb = prints(tmp_path / "b")
    assert fa == fb
    assert [x + 4 for x in la] == lb
    assert len({f for _, f in fa}) == len(fa)  # distinct per finding


@pytest.mark.skipif(shutil.which("node") is None, reason="multitool validation runs in .ci/run")
def test_examples_sarif_written_by_cli(tmp_path):
    from click.testing import CliRunner

    from ftaudit.cli import main

    out = tmp_path / "ex.sarif"
    res = CliRunner().invoke(main, ["scan", str(ROOT / "examples"), "--format", "sarif", "-o", str(out)])
    assert res.exit_code == 1
    data = json.loads(out.read_text())
    assert data["version"] == "2.1.0" and data["runs"][0]["results"]


def test_columns_are_utf16_code_units_as_declared(tmp_path):
    # 15 UTF-8 bytes, 9 code points and 10 UTF-16 code units stand before the call in the comment.
    line = "PyObject *f(PyObject *l) { /* é日本😀 */ return PyList_GetItem(l, 0); }"
    (tmp_path / "u.c").write_text(f"#include <Python.h>\n{line}\n", encoding="utf-8")
    run = _doc([tmp_path], tmp_path)["runs"][0]
    assert run["columnKind"] == "utf16CodeUnits"
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    start = line.index("PyList_GetItem")
    assert region["startColumn"] == len(line[:start].encode("utf-16-le")) // 2 + 1 == 47
    assert region["endColumn"] - region["startColumn"] == len("PyList_GetItem(l, 0)")


def test_cython_code_point_columns_convert_too(tmp_path):
    from ftaudit.facts import Span
    from ftaudit.fingerprint import LineReader
    from ftaudit.report.columns import Utf16Columns

    (tmp_path / "m.pyx").write_text('x = "😀"; y\n', encoding="utf-8")
    (tmp_path / "m.c").write_text('x = "😀"; y\n', encoding="utf-8")
    cols = Utf16Columns(LineReader(tmp_path), {"m.pyx"})
    # `y`: code point 10 (Cython), byte 13 (C); UTF-16 column 11 for both; past the end stays past it.
    assert cols.span("m.pyx", Span(1, 10, 1, 12)) == Span(1, 11, 1, 13)
    assert cols.span("m.c", Span(1, 13, 1, 15)) == Span(1, 11, 1, 13)


def _apply_sarif_fixes(doc: dict, root: Path) -> dict[str, str]:
    """Every file the run's `fixes` touch, with their replacements applied (UTF-16 offsets; ASCII here)."""
    texts: dict[str, str] = {}
    reps: dict[str, list[tuple[int, int, str]]] = {}
    for res in doc["runs"][0]["results"]:
        for fix in res.get("fixes", []):
            for change in fix["artifactChanges"]:
                uri = change["artifactLocation"]["uri"]
                texts.setdefault(uri, (root / uri).read_text())
                for r in change["replacements"]:
                    region = r["deletedRegion"]
                    reps.setdefault(uri, []).append(
                        (region["charOffset"], region["charLength"], r["insertedContent"]["text"])
                    )
    for uri, edits in reps.items():
        for offset, length, text in sorted(edits, reverse=True):
            texts[uri] = texts[uri][:offset] + text + texts[uri][offset + length :]
    return texts


def test_results_carry_the_fixes_scan_fix_would_make(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from test_fix import BLOCKED, MULTI
    from test_fix_buffers import ESCAPES, SAFE

    from ftaudit.cli import main

    files = {"multi.c": MULTI, "blocked.c": BLOCKED, "buf.c": SAFE, "escapes.c": ESCAPES}
    for tree in ("report", "fixed"):
        (tmp_path / tree).mkdir()
        for name, text in files.items():
            (tmp_path / tree / name).write_text(text)
    report = tmp_path / "report"
    res = CliRunner().invoke(main, ["scan", str(report), "--format", "sarif", "--root", str(report), "--no-cache"])
    doc = json.loads(res.output)
    _validate(doc)
    with_fixes = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in
                  doc["runs"][0]["results"] if r.get("fixes")}  # fmt: skip
    assert with_fixes == {("FT401", "multi.c"), ("FT206", "buf.c")}  # not the blocked module, not escaping buffers
    assert any(r["ruleId"] == "FT206" and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
               "escapes.c" for r in doc["runs"][0]["results"])  # fmt: skip
    fixed = tmp_path / "fixed"
    CliRunner().invoke(main, ["scan", str(fixed), "--fix", "--root", str(fixed), "--no-cache"])
    applied = _apply_sarif_fixes(doc, report)
    assert set(applied) == {"multi.c", "buf.c"}
    for uri, text in applied.items():
        assert text == (fixed / uri).read_text(), uri  # the SARIF edit is exactly the --fix edit
        assert text != files[uri]
