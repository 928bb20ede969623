"""Scripted answers for the fake platforms (`fake.fail(..., answer)`): each is called with
the request and the fake's own default answer, and may use it, delay it or replace it.
What is common to the fake Slack and the fake Discord lives here; their own error shapes
(`api_error`, `http_error`, `rate_limited`, ...) live with each fake."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiohttp import web

DefaultAnswer = Callable[[], Awaitable[Any]]


class Canned:
    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        raise NotImplementedError

    def release(self) -> None:
        """Lets a held answer go (only the holding ones hold)."""


class Passes(Canned):
    """The fake's own answer: lets one call through in a queue of canned answers."""

    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        response: web.StreamResponse = await default()
        return response


class Slow(Canned):
    """Holds the call until `release()` (or `seconds` passed, or the fake shuts down), then
    answers normally. `arrived` is set when the call came in."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self.arrived = asyncio.Event()
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        self.arrived.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.seconds)
        response: web.StreamResponse = await default()
        return response


def slow(seconds: float | None = None) -> Slow:
    """A held answer: `gate = slow(); fake.fail(..., gate); ...; await gate.arrived.wait();
    gate.release()`. With `seconds`, it also lets go by itself after that long."""
    return Slow(seconds)


class PostedThenFailed(Canned):
    """The platform does post, then answers `status`, as a server that failed after the
    write does; with `hang`, no answer comes until `release()`, as when the answer is lost
    on the way back."""

    def __init__(self, status: int = 500, hang: bool = False) -> None:
        self.status = status
        self.hang = hang
        self._released = asyncio.Event()

    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        await default()
        if self.hang:
            await self._released.wait()
        return web.Response(status=self.status, text="upstream failed")

    def release(self) -> None:
        self._released.set()
