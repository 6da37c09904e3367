from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

FIXTURES = TESTS / "fixtures"
ROOT = TESTS.parent


_SCANS: dict[str, object] = {}


def scan_fixtures(frontend: str):
    """Every fixture scanned once per C frontend, with every rule selected (Cython files go
    through the Cython frontend in both)."""
    if frontend not in _SCANS:
        from ftaudit.config import load_config
        from ftaudit.scan import ScanOptions, scan

        config = load_config(FIXTURES / "pyproject.toml")
        _SCANS[frontend] = scan(ScanOptions([FIXTURES], select=["FT"], root=FIXTURES, config=config, frontend=frontend))
    return _SCANS[frontend]


@pytest.fixture(scope="session")
def fixture_scan():
    return scan_fixtures("clang")


@pytest.fixture(autouse=True)
def user_cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own user cache directory (the cache and its key), never the real one."""
    import ftaudit.cachedirs

    home = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))  # what platformdirs reads on Linux, in subprocesses too
    monkeypatch.delenv("FTAUDIT_CACHE_DIR", raising=False)
    monkeypatch.setattr(ftaudit.cachedirs, "user_cache", lambda: home / "ftaudit")
    return home / "ftaudit"


@pytest.fixture(autouse=True)
def not_in_ci(monkeypatch):
    """Tests see no CI service (progress lines would mix into the output CliRunner captures) and
    no colour forced by the environment; the tests of both set what they need."""
    for name in ("CI", "TF_BUILD", "JENKINS_URL", "FORCE_COLOR", "CLICOLOR_FORCE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
