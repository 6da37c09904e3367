"""A scanned tree is untrusted (docs/security.md): each attack is built in a temporary tree next to a good
file with a real finding, and the scan must report that finding, give the right exit code, write and read
nothing outside the tree, and never hang. This file: parsing and process isolation; the cache, compiler
flags and configuration, and walking/reading/names/writing each have a test_hostile_tree_*.py of their own.

Every CLI run goes through a subprocess with a timeout: a hang fails the test instead of the suite, and a
crash of the process that parses is seen as what it is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOOD = "#include <Python.h>\nPyObject *f(PyObject *l) { return PyList_GetItem(l, 0); }\n"


def ftaudit(*args: object, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`ftaudit ARGS` in a subprocess with a private cache; fails the test if it does not finish in time."""
    cmd = [sys.executable, "-m", "ftaudit", *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "good.c").write_text(GOOD)
    return root


def findings(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    return json.loads(proc.stdout)["findings"]


def problems(proc: subprocess.CompletedProcess[str], path: str) -> list[dict]:
    return [p for p in json.loads(proc.stdout)["problems"] if p["path"] == path]


def assert_good_found(proc: subprocess.CompletedProcess[str]) -> None:
    assert any(f["path"] == "good.c" and f["rule"] == "FT201" for f in findings(proc)), proc.stdout + proc.stderr


# --- one file must not take the scan down: crashes, deep nesting, memory and time ---------------------------


def test_deep_nesting_costs_one_file(tmp_path):
    root = tree(tmp_path)
    n = 10_000
    (root / "deep.c").write_text("int f(int x) {\n" + "if (x) {\n" * n + "x++;\n" + "}\n" * n + "return x; }\n")
    (root / "parens.c").write_text("int g(int x) { return " + "(" * 100_000 + "x" + ")" * 100_000 + "; }\n")
    for frontend in ("auto", "treesitter"):
        for jobs in ("1", "2"):
            proc = ftaudit("scan", ".", "--format", "json", "--frontend", frontend, "-j", jobs, "--no-cache", cwd=root)
            assert proc.returncode == 2, proc.stderr  # a file not analysed is a tool error...
            assert_good_found(proc)  # ...but the rest of the scan is reported
            for name in ("deep.c", "parens.c"):
                codes = [p["code"] for p in problems(proc, name)]
                assert set(codes) & {"crash", "limit"}, (frontend, jobs, name, codes)
            assert "Traceback" not in proc.stderr


def test_a_file_over_the_time_limit_is_stopped(tmp_path):
    root = tree(tmp_path)
    # A 1 KB macro bomb: 2^39 tokens, which libclang would try to expand for minutes and gigabytes.
    lines = ["#define A0 x", *(f"#define A{i} A{i - 1} A{i - 1}" for i in range(1, 40)), "int y = A39;"]
    (root / "bomb.c").write_text("\n".join(lines) + "\n")
    proc = ftaudit("scan", ".", "--format", "json", "--timeout", "3", "--no-cache", cwd=root, timeout=120)
    assert proc.returncode == 2
    assert_good_found(proc)
    assert [p["code"] for p in problems(proc, "bomb.c")] == ["limit"]


def test_the_memory_limit_holds_in_workers(tmp_path):
    root = tree(tmp_path)
    lines = ["#define A0 x", *(f"#define A{i} A{i - 1} A{i - 1}" for i in range(1, 40)), "int y = A39;"]
    (root / "bomb.c").write_text("\n".join(lines) + "\n")
    # 1 GiB of address space: libclang gives up on the bomb (or its worker dies) long before the time limit.
    proc = ftaudit("scan", ".", "--format", "json", "--memory-limit", "1024", "--no-cache", cwd=root, timeout=170)
    assert proc.returncode in (1, 2), proc.stderr
    assert_good_found(proc)
    codes = [p["code"] for p in problems(proc, "bomb.c")]
    assert codes and "limit" not in codes, codes  # stopped by memory, not by the clock


# --- parsing mistakes that used to be silent or fatal --------------------------------------------------------


def test_octal_literal_under_tree_sitter(tmp_path):
    root = tree(tmp_path)
    (root / "mode.c").write_text("#include <sys/stat.h>\nint g(const char *p) { return chmod(p, 0644) == 0755; }\n")
    proc = ftaudit("scan", ".", "--format", "json", "--frontend", "treesitter", "--no-cache", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_good_found(proc)
    assert problems(proc, "mode.c") == []


def test_syntax_error_in_an_included_header_is_reported(tmp_path):
    root = tree(tmp_path)
    (root / "inc").mkdir()
    # An unclosed function in the header swallows the includer's functions (closed at its end): once
    # 0 findings and 0 problems.
    (root / "inc" / "broken.h").write_text("static void helper(void) {\n")
    (root / "user.c").write_text('#include <Python.h>\n#include "broken.h"\n' + GOOD.split("\n", 1)[1] + "}\n")
    proc = ftaudit("scan", "user.c", "good.c", "-I", "inc", "--format", "json", "--no-cache", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_good_found(proc)
    assert "syntax-error" in [p["code"] for p in problems(proc, "user.c")]
    assert any(f["path"] == "user.c" and f["rule"] == "FT201" for f in findings(proc))


def test_header_only_syntax_error_is_named_at_the_include(tmp_path):
    root = tree(tmp_path)
    (root / "inc").mkdir()
    (root / "inc" / "odd.h").write_text("int x = ;\n")
    (root / "user.c").write_text('#include <Python.h>\n#include "odd.h"\n' + GOOD.split("\n", 1)[1])
    proc = ftaudit("scan", "user.c", "good.c", "-I", "inc", "--format", "json", "--no-cache", cwd=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [problem] = problems(proc, "user.c")
    assert problem["code"] == "header-syntax-error" and problem["line"] == 2 and "odd.h`:1" in problem["message"]
    assert any(f["path"] == "user.c" and f["rule"] == "FT201" for f in findings(proc))  # libclang's parse kept


def test_errors_in_a_file_outside_the_tree_never_quote_its_text(tmp_path):
    # An absolute include of a file outside the tree (a secret, /etc/passwd): with a stand-in for a missing
    # header, its first token comes back as libclang's "unknown type name 'TOKEN'". Problems name that file
    # and line only; an error of the scanned file itself is still quoted whole.
    secret = tmp_path / "outside" / "secret.h"
    secret.parent.mkdir()
    secret.write_text("SECRETTOKEN_Q7Z9 x;\nint y = ;\n")
    root = tree(tmp_path)
    (root / "leak.c").write_text(f'#if 1\n#include "generated_config.h"\n#endif\n#include "{secret}"\nstatic int z;\n')
    (root / "own.c").write_text('#include <Python.h>\n#include "odd.h"\nstatic int w = ;\n')
    (root / "odd.h").write_text("OWNTOKEN_R2 q;\n")
    for fmt in ("json", "sarif", "text"):
        proc = ftaudit("scan", ".", "--frontend", "clang", "-v", "--format", fmt, "--no-cache", "--jobs", "1", cwd=root)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        out = proc.stdout + proc.stderr
        assert "SECRETTOKEN_Q7Z9" not in out
        assert str(secret) in out  # the file is named
    proc = ftaudit("scan", ".", "--frontend", "clang", "--format", "json", "--no-cache", "--jobs", "1", cwd=root)
    [leak] = [p for p in problems(proc, "leak.c") if p["code"] == "syntax-error"]
    assert f"in `{secret}`:1" in leak["message"] and leak["line"] == 4  # at the include that reached it
    assert any("expected expression" in p["message"] for p in problems(proc, "own.c"))  # its own error, quoted
