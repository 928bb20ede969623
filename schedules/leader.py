"""Which process runs the schedule. Several `paperwire run` processes may share one
PostgreSQL database: all answer commands, one leads. The leader runs the schedule (ingest,
digests, alerts); when it dies, another process takes the lead within a few seconds and
catches up what was due, as a restart does. With SQLite there is one process: it leads.

Every process records a heartbeat row (`paperwire status` lists them); from the live ones
each learns which platform budgets it sends for (bot.delivery.budgets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from types import TracebackType

from bot.storage import Processes
from bot.storage.types import PROCESS_GONE_AFTER, ProcessBeat

_log = logging.getLogger(__name__)

CHECK_S = 10.0  # how often a process beats and asks for the lead (the leader: keeps it)


StartSchedule = Callable[[], AbstractAsyncContextManager[list[str]]]


class Leadership:
    """Beats, takes the lead when free, and runs the schedule while it leads. Enter it to
    take the first step at once (a lone process starts its schedule before it says it
    runs); a background task takes the next every `check_s`."""

    def __init__(
        self,
        processes: Processes,
        process: str,
        schedule: StartSchedule,
        clock: Callable[[], datetime],
        detail: str = "",
        check_s: float = CHECK_S,
        on_change: Callable[[bool], None] | None = None,
        on_peers: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self._processes = processes
        self.process = process
        self._start_schedule = schedule
        self._clock = clock
        self._detail = detail
        self._check_s = check_s
        self._on_change = on_change
        self._on_peers = on_peers  # told the live processes after each beat
        self._started_at = clock()
        self._schedule: AbstractAsyncContextManager[list[str]] | None = None
        self.jobs: list[str] = []
        self.last_beat: datetime | None = None  # the last heartbeat written
        self._task: asyncio.Task[None] | None = None

    @property
    def check_interval(self) -> timedelta:
        return timedelta(seconds=self._check_s)

    def clock(self) -> datetime:
        return self._clock()

    @property
    def leading(self) -> bool:
        return self._schedule is not None

    async def step(self) -> None:
        """Beat, then ask for the lead (or check it is still held), and start or stop the
        schedule to match. The beat comes first: starting a schedule may take a while, and
        a process silent for PROCESS_GONE_AFTER is taken for dead."""
        now = await self.beat()
        if self._on_peers is not None:
            live = await self._processes.live_processes(now - PROCESS_GONE_AFTER)
            await self._on_peers([process.process for process in live])
        leads = await self._processes.try_lead()
        if leads and self._schedule is None:
            _log.info("leading: this process runs the schedule")
            schedule = self._start_schedule()
            try:
                self.jobs = await schedule.__aenter__()
            except BaseException:  # no schedule: the lead goes to a process that can run it
                await self._processes.resign()
                raise
            self._schedule = schedule
            self._changed(True)
            await self.beat()  # say so at once (status, the other processes)
        elif not leads and self._schedule is not None:
            _log.warning("no longer leading: stopping the schedule")
            await self._stop_schedule()

    async def beat(self) -> datetime:
        """Record this process alive, as it stands; returns when."""
        now = self._clock()
        await self._processes.beat(
            ProcessBeat(self.process, self._started_at, now, self.leading, self._detail)
        )
        self.last_beat = now
        return now

    def _changed(self, leading: bool) -> None:
        if self._on_change is not None:
            self._on_change(leading)

    async def _stop_schedule(self) -> None:
        schedule, self._schedule = self._schedule, None
        self.jobs = []
        self._changed(False)
        if schedule is not None:
            await schedule.__aexit__(None, None, None)

    async def _keep_stepping(self) -> None:
        while True:
            await asyncio.sleep(self._check_s)
            try:
                await self.step()
            except Exception:  # the database out of reach: try again at the next check
                _log.exception("leadership check failed")

    async def __aenter__(self) -> Leadership:
        try:
            await self.step()
        except BaseException:  # a stop while starting: what did start is stopped
            await self._leave()
            raise
        if not self.leading:
            _log.info("following: another process leads (runs the schedule)")
        self._task = asyncio.create_task(self._keep_stepping(), name="leadership")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._leave()

    async def _leave(self) -> None:
        """Stop the schedule if it runs, give up the lead and the heartbeat row."""
        try:
            await self._stop_schedule()
        finally:
            with contextlib.suppress(Exception):  # the database may be what failed
                await self._processes.forget_process(self.process)
            with contextlib.suppress(Exception):
                await self._processes.resign()
