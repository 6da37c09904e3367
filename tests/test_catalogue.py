"""The catalogue is the single source: implementations, examples and docs agree with it."""

from __future__ import annotations

from conftest import ROOT

from ftaudit.catalogue import load
from ftaudit.config import Config, load_config
from ftaudit.engine import registry
from ftaudit.scan import ScanOptions, scan


def test_every_rule_has_exactly_one_implementation_and_back():
    cat, impl = load(), registry()
    assert set(cat.rules) == set(impl)


def test_rule_metadata_complete():
    for info in load().rules.values():
        assert info.summary and info.rationale and info.fix and info.references
        assert info.level in {"note", "warning", "error"}
        assert info.languages


def _scan_example(tmp_path, info, code):
    ext = {("cpp",): ".cpp", ("cython",): ".pyx"}.get(info.languages, ".c")
    path = tmp_path / f"example{ext}"
    path.write_text(code)
    config = Config()
    if info.example_config:
        (tmp_path / "pyproject.toml").write_text("[tool.ftaudit]\n" + info.example_config + "\n")
        config = load_config(tmp_path / "pyproject.toml")
    opts = ScanOptions([path], select=[info.id], root=tmp_path, config=config)
    return {f.rule for f in scan(opts).findings}


def test_catalogue_examples_are_true(tmp_path):
    for info in load().rules.values():
        assert info.id in _scan_example(tmp_path, info, info.example_bad), f"{info.id} example_bad not flagged"
        assert info.id not in _scan_example(tmp_path, info, info.example_good), f"{info.id} example_good flagged"


def test_generated_rule_docs_are_current():
    import runpy

    gen = runpy.run_path(str(ROOT / "scripts" / "gen_docs.py"))
    for path, text in gen["expected"]().items():
        assert path.is_file(), f"{path} missing: run python scripts/gen_docs.py"
        assert path.read_text(encoding="utf-8") == text, f"{path} stale: run python scripts/gen_docs.py"


def test_borrowed_and_libc_tables():
    cat = load()
    assert cat.borrowed["PyList_GetItem"].replacement == "PyList_GetItemRef"
    assert "PyTuple_GetItem" not in cat.borrowed
    assert cat.libc["localtime"].twin == "localtime_r"
    assert {"posix", "glibc"} <= {s for f in cat.libc.values() for s in f.sets}
    assert len(cat.libc) >= 180
