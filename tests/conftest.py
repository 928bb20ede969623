"""Shared fixtures and builders: a fixed clock, papers, and services on a memory database."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Services, build_services
from bot.config import Settings
from bot.delivery.outbox import DeliveryService, Receipt, Transport
from bot.models import Observation, Paper, Signals, TrendingEntry
from bot.sources import seeds
from bot.storage import Storage, open_storage
from tests.postgres import SKIP_REASON, fresh_schema

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SEED_REFERENCE = date(2026, 11, 22)


def make_paper(**overrides: Any) -> Paper:
    base = Paper(
        id="2607.00001",
        arxiv_id="2607.00001",
        title="A Study of Diffusion Models",
        abstract="We study diffusion models for image generation. Code: https://github.com/a/b",
        authors=("Ada Lovelace", "Alan Turing"),
        trending=(TrendingEntry(date(2026, 7, 1), "hf", 1, 10),),
        signals=Signals(upvotes=10),
    )
    return replace(base, **overrides)


def make_observation(**overrides: Any) -> Observation:
    values: dict[str, Any] = {
        "title": "A Study of Diffusion Models",
        "abstract": "We study diffusion models.",
        "source": "hf",
        "observed_at": NOW,
        "arxiv_id": None,
        "authors": ("Ada Lovelace",),
    }
    values.update(overrides)
    return Observation(**values)


class Clock:
    """A UTC clock for the services that a test sets or moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def drained_later(services: Services, transport: Transport, minutes: float) -> Receipt:
    """The one waiting message, as a new process `minutes` later sends it: after the first
    try ended (draining its destination waits for that), a fresh delivery service."""
    [key] = await services.outbox.outbox_depths()
    assert await services.delivery.drain(key) == {}  # not due yet for the first process
    later = DeliveryService(services.outbox, lambda: NOW + timedelta(minutes=minutes))
    later.register(transport)
    [receipt] = (await later.drain()).values()
    return receipt


def seed_observations() -> list[Observation]:
    pages = seeds.read_pages(seeds.bundled_pages(), reference=SEED_REFERENCE)
    return list(seeds.observations(pages, NOW))


BACKENDS = ("sqlite", "postgresql")
TESTS = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): run the test on each storage backend named (the"
        " `database` fixture: sqlite in memory, or postgresql in a schema of its own)",
    )


# The repository suite: tests here that use a database run on every backend (the rest of
# the suite runs on SQLite; PAPERWIRE_TEST_BACKEND=postgresql runs it all on PostgreSQL).
ON_EVERY_BACKEND = (
    "storage/",
    "alerts/",
    "delivery/",
    "digests/",
    "handlers/",
    "schedules/",
    "test_day_lists.py",
    "test_fan_out.py",
    "test_ingest.py",
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None:
        metafunc.parametrize("backend", marker.args or BACKENDS)
    elif str(metafunc.definition.path.relative_to(TESTS)).startswith(ON_EVERY_BACKEND):
        metafunc.parametrize("backend", BACKENDS)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line for every PostgreSQL test skipped, instead of silence (pytest -q)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if any(SKIP_REASON in str(report.longrepr) for report in skipped):
        terminalreporter.write_line(f"skipped the PostgreSQL tests: {SKIP_REASON}")


@pytest.fixture
def backend() -> str:
    """The storage backend of a test not marked `backends`: SQLite, unless
    PAPERWIRE_TEST_BACKEND=postgresql asks to run the whole suite on PostgreSQL."""
    return os.environ.get("PAPERWIRE_TEST_BACKEND", "sqlite")


@pytest.fixture
async def database(backend: str) -> AsyncIterator[str]:
    """Where the test's database is: SQLite in memory, or a fresh PostgreSQL schema."""
    if backend == "postgresql":
        async with fresh_schema() as url:
            yield url
    else:
        yield ":memory:"


@pytest.fixture
async def storage(database: str) -> AsyncIterator[Storage]:
    async with open_storage(database, clock=lambda: NOW) as opened:
        yield opened


@pytest.fixture
async def services(database: str) -> AsyncIterator[Services]:
    async with build_services(Settings(db_path=database), clock=lambda: NOW) as built:
        yield built


@pytest.fixture
async def seeded(services: Services) -> Services:
    await services.papers.ingest(seed_observations())
    await services.refresh_index()
    return services


def summary_total(line: str) -> int:
    """new + updated + unchanged + skipped of an ingest summary line
    (`12 new, 3 updated, 40 unchanged, 0 skipped, 0 errors`)."""
    counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) ([a-z]+)", line))
    assert {"new", "updated", "unchanged", "skipped"} <= counts.keys(), line
    return sum(counts[kind] for kind in ("new", "updated", "unchanged", "skipped"))


def assert_adds_up(line: str, items: int) -> None:
    """Every item of an ingest's input is in its summary line exactly once."""
    assert summary_total(line) == items, f"{line!r} does not add up to {items} items"


def offsets_reaching_the_index(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every offset the search index is asked for from now on (the list grows). An offset
    past the bound is recorded but never handed to tantivy, which would reserve memory for
    it: a test can show a huge offset got through without allocating it."""
    from bot.search.service import MAX_OFFSET

    seen: list[int] = []
    search = services.index.search

    def spy(query: Any, limit: int, offset: int = 0, mode: Any = "all") -> Any:
        seen.append(offset)
        return [] if offset > MAX_OFFSET else search(query, limit, offset, mode)

    monkeypatch.setattr(services.index, "search", spy)
    return seen
