"""Leadership: the schedule runs while this process leads, stops when it loses the lead,
starts again when it takes it back; every step beats; a stop resigns and forgets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import pytest

from bot.storage.types import ProcessBeat
from schedules.leader import Leadership
from tests.conftest import Clock


class FakeProcesses:
    def __init__(self) -> None:
        self.lead = True
        self.beats: list[ProcessBeat] = []
        self.resigned = False
        self.forgotten: list[str] = []

    async def try_lead(self) -> bool:
        return self.lead

    async def resign(self) -> None:
        self.resigned = True

    async def beat(self, beat: ProcessBeat) -> None:
        self.beats.append(beat)

    async def live_processes(self, seen_since: datetime) -> list[ProcessBeat]:
        return self.beats

    async def forget_process(self, process: str) -> None:
        self.forgotten.append(process)


async def test_the_schedule_follows_the_lead() -> None:
    processes, clock = FakeProcesses(), Clock()
    events: list[str] = []
    changes: list[bool] = []

    @asynccontextmanager
    async def schedule() -> AsyncIterator[list[str]]:
        events.append("start")
        yield ["digest:x"]
        events.append("stop")

    leadership = Leadership(
        processes, "host:1:ab", schedule, clock, detail="v1", check_s=3600, on_change=changes.append
    )
    async with leadership:
        assert leadership.leading and leadership.jobs == ["digest:x"]
        assert events == ["start"]
        processes.lead = False
        clock.advance(seconds=10)
        await leadership.step()
        assert not leadership.leading and leadership.jobs == []
        assert events == ["start", "stop"]
        await leadership.step()  # still following: nothing starts or stops
        assert events == ["start", "stop"]
        processes.lead = True
        await leadership.step()
        assert events == ["start", "stop", "start"]
    assert events == ["start", "stop", "start", "stop"]
    assert changes == [True, False, True, False]
    # Each step beats first (as it stands), and once more on taking the lead.
    assert [b.leader for b in processes.beats] == [False, True, True, False, False, True]
    assert processes.beats[2].seen_at > processes.beats[1].seen_at  # the clock moved
    assert {b.process for b in processes.beats} == {"host:1:ab"}
    assert processes.resigned and processes.forgotten == ["host:1:ab"]


async def test_a_follower_starts_nothing() -> None:
    processes = FakeProcesses()
    processes.lead = False
    started: list[bool] = []

    @asynccontextmanager
    async def schedule() -> AsyncIterator[list[str]]:
        started.append(True)
        yield []

    async with Leadership(processes, "p", schedule, Clock(), check_s=3600) as leadership:
        assert not leadership.leading
    assert started == [] and [b.leader for b in processes.beats] == [False]


async def test_a_stop_while_starting_stops_what_did_start() -> None:
    processes = FakeProcesses()
    events: list[str] = []

    beats: list[ProcessBeat] = []

    async def failing_beat(beat: ProcessBeat) -> None:
        beats.append(beat)
        if len(beats) == 2:  # the stop arrives while it says it leads, the schedule started
            raise asyncio.CancelledError

    processes.beat = failing_beat  # type: ignore[method-assign]

    @asynccontextmanager
    async def schedule() -> AsyncIterator[list[str]]:
        events.append("start")
        try:
            yield []
        finally:
            events.append("stop")

    with pytest.raises(asyncio.CancelledError):
        async with Leadership(processes, "p", schedule, Clock(), check_s=3600):
            pass
    assert events == ["start", "stop"]
    assert processes.resigned and processes.forgotten == ["p"]
