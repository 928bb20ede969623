"""The outbox: messages survive a crash, keep their order per destination, wait out
failures, and a message whose last attempt had an unknown outcome is sent as recovering."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bot.app import Services
from bot.delivery import codec
from bot.delivery.outbox import CONCURRENT_DESTINATIONS, DeliveryService, OutgoingMessage, Receipt
from bot.models import Destination
from bot.render.neutral import (
    AlertGroup,
    Digest,
    Help,
    HelpTopic,
    Highlighted,
    Hit,
    ListPages,
    Notice,
    Reply,
    SearchPage,
    TopicAlert,
)
from bot.storage import QueuedMessage
from tests.conftest import NOW, Clock, make_paper

CHANNEL = Destination("fake", "T1", "C1")
OTHER = Destination("fake", "T1", "C2")


class Recorder:
    platform = "fake"

    def __init__(self, *receipts: Receipt) -> None:
        self.sent: list[OutgoingMessage] = []
        self._receipts = list(receipts)

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return self._receipts.pop(0) if self._receipts else Receipt(ok=True, platform_ids=("1",))


@pytest.mark.parametrize(
    "content",
    [
        Notice("hi", title="t", is_error=True),
        Notice("page 2", pages=ListPages(2, 3, tag="to-read")),  # a reading list's page
        Help("h", (HelpTopic("/papers x", "does x"),), footer="f", error="e"),
        Digest(day=NOW.date(), papers=(make_paper(),), topic="agents", style="compact"),
        SearchPage("q", (Hit(make_paper(), 1.5, Highlighted("t", ((0, 1),)), Highlighted("s")),)),
        TopicAlert((AlertGroup("diffusion", (make_paper(),), more=3),)),
    ],
)
def test_every_reply_survives_the_outbox(content: object) -> None:
    reply = Reply(content, ephemeral=False)  # type: ignore[arg-type]
    assert codec.loads(codec.dumps(reply)) == reply


def test_the_codec_refuses_unknown_types() -> None:
    with pytest.raises(KeyError):
        codec.loads('{"$": "os.system", "command": "rm"}')
    with pytest.raises(TypeError):
        codec.dumps(Reply(Notice(object())))  # type: ignore[arg-type]


async def test_a_message_cut_short_by_a_crash_is_sent_again_as_recovering(
    services: Services,
) -> None:
    # A crash right after the send left the process: the row says "sending".
    key = CHANNEL.key
    message_id = await services.outbox.enqueue(key, codec.dumps(Reply(Notice("x"))), (), NOW)
    await services.outbox.mark_sending(message_id)
    # A new process: its delivery service drains what was left.
    recorder = Recorder()
    delivery = DeliveryService(services.outbox, lambda: NOW)
    delivery.register(recorder)
    results = await delivery.drain()
    assert list(results) == [message_id] and results[message_id].ok
    [sent] = recorder.sent
    assert sent.recovering and sent.outbox_id == message_id
    assert await delivery.drain() == {}  # delivered once
    assert await services.outbox.outbox_depths() == {}


async def test_order_is_kept_per_destination_and_failures_wait(services: Services) -> None:
    clock = Clock()
    delivery = DeliveryService(services.outbox, clock)
    failing = Recorder(Receipt(ok=False, error="ratelimited"))
    delivery.register(failing)
    first = await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("first"))))
    assert first.queued and not first.ok
    second = await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("second"))))
    assert second.queued and second.error == "queued behind earlier messages"
    elsewhere = await delivery.deliver(OutgoingMessage(OTHER, Reply(Notice("other"))))
    assert elsewhere.ok  # another destination is not held up
    assert [m.reply.content.text for m in failing.sent] == ["first", "other"]  # type: ignore[union-attr]
    assert await delivery.drain() == {}  # not due before the backoff
    clock.now = NOW + timedelta(seconds=6)
    results = await delivery.drain()
    assert [r.ok for r in results.values()] == [True, True]
    texts = [m.reply.content.text for m in failing.sent]  # type: ignore[union-attr]
    assert texts == ["first", "other", "first", "second"]


async def test_destination_states_list_every_destination(services: Services) -> None:
    await services.outbox.record_delivery(CHANNEL.key, NOW)
    await services.outbox.record_delivery(OTHER.key, NOW, "channel_not_found", permanent=True)
    ok, stopped = await services.outbox.destination_states()
    assert (ok.destination, ok.stopped, ok.last_success_at) == (CHANNEL.key, False, NOW)
    assert (stopped.destination, stopped.stopped, stopped.error) == (
        OTHER.key,
        True,
        "channel_not_found",
    )
    assert stopped.last_error_at == NOW and stopped.last_success_at is None


def test_a_reply_has_a_queue_of_its_own() -> None:
    first = Destination.reply_in("fake", "T1", "C1")
    second = Destination.reply_in("fake", "T1", "C1")
    assert first.key != second.key != CHANNEL.key
    assert first.key.startswith("fake:T1:C1!")
    assert Destination.from_key(first.key) == first and first.kind == "reply"


async def test_a_refused_reply_is_dropped_without_stopping_the_channel(
    services: Services,
) -> None:
    clock = Clock()
    delivery = DeliveryService(services.outbox, clock)
    recorder = Recorder(Receipt(ok=False, error="404 Unknown Webhook", permanent=True))
    delivery.register(recorder)
    handle = {"token": "t", "expires_at": (NOW + timedelta(minutes=15)).isoformat()}
    where = Destination.reply_in("fake", "T1", "C1")
    refused = await delivery.deliver(OutgoingMessage(where, Reply(Notice("late")), handle=handle))
    assert refused.permanent and not refused.ok
    assert recorder.sent[0].handle == handle  # the transport got the kept handle
    assert await services.outbox.outbox_depths() == {}  # dropped, not waiting
    assert await services.outbox.destination_states() == []  # nothing stopped
    assert (await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("digest"))))).ok


async def test_a_reply_without_a_handle_is_sent_directly(services: Services) -> None:
    delivery = DeliveryService(services.outbox, Clock())
    recorder = Recorder()
    delivery.register(recorder)
    where = Destination("fake", "local", "shell", kind="reply")
    assert (await delivery.deliver(OutgoingMessage(where, Reply(Notice("hi"))))).ok
    assert recorder.sent[0].outbox_id is None  # the console: nothing to keep


class Blocking(Recorder):
    """Channel messages wait until released (`busy` is set once `places` of them wait);
    replies go at once."""

    def __init__(self, places: int) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.busy = asyncio.Event()
        self.waiting = 0
        self._places = places

    async def send(self, message: OutgoingMessage) -> Receipt:
        if message.destination.kind != "reply":
            self.waiting += 1
            if self.waiting >= self._places:
                self.busy.set()
            await self.release.wait()
        return await super().send(message)


async def test_a_reply_does_not_wait_behind_a_fan_out(services: Services) -> None:
    delivery = DeliveryService(services.outbox, Clock())
    transport = Blocking(places=CONCURRENT_DESTINATIONS)
    delivery.register(transport)
    digests = [
        OutgoingMessage(Destination("fake", "T1", f"C{n}"), Reply(Notice("d")))
        for n in range(CONCURRENT_DESTINATIONS + 50)
    ]
    fan_out = [asyncio.create_task(delivery.deliver(m)) for m in digests]
    await transport.busy.wait()  # every place is taken, 50 more wait for one
    handle = {"expires_at": (NOW + timedelta(minutes=15)).isoformat()}
    where = Destination.reply_in("fake", "T1", "C1")
    async with asyncio.timeout(5):  # (were it to wait for a place, it would wait forever)
        reply = await delivery.deliver(OutgoingMessage(where, Reply(Notice("r")), handle=handle))
    assert reply.ok and transport.waiting == CONCURRENT_DESTINATIONS
    transport.release.set()
    assert all(r.ok for r in await asyncio.gather(*fan_out))


async def test_an_unreadable_row_is_dropped_and_the_rest_still_go(services: Services) -> None:
    delivery = DeliveryService(services.outbox, Clock())
    recorder = Recorder()
    delivery.register(recorder)
    bad = await services.outbox.enqueue(OTHER.key, '{"$": "no.such.Type"}', (), NOW)
    await services.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice("fine"))), (), NOW)
    results = await delivery.drain()
    assert results[bad].error == "unreadable" and not results[bad].ok
    assert [m.destination for m in recorder.sent] == [CHANNEL]
    assert await services.outbox.outbox_depths() == {}
    assert await services.outbox.outbox_state(bad) == "dropped"


async def test_pruning_forgets_old_delivered_messages_but_never_reuses_an_id(
    services: Services,
) -> None:
    long_ago = NOW - timedelta(days=9)
    old, waiting, newest = [
        await services.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice(text))), (), long_ago)
        for text in ("old", "waiting", "newest")
    ]
    await services.outbox.mark_sent(old, ("ts",), NOW)
    await services.outbox.mark_sent(newest, ("ts",), NOW)
    assert await services.outbox.prune_outbox(NOW - timedelta(days=7)) == 1
    assert await services.outbox.outbox_state(old) is None  # forgotten
    assert await services.outbox.outbox_state(waiting) == "pending"  # still to deliver: kept
    assert await services.outbox.outbox_state(newest) == "sent"  # the newest row stays...
    fresh = await services.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice("new"))), (), NOW)
    assert fresh == newest + 1  # ...so no id (a platform marker and nonce) comes back


# --- what a crash leaves uncertain -----------------------------------------------------


class Paced(Recorder):
    """Each send waits for its turn (`turn` set), then its request departs and waits for
    its answer (`answer` set); `waiting` / `departed` are set on reaching each point."""

    def __init__(self, *receipts: Receipt) -> None:
        super().__init__(*receipts)
        self.turn = asyncio.Event()
        self.answer = asyncio.Event()
        self.waiting = asyncio.Event()
        self.departed = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.waiting.set()
        await self.turn.wait()
        await message.departs()
        self.departed.set()
        await self.answer.wait()
        return await super().send(message)


async def _queue(services: Services) -> None:
    await services.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice("x"))), (), NOW)


async def _crash_at(services: Services, point: str, clock: Clock) -> QueuedMessage:
    """A process sending what waits, cut short (its drain cancelled, as a process dies:
    nothing more is written) while waiting for its turn or after its request left; the
    row it leaves."""
    transport = Paced()
    if point == "departed":
        transport.turn.set()
    delivery = DeliveryService(services.outbox, clock)
    delivery.register(transport)
    sending = asyncio.create_task(delivery.drain())
    await (transport.departed if point == "departed" else transport.waiting).wait()
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    [row] = await services.outbox.due_messages(CHANNEL.key, clock())
    return row


async def test_a_crash_while_waiting_for_a_turn_leaves_the_message_plainly_queued(
    services: Services,
) -> None:
    clock = Clock()
    await _queue(services)
    for _ in range(3):  # three crashes, each while the message waited for its turn
        row = await _crash_at(services, "waiting", clock)
        assert (row.state, row.attempts, row.sends) == ("pending", 0, 0)
    later = Recorder()
    delivery = DeliveryService(services.outbox, clock)
    delivery.register(later)
    await delivery.drain()
    [sent] = later.sent
    assert not sent.recovering  # nothing of it can have arrived: no check


async def test_a_crash_after_the_request_left_leaves_it_uncertain_but_no_failure(
    services: Services,
) -> None:
    clock = Clock()
    await _queue(services)
    row = await _crash_at(services, "departed", clock)
    assert (row.state, row.attempts, row.sends) == ("sending", 0, 1)
    later = Recorder()
    delivery = DeliveryService(services.outbox, clock)
    delivery.register(later)
    await delivery.drain()
    [sent] = later.sent
    assert sent.recovering  # it may have arrived: the transport looks first


async def test_the_backoff_follows_real_failures_not_crashes(services: Services) -> None:
    clock = Clock()
    delivery = DeliveryService(services.outbox, clock)
    delivery.register(Recorder(Receipt(ok=False, error="internal_error")))
    await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("x"))))  # failure 1
    for _ in range(4):  # then four crashes while it waited for its turn
        clock.advance(minutes=1)
        await _crash_at(services, "waiting", clock)
    clock.advance(minutes=1)
    failing = DeliveryService(services.outbox, clock)
    failing.register(Recorder(Receipt(ok=False, error="internal_error")))
    [receipt] = (await failing.drain()).values()  # failure 2
    assert not receipt.ok
    [head] = await services.outbox.outbox_heads()
    assert head.attempts == 2
    # The wait after a second failure (30 s, up to a fifth more), not after a sixth (1 h).
    assert timedelta(seconds=30) <= head.next_attempt_at - clock() <= timedelta(seconds=36)


async def test_a_transport_asking_to_wait_counts_no_failure(services: Services) -> None:
    clock = Clock()
    delivery = DeliveryService(services.outbox, clock)
    wait = Receipt(ok=False, error="waiting to read the channel's history", retry_in=90)
    delivery.register(Recorder(wait))
    woken: list[tuple[str, datetime]] = []
    delivery.wake_at = lambda destination, at: woken.append((destination, at))
    receipt = await delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("x"))))
    assert receipt.queued and not receipt.ok
    [head] = await services.outbox.outbox_heads()
    assert (head.attempts, head.last_error) == (0, "waiting to read the channel's history")
    assert head.next_attempt_at == clock() + timedelta(seconds=90)
    assert await services.outbox.destination_states() == []  # no failure recorded either
    assert woken == [(CHANNEL.key, clock() + timedelta(seconds=90))]  # drained when due


async def test_a_closed_delivery_service_sends_nothing_and_keeps_it(services: Services) -> None:
    recorder = Recorder()
    services.delivery.register(recorder)
    await services.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice("x"))), (), NOW)
    services.delivery.close()  # the database is about to close (a stop)
    assert await services.delivery.drain() == {}
    assert recorder.sent == [] and await services.outbox.outbox_depths() == {CHANNEL.key: 1}
