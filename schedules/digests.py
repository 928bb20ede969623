"""Channel digests on the scheduler: one cron job per enabled channel, rebuilt from the
database at start, updated when a channel's settings change, and a catch-up for the runs
missed while paperwire was down."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.app import Services
from bot.digests.runs import STALE_RUN, run_channel_digest
from bot.digests.settings import DigestRun, DigestSettings, Outcome
from schedules.scheduler import Scheduler, cron

_log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)


def trigger_for(settings: DigestSettings) -> CronTrigger:
    """The channel's time on its weekdays, in its own time zone (DST included)."""
    return cron(
        hour=settings.time.hour,
        minute=settings.time.minute,
        day_of_week=",".join(settings.weekdays),
        timezone=settings.zone,
    )


def next_run(settings: DigestSettings, now: datetime) -> datetime | None:
    if not settings.enabled:
        return None
    fire: datetime | None = trigger_for(settings).get_next_fire_time(None, now)
    return fire


def previous_run(settings: DigestSettings, now: datetime) -> datetime | None:
    """The last scheduled time at or before `now` (within the past 8 days)."""
    return previous_fire(trigger_for(settings), now)


def previous_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The last time `trigger` fired at or before `now` (within the past 8 days)."""
    last = None
    fire: datetime | None = trigger.get_next_fire_time(None, now - timedelta(days=8))
    for _ in range(64):  # at most 8 days of daily runs; the bound is only a safety net
        if fire is None or fire > now:
            break
        last = fire
        # Step in UTC: local arithmetic would lose the second 01:30 of a fall-back night.
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(seconds=1))
    return last


def job_id(settings: DigestSettings) -> str:
    return f"digest:{settings.destination.key}"


class DigestJobs:
    """Keeps the scheduler's digest jobs in step with the `channel_digests` table."""

    def __init__(self, scheduler: Scheduler, services: Services, grace: timedelta) -> None:
        self._scheduler = scheduler
        self._services = services
        self._grace = grace

    async def load(self) -> list[str]:
        """One job per enabled channel; returns their ids."""
        ids = []
        for settings in await self._services.digests.channel_digests():
            self.update(settings)
            ids.append(job_id(settings))
        return ids

    async def refresh(self) -> None:
        """Take up what other processes changed (several share the database): a channel
        whose time, days or zone changed is rescheduled; one turned off keeps its job,
        which reads the settings first and does nothing. Unchanged jobs are left alone,
        so one about to fire is never pushed to the next day."""
        for settings in await self._services.digests.channel_digests():
            if not self._scheduler.has(job_id(settings), trigger_for(settings)):
                self.update(settings)

    def update(self, settings: DigestSettings) -> None:
        if settings.enabled:
            self._scheduler.add(
                job_id(settings),
                trigger_for(settings),
                self.run_scheduled,
                settings.destination.key,
            )
        else:
            self._scheduler.remove(job_id(settings))

    async def run_scheduled(self, destination: str) -> DigestRun | None:
        """The job: reads the settings afresh, so a change since scheduling counts."""
        settings = await self._services.digests.channel_digest(destination)
        if settings is None or not settings.enabled:
            return None
        # The day is the scheduled time's, even if the job starts a little late.
        now = self._services.clock()
        due = previous_run(settings, now) or now
        return await run_channel_digest(self._services, settings, due)

    async def catch_up(self) -> list[DigestRun]:
        """Post each digest whose last scheduled time passed while paperwire was down, if
        it is within the grace period; otherwise record it as missed, with a log line.
        Channels are caught up side by side, as their scheduled runs would be: each queues
        its digest in the outbox, which sends them all like any fan-out."""
        now = self._services.clock()
        channels = await self._services.digests.channel_digests()
        outcomes = await asyncio.gather(
            *(self._catch_up_one(settings, now) for settings in channels),
            return_exceptions=True,
        )
        done = []
        for settings, outcome in zip(channels, outcomes, strict=True):
            if isinstance(outcome, BaseException):  # one channel's trouble stays its own
                _log.error("catching up %s failed", settings.destination.key, exc_info=outcome)
            elif outcome is not None:
                done.append(outcome)
        return done

    async def _catch_up_one(self, settings: DigestSettings, now: datetime) -> DigestRun | None:
        due = previous_run(settings, now)
        if due is None or await self._ran_on(settings, due):
            return None
        if settings.updated_at is not None and due < settings.updated_at:
            return None  # due before the channel asked for this: nothing was missed
        key = settings.destination.key
        if now - due <= self._grace:
            _log.info("posting the digest for %s missed at %s", key, due.isoformat())
            return await run_channel_digest(self._services, settings, due)
        _log.warning(
            "skipping the digest for %s missed at %s: more than %s ago",
            key,
            due.isoformat(),
            self._grace,
        )
        return await self._record_missed(settings, due, now)

    async def _ran_on(self, settings: DigestSettings, due: datetime) -> bool:
        """Whether the day of `due` has its run (a claim left by a dead process does not
        count once stale)."""
        run_day = due.astimezone(settings.zone).date()
        runs = await self._services.digests.digest_runs(settings.destination.key, limit=1)
        if not runs or runs[0].run_day < run_day:
            return False
        last = runs[0]
        dead = last.outcome is Outcome.RUNNING and self._services.clock() - last.started_at >= (
            STALE_RUN
        )
        return not dead

    async def _record_missed(
        self, settings: DigestSettings, due: datetime, now: datetime
    ) -> DigestRun:
        run = DigestRun(
            settings.destination.key,
            due.astimezone(settings.zone).date(),
            now,
            Outcome.MISSED,
            finished_at=now,
            detail=f"due {due.isoformat()}",
        )
        await self._services.digests.finish_run(run)
        self._services.metrics.digest(run.outcome)
        return run
