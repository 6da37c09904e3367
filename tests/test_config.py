"""[tool.ftaudit] configuration through the real CLI: discovery, keys, errors."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner
from conftest import ROOT

from ftaudit.cli import main
from ftaudit.config import KEYS, ConfigError, load_config

HAZARD = textwrap.dedent(
    """
    #include <Python.h>
    int tinydb_put(const char *k);
    static long ncalls;
    static PyObject *put(PyObject *self, PyObject *arg) {
        ncalls++;
        tinydb_put("k");
        Py_RETURN_NONE;
    }
    static PyMethodDef methods[] = {{"put", put, METH_O, NULL}, {NULL, NULL, 0, NULL}};
    """
)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def project(tmp_path, config: str, files: dict[str, str] | None = None):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + textwrap.dedent(config))
    for name, text in (files or {"src/mod.c": HAZARD}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def rules_found(res) -> set[str]:
    assert res.exit_code in (0, 1), res.output
    return {f["rule"] for f in json.loads(res.output)["findings"]}


def test_config_found_by_walking_up_from_the_scanned_path(tmp_path):
    project(tmp_path, '[tool.ftaudit]\nunsafe-functions = ["tinydb_*"]\n')
    res = run("scan", str(tmp_path / "src"), "--format", "json", "--root", str(tmp_path))
    assert rules_found(res) == {"FT101", "FT302"}
    assert rules_found(run("scan", str(tmp_path / "src"), "--format", "json", "--no-config")) == {"FT101"}


def test_select_and_ignore_from_config_and_cli_precedence(tmp_path):
    project(tmp_path, '[tool.ftaudit]\nunsafe-functions = ["tinydb_*"]\nignore = ["FT101"]\n')
    assert rules_found(run("scan", str(tmp_path / "src"), "--format", "json")) == {"FT302"}
    project(tmp_path, '[tool.ftaudit]\nunsafe-functions = ["tinydb_*"]\nselect = ["FT1"]\n')
    assert rules_found(run("scan", str(tmp_path / "src"), "--format", "json")) == {"FT101"}
    res = run("scan", str(tmp_path / "src"), "--format", "json", "--select", "FT3")
    assert rules_found(res) == {"FT302"}


def test_exclude_patterns(tmp_path):
    files = {"src/mod.c": HAZARD, "vendor/lib/x.c": HAZARD, "src/gen/y.c": HAZARD}
    project(tmp_path, '[tool.ftaudit]\nexclude = ["vendor", "src/gen/*.c"]\n', files)
    res = run("scan", str(tmp_path), "--format", "json", "--root", str(tmp_path))
    assert {f["path"] for f in json.loads(res.output)["findings"]} == {"src/mod.c"}


def test_explicit_config_file_and_lock_vocabulary(tmp_path):
    locked = HAZARD.replace('ncalls++;\n    tinydb_put("k");', 'db_lock(); ncalls++; tinydb_put("k"); db_unlock();')
    assert locked.count("tinydb_put(") == 2  # declaration and the locked call
    locked = "void db_lock(void);\nvoid db_unlock(void);\n" + locked
    project(tmp_path, "", {"src/mod.c": locked})
    cfg = tmp_path / "ftaudit.toml"
    cfg.write_text('unsafe-functions = ["tinydb_*"]\nlock-macros = { db_lock = "db_unlock" }\n')
    res = run("scan", str(tmp_path / "src"), "--format", "json", "--config", str(cfg))
    assert rules_found(res) == set()
    cfg.write_text('unsafe-functions = ["tinydb_*"]\n')  # the same code, without the lock vocabulary
    res = run("scan", str(tmp_path / "src"), "--format", "json", "--config", str(cfg))
    assert rules_found(res) == {"FT101", "FT302"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[tool.ftaudit]\nunsafe-function = ['x']\n", "unknown key `unsafe-function`"),
        ("[tool.ftaudit]\nunsafe-functions = 'x'\n", "`unsafe-functions` must be a list of strings"),
        ("[tool.ftaudit]\nlock-functions = ['a', 'b']\n", "`lock-functions` must be a table"),
        ("[tool.ftaudit]\nselect = ['FT999']\n", "select: 'FT999' matches no rule"),
        ("[tool.ftaudit\n", "invalid TOML"),
    ],
)
def test_bad_config_is_a_usage_error_naming_the_key(tmp_path, config, message):
    project(tmp_path, config)
    res = run("scan", str(tmp_path / "src"))
    assert res.exit_code == 2
    assert message in res.output
    assert "pyproject.toml" in res.output


def test_every_key_is_documented_and_loadable(tmp_path):
    doc = (ROOT / "docs" / "configuration.md").read_text()
    body = "\n".join(f"{k.name} = {k.example}" for k in KEYS)
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.ftaudit]\n" + body + "\n")
    config = load_config(path)
    for key in KEYS:
        assert f"`{key.name}`" in doc
        assert key.name in config.values


def test_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_cython_directives_declare_support_for_the_project(tmp_path):
    files = {"src/mod.pyx": "def add(int a, int b):\n    return a + b\n"}
    project(tmp_path, "[tool.ftaudit]\n", files)
    assert rules_found(run("scan", str(tmp_path / "src"), "--format", "json", "-q")) == {"FT402"}
    project(tmp_path, '[tool.ftaudit]\ncython-directives = ["freethreading_compatible=True"]\n', files)
    assert rules_found(run("scan", str(tmp_path / "src"), "--format", "json", "-q")) == set()
