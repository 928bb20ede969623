"""A scripted aiohttp server on 127.0.0.1, port 0, for the HttpClient tests, and the client
they use: its waits recorded by a `FakeTime`, never slept."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.sources.http import HttpClient
from tests.sources.fake_sources import FakeTime, http_client

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeServer:
    """Answers each request with the next scripted handler and records what it got."""

    def __init__(self) -> None:
        self.script: deque[Handler] = deque()
        self.requests: list[web.Request] = []
        self.release = asyncio.Event()  # frees handlers that hang, before shutdown
        self.in_flight = 0
        self.most_in_flight = 0
        self.server = TestServer(web.Application(), host="127.0.0.1", port=0)
        self.server.app.router.add_get("/{tail:.*}", self._handle)

    def url(self, path: str = "/papers") -> str:
        return str(self.server.make_url(path))

    def then(self, *handlers: Handler) -> None:
        self.script.extend(handlers)

    async def hang(self, request: web.Request) -> web.StreamResponse:
        """Answers only when the test is over: longer than any client timeout here."""
        await self.release.wait()
        return web.Response(text="too late")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let a concurrent request overlap if it could
            return await self.script.popleft()(request)
        finally:
            self.in_flight -= 1


def reply(status: int = 200, body: bytes = b"ok", **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, body=body, headers=_header_names(headers))

    return handler


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in headers.items()}


async def cut_off(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": "1000"})
    await response.prepare(request)
    await response.write(b'{"partial": tr')
    assert request.transport is not None
    request.transport.close()
    return response


def client(fake_time: FakeTime, **overrides: Any) -> HttpClient:
    """`http_client` with HttpClient's own default of 4 retries, which these tests count on."""
    return http_client(fake_time, **{"retries": 4, **overrides})
