"""A channel's digest run cut short (a stop, a lost lead) before its message was queued
gives its day back: the catch-up takes it again at once, not after STALE_RUN."""

from __future__ import annotations

import asyncio
from datetime import time
from typing import Any

import pytest

from bot.app import Services
from bot.digests.runs import STALE_RUN, run_channel_digest
from bot.digests.settings import WEEKDAYS, DigestSettings
from bot.models import Destination
from tests.conftest import NOW


async def test_a_run_cancelled_before_it_queued_is_taken_again_at_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = DigestSettings(
        Destination("console", "local", "general"), time=time(9), weekdays=WEEKDAYS
    )
    reading = asyncio.Event()

    async def never(*args: Any) -> Any:
        reading.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(services.day_lists, "list_states", never)
    running = asyncio.create_task(run_channel_digest(services, settings, NOW))
    await reading.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    key, day = settings.destination.key, NOW.date()
    assert await services.digests.claim_run(key, day, NOW, STALE_RUN)
