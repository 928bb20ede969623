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


async def test_a_run_falling_due_as_the_stop_comes_ends_quietly_before_stop_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """APScheduler shuts down on the loop's next turn, after a wake-up already queued: the
    run that wake-up starts exists but has not begun when the stop looks. It was neither
    waited for nor quiet ("Error running job ... CancelledError", a traceback)."""
    ran = []

    async def job() -> None:
        ran.append(1)

    scheduler = Scheduler()
    scheduler.start()
    scheduler.run_now("due", job)  # on a running scheduler: queues a wake-up, as a timer does
    caplog.set_level(logging.INFO)
    await scheduler.stop()
    assert asyncio.all_tasks() == {asyncio.current_task()}  # its run ended
    assert ran == []  # cancelled before its first step
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "due: cut short by the stop" in caplog.text
