"""What both papers repositories share around an ingest: the batch taken in, the clock
when none is given, and waking this process's waiters once it committed. How a batch is
written, in one transaction, is the backend's."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from bot.day_lists import WHOLE, CompletionRule
from bot.models import Observation
from bot.storage.types import IngestCounts


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChangeSignal:
    """Set after each ingest commits; a waiter wakes once per change (or when told to stop)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def set(self) -> None:
        self._changed.set()

    async def wait(self, or_until: asyncio.Event) -> None:
        """Return once set since the last call, or once `or_until` is set."""
        waiters = [
            asyncio.ensure_future(self._changed.wait()),
            asyncio.ensure_future(or_until.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._changed.clear()


class IngestingPapers(ABC):
    """`ingest` and `wait_for_change` of the `Papers` protocol, over a backend's `_ingest`."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock  # when `ingest` is given no `now`
        self._changed = ChangeSignal()

    async def ingest(
        self,
        observations: Iterable[Observation],
        lists: CompletionRule = WHOLE,
        now: datetime | None = None,
        fetched: Iterable[tuple[date, str]] = (),
    ) -> IngestCounts:
        batch = list(observations)
        fetched_lists = set(fetched)
        if not batch and not fetched_lists:
            return IngestCounts()
        counts = await self._ingest(batch, fetched_lists, lists, now or self._clock())
        self._changed.set()
        return counts

    async def wait_for_change(self, or_until: asyncio.Event) -> None:
        """Only this process's ingests wake it: other processes' (PostgreSQL) are seen
        through `changes_since`."""
        await self._changed.wait(or_until)

    @abstractmethod
    async def _ingest(
        self,
        batch: list[Observation],
        fetched: set[tuple[date, str]],
        lists: CompletionRule,
        now: datetime,
    ) -> IngestCounts:
        """In one transaction: `batch` merged into the corpus, and the day lists it carries
        (and `fetched`) recorded, judged by `lists`; the counts with the lists' states."""
