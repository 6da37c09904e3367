"""Opt-in switches (switches.py): which macros are, and which lines a default build leaves out."""

from __future__ import annotations

from test_built import found, scan, write

from ftaudit.switches import build_words, looks_like_switch, off_lines, switches, zero_defaults


def test_a_macro_only_tested_with_a_commented_out_define_or_a_switch_name_is_a_switch():
    texts = {
        "a.c": "//#define MEMORY_DEBUG\n#ifdef MEMORY_DEBUG\nint x;\n#endif\n#if defined(use_xyz)\n#endif\n",
        "b.c": '/* #define use_xyz */\n#ifdef PYCALLS_INJECT_FAULTS\n#include "f.c"\n#endif\n#if FEATURE_X\n#endif\n',
    }
    assert switches(texts, frozenset()) == {
        "MEMORY_DEBUG": "commented-out `#define` at a.c:1",
        "PYCALLS_INJECT_FAULTS": "named like a switch",
        "use_xyz": "commented-out `#define` at b.c:1",
    }  # FEATURE_X: neither evidence


def test_a_macro_defined_used_mentioned_by_the_build_or_of_the_system_is_no_switch():
    texts = {
        "a.c": "#ifdef TRACE_A\n#endif\n#ifdef TRACE_B\n#endif\n#ifdef TRACE_C\n#endif\n#ifdef TRACE_D\n#endif\n",
        "b.h": '#define TRACE_A 1\nint t = TRACE_B;\n/* TRACE_C in a comment */ const char *s = "TRACE_D";\n',
        "c.c": "#ifndef NDEBUG\n#endif\n#ifdef Py_DEBUG\n#endif\n#ifdef _DEBUG\n#endif\n#ifdef HAVE_DEBUG\n#endif\n"
        "#if X_DEBUG > 0x03DEBUG\n#endif\n#ifdef BUILD_DEBUG\n#endif\n",
    }
    assert switches(texts, frozenset({"BUILD_DEBUG"})) == {
        "TRACE_C": "named like a switch",
        "TRACE_D": "named like a switch",
        "X_DEBUG": "named like a switch",
    }


def test_names_that_say_switch():
    assert looks_like_switch("MEMORY_DEBUG") and looks_like_switch("PYCALLS_INJECT_FAULTS")
    assert looks_like_switch("LLHTTP__TEST") and looks_like_switch("debug")
    assert not looks_like_switch("LATEST_VERSION") and not looks_like_switch("CHECKSUM_SSE")


def test_off_lines_are_the_switch_arms_and_not_their_else_or_ifndef():
    text = "\n".join(
        [
            "#ifdef SW",  # 1
            "int on;",  # 2: off
            "#else",  # 3
            "int off;",  # 4
            "#endif",  # 5
            "#ifndef SW",  # 6
            "int plain;",  # 7
            "#else",  # 8
            "int only;",  # 9: off
            "#endif",  # 10
            "#if defined(SW) && defined(OTHER)",  # 11
            "int both;",  # 12: off
            "#elif defined(OTHER)",  # 13
            "int other;",  # 14
            "#endif",  # 15
            "#if defined(SW) || defined(OTHER)",  # 16
            "int either;",  # 17
            "#endif",  # 18
        ]
    )
    assert {n for n in off_lines(text, {"SW"}) if text.split("\n")[n - 1].startswith("int")} == {2, 9, 12}
    assert off_lines(text, {"NOT_TESTED"}) == frozenset()


def test_build_words_read_the_build_files_and_their_configuration(tmp_path):
    write(tmp_path, {"setup.py": "macros = [('A_DEBUG', None)]\n", "setup.cfg": "[build_ext]\ndefine = B_DEBUG\n"})
    words = build_words([tmp_path / "setup.py", tmp_path / "missing" / "setup.py"])
    assert {"A_DEBUG", "B_DEBUG"} <= words.words and words.dirs == (str(tmp_path),)
    assert words.covers(str(tmp_path / "src" / "a.c")) and not words.covers("/elsewhere/a.c")


SWITCHED = """#include <Python.h>
// #define COUNT_DEBUG
static long n;
static PyObject *bump(PyObject *s, PyObject *a) {
#ifdef COUNT_DEBUG
    n++;
#endif
    return PyLong_FromLong(n);
}
static PyMethodDef methods[] = {{"bump", bump, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
"""
SETUP = 'from setuptools import Extension, setup\nsetup(ext_modules=[Extension("a", ["a.c"]{})])\n'


def test_a_switch_arm_is_judged_without_a_build_file_or_when_the_build_sets_it(tmp_path):
    write(tmp_path / "bare", {"a.c": SWITCHED})
    assert ("a.c", "FT101") in found(scan(tmp_path / "bare")[1])  # nothing says what the build defines
    write(tmp_path / "set", {"a.c": SWITCHED, "setup.py": SETUP.format(', define_macros=[("COUNT_DEBUG", None)]')})
    assert ("a.c", "FT101") in found(scan(tmp_path / "set")[1])
    write(tmp_path / "off", {"a.c": SWITCHED, "setup.py": SETUP.format("")})
    _, doc = scan(tmp_path / "off")
    assert ("a.c", "FT101") not in found(doc)
    assert [p["line"] for p in doc["problems"] if p["code"] == "not-built"] == [5]  # the #ifdef
    assert ("a.c", "FT101") in found(scan(tmp_path / "off", "--include-unbuilt")[1])


def test_zero_defaults_are_macros_every_in_tree_definition_gives_0():
    texts = {
        "debug.h": "#ifndef DEBUGLEVEL\n#  define DEBUGLEVEL 0\n#endif\n#define QUIET (0U)\n#define LOUD 0\n"
        "#define SPLIT 0\n#define FUNC(x) 0\n#ifndef O_BINARY\n#define O_BINARY 0\n#endif\n#define SIZEOF_X 0\n"
        "#define BUILT 0\n#define GONE 0\n#undef GONE\n#define EMPTY\n",
        "a.c": "#if DEBUGLEVEL >= 2\n#endif\n#if QUIET\n#endif\n#if LOUD\n#endif\n#if SPLIT\n#endif\n#if FUNC\n#endif\n"
        "#if O_BINARY\n#endif\n#if SIZEOF_X\n#endif\n#if BUILT\n#endif\n#if GONE\n#endif\n#if EMPTY\n#endif\n"
        "#if defined(UNDEFINED_ZERO) && \\\n    UNDEFINED_ZERO\n#endif\n",
        "b.c": "#define LOUD 2\n#define SPLIT 1 /* 0 */\n#define UNDEFINED_ZERO 0\n",
    }
    assert zero_defaults(texts, frozenset({"BUILT"})) == {
        "DEBUGLEVEL": "`#define DEBUGLEVEL 0` at debug.h:2",
        "QUIET": "`#define QUIET 0` at debug.h:4",
        "UNDEFINED_ZERO": "`#define UNDEFINED_ZERO 0` at b.c:3",
    }
    assert zero_defaults({"a.c": "#if NEVER_DEFINED\n#endif\n"}, frozenset()) == {}


def test_off_lines_under_a_zero_default_need_it_non_zero():
    text = "\n".join(
        [
            "#if defined(LEVEL) && (LEVEL>=2) \\",  # 1
            "    && !defined(_MSC_VER)",  # 2
            "int two;",  # 3: off
            "#endif",  # 4
            "#if LEVEL",  # 5
            "int some;",  # 6: off
            "#elif LEVEL >= 0",  # 7
            "int zero;",  # 8
            "#endif",  # 9
            "#ifdef LEVEL",  # 10: defined, to 0
            "int defined_;",  # 11
            "#endif",  # 12
            "#if !LEVEL",  # 13
            "int plain;",  # 14
            "#else",  # 15
            "int other;",  # 16: off
            "#endif",  # 17
        ]
    )
    assert {n for n in off_lines(text, (), {"LEVEL"}) if text.split("\n")[n - 1].startswith("int")} == {3, 6, 16}
    assert off_lines(text, (), {"OTHER"}) == frozenset()
