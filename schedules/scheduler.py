"""A thin wrapper over APScheduler 3.11's `AsyncIOScheduler`: jobs get plain ids and
arguments; what to schedule lives in paperwire's own tables and is rebuilt at start."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

_log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]


def cron(
    *, hour: int | str, minute: int | str = 0, day_of_week: str = "*", timezone: tzinfo = UTC
) -> CronTrigger:
    """A DST-aware cron trigger (its next fire time is a pure function of the times given)."""
    return CronTrigger(hour=hour, minute=minute, day_of_week=day_of_week, timezone=timezone)


class Scheduler:
    """Runs async jobs on the running loop. Stable ids: adding an id again replaces it."""

    def __init__(self, misfire_grace_s: int = 300) -> None:
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,  # a backlog of missed runs runs once
                "max_instances": 1,  # never two runs of one job at once
                "misfire_grace_time": misfire_grace_s,
            },
        )

    def add(self, job_id: str, trigger: BaseTrigger, func: JobFunction, *args: Any) -> None:
        # Before start APScheduler queues jobs without replacing same-id ones: remove first.
        self.remove(job_id)
        self._scheduler.add_job(
            func, trigger, args=args, id=job_id, name=job_id, replace_existing=True
        )

    def run_now(self, job_id: str, func: JobFunction, *args: Any) -> None:
        """Run `func` once in the background as soon as the scheduler runs, however late
        that is (a start-up job must not be dropped as misfired)."""
        self.remove(job_id)
        self._scheduler.add_job(
            func, DateTrigger(), args=args, id=job_id, name=job_id, misfire_grace_time=None
        )

    def remove(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)

    def next_run(self, job_id: str) -> datetime | None:
        job: Job | None = self._scheduler.get_job(job_id)
        return getattr(job, "next_run_time", None) if job else None

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def start(self) -> None:
        """Start on the running event loop (APScheduler needs one)."""
        self._scheduler.start()
        _log.info("scheduler started with jobs: %s", ", ".join(self.job_ids()) or "none")

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
