"""Which process sends to a destination now (several processes on one database). With
SQLite every destination is the one process's; with PostgreSQL claims are rows taken with
FOR UPDATE SKIP LOCKED: never two holders, a claim whose time passed or whose process
stopped beating is taken over."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.storage import Storage, open_storage
from bot.storage.types import ProcessBeat
from tests.conftest import NOW
from tests.postgres import fresh_schema

DESTINATIONS = [f"slack:T1:C{n}" for n in range(40)]
HELD = NOW + timedelta(minutes=6)


async def test_sqlite_gives_every_destination_to_its_one_process() -> None:
    async with open_storage(":memory:") as storage:
        claims = storage.outbox.claim
        assert await claims(DESTINATIONS, "a", HELD, NOW) == DESTINATIONS
        assert await claims(DESTINATIONS, "b", HELD, NOW) == DESTINATIONS


async def beating(storage: Storage, *processes: str) -> None:
    for process in processes:
        await storage.processes.beat(ProcessBeat(process, NOW, NOW, False))


async def test_processes_claiming_at_once_never_share_a_destination() -> None:
    async with fresh_schema() as url, open_storage(url) as a, open_storage(url) as b:
        await beating(a, "a", "b")
        for _ in range(5):
            got_a, got_b = await asyncio.gather(
                a.outbox.claim(DESTINATIONS, "a", HELD, NOW),
                b.outbox.claim(DESTINATIONS[::-1], "b", HELD, NOW),
            )
            assert not set(got_a) & set(got_b)
            assert set(got_a) | set(got_b) <= set(DESTINATIONS)
            for destination in got_a:
                await a.outbox.release_claim(destination, "a")
            for destination in got_b:
                await b.outbox.release_claim(destination, "b")


async def test_a_claim_is_kept_by_its_holder_and_free_once_released() -> None:
    async with fresh_schema() as url, open_storage(url) as storage:
        await beating(storage, "a", "b")
        claims = storage.outbox.claim
        assert await claims(["d1", "d2"], "a", HELD, NOW) == ["d1", "d2"]
        assert await claims(["d1", "d2"], "b", HELD, NOW) == []
        assert await claims(["d1"], "a", HELD, NOW) == ["d1"]  # its holder extends it
        await storage.outbox.release_claim("d1", "b")  # not b's to release
        assert await claims(["d1"], "b", HELD, NOW) == []
        await storage.outbox.release_claim("d1", "a")
        assert await claims(["d1", "d2"], "b", HELD, NOW) == ["d1"]


async def test_a_claim_past_its_time_or_of_a_silent_process_is_taken_over() -> None:
    async with fresh_schema() as url, open_storage(url) as storage:
        await beating(storage, "a", "b")
        claims = storage.outbox.claim
        assert await claims(["d1"], "a", NOW + timedelta(minutes=1), NOW) == ["d1"]
        later = NOW + timedelta(minutes=2)
        await storage.processes.beat(ProcessBeat("a", NOW, later, False))  # a still beats
        assert await claims(["d1"], "b", later + timedelta(minutes=6), later) == ["d1"]
        # b stops beating (it died): after PROCESS_GONE_AFTER, a takes d1 before its time.
        much_later = later + timedelta(minutes=1)
        await storage.processes.beat(ProcessBeat("a", NOW, much_later, False))
        assert await claims(["d1"], "a", much_later + timedelta(minutes=6), much_later) == ["d1"]
