"""Looking for what an earlier send posted: reads keep to their method's pace (on a
virtual clock), callers of one channel waiting together share a read, a thread is read
only when there is one, and a read that cannot be made now (its turn far off, or Slack's
429) makes the message wait in the outbox, with no failure counted."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Services
from bot.delivery import codec
from bot.delivery.outbox import DeliveryService, OutgoingMessage
from bot.delivery.pacing import Pacer
from bot.models import Destination
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.platforms.slack.recovery import MAX_PAGES, PacedReads, Page, ReadDeferred, Recovery, marker
from bot.render.neutral import Notice, Reply
from tests.conftest import NOW, Clock
from tests.slack.fake_slack import (
    FakeSlack,
    api_error,
    cut,
    rate_limited,
    running_fake_slack,
    server_error,
)
from tests.virtual_time import VirtualTime

CHANNEL = Destination("slack", "T1", "C1")


class Reads:
    """A `PacedReads` on virtual time whose reads are counted, per key, with their time."""

    def __init__(self, per_min: float) -> None:
        self.time = VirtualTime()
        self.made: list[tuple[Any, float]] = []
        self.reads = PacedReads(
            "conversations.history", per_min, self._fetch, self.time.clock, self.time.sleep
        )

    async def _fetch(self, key: Any, oldest: str | None, cursor: str) -> Page:
        self.made.append((key, round(self.time.now - 1000.0, 3)))
        return [{"ts": f"{key}-1"}], ""


async def test_reads_keep_to_their_methods_pace() -> None:
    reads = Reads(per_min=60)
    await reads.time.run(*(reads.reads.read(key) for key in ("C1", "C2", "C3")))
    assert reads.made == [("C1", 0.0), ("C2", 1.0), ("C3", 2.0)]


async def test_callers_of_one_channel_waiting_together_share_one_read() -> None:
    reads = Reads(per_min=60)
    answers = await reads.time.run(
        reads.reads.read("C1"), *(reads.reads.read("C2") for _ in range(3))
    )
    assert reads.made == [("C1", 0.0), ("C2", 1.0)]  # one read covers the three
    assert answers[1:] == [[{"ts": "C2-1"}]] * 3


async def test_a_caller_asking_after_a_read_was_sent_reads_again() -> None:
    reads = Reads(per_min=60)
    await reads.time.run(reads.reads.read("C1"))
    await reads.time.run(reads.reads.read("C1"))  # what it looks for may be newer
    assert reads.made == [("C1", 0.0), ("C1", 1.0)]


async def test_a_read_whose_turn_is_far_off_is_not_waited_for() -> None:
    reads = Reads(per_min=1)  # what Slack allows apps outside its Marketplace
    await reads.time.run(reads.reads.read("C1"))
    with pytest.raises(ReadDeferred) as deferred:
        await reads.time.run(reads.reads.read("C2"))
    assert deferred.value.wait_s == pytest.approx(60.0)
    assert "paced at 1 a minute" in str(deferred.value)
    assert reads.made == [("C1", 0.0)]


# --- against the fake Slack -------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as running:
        yield running


def _message(outbox_id: int) -> OutgoingMessage:
    return OutgoingMessage(CHANNEL, Reply(Notice("x")), outbox_id=outbox_id)


async def _post(client: AsyncWebClient, part: int, thread_ts: str | None = None) -> str:
    posted = await client.chat_postMessage(
        channel="C1", text="x", metadata=marker(_message(7), part), thread_ts=thread_ts
    )
    return str(posted["ts"])


async def test_a_thread_is_read_only_when_the_first_part_has_replies(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
    recovery = Recovery(client, per_min=1000)
    first = await _post(client, 0)
    assert await recovery.in_channel("C1", _message(7)) == {0: first}
    assert fake.calls_to("conversations.replies") == []  # no replies: no thread to read
    reply = await _post(client, 1, thread_ts=first)
    assert await recovery.in_channel("C1", _message(7)) == {0: first, 1: reply}
    assert len(fake.calls_to("conversations.replies")) == 1


async def test_a_read_slack_refuses_is_not_retried_until_its_retry_after(
    fake: FakeSlack,
) -> None:
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url, retry_handlers=[])
    recovery = Recovery(client, per_min=1000)
    fake.fail("conversations.history", rate_limited(retry_after=45))
    with pytest.raises(ReadDeferred) as refused:
        await recovery.in_channel("C1", _message(7))
    assert refused.value.wait_s == 45 and "429" in str(refused.value)
    with pytest.raises(ReadDeferred) as held:  # held: Slack is not asked again meanwhile
        await recovery.in_channel("C2", _message(8))
    assert 40 < held.value.wait_s <= 45
    assert len(fake.calls_to("conversations.history")) == 1


async def test_a_message_whose_check_slack_refuses_waits_without_a_failure(
    services: Services, fake: FakeSlack
) -> None:
    clock = Clock()
    delivery = DeliveryService(services.outbox, clock)
    config = SlackConfig(fake.token, "secret", api_url=fake.api_url)
    delivery.register(SlackAdapter(services, config, Pacer(1000, per_channel=1000)))
    # A crash left a message whose request had left: it is checked before it goes again.
    message_id = await services.outbox.enqueue(
        CHANNEL.key, codec.dumps(Reply(Notice("x"))), (), NOW
    )
    await services.outbox.mark_sending(message_id)
    fake.fail("conversations.history", rate_limited(retry_after=45))
    [receipt] = (await delivery.drain()).values()
    assert receipt.queued and receipt.retry_in == 45
    assert len(fake.calls_to("conversations.history")) == 1  # once: no SDK retries
    assert fake.calls_to("chat.postMessage") == []  # nothing sent unchecked
    [head] = await services.outbox.outbox_heads()
    assert (head.attempts, head.next_attempt_at) == (0, NOW + timedelta(seconds=45))
    assert "429" in (head.last_error or "")
    # Once Slack allows it, the check is made and the message goes.
    clock.advance(seconds=46)
    # A new process (this one holds its reads for 45 real seconds):
    adapter = SlackAdapter(services, config, Pacer(1000, per_channel=1000))
    later = DeliveryService(services.outbox, clock)
    later.register(adapter)
    [receipt] = (await later.drain()).values()
    assert receipt.ok and len(fake.calls_to("chat.postMessage")) == 1


# --- a check that cannot be made, and one that needs more than a page -------------------


def _delivery(
    services: Services, fake: FakeSlack, clock: Clock, history_per_min: int = 1000
) -> DeliveryService:
    delivery = DeliveryService(services.outbox, clock)
    config = SlackConfig(
        fake.token, "secret", api_url=fake.api_url, history_per_min=history_per_min
    )
    delivery.register(SlackAdapter(services, config, Pacer(1000, per_channel=1000)))
    return delivery


async def test_a_check_slack_refuses_never_stops_the_channel(
    services: Services, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """A public channel the bot was never invited to (chat:write.public): Slack refuses
    its history (`not_in_channel`). After a passing failure the message goes unchecked,
    with a warning, rather than the channel being stopped for good."""
    clock = Clock()
    delivery = _delivery(services, fake, clock)
    fake.not_member.add("CPUBLIC")
    public = Destination("slack", "T1", "CPUBLIC")
    await services.outbox.enqueue(public.key, codec.dumps(Reply(Notice("digest"))), (), NOW)
    fake.fail("chat.postMessage", server_error(503))  # a passing failure; a request left
    [first] = (await delivery.drain()).values()
    assert not first.ok and not first.permanent
    clock.advance(seconds=60)
    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.recovery"):
        [second] = (await delivery.drain()).values()
    assert second.ok, second
    state = await services.outbox.destination_state(public.key)
    assert state.stopped is False, state.error
    assert len(fake.history["CPUBLIC"]) == 1  # posted (unchecked) once the 503 passed
    assert len(fake.calls_to("conversations.history")) == 1  # the check was tried
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "bot.platforms.slack.recovery"
    ]
    assert len(warnings) == 1 and "not_in_channel" in warnings[0], warnings
    assert "without checking" in warnings[0]


@pytest.mark.parametrize("error", ["channel_not_found", "missing_scope", "some_new_refusal"])
async def test_a_refused_thread_read_is_no_permanent_error_either(
    services: Services, fake: FakeSlack, error: str
) -> None:
    """An answer in a mention's thread that may have arrived: the thread's read refused."""
    adapter = SlackAdapter(
        services, SlackConfig(fake.token, "secret", api_url=fake.api_url), Pacer(1000, 1000)
    )
    fake.fail("conversations.replies", api_error(error))
    where = Destination.reply_in("slack", "T1", "C1")
    handle = {"channel": "C1", "thread_ts": "1795339700.000100", "user": "U1"}
    message = OutgoingMessage(
        where, Reply(Notice("x"), ephemeral=False), handle=handle, outbox_id=3, recovering=True
    )
    receipt = await adapter.send(message)
    assert receipt.ok and not receipt.permanent
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_check_pages_through_everything_posted_since_the_message_was_queued(
    services: Services, fake: FakeSlack
) -> None:
    """Slack answers limited apps 15 messages a read: the check pages (from the message's
    enqueue time less a minute) until it finds the marker."""
    clock = Clock()
    delivery = _delivery(services, fake, clock)
    fake.read_cap = 15
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
    fake.clock = lambda: (clock.now - timedelta(hours=1)).timestamp()
    for n in range(30):  # an hour before: not the check's business
        await client.chat_postMessage(channel="C1", text=f"old {n}")
    fake.clock = lambda: clock.now.timestamp()
    await services.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice("digest"))), (), NOW)
    fake.fail("chat.postMessage", cut(after=True))  # posted; the answer lost
    [first] = (await delivery.drain()).values()
    assert not first.ok and len(fake.history["C1"]) == 31
    for n in range(40):  # the channel goes on meanwhile
        await client.chat_postMessage(channel="C1", text=f"later {n}")
    clock.advance(minutes=5)
    [second] = (await delivery.drain()).values()
    assert second.ok
    assert len(fake.history["C1"]) == 71  # found on the third page: not posted again
    reads = fake.calls_to("conversations.history")
    assert len(reads) == 3
    oldest = f"{(NOW - timedelta(seconds=60)).timestamp():.6f}"
    assert all(read.args["oldest"] == oldest for read in reads)
    assert [bool(read.args.get("cursor")) for read in reads] == [False, True, True]


async def test_each_page_keeps_to_the_read_pace_and_a_deferred_check_resumes(
    fake: FakeSlack,
) -> None:
    """At one read a minute the second page's turn is a minute off: the message waits in
    the outbox, and its check then goes on from that page, not from the first again."""
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
    time = VirtualTime()
    recovery = Recovery(client, per_min=1, clock=time.clock, sleep=time.sleep)
    fake.read_cap = 15
    message = replace(_message(7), enqueued_at=NOW)
    first = await _post(client, 0)
    for n in range(20):
        await client.chat_postMessage(channel="C1", text=f"later {n}")
    with pytest.raises(ReadDeferred) as deferred:
        await recovery.in_channel("C1", message)
    assert deferred.value.wait_s == pytest.approx(60.0)
    assert "page 2" in str(deferred.value)
    time.now += 60
    assert await recovery.in_channel("C1", message) == {0: first}
    reads = fake.calls_to("conversations.history")
    assert [bool(read.args.get("cursor")) for read in reads] == [False, True]


async def test_a_check_gives_up_after_its_page_cap(fake: FakeSlack) -> None:
    """Not found within the cap: like not found (the part is posted again)."""
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
    recovery = Recovery(client, per_min=1000)
    fake.read_cap = 15
    message = replace(_message(7), enqueued_at=NOW)
    await client.chat_postMessage(channel="C1", text="x", metadata=marker(message, 0))
    for n in range(15 * MAX_PAGES):
        await client.chat_postMessage(channel="C1", text=f"later {n}")
    assert await recovery.in_channel("C1", message) == {}
    assert len(fake.calls_to("conversations.history")) == MAX_PAGES


async def test_a_read_that_fails_is_a_passing_failure(services: Services, fake: FakeSlack) -> None:
    """A 5xx on the check's read: neither posted unchecked nor the channel stopped."""
    adapter = SlackAdapter(
        services, SlackConfig(fake.token, "secret", api_url=fake.api_url), Pacer(1000, 1000)
    )
    fake.fail("conversations.history", server_error(503, error="channel_not_found"))
    receipt = await adapter.send(replace(_message(7), recovering=True, enqueued_at=NOW))
    assert not receipt.ok and not receipt.permanent
    assert "conversations.history" in (receipt.error or "")
    assert fake.calls_to("chat.postMessage") == []
