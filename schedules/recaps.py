"""Weekly recaps on the scheduler: one cron job per channel with a recap (its day and time in
the channel's digest time zone), rebuilt from the database at start, updated when the
channel's settings change, and a catch-up for a recap missed while paperwire was down.
The recap's own claim (`bot.digests.recap_run`) keeps each week to one post."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.app import Services
from bot.digests.recap_run import run_recap
from bot.digests.settings import DigestRun, DigestSchedule, DigestSettings, Outcome
from schedules.digests import previous_fire, previous_run
from schedules.scheduler import Scheduler, cron

_log = logging.getLogger(__name__)

# A digest due on the recap's day at or before its time (the same time by default: the two
# jobs fire side by side) is part of the week: the recap waits for its run, this long at most.
DIGEST_WAIT_S = 300.0
DIGEST_POLL_S = 2.0


def recap_trigger(settings: DigestSettings) -> CronTrigger | None:
    """The recap's day and time in the channel's zone (DST included); None without one."""
    if settings.recap_day is None:
        return None
    return cron(
        hour=settings.recap_at.hour,
        minute=settings.recap_at.minute,
        day_of_week=settings.recap_day,
        timezone=settings.zone,
    )


def next_recap(settings: DigestSettings, now: datetime) -> datetime | None:
    trigger = recap_trigger(settings)
    fire: datetime | None = trigger.get_next_fire_time(None, now) if trigger else None
    return fire


def recap_job_id(settings: DigestSettings) -> str:
    return f"recap:{settings.destination.key}"


class RecapJobs:
    """Keeps the scheduler's recap jobs in step with the channels' settings."""

    def __init__(
        self,
        scheduler: Scheduler,
        services: Services,
        grace: timedelta,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._scheduler = scheduler
        self._services = services
        self._grace = grace
        self._sleep = sleep  # between looks at the day's digest run (tests inject it)

    async def _channels(self) -> list[DigestSettings]:
        # A recap sums up a week even if the digest was turned off since.
        channels = await self._services.digests.channel_digests(enabled_only=False)
        return [settings for settings in channels if settings.recap_day is not None]

    async def load(self) -> list[str]:
        """One job per channel with a recap; returns their ids."""
        ids = []
        for settings in await self._channels():
            self.update(settings)
            ids.append(recap_job_id(settings))
        return ids

    async def refresh(self) -> None:
        """Take up what other processes changed (several share the database); unchanged
        jobs are left alone. A recap turned off keeps its job, which reads the settings
        first and does nothing."""
        for settings in await self._channels():
            trigger = recap_trigger(settings)
            if trigger and not self._scheduler.has(recap_job_id(settings), trigger):
                self.update(settings)

    def update(self, settings: DigestSettings) -> None:
        trigger = recap_trigger(settings)
        if trigger is None:
            self._scheduler.remove(recap_job_id(settings))
        else:
            key = settings.destination.key
            self._scheduler.add(recap_job_id(settings), trigger, self.run_scheduled, key)

    async def run_scheduled(self, destination: str) -> DigestRun | None:
        """The job: reads the settings afresh, so a change since scheduling counts."""
        settings = await self._services.digests.channel_digest(destination)
        trigger = recap_trigger(settings) if settings else None
        if settings is None or trigger is None:
            return None
        now = self._services.clock()
        # The week is the scheduled time's, even if the job starts a little late.
        fire = previous_fire(trigger, now) or now
        await self._after_the_days_digest(settings, fire)
        return await run_recap(self._services, settings, fire)

    async def _after_the_days_digest(self, settings: DigestSettings, fire: datetime) -> None:
        """Wait for the digest due on the recap's local day at or before `fire` to have run
        (posted, queued or not), so that its papers count in this week's recap: the next
        week starts the day after, it would never count."""
        due = previous_run(settings, fire) if settings.enabled else None
        day = fire.astimezone(settings.zone).date()
        if due is None or due.astimezone(settings.zone).date() != day:
            return
        if settings.updated_at is not None and due < settings.updated_at:
            return  # turned on since: no digest runs for that time today
        key = settings.destination.key
        for _ in range(int(DIGEST_WAIT_S / DIGEST_POLL_S)):
            runs = await self._services.digests.digest_runs(key, limit=1)
            if runs and runs[0].run_day >= day and runs[0].outcome is not Outcome.RUNNING:
                return
            await self._sleep(DIGEST_POLL_S)
        _log.warning("the recap of %s goes without waiting more for the day's digest", key)

    async def catch_up(self) -> list[DigestRun]:
        """Post each recap whose time passed while paperwire was down, within the grace
        period (a recap already posted that week is not posted again)."""
        now = self._services.clock()
        channels = await self._channels()
        outcomes = await asyncio.gather(
            *(self._catch_up_one(settings, now) for settings in channels),
            return_exceptions=True,
        )
        done = []
        for settings, outcome in zip(channels, outcomes, strict=True):
            if isinstance(outcome, BaseException):  # one channel's trouble stays its own
                _log.error("catching up the recap of %s failed", settings.destination.key)
            elif outcome is not None:
                done.append(outcome)
        return done

    async def _catch_up_one(self, settings: DigestSettings, now: datetime) -> DigestRun | None:
        trigger = recap_trigger(settings)
        due = previous_fire(trigger, now) if trigger else None
        if due is None or now - due > self._grace:
            return None
        if settings.updated_at is not None and due < settings.updated_at:
            return None  # due before the channel asked for this: nothing was missed
        _log.info("posting the recap of %s due at %s", settings.destination.key, due)
        return await run_recap(self._services, settings, due)


class Schedules:
    """What a settings change tells: the digest's job and the recap's."""

    def __init__(self, *schedules: DigestSchedule) -> None:
        self._schedules = schedules

    def update(self, settings: DigestSettings) -> None:
        for schedule in self._schedules:
            schedule.update(settings)
