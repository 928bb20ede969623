"""A thin wrapper over APScheduler 3.11's `AsyncIOScheduler`: jobs get plain ids and
arguments; what to schedule lives in paperwire's own tables and is rebuilt at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.base import run_coroutine_job
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

_log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]
# Told as each job run starts: its id, when it was due and now (the metrics' lag).
JobStarted = Callable[[str, datetime, datetime], None]


def cron(
    *, hour: int | str, minute: int | str = 0, day_of_week: str = "*", timezone: tzinfo = UTC
) -> CronTrigger:
    """A DST-aware cron trigger (its next fire time is a pure function of the times given)."""
    return CronTrigger(hour=hour, minute=minute, day_of_week=day_of_week, timezone=timezone)


class _Executor(AsyncIOExecutor):  # type: ignore[misc]  # APScheduler has no type hints
    """APScheduler's asyncio executor (coroutine jobs only), with each run's task known
    from the moment it is created: a stop may come before the run takes its first step.
    A run cancelled before it began ends quietly too (APScheduler would log an error)."""

    def __init__(self, on_start: JobStarted | None) -> None:
        super().__init__()
        self.runs: set[asyncio.Task[Any]] = set()
        self._on_start = on_start

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if self._on_start is not None and run_times:  # the latest of the times it runs for
            self._on_start(job.id, run_times[-1], datetime.now(UTC))
        coro = run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)
        task = self._eventloop.create_task(coro, name=f"job {job.id}")
        self.runs.add(task)
        self._pending_futures.add(task)  # what APScheduler's shutdown cancels
        task.add_done_callback(lambda ended: self._ended(job.id, ended))

    def _ended(self, job_id: str, task: asyncio.Task[Any]) -> None:
        self.runs.discard(task)
        self._pending_futures.discard(task)
        if task.cancelled():  # only a stop cancels (a run under way ends in `_quiet`)
            _log.info("%s: cut short by the stop", job_id)
            self._run_job_success(job_id, [])
        elif (error := task.exception()) is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, task.result())


class Scheduler:
    """Runs async jobs on the running loop. Stable ids: adding an id again replaces it."""

    def __init__(self, misfire_grace_s: int = 300, on_start: JobStarted | None = None) -> None:
        self._executor = _Executor(on_start)
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            executors={"default": self._executor},
            job_defaults={
                "coalesce": True,  # a backlog of missed runs runs once
                "max_instances": 1,  # never two runs of one job at once
                "misfire_grace_time": misfire_grace_s,
            },
        )
        self._stopping = False

    def add(self, job_id: str, trigger: BaseTrigger, func: JobFunction, *args: Any) -> None:
        # Before start APScheduler queues jobs without replacing same-id ones: remove first.
        self.remove(job_id)
        self._scheduler.add_job(
            self._quiet(job_id, func),
            trigger,
            args=args,
            id=job_id,
            name=job_id,
            replace_existing=True,
        )

    def run_now(self, job_id: str, func: JobFunction, *args: Any) -> None:
        """Run `func` once in the background as soon as the scheduler runs, however late
        that is (a start-up job must not be dropped as misfired)."""
        self.remove(job_id)
        self._scheduler.add_job(
            self._quiet(job_id, func),
            DateTrigger(),
            args=args,
            id=job_id,
            name=job_id,
            misfire_grace_time=None,
        )

    def remove(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)

    def has(self, job_id: str, trigger: BaseTrigger) -> bool:
        """Whether `job_id` is scheduled with this very trigger (same fields, same zone)."""
        job: Job | None = self._scheduler.get_job(job_id)
        return job is not None and repr(job.trigger) == repr(trigger)

    def next_run(self, job_id: str) -> datetime | None:
        job: Job | None = self._scheduler.get_job(job_id)
        return getattr(job, "next_run_time", None) if job else None

    @property
    def running(self) -> bool:
        """Started and not stopped."""
        return bool(self._scheduler.running) and not self._stopping

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def start(self) -> None:
        """Start on the running event loop (APScheduler needs one)."""
        self._scheduler.start()
        _log.info("scheduler started with jobs: %s", ", ".join(self.job_ids()) or "none")

    async def stop(self, timeout_s: float = 2.0) -> None:
        """Stop scheduling, cancel the job runs under way and wait (up to `timeout_s`) for
        them to end, so that nothing a job uses is closed under it."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)  # cancels the runs under way...
            # ...on the loop's next turn (APScheduler defers it with call_soon_threadsafe,
            # after a wake-up already queued, which may start a run): let it happen.
            await asyncio.sleep(0)
        if running := set(self._executor.runs):
            await asyncio.wait(running, timeout=timeout_s)

    def _quiet(self, job_id: str, func: JobFunction) -> JobFunction:
        """`func`, a run of it cancelled by a stop ending quietly (APScheduler would log it
        as a failure, traceback and all)."""

        async def run(*args: Any) -> Any:
            try:
                return await func(*args)
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                _log.info("%s: cut short by the stop", job_id)
                return None

        return run
