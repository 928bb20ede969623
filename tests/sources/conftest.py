"""Fixtures for source parsers: where the shared real-world captures live."""

from __future__ import annotations

from pathlib import Path

import pytest

# tests/sources/conftest.py -> parents[2] is the project, its parent holds `shared/`.
SHARED_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def fixtures_dir() -> Path:
    """/work/shared/fixtures: real responses captured from the services (read-only)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


@pytest.fixture
def data_dir() -> Path:
    """tests/sources/data: small samples written for these tests."""
    return DATA
