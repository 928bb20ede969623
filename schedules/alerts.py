"""Topic alerts on the scheduler: one daily job per user who follows a topic or has news of
their reading list, at their own time in their own time zone; plus matching the papers of
each newly complete list."""

from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger

from bot.alerts.send import match_new_lists, send_alert
from bot.alerts.topics import AlertSettings
from bot.app import Services
from bot.digests.settings import DigestRun
from bot.models import Destination
from schedules.scheduler import Scheduler, cron

_log = logging.getLogger(__name__)


def alert_trigger(settings: AlertSettings) -> CronTrigger:
    return cron(hour=settings.time.hour, minute=settings.time.minute, timezone=settings.zone)


def job_id(owner: Destination) -> str:
    return f"alerts:{owner.key}"


class AlertJobs:
    """Keeps one alert job per user with subscriptions or changes to their saved papers not
    told yet, in step with the database."""

    def __init__(self, scheduler: Scheduler, services: Services) -> None:
        self._scheduler = scheduler
        self._services = services

    async def load(self) -> list[str]:
        owners = await self._owners()
        for owner in sorted(owners, key=lambda o: o.key):
            self.update(await self._settings(owner))
        return [job_id(owner) for owner in owners]

    async def refresh(self) -> None:
        """Take up what changed since: a new subscriber, a new time or zone (other
        processes), a saver with news of their list (an ingest). Unchanged jobs are left
        alone (see `DigestJobs.refresh`)."""
        for owner in sorted(await self._owners(), key=lambda o: o.key):
            settings = await self._settings(owner)
            if not self._scheduler.has(job_id(owner), alert_trigger(settings)):
                self.update(settings)

    def update(self, settings: AlertSettings) -> None:
        self._scheduler.add(
            job_id(settings.owner),
            alert_trigger(settings),
            self.run_scheduled,
            settings.owner.key,
        )

    async def run_scheduled(self, owner_key: str) -> DigestRun | None:
        owner = Destination.from_key(owner_key)
        if not await self._services.subscriptions.subscriptions(
            owner
        ) and not await self._services.saved_papers.pending_changes(owner):
            self._scheduler.remove(job_id(owner))  # no topic, nothing new on their list
            return None
        await match_new_lists(self._services)
        settings = await self._settings(owner)
        return await send_alert(self._services, settings, self._services.clock())

    async def _owners(self) -> set[Destination]:
        owners = {s.owner for s in await self._services.subscriptions.subscriptions()}
        return owners | set(await self._services.saved_papers.owners_with_changes())

    async def _settings(self, owner: Destination) -> AlertSettings:
        return await self._services.subscriptions.alert_settings(owner) or AlertSettings(owner)
