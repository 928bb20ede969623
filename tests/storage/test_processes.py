"""The processes sharing a database: heartbeats for `paperwire status`, and the one lead.
With SQLite the one process always leads; with PostgreSQL the lead is an advisory lock held
on a connection of its own, free again once its holder resigns (or dies)."""

from __future__ import annotations

from datetime import timedelta

from bot.storage import Storage, open_storage
from bot.storage.types import ProcessBeat
from tests.conftest import NOW
from tests.postgres import fresh_schema


async def test_live_processes_are_those_that_beat_recently(storage: Storage) -> None:
    old = ProcessBeat("host:1:aaaa", NOW - timedelta(hours=1), NOW - timedelta(minutes=5), False)
    live = ProcessBeat("host:2:bbbb", NOW - timedelta(minutes=10), NOW, True, "paperwire 1")
    for beat in (old, live):
        await storage.processes.beat(beat)
    assert await storage.processes.live_processes(NOW - timedelta(seconds=30)) == [live]
    # A beat updates the row; a stop forgets it.
    await storage.processes.beat(ProcessBeat("host:2:bbbb", live.started_at, NOW, False))
    [again] = await storage.processes.live_processes(NOW - timedelta(seconds=30))
    assert not again.leader
    # A new leader's beat: whoever beat as leader before no longer leads.
    await storage.processes.beat(ProcessBeat("host:2:bbbb", live.started_at, NOW, True))
    await storage.processes.beat(ProcessBeat("host:3:cccc", NOW, NOW, True))
    leaders = [p.process for p in await storage.processes.live_processes(NOW) if p.leader]
    assert leaders == ["host:3:cccc"]
    await storage.processes.forget_process("host:3:cccc")
    await storage.processes.forget_process("host:2:bbbb")
    assert await storage.processes.live_processes(NOW - timedelta(days=1)) == [old]


async def test_an_sqlite_process_always_leads() -> None:
    async with open_storage(":memory:") as storage:
        assert await storage.processes.try_lead()
        assert await storage.processes.try_lead()


async def test_one_postgresql_process_leads_until_it_resigns() -> None:
    async with (
        fresh_schema() as url,
        open_storage(url) as first,
        open_storage(url) as second,
        open_storage(url) as third,
    ):
        assert await first.processes.try_lead()
        assert not await second.processes.try_lead()
        assert await first.processes.try_lead()  # still held
        assert not await third.processes.try_lead()
        await first.processes.resign()
        assert await second.processes.try_lead()
        assert not await first.processes.try_lead()
        assert not await third.processes.try_lead()
        await second.processes.resign()


async def test_deployments_in_two_schemas_of_one_database_each_have_a_leader() -> None:
    async with (
        fresh_schema() as one,
        fresh_schema() as two,
        open_storage(one) as first,
        open_storage(two) as second,
    ):
        assert await first.processes.try_lead()
        assert await second.processes.try_lead()  # the lock is the schema's, not the server's
        await first.processes.resign()
        await second.processes.resign()
