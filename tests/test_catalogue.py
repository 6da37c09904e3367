"""The catalogue is the single source: implementations, examples and docs agree with it."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from ftaudit.catalogue import LibcFunction, load
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


def _scan_example(tmp_path, info, code, build=""):
    ext = {("cpp",): ".cpp", ("cython",): ".pyx"}.get(info.languages, ".c")
    path = tmp_path / f"example{ext}"
    path.write_text(code)
    if build:
        (tmp_path / info.example_build).write_text(build)
    config = Config()
    if info.example_config:
        (tmp_path / "pyproject.toml").write_text("[tool.ftaudit]\n" + info.example_config + "\n")
        config = load_config(tmp_path / "pyproject.toml")
    opts = ScanOptions([tmp_path if build else path], select=[info.id], root=tmp_path, config=config)
    return {f.rule for f in scan(opts).findings}


def test_catalogue_examples_are_true(tmp_path):
    for info in load().rules.values():
        bad = _scan_example(tmp_path, info, info.example_bad, info.example_bad_build)
        assert info.id in bad, f"{info.id} example_bad not flagged"
        good = _scan_example(tmp_path, info, info.example_good, info.example_good_build)
        assert info.id not in good, f"{info.id} example_good flagged"


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


def test_every_ft201_replacement_is_a_function():
    """`use {replacement} (Python 3.13+...)` must name a function; other advice goes in `alternative`."""
    for b in load().borrowed.values():
        assert re.fullmatch(r"[A-Za-z_]\w*", b.replacement), (b.function, b.replacement)
        assert not b.alternative or b.alternative.split()[0][0].isalpha(), b.function


# Verbs that open advice; "use <one of these>" means advice was rendered as a function name.
_VERBS = {"read", "call", "set", "return", "parse", "copy", "pass", "hold", "give", "keep", "write", "guard"}
_VERBS |= {"serialise"}
_OWN_REASON = {"sleep", "system", "exit", "sigprocmask", "siginterrupt", "sigsuspend", "sigpause", "getenv", "setenv"}
_OWN_REASON |= {"putenv", "unsetenv", "clearenv", "setlocale", "dlerror", "getpass", "readdir"}
_FUNCTION = re.compile(r"^[A-Za-z_]\w*(?: \([^()]+\))?$")


def test_every_ft301_message_reads_as_a_sentence():
    for name, info in load().libc.items():
        msg = info.message()
        head, sep, rest = msg.partition(": ")
        sets = r"\((POSIX|glibc|POSIX and glibc) lists?\)"
        assert sep and re.fullmatch(rf"{re.escape(name)} is not thread-safe {sets}", head), msg
        why, sep, fix = rest.partition("; ")
        assert sep and why and fix and not fix.endswith("."), msg
        for m in re.finditer(r"\buse (\w+)", fix):
            assert m.group(1) not in _VERBS, msg
        for twin in info.twin.split(" or ") if info.twin else []:
            assert _FUNCTION.match(twin), (name, twin)
        assert not info.advice.startswith("use "), name
        assert info.advice.split(" ")[0] in _VERBS | {""}, (name, info.advice)
        # "hidden shared state" is the default reason; signal, environment and stream functions have their own.
        if name in _OWN_REASON or name.endswith("_unlocked"):
            assert "hidden shared state" not in why, msg
    assert "SIGCHLD" in load().libc["sleep"].message()
    assert load().libc["getenv"].message().endswith("guard getenv and setenv with one lock")


def test_a_twin_that_is_advice_is_refused():
    with pytest.raises(ValueError, match="not a function name"):
        LibcFunction("x", ("posix",), twin="set the environment first")
    with pytest.raises(ValueError, match="starts with `use`"):
        LibcFunction("x", ("posix",), advice="use x_r")
