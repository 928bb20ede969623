"""Fixtures for source parsers and the HTTP client: real captures, small written samples, a
scripted server and a clock that only moves when the client sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixture_files import FIXTURES, SAMPLES
from tests.sources.fake_sources import FakeTime
from tests.sources.http_server import FakeServer


@pytest.fixture
def fixtures_dir() -> Path:
    """tests/fixtures: real responses captured from the services (read-only)."""
    return FIXTURES


@pytest.fixture
def data_dir() -> Path:
    """tests/fixtures/samples: small samples written for these tests."""
    return SAMPLES


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    """A scripted server, started; handlers that hang are freed before it closes."""
    running = FakeServer()
    await running.server.start_server()
    try:
        yield running
    finally:
        running.release.set()
        await running.server.close()
