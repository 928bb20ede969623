"""The outbox's retries on time: a failed message is due again after its backoff (5 s,
then 30 s, ...), and its destination is drained then, by a one-off job, rather than at the
next periodic pass (every 30 s), so that "retrying in 5 s" means 5 s."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.date import DateTrigger

from bot.delivery.outbox import DeliveryService
from schedules.scheduler import Scheduler


def wake_job_id(destination: str) -> str:
    return f"outbox:wake:{destination}"


def drain_when_due(scheduler: Scheduler, delivery: DeliveryService) -> None:
    """From now on, each failed send schedules its destination's next drain."""

    def wake(destination: str, at: datetime) -> None:
        # One job per destination: a later failure moves it.
        scheduler.add(
            wake_job_id(destination), DateTrigger(run_date=at), delivery.drain, destination
        )

    delivery.wake_at = wake
