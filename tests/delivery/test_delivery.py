import asyncio
from dataclasses import replace

import pytest

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.errors import PaperwireError
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from tests.conftest import make_observation


class RecordingTransport:
    platform = "fake"

    def __init__(self, ok: bool = True) -> None:
        self.sent: list[OutgoingMessage] = []
        self.ok = ok

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return Receipt(ok=self.ok, error=None if self.ok else "channel_not_found")


CHANNEL = Destination("fake", "T1", "C1")
NOTICE = Reply(Notice("digest"))


async def _with_paper(services: Services) -> str:
    await services.papers.ingest([make_observation(arxiv_id="2607.00001")])
    return "2607.00001"


async def test_papers_delivered_to_a_channel_are_recorded(services: Services) -> None:
    transport = RecordingTransport()
    services.delivery.register(transport)
    paper_id = await _with_paper(services)
    message = OutgoingMessage(CHANNEL, Reply(Notice("digest")), paper_ids=(paper_id,))
    assert (await services.delivery.deliver(message)).ok
    assert transport.sent == [replace(message, outbox_id=1)]
    assert await services.outbox.sent_paper_ids(CHANNEL.key) == frozenset({paper_id})


async def test_command_replies_record_nothing_and_failures_wait(services: Services) -> None:
    paper_id = await _with_paper(services)
    services.delivery.register(RecordingTransport(ok=True))
    reply_to = Destination("fake", "T1", "C1", kind="reply")
    await services.delivery.deliver(
        OutgoingMessage(reply_to, Reply(Notice("x")), paper_ids=(paper_id,))
    )
    services.delivery.register(RecordingTransport(ok=False))
    receipt = await services.delivery.deliver(
        OutgoingMessage(CHANNEL, Reply(Notice("x")), paper_ids=(paper_id,))
    )
    assert not receipt.ok and receipt.error == "channel_not_found" and receipt.queued
    # The decision to send it stands: the papers count as sent, the message waits.
    assert await services.outbox.sent_paper_ids(CHANNEL.key) == frozenset({paper_id})
    assert await services.outbox.outbox_depths() == {CHANNEL.key: 1}


async def test_unknown_platform_is_an_error(services: Services) -> None:
    with pytest.raises(PaperwireError, match="no transport for platform 'nowhere'"):
        await services.delivery.deliver(
            OutgoingMessage(Destination("nowhere", "x", "y"), Reply(Notice("x")))
        )


class HeldTransport(RecordingTransport):
    """Receives a message, then answers only when released (a platform still replying)."""

    def __init__(self) -> None:
        super().__init__()
        self.received = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.received.set()
        await self.release.wait()
        return await super().send(message)


async def test_wait_idle_returns_once_what_the_platform_received_is_recorded(
    services: Services,
) -> None:
    transport = HeldTransport()
    services.delivery.register(transport)
    sending = asyncio.create_task(services.delivery.deliver(OutgoingMessage(CHANNEL, NOTICE)))
    await transport.received.wait()
    idle = asyncio.create_task(services.delivery.wait_idle())
    await asyncio.sleep(0)  # let it look: the send is still under way
    assert not idle.done()
    assert await services.outbox.outbox_depths() == {CHANNEL.key: 1}
    transport.release.set()
    await idle
    assert await services.outbox.outbox_depths() == {}  # recorded as sent before idle
    assert (await sending).ok
