"""A failed send is tried again when its backoff ends, not at the next periodic pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import Services
from bot.delivery.outbox import BACKOFF_S, DeliveryService, OutgoingMessage, Receipt
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from schedules.outbox import drain_when_due, wake_job_id
from schedules.scheduler import Scheduler
from tests.conftest import Clock

CHANNEL = Destination("fake", "T1", "C1")


class FailingOnce:
    platform = "fake"

    def __init__(self, *receipts: Receipt) -> None:
        self.receipts = list(receipts)
        self.sent = 0
        self.second = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent += 1
        if self.sent == 2:
            self.second.set()
        return self.receipts.pop(0) if self.receipts else Receipt(ok=True)


async def test_a_failed_send_is_drained_again_when_its_retry_is_due(services: Services) -> None:
    clock = Clock(datetime.now(UTC))  # APScheduler runs on the wall clock
    delivery = DeliveryService(services.outbox, clock)
    transport = FailingOnce(Receipt(ok=False, error="HTTP 503 (HTML page)"))
    delivery.register(transport)
    scheduler = Scheduler()
    drain_when_due(scheduler, delivery)
    scheduler.start()
    try:
        first = await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("hi"))))
        assert first.queued
        due = scheduler.next_run(wake_job_id(CHANNEL.key))
        assert due is not None
        wait = (due - clock.now).total_seconds()
        assert BACKOFF_S[0] <= wait <= BACKOFF_S[0] * 1.2 + 0.01  # 5 s, not the next 30 s pass
        # When it is due, the job sends it (run at once here, the clock moved on).
        clock.advance(seconds=wait)
        job = scheduler._scheduler.get_job(wake_job_id(CHANNEL.key))
        job.modify(next_run_time=datetime.now(UTC))
        async with asyncio.timeout(5):
            await transport.second.wait()
        await delivery.wait_idle()
        assert await services.outbox.outbox_depths() == {}
    finally:
        await scheduler.stop()


async def test_a_destination_stopped_for_good_is_not_woken(services: Services) -> None:
    delivery = DeliveryService(services.outbox, Clock())
    delivery.register(FailingOnce(Receipt(ok=False, error="not_in_channel", permanent=True)))
    woken: list[tuple[str, datetime]] = []
    delivery.wake_at = lambda destination, at: woken.append((destination, at))
    assert (await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("hi"))))).permanent
    assert woken == []
    delivery.register(FailingOnce(Receipt(ok=False, error="ratelimited")))
    await delivery.retry_now(CHANNEL.key)
    [(destination, at)] = woken
    assert destination == CHANNEL.key and at - Clock().now >= timedelta(seconds=BACKOFF_S[1])
