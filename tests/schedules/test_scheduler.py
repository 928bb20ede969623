"""The scheduler wrapper: a stop ends the job runs under way before anything closes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from schedules.scheduler import Scheduler


async def test_stop_cancels_a_running_job_and_waits_for_it_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started, ended = asyncio.Event(), asyncio.Event()

    async def slow_job() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a fetch that takes long
        finally:
            await asyncio.sleep(0)  # its clean-up needs the loop once more
            ended.set()

    scheduler = Scheduler()
    scheduler.run_now("slow", slow_job)
    scheduler.start()
    async with asyncio.timeout(10):
        await started.wait()
    caplog.set_level(logging.INFO)
    await scheduler.stop()
    assert ended.is_set()  # stop returned only once the job had cleaned up
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text and "slow: cut short by the stop" in caplog.text
