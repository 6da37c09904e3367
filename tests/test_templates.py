"""Templates (templates/): numpy's .src expansion, Tempita through the restricted evaluator, the line map,
discovery, and the refusals that keep a hostile template from running code or exhausting the scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftaudit.discover import discover, language_of
from ftaudit.facts import Span
from ftaudit.templates import Template, TemplateError, expand, template_for, template_of
from ftaudit.templates.detect import has_tempita
from ftaudit.templates.restricted import Evaluator, Refused


def _numpy(text: str, limit: int = 1 << 20):
    return expand(template_of("x.c.src"), text, "x.c.src", limit)


def _tempita(text: str, limit: int = 1 << 20):
    return expand(template_of("x.pyx.in"), text, "x.pyx.in", limit)


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.mark.parametrize(
    ("name", "kind", "language", "generated"),
    [
        ("loops.c.src", "numpy", "c", "loops.c"),
        ("npy_sort.h.src", "numpy", "c", "npy_sort.h"),
        ("funcs.inc.src", "numpy", "c", "funcs.inc"),
        ("x.cpp.src", "numpy", "cpp", "x.cpp"),
        ("_bounded.pyx.in", "tempita", "cython", "_bounded.pyx"),
        ("_b.pxd.in", "tempita", "cython", "_b.pxd"),
        ("part.pxi.in", "tempita", "cython", "part.pxi"),
        ("_x.pyx.tp", "tempita", "cython", "_x.pyx"),
    ],
)
def test_template_names(name, kind, language, generated):
    t = template_of(name)
    assert (t.kind, t.language, t.generated) == (kind, language, generated)


@pytest.mark.parametrize("name", ["config.h.in", "x.src", "meson.build.in", "x.py.in", "MANIFEST.in", "x.c"])
def test_not_templates(name):
    assert template_of(name) is None


def test_discovery_picks_up_templates(tmp_path):
    for name in ["a.c.src", "b.pyx.in", "c.pyx.tp", "config.h.in", "d.txt.in"]:
        (tmp_path / name).write_text("\n")
    files, _ = discover([tmp_path])
    found = [(f.path.name, f.language) for f in files]
    assert found == [("a.c.src", "c"), ("b.pyx.in", "cython"), ("c.pyx.tp", "cython")]
    assert language_of(Path("q.h.src")) == "c"


# -- numpy's format ------------------------------------------------------------------------------------


NESTED = """\
head
/**begin repeat
 * #a = 1, 2#
 * #b = x, y#
 */
/**begin repeat1
 * #c = ted, jim#
 * #a = 9, 9#
 */
@a@ @b@ @c@
/**end repeat1**/
outer @b@
/**end repeat**/
tail
"""


def test_numpy_nested_repeats_and_outer_names_win():
    e = _numpy(NESTED)
    assert _lines(e.text) == ["head", "1 x ted", "1 x jim", "outer x", "2 y ted", "2 y jim", "outer y", "tail"]


def test_numpy_line_map():
    e = _numpy(NESTED)
    out = e.text.splitlines()
    jim = out.index("2 y jim") + 1
    assert e.position(jim, 1) == (10, 1)  # `@a@`: the placeholder's column
    assert e.position(jim, 5) == (10, 9)  # `jim` sits where `@c@` is
    assert e.position(out.index("tail") + 1, 3) == (14, 3)  # verbatim text keeps its column
    assert e.span(Span(jim, 5, jim, 8)) == Span(10, 9, 10, 10)


def test_numpy_value_repeats():
    e = _numpy("/**begin repeat\n * #t = (a, b)*2, c*2#\n */\n@t@\n/**end repeat**/\n")
    assert _lines(e.text) == ["a", "b", "a", "b", "c", "c"]


def test_numpy_mismatched_value_lists_are_an_error_at_the_block():
    with pytest.raises(TemplateError) as err:
        _numpy("x\n/**begin repeat\n * #a = 1, 2#\n * #b = 1#\n */\n@a@\n/**end repeat**/\n")
    assert err.value.line == 2 and "mismatch" in err.value.message


def test_numpy_undefined_name_is_an_error_at_its_line():
    with pytest.raises(TemplateError) as err:
        _numpy("x\n/**begin repeat\n * #a = 1#\n */\n@a@ @nope@\n/**end repeat**/\n")
    assert err.value.line == 5 and '"nope"' in err.value.message


def test_numpy_missing_end_marker_repeats_to_the_end_as_numpy_does():
    e = _numpy("/**begin repeat\n * #a = 1, 2#\n */\nv@a@\n/*end repeat**/\n")
    assert [ln for ln in _lines(e.text) if ln.startswith("v")] == ["v1", "v2"]


def test_numpy_nested_repeats_cannot_explode():
    levels = 8
    text = "".join(f"/**begin repeat{i or ''}\n * #v{i} = {', '.join(['a'] * 10)}#\n */\n" for i in range(levels))
    text += "@v0@ " * 20 + "\n" + "".join(f"/**end repeat{i or ''}**/\n" for i in reversed(range(levels)))
    with pytest.raises(TemplateError) as err:
        _numpy(text, limit=1 << 20)
    assert err.value.limit


# -- Tempita -------------------------------------------------------------------------------------------


TEMPITA = """\
{{py:
types = [('int', 'long'), ('float', 'double')]
skip = 'float'
}}
top
{{for name, ctype in types}}
cdef {{ctype}} last_{{name}}
{{if name == skip}}
skipped {{name}}
{{elif name.startswith('i')}}
integer {{name.upper()}}
{{else}}
never
{{endif}}
{{endfor}}
{{default width = 3}}
{{for i in range(width)}}{{if i == 1}}{{continue}}{{endif}}{{if i == 2}}{{break}}{{endif}}n{{i}} {{endfor}}
{{# a comment }}
end {{len(types) * 2 + 1}} {{f"{skip}!"}} {{None}}
"""


def test_tempita_expansion():
    e = _tempita(TEMPITA)
    assert _lines(e.text) == [
        "top",
        "cdef long last_int",
        "integer INT",
        "cdef double last_float",
        "skipped float",
        "n0 ",
        "end 5 float! ",
    ]


def test_tempita_line_map():
    e = _tempita(TEMPITA)
    out = e.text.splitlines()
    line = out.index("cdef double last_float") + 1
    assert e.position(line, 1) == (7, 1)
    assert e.position(line, 6) == (7, 6)  # `double` comes from `{{ctype}}`
    assert e.position(line, 18) == (7, 21)  # `float` comes from `{{name}}`
    assert e.position(out.index("end 5 float! ") + 1, 1) == (19, 1)


@pytest.mark.parametrize(
    "template",
    [
        "{{py: import os}}",
        "{{py:\nimport os\nos.system('true')\n}}",
        "{{__import__('os').system('true')}}",
        "{{().__class__.__bases__}}",
        "{{open('/etc/passwd')}}",
        "{{(lambda: 1)()}}",
        "{{'%s' % 'x'}}",
        "{{'{}'.format(1)}}",
        "{{2 ** 10}}",
        "{{x|repr}}",
        "{{def f()}}x{{enddef}}",
        "{{inherit 'base.tmpl'}}",
        "{{py: def f(): pass}}",
        "{{undefined_name}}",
        "{{looper([1])}}",
    ],
)
def test_tempita_refuses_code(template):
    with pytest.raises(TemplateError):
        _tempita(template + "\n")


@pytest.mark.parametrize(
    "code",
    [
        "'a' * 1000000 * 1000",
        "len(range(10 ** 9))",
        "len(range(1000000000))",
        "str(['x' * 1000000] * 1000000)",
        "'-'.join(['x' * 1000000] * 10)",
        "('x' * 1000000).replace('x', 'yy')",
        "(1 << 100000)",
        "sum([[1]] * 10, [])",
    ],
)
def test_restricted_evaluator_bounds_sizes(code):
    with pytest.raises(Refused):
        Evaluator({}).eval(code)


def test_restricted_evaluator_bounds_steps():
    with pytest.raises(Refused):
        Evaluator({}).run("n = 0\nfor i in range(1000000):\n    for j in range(1000000):\n        n += 1\n")


def test_tempita_expansion_is_bounded():
    with pytest.raises(TemplateError) as err:
        _tempita("{{for i in range(1000000)}}{{for j in range(1000000)}}xxxxxxxxxxxx{{endfor}}{{endfor}}\n")
    assert err.value.limit or "steps" in err.value.message


def test_tempita_syntax_error_is_a_template_error():
    with pytest.raises(TemplateError):
        _tempita("{{for}}\n")


def test_hostile_template_runs_nothing_and_is_reported(tmp_path):
    from ftaudit.scan import ScanOptions, scan

    marker = tmp_path / "pwned"
    (tmp_path / "evil.pyx.in").write_text(f"{{{{py: import os; os.system('touch {marker}')}}}}\nx = 1\n")
    (tmp_path / "evil2.pyx.in").write_text(f"{{{{open('{marker}', 'w').write('x')}}}}\n")
    result = scan(ScanOptions([tmp_path], root=tmp_path))
    assert not marker.exists()
    assert sorted(p.code for p in result.problems) == ["template-error", "template-error"]
    assert {r.frontend for r in result.files} == {"skipped"}


def test_template_findings_map_back_in_a_scan(tmp_path):
    from ftaudit.scan import ScanOptions, scan

    (tmp_path / "m.c.src").write_text(
        "#include <Python.h>\n"
        "/**begin repeat\n * #n = a, b#\n */\n"
        "static int @n@_count;\n"
        "static PyObject *@n@_bump(PyObject *self, PyObject *arg) { @n@_count++; Py_RETURN_NONE; }\n"
        "/**end repeat**/\n"
        "static PyObject *get(PyObject *self, PyObject *d) { return Py_XNewRef(PyDict_GetItem(d, d)); }\n"
    )
    result = scan(ScanOptions([tmp_path], root=tmp_path, frontend="treesitter"))
    got = sorted((f.rule, f.path, f.span.line) for f in result.findings)
    assert got == [("FT101", "m.c.src", 5), ("FT101", "m.c.src", 5), ("FT201", "m.c.src", 8)]
    assert [r.template for r in result.files] == ["numpy"]


# -- Tempita in a plain .pyx ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "{{py:\nx = 1\n}}\n",
        "cdef int x = {{value}}\n",
        "{{for t in types}}\ncdef {{t}} v\n{{endfor}}\n",
        's = "#"; {{x}}\n',  # a `#` in a string is no comment
        "# it's a comment\n{{x}}\n",  # a quote in a comment opens no string
        "x = '''doc\n'''\n{{if y}}\n{{endif}}\n",
        "c = b'\\''\n{{x}}\n",  # an escaped quote does not end the string
    ],
)
def test_tempita_in_code_is_detected(text):
    assert has_tempita(text)
    assert template_for("m.pyx", text) == Template("tempita", "cython", "m.pyx")


@pytest.mark.parametrize(
    "text",
    [
        "x = 1\n",
        'msg = "{{name}} is a literal"\n',
        "f = f'{{escaped}} {x}'\n",
        "# a comment about {{name}}\n",
        '"""a docstring\n{{for x in y}}\n"""\n',
        "cdef extern from *:\n    '''\n    static int t[2] = {{0}};\n    '''\n",
        "r = r'\\'{{'\n",
        "s = 'unterminated {{\n",  # a one-quote string ends at its line's end
        "d = {1: {2}}\n",
    ],
)
def test_tempita_only_in_strings_or_comments_is_not_a_template(text):
    assert not has_tempita(text)
    assert template_for("m.pyx", text) is None


def test_tempita_in_a_non_cython_file_is_not_a_template():
    assert template_for("m.c", "{{x}}\n") is None
    assert template_for("m.pyx.in", "x = 1\n") == template_of("m.pyx.in")


def test_plain_pyx_with_tempita_is_expanded_and_mapped_back(tmp_path):
    from ftaudit.scan import ScanOptions, scan

    (tmp_path / "gen.pyx").write_text(
        "# cython: freethreading_compatible=True\n"
        "{{py:\nkinds = ['a', 'b']\n}}\n"
        "{{for k in kinds}}\n"
        "cdef int n_{{k}} = 0\n"
        "def bump_{{k}}():\n    global n_{{k}}\n    n_{{k}} += 1\n"
        "{{endfor}}\n"
    )
    (tmp_path / "plain.pyx").write_text(
        "# cython: freethreading_compatible=True\n"
        'cdef str greeting = "{{name}}"\n'
        "cdef int n = 0\n"
        "def bump():\n    global n\n    n += 1\n"
    )
    result = scan(ScanOptions([tmp_path], root=tmp_path))
    got = sorted((f.rule, f.path, f.span.line) for f in result.findings if f.rule == "FT101")
    assert got == [("FT101", "gen.pyx", 6), ("FT101", "gen.pyx", 6), ("FT101", "plain.pyx", 3)]
    assert {r.path.rsplit("/", 1)[-1]: r.template for r in result.files} == {"gen.pyx": "tempita", "plain.pyx": ""}
    assert not result.problems
