"""Fixtures for source parsers: real captures and small written samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixture_files import FIXTURES, SAMPLES


@pytest.fixture
def fixtures_dir() -> Path:
    """tests/fixtures: real responses captured from the services (read-only)."""
    return FIXTURES


@pytest.fixture
def data_dir() -> Path:
    """tests/fixtures/samples: small samples written for these tests."""
    return SAMPLES
