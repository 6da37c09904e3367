"""A scanned tree is untrusted (docs/security.md): each attack is built in a temporary tree next to a good
file with a real finding, and the scan must report that finding, give the right exit code, write and read
nothing outside the tree, and never hang. This file: parsing and process isolation; the cache, compiler
flags and configuration, and walking/reading/names/writing each have a test_hostile_tree_*.py of their own.

Every CLI run goes through a subprocess with a timeout: a hang fails the test instead of the suite, and a
crash of the process that parses is seen as what it is.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from ftaudit.buildfiles import MAX_DEFINES, cmake, read_compiled

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


# --- the rules phase and the build-file readers are bounded too ---------------------------------------------


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _filled_members(stores: list[str], tail: list[str] = ()) -> str:
    """A new object `s` whose members get new tuples (`stores`: statements), then `tail`."""
    fields = "".join(f" PyObject *a{i};" for i in range(len(stores)))
    return (
        "#include <Python.h>\n#include <stdlib.h>\n"
        f"typedef struct {{ PyObject_HEAD{fields} PyObject *items; }} Sig;\nstatic PyTypeObject Sig_Type;\n"
        "static PyObject *sink;\nstatic PyObject *big(PyObject *self, PyObject *arg) {\n"
        "    int x = PyObject_IsTrue(arg);\n    Sig *s = calloc(sizeof(Sig), 1);\n"
        "    if (PyObject_Init((PyObject *)s, &Sig_Type) == NULL) return NULL;\n"
        + "".join(f"    {line}\n" for line in [*stores, *tail])
        + '    return (PyObject *)s;\n}\nstatic PyMethodDef m[] = {{"big", big, METH_O, NULL}, {NULL}};\n'
    )


def test_thousands_of_stores_to_one_member_do_not_stall_the_rules(tmp_path):
    # 200 conditional stores of `s->items`, each followed by a fill, then 200 calls given it: every fill's
    # question (may an event fall between a reaching store and the fill?) was stores x events, 7.6 CPU
    # seconds in all (54 s at 400) (rules/_paths.py). Past the cap the answer is "not fresh": the fills are reported.
    n = 200
    fills = ["s->items = PyTuple_New(1);"]
    for _ in range(n):
        fills += ["if (x) s->items = PyTuple_New(1);", "PyTuple_SET_ITEM(s->items, 0, Py_NewRef(arg));"]
    root = tree(tmp_path)
    (root / "big.c").write_text(
        _filled_members([], fills + ["PyList_Append(sink, s->items);"] * n).replace("PyObject *a", "PyObject *unused")
    )
    before = _child_cpu()
    proc = ftaudit("scan", ".", "--format", "json", "--frontend", "treesitter", "--no-cache", "-j1", cwd=root)
    assert _child_cpu() - before < 4, "the rules phase is not bounded"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_good_found(proc)
    assert sum(f["path"] == "big.c" and f["rule"] == "FT205" for f in findings(proc)) == n
    assert problems(proc, "big.c") == []


def test_a_loop_of_locals_does_not_stall_the_frozen_containers(tmp_path):
    # Eight locals, each assigned from every other one in a loop, then one of them is changed: which
    # containers may it hold? Followed definition by definition up to the depth bound of 8, that was 8**8
    # paths (rules/_containers.py; zstd.c's loops of pointers cost 120 s); each answer is now kept per
    # (function, name, depth) and listed once.
    n = 8
    names = [f"p{i}" for i in range(n)]
    body = [f"PyObject *{', *'.join(f'{v} = arg' for v in names)};", "for (int i = 0; i < n; i++) {"]
    body += [f"    if (i == {j}) {a} = {b};" for j, (a, b) in enumerate((a, b) for a in names for b in names if a != b)]
    body += ["}", "PyList_Append(p0, arg);", "return PyList_GetItem(p0, 0);"]
    root = tree(tmp_path)
    (root / "loop.c").write_text(
        "#include <Python.h>\nstatic PyObject *loop(PyObject *self, PyObject *arg) {\n"
        + "    int n = (int)PyLong_AsLong(arg);\n"
        + "".join(f"    {line}\n" for line in body)
        + '}\nstatic PyMethodDef m[] = {{"loop", loop, METH_O, NULL}, {NULL}};\n'
    )
    before = _child_cpu()
    proc = ftaudit("scan", ".", "--format", "json", "--frontend", "treesitter", "--no-cache", "-j1", cwd=root)
    assert _child_cpu() - before < 4, "the frozen-container question is not bounded"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_good_found(proc)
    assert problems(proc, "loop.c") == []


def test_the_rules_on_one_file_stop_at_the_time_limit(tmp_path):
    # 400 members each stored and filled: every fill asks whether `s` was published, over every call of
    # the function (quadratic). Past --timeout of CPU in the rules the file's other rules are skipped, with
    # one `limit` error; the findings already made, and every other file's, are kept.
    root = tree(tmp_path)
    stores = [f"s->a{i} = PyTuple_New(1); PyTuple_SET_ITEM(s->a{i}, 0, Py_NewRef(arg));" for i in range(400)]
    (root / "big.c").write_text(_filled_members(stores))
    proc = ftaudit(
        "scan", ".", "--format", "json", "--frontend", "treesitter", "--timeout", "0.3", "--no-cache", "-j1", cwd=root
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert_good_found(proc)
    [problem] = problems(proc, "big.c")
    assert problem["code"] == "limit" and "rules took longer than the 0.3-second limit" in problem["message"]
    assert "not run on this file; the findings already made are kept" in problem["message"]


def test_a_doubling_cmake_variable_is_bounded():
    # `set(S ${S} ${S})` per line doubled the value (2^40 characters at 40 lines): past MAX_VALUE the
    # variable is not understood, at once, as meson's and setup.py's readers do.
    text = "set(S m.cpp)\n" + "set(S ${S} ${S})\n" * 40 + "pybind11_add_module(m ${S})\n"
    start = time.process_time()
    [target] = cmake.targets(text, "/p/CMakeLists.txt")
    assert time.process_time() - start < 1
    assert not target.complete


def test_defines_from_build_files_are_capped_with_a_warning(tmp_path):
    n = MAX_DEFINES + 5_000
    (tmp_path / "CMakeLists.txt").write_text(
        "add_compile_definitions(" + " ".join(f"D{i}" for i in range(n)) + ")\npybind11_add_module(m m.cpp)\n"
    )
    found: list = []
    [entry] = read_compiled([tmp_path / "CMakeLists.txt"], found)
    assert len(entry.c) == MAX_DEFINES and entry.c[0] == "-DD0"
    [problem] = found
    assert problem.code == "too-many-defines" and "the last 5,000" in problem.message
    assert f"{n:,} -D/-U options" in problem.message


def test_show_settings_lists_build_defines_bounded(tmp_path):
    root = tree(tmp_path)
    lines = [
        f"add_compile_definitions(D{i}_{j} " + " ".join(f"X{i}_{k}" for k in range(30)) + ")"
        for i in range(60)
        for j in range(1)
    ]
    (root / "CMakeLists.txt").write_text("\n".join(lines) + "\npybind11_add_module(m m.cpp)\n")
    proc = ftaudit("scan", ".", "--show-settings", cwd=root)
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout.split("build-defines:\n", 1)[1].split("\n")
    entries = [line for line in shown if line.startswith("  CMakeLists.txt:")]
    assert len(entries) == 50 and "-DD0_0 -DX0_0" in entries[0] and "... 11 more" in entries[0]
    assert "  ... 10 more" in shown
