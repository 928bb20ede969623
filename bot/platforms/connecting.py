"""Keeping a chat platform connected while `paperwire run` runs.

A platform that cannot be reached is tried again, with a capped and jittered backoff and one
log line per failed attempt; one that refuses paperwire's token raises a `UserError` (a
restart will not help: the token must be fixed). Every wait here can be cancelled, so a
stop is never held up by a platform that does not answer.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.errors import UserError
from bot.logs import hide_secret_parameters

_log = logging.getLogger(__name__)

ATTEMPT_S = 30.0  # an attempt that has not finished by then counts as unreachable
CLOSE_S = 2.0  # closing a platform (a websocket's close waits for the other side)
_RANDOM = random.Random()


class Unreachable(Exception):
    """An attempt that may work later. Its message is one line and holds no secret."""


class Platform(Protocol):
    """A chat platform as `paperwire run` drives it: `start`, then `connect` until it
    works, then `serve`; `stop` at the end, whatever happened before."""

    name: str  # in logs and in the "running" line: "slack", "discord (webhook)"

    async def start(self) -> None:
        """Take what the platform needs in this process (a listening socket, discord.py
        pointed at its endpoints), asking the platform nothing: `UserError` if it cannot
        (a port in use)."""

    async def connect(self) -> None:
        """One attempt: `Unreachable` to be tried again, `UserError` if refused."""

    async def serve(self) -> None:
        """After connecting: whatever runs until cancelled (it may return at once)."""

    async def stop(self) -> None:
        """Give back what `start` took, and close the connection: safe after a `start`
        that failed half-way, or none."""


@dataclass(frozen=True)
class Backoff:
    first_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, failures: int, rng: random.Random = _RANDOM) -> float:
        """The wait after the `failures`-th failed attempt in a row: doubling from
        `first_s` up to `cap_s`, each somewhere between half and all of that, so that bots
        restarted together do not all try again at the same moment."""
        ceiling = min(self.cap_s, self.first_s * 2.0 ** min(failures - 1, 30))
        return ceiling * (0.5 + rng.random() / 2)


def describe(exc: BaseException) -> str:
    """An error as one line: its type and message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def keep_connecting(
    platform: Platform,
    tried: asyncio.Event | None = None,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Connect `platform`, trying again while it cannot be reached. `tried` is set once an
    attempt connected or found the platform out of reach (not when it was refused: that
    raises)."""
    failures = 0
    while True:
        try:
            async with asyncio.timeout(ATTEMPT_S):
                await platform.connect()
            break
        except Unreachable as exc:
            reason = str(exc)
        except TimeoutError:
            reason = f"no answer within {ATTEMPT_S:.0f} s"
        if tried is not None:
            tried.set()
        failures += 1
        wait = backoff.delay(failures)
        _log.warning(
            "%s: cannot connect (%s); trying again in %.1f s (attempt %d)",
            platform.name,
            reason,
            wait,
            failures,
        )
        await sleep(wait)
    if tried is not None:
        tried.set()
    if failures:
        _log.info("%s: connected after %d failed attempts", platform.name, failures)


class _Running:
    """One platform connecting (tried again while out of reach), then serving, in a task."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.tried = asyncio.Event()  # the first attempt is over (connected or out of reach)
        self.connected = False
        self.task = asyncio.create_task(self._run(), name=f"platform {platform.name}")

    async def _run(self) -> None:
        await keep_connecting(self.platform, self.tried)
        self.connected = True
        await self.platform.serve()

    def state(self) -> str:
        if self.task.done():
            return "stopped"
        if not self.connected:
            return "connecting"
        # A platform that keeps a connection says whether it holds it now (`live`).
        live: Callable[[], bool] | None = getattr(self.platform, "live", None)
        return "connected" if live is None or live() else "disconnected"

    def error(self) -> BaseException | None:
        if self.task.done() and not self.task.cancelled():
            return self.task.exception()
        return None


class Platforms:
    """The platforms `paperwire run` talks to, each in a task of its own. One out of reach
    does not hold the rest up: it keeps trying while the scheduler runs, and what is meant
    for it waits in the outbox. One that refuses paperwire's token ends the run."""

    def __init__(self) -> None:
        self.running: list[_Running] = []
        self._started: list[Platform] = []
        self._ended = asyncio.Event()

    async def start(self, platform: Platform) -> None:
        """Start `platform` and go on connecting to it in the background."""
        self._started.append(platform)  # stopped even if its start fails half-way
        await platform.start()
        running = _Running(platform)
        running.task.add_done_callback(self._on_end)
        self.running.append(running)

    def _on_end(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            task.exception()  # taken here (or asyncio logs it as never retrieved), raised below
        self._ended.set()

    async def first_attempts(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until each platform's first attempt is over (or `timeout`); raise what a
        platform raised (a refused token) rather than go on."""
        waits = [asyncio.create_task(_first_attempt(r)) for r in self.running]
        if waits:
            try:
                await asyncio.wait(waits, timeout=timeout)
            finally:
                for wait in waits:
                    wait.cancel()
        self._raise_error()

    async def failure(self) -> None:
        """Wait until a platform fails for good, and raise its error."""
        while True:
            await self._ended.wait()
            self._ended.clear()
            self._raise_error()

    def _raise_error(self) -> None:
        for running in self.running:
            if (error := running.error()) is not None:
                raise error

    def states(self) -> dict[str, str]:
        """Each platform's state now (for GET /readyz): "connected"; "connecting" (not
        yet); "disconnected" (connected once, its connection gone: it is reconnecting);
        "stopped" (failed for good, or stopping)."""
        return {r.platform.name: r.state() for r in self.running}

    def names(self) -> list[str]:
        return [r.platform.name + ("" if r.connected else " (connecting)") for r in self.running]

    async def stop(self, timeout_s: float = CLOSE_S) -> None:
        """Stop every platform started: they get at most `timeout_s`, all together, to say
        goodbye."""
        end = asyncio.get_running_loop().time() + timeout_s
        tasks = [r.task for r in self.running]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        stopping = [asyncio.create_task(_stop(p)) for p in self._started]
        if stopping:
            await asyncio.wait(stopping, timeout=max(0.0, end - asyncio.get_running_loop().time()))


async def _first_attempt(running: _Running) -> None:
    tried = asyncio.create_task(running.tried.wait())
    try:
        await asyncio.wait({tried, running.task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        tried.cancel()


async def _stop(platform: Platform) -> None:
    try:
        await platform.stop()
    except Exception as exc:  # stopping anyway: say what went wrong, in a line
        _log.warning("%s: stopping failed (%s)", platform.name, describe(exc))


class OneLineErrors(logging.Filter):
    """For a library's logger: records whose message starts with one of `prefixes` lose
    their traceback and carry the error on the same line. Libraries log an expected
    network failure (a reconnect) with a full traceback; other records are left alone."""

    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith(self.prefixes):
            error = record.exc_info[1]
            message = record.getMessage()
            if error is not None and str(error) not in message:
                message += f" ({describe(error)})"
            record.msg = hide_secret_parameters(message)
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


async def listen_http(
    app: web.Application, host: str, port: int, purpose: str = ""
) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port: its runner, and the port it listens on (the one the
    system chose for port 0). A port it cannot take is one line, not a traceback."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UserError(
            f"cannot listen on {host}:{port}{purpose} (PAPERWIRE_HTTP_HOST /"
            f" PAPERWIRE_HTTP_PORT): {exc.strerror or exc}"
        ) from None
    sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
    return runner, sockets[0].getsockname()[1] if sockets else port
