"""Several real `paperwire run` processes on one database, each in a slot of its own: their
output read as it comes (a pipe nobody reads would hold a process up), which of them leads
(by their "leading:" lines), killed and restarted one at a time."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

from tests.processes import start_paperwire_run

LEADING = "leading:"
NO_LONGER_LEADING = "no longer leading"


class Member:
    """One slot's current process and the lines it wrote to stderr."""

    def __init__(self, slot: int, process: asyncio.subprocess.Process) -> None:
        self.slot = slot
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(process.stderr, self.lines)),
            asyncio.create_task(self._read(process.stdout, [])),
        ]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    @property
    def leading(self) -> bool:
        """Whether its last word on the lead is that it took it (and it still runs)."""
        for line in reversed(self.lines):
            if NO_LONGER_LEADING in line:
                return False
            if LEADING in line:
                return self.alive
        return False

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def wait_for_line(self, text: str, after: int = 0) -> None:
        """Until more than `after` of its lines hold `text`."""
        while self.count(text) <= after:
            self._changed.clear()
            assert self.alive or self.count(text) > after, f"slot {self.slot} ended:\n{self}"
            await self._changed.wait()

    async def _read(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        while line := await stream.readline():
            into.append(line.decode(errors="replace"))
            self._changed.set()
        await self.process.wait()
        self._changed.set()

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.finished()

    async def stop(self) -> None:
        """SIGTERM, and the process's own stop."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await self.finished()
        finally:
            await self.kill()  # only if it did not stop in time

    async def finished(self) -> None:
        await self.process.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)

    def __str__(self) -> str:
        return "".join(self.lines[-40:])


class Fleet:
    """`size` processes of `paperwire run` on `url`, with the same environment."""

    def __init__(self, url: str, size: int, env: dict[str, str]) -> None:
        self._url = url
        self._env = env
        self.members: list[Member | None] = [None] * size
        self.every: list[Member] = []  # every process started, in order
        self.started = 0

    async def start(self, slot: int) -> Member:
        process = await start_paperwire_run(self._url, **self._env)
        member = Member(slot, process)
        self.members[slot] = member
        self.every.append(member)
        self.started += 1
        return member

    def live(self) -> list[Member]:
        return [m for m in self.members if m is not None and m.alive]

    def by_pid(self, pid: int) -> Member | None:
        return next((m for m in self.live() if m.pid == pid), None)

    def leader(self) -> Member | None:
        leaders = [m for m in self.live() if m.leading]
        assert len(leaders) <= 1, [m.slot for m in leaders]
        return leaders[0] if leaders else None

    async def wait_for_leader(self, timeout: float = 30.0) -> tuple[Member, float]:  # noqa: ASYNC109
        """The member leading, once one does; and how long that took."""
        started = time.monotonic()
        async with asyncio.timeout(timeout):
            while (leader := self.leader()) is None:
                waits = [
                    asyncio.ensure_future(m.wait_for_line(LEADING, m.count(LEADING)))
                    for m in self.live()
                ]
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for wait in waits:
                        wait.cancel()
        return leader, time.monotonic() - started

    def dump(self, directory: str) -> None:
        """Each process's output, in a file of its own (run number, slot, pid)."""
        for number, member in enumerate(self.every):
            name = f"{directory}/{number:02d}-slot{member.slot}-{member.pid}.log"
            with open(name, "w") as file:
                file.writelines(member.lines)

    async def stop_all(self) -> None:
        await asyncio.gather(*(m.stop() for m in self.members if m is not None))
