"""Several processes draining one outbox (PostgreSQL): each message goes out once, each
destination's messages in order, one send in flight per destination at any moment."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

from bot.delivery import codec
from bot.delivery.budgets import budget_of, interleaved, owner_of
from bot.delivery.outbox import DeliveryService, OutgoingMessage, Receipt
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from bot.storage import open_storage
from bot.storage.types import ProcessBeat
from tests.conftest import NOW
from tests.postgres import fresh_schema

DESTINATIONS = [f"fake:T{n % 4}:C{n}" for n in range(12)]
CHANNEL = Destination("fake", "T1", "C0")
PER_DESTINATION = 5


class SlowRecorder:
    """A platform that takes a moment per send and notes two sends at once to one place."""

    platform = "fake"

    def __init__(self, sent: dict[str, list[str]], in_flight: set[str], overlaps: list[str]):
        self._sent, self._in_flight, self._overlaps = sent, in_flight, overlaps

    async def send(self, message: OutgoingMessage) -> Receipt:
        key = message.destination.key
        if key in self._in_flight:
            self._overlaps.append(key)
        self._in_flight.add(key)
        await asyncio.sleep(0.002)  # a request's round trip: the other process runs meanwhile
        self._in_flight.discard(key)
        assert isinstance(message.reply.content, Notice)
        self._sent[key].append(message.reply.content.text)
        return Receipt(ok=True, platform_ids=(str(message.outbox_id),))


async def test_two_processes_send_each_message_once_and_in_order() -> None:
    sent: dict[str, list[str]] = defaultdict(list)
    in_flight: set[str] = set()
    overlaps: list[str] = []
    async with fresh_schema() as url, open_storage(url) as a, open_storage(url) as b:
        for n in range(PER_DESTINATION):
            for key in DESTINATIONS:
                await a.outbox.enqueue(key, codec.dumps(Reply(Notice(f"{key} #{n}"))), (), NOW)
        services = []
        for name, storage in (("a", a), ("b", b)):
            await storage.processes.beat(ProcessBeat(name, NOW, NOW, False))
            delivery = DeliveryService(storage.outbox, lambda: NOW, process=name)
            delivery.register(SlowRecorder(sent, in_flight, overlaps))
            services.append(delivery)
        # Side by side, each destination asked of both, in opposite orders.
        a_side, b_side = services
        results = await asyncio.gather(
            *(a_side.drain(key) for key in DESTINATIONS),
            *(b_side.drain(key) for key in reversed(DESTINATIONS)),
        )
        # Whatever one left (it found a destination claimed), a later pass sends.
        results += [await delivery.drain() for delivery in services]
        assert overlaps == []
        ids = [message_id for result in results for message_id in result]
        assert len(ids) == len(set(ids)) == len(DESTINATIONS) * PER_DESTINATION
        for key in DESTINATIONS:
            assert sent[key] == [f"{key} #{n}" for n in range(PER_DESTINATION)]
        assert await a.outbox.outbox_depths() == {}


async def test_a_message_goes_out_from_the_process_that_owns_its_budget() -> None:
    async with fresh_schema() as url, open_storage(url) as storage:
        sent: dict[str, list[str]] = defaultdict(list)
        services = {}
        for name in ("p1", "p2"):
            delivery = DeliveryService(storage.outbox, lambda: NOW, process=name)
            delivery.register(SlowRecorder(sent, set(), []))
            await delivery.set_peers(["p1", "p2"])
            services[name] = delivery
        owner = owner_of(budget_of(CHANNEL), ["p1", "p2"])
        other = services["p2" if owner == "p1" else "p1"]
        assert not other.sends_to(CHANNEL) and services[owner].sends_to(CHANNEL)
        receipt = await other.deliver(OutgoingMessage(CHANNEL, Reply(Notice("hi"))))
        assert receipt.queued and not receipt.ok
        assert await other.drain() == {} and not sent  # not its budget
        [receipt] = (await services[owner].drain()).values()
        assert receipt.ok and sent[CHANNEL.key] == ["hi"]
        # Alone again (the other process gone), a process sends for every budget.
        await other.set_peers([])
        assert other.sends_to(CHANNEL)


def test_budgets_spread_over_processes_and_move_little_when_one_joins() -> None:
    budgets = [f"slack:T{n}" for n in range(300)]
    two = {b: owner_of(b, ["a", "b"]) for b in budgets}
    three = {b: owner_of(b, ["a", "b", "c"]) for b in budgets}
    assert 100 <= sum(o == "a" for o in two.values()) <= 200
    moved = [b for b in budgets if two[b] != three[b]]
    assert all(three[b] == "c" for b in moved)  # only the newcomer's share moves
    assert 60 <= len(moved) <= 140
    assert budget_of(Destination("discord", "G1", "C1")) == budget_of(
        Destination("discord", "G2", "C9")
    )  # one bot token, one budget
    one, other = Destination("slack", "T1", "C1"), Destination("slack", "T2", "C1")
    assert budget_of(one) != budget_of(other)


async def test_a_budget_another_process_holds_is_left_to_it() -> None:
    async with fresh_schema() as url, open_storage(url) as storage:
        sent: dict[str, list[str]] = defaultdict(list)
        for key in DESTINATIONS[:3]:
            await storage.outbox.enqueue(key, codec.dumps(Reply(Notice(key))), (), NOW)
        await storage.processes.beat(ProcessBeat("other", NOW, NOW, False))
        await storage.processes.beat(ProcessBeat("me", NOW, NOW, False))
        held = NOW + timedelta(minutes=6)
        assert await storage.outbox.claim(["fake:T0"], "other", held, NOW)  # C0's budget
        delivery = DeliveryService(storage.outbox, lambda: NOW, process="me")
        delivery.register(SlowRecorder(sent, set(), []))
        assert len(await delivery.drain()) == 2
        assert sorted(sent) == DESTINATIONS[1:3]
        await storage.outbox.release_claim("fake:T0", "other")
        assert len(await delivery.drain()) == 1
        assert sent[DESTINATIONS[0]] == [DESTINATIONS[0]]


def test_a_drain_takes_each_budget_in_turn() -> None:
    keys = [
        "slack:T1:C1",
        "slack:T1:C2",
        "slack:T1:C3",
        "slack:T2:C1",
        "discord:G1:1",
        "discord:G2:2",
    ]
    assert interleaved(keys) == [
        "slack:T1:C1",
        "slack:T2:C1",
        "discord:G1:1",
        "slack:T1:C2",
        "discord:G2:2",  # one bot token: one budget for every server
        "slack:T1:C3",
    ]
    assert interleaved([]) == []


class HeldTurn:
    """A platform whose pacing turn comes only when the test says: a send waits before it
    departs, as one waiting for its workspace's turn does."""

    platform = "fake"

    def __init__(self) -> None:
        self.turn = asyncio.Event()
        self.waiting = asyncio.Event()
        self.sent: list[int | None] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.waiting.set()
        await self.turn.wait()
        await message.departs()
        self.sent.append(message.outbox_id)
        return Receipt(ok=True, platform_ids=("1",))


async def test_a_budget_that_moves_mid_send_is_sent_once_by_its_new_owner() -> None:
    """A send waiting for its turn when another process comes to own its budget does not
    leave; the claim is let go once the drain ended, and the new owner sends it."""
    async with fresh_schema() as url, open_storage(url) as storage:
        names = ["p1", "p2"]
        for name in names:
            await storage.processes.beat(ProcessBeat(name, NOW, NOW, False))
        new = owner_of(budget_of(CHANNEL), names)  # the owner once both are live
        [old] = [name for name in names if name != new]
        held, later = HeldTurn(), HeldTurn()
        before = DeliveryService(storage.outbox, lambda: NOW, process=old)
        before.register(held)
        after = DeliveryService(storage.outbox, lambda: NOW, process=new)
        after.register(later)
        await storage.outbox.enqueue(CHANNEL.key, codec.dumps(Reply(Notice("x"))), (), NOW)
        draining = asyncio.create_task(before.drain())  # alone: it owns every budget
        await held.waiting.wait()
        await before.set_peers(names)  # a process joined: the budget moves
        await after.set_peers(names)
        assert await after.drain() == {}  # the old owner still holds the claim
        held.turn.set()
        [receipt] = (await draining).values()
        assert not receipt.ok and receipt.queued and held.sent == []  # it did not leave
        later.turn.set()
        [receipt] = (await after.drain()).values()
        assert receipt.ok and len(later.sent) == 1
        assert await storage.outbox.outbox_depths() == {}
