from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

FIXTURES = TESTS / "fixtures"
ROOT = TESTS.parent


@pytest.fixture(scope="session")
def fixture_scan():
    """Every fixture scanned once with every rule selected."""
    from ftaudit.config import load_config
    from ftaudit.scan import ScanOptions, scan

    config = load_config(FIXTURES / "pyproject.toml")
    return scan(ScanOptions([FIXTURES], select=["FT"], root=FIXTURES, config=config))
