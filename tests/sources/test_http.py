"""HttpClient against a scripted aiohttp server on 127.0.0.1, port 0.

Waits go through a fake sleep that only moves a fake clock: no test sleeps on the wall
clock. The one real wait is the timeout test's 0.1 s client timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bot import __version__
from bot.errors import PaperwireError
from bot.sources.http import HttpClient, HttpError, _service_name

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


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.server.start_server()
    try:
        yield server
    finally:
        server.release.set()
        await server.server.close()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def client(fake_time: FakeTime, **overrides: Any) -> HttpClient:
    options: dict[str, Any] = {
        "sleep": fake_time.sleep,
        "clock": fake_time.clock,
        "rng": random.Random(7),
        "timeout_s": 2.0,
    }
    options.update(overrides)
    return HttpClient(**options)


async def test_200_with_user_agent_and_params(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(body=b'{"papers": []}', Content_Type="application/json"))
    async with client(fake_time) as http:
        response = await http.get(fake.url(), {"date": "2026-07-01"}, expect="json")
    assert (response.status, response.body, response.from_cache) == (200, b'{"papers": []}', False)
    assert response.headers["content-type"] == "application/json"
    sent = fake.requests[0]
    assert sent.headers["User-Agent"].startswith(f"paperwire/{__version__} ")
    assert sent.query["date"] == "2026-07-01"
    assert "json" in sent.headers["Accept"]
    assert fake_time.sleeps == []


async def test_429_waits_what_retry_after_says(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(429, Retry_After="7"), reply(body=b"fine"))
    async with client(fake_time) as http:
        response = await http.get(fake.url())
    assert response.body == b"fine"
    assert fake_time.sleeps == [7.0]


async def test_retry_after_as_http_date(fake: FakeServer, fake_time: FakeTime) -> None:
    server_now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(server_now + timedelta(seconds=30), usegmt=True)
    fake.then(
        reply(503, Retry_After=later, Date=format_datetime(server_now, usegmt=True)),
        reply(body=b"fine"),
    )
    async with client(fake_time) as http:
        await http.get(fake.url())
    assert fake_time.sleeps == [30.0]


async def test_unreadable_retry_after_falls_back_to_backoff(
    fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.then(reply(429, Retry_After="soon"), reply())
    async with client(fake_time, rng=random.Random(3)) as http:
        await http.get(fake.url())
    assert fake_time.sleeps == [random.Random(3).uniform(0, 1.0)]


async def test_retry_after_too_long_gives_up_at_once(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(429, Retry_After="3600"))
    async with client(fake_time, max_retry_after_s=300) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(fake.url())
    assert caught.value.retry_after == 3600
    assert caught.value.status == 429
    assert "asked us to wait 3600 s" in str(caught.value)
    assert len(fake.requests) == 1
    assert fake_time.sleeps == []


async def test_5xx_backs_off_with_full_jitter(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(500), reply(503), reply(body=b"fine"))
    async with client(fake_time, rng=random.Random(42), backoff_base_s=1.0) as http:
        response = await http.get(fake.url())
    assert response.body == b"fine"
    same = random.Random(42)
    assert fake_time.sleeps == [same.uniform(0, 1.0), same.uniform(0, 2.0)]
    assert 0 <= fake_time.sleeps[0] <= 1.0 and 0 <= fake_time.sleeps[1] <= 2.0


async def test_backoff_is_capped(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(*(reply(502) for _ in range(4)), reply())
    async with client(fake_time, backoff_base_s=10.0, backoff_max_s=15.0) as http:
        await http.get(fake.url())
    assert len(fake_time.sleeps) == 4
    assert all(0 <= wait <= 15.0 for wait in fake_time.sleeps)


async def test_persistent_500_gives_up_after_all_tries(
    fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.then(*(reply(500) for _ in range(3)))
    async with client(fake_time, retries=2) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(fake.url())
    assert isinstance(caught.value, PaperwireError)
    assert str(caught.value) == "127.0.0.1 answered 500; gave up after 3 tries"
    assert caught.value.status == 500
    assert caught.value.url == fake.url()
    assert not caught.value.permanent
    assert len(fake.requests) == 3
    assert len(fake_time.sleeps) == 2


async def test_timeout_is_retried_then_reported(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(fake.hang, fake.hang)
    async with client(fake_time, timeout_s=0.1, retries=1) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(fake.url())
    assert str(caught.value) == "127.0.0.1 timed out after 0.1 s; gave up after 2 tries"
    assert caught.value.status is None
    assert len(fake.requests) == 2


async def test_cut_off_body_is_retried_then_reported(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(cut_off, cut_off)
    async with client(fake_time, retries=1) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(fake.url())
    assert "cut off" in str(caught.value)
    assert len(fake.requests) == 2


async def test_cut_off_body_then_whole_one(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(cut_off, reply(body=b"whole"))
    async with client(fake_time) as http:
        response = await http.get(fake.url())
    assert response.body == b"whole"


async def test_connection_refused(fake_time: FakeTime) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client(fake_time, retries=1) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(f"http://127.0.0.1:{port}/papers")
    assert str(caught.value) == "127.0.0.1 refused the connection; gave up after 2 tries"


async def test_etag_and_last_modified_make_conditional_requests(
    fake: FakeServer, fake_time: FakeTime
) -> None:
    stamp = "Wed, 01 Jul 2026 08:00:00 GMT"
    fake.then(reply(body=b"feed v1", ETag='"v1"', Last_Modified=stamp), reply(304, body=b""))
    async with client(fake_time) as http:
        first = await http.get(fake.url("/rss/cs.CL"))
        second = await http.get(fake.url("/rss/cs.CL"))
    assert not first.from_cache
    assert (second.status, second.body, second.from_cache) == (200, b"feed v1", True)
    assert "If-None-Match" not in fake.requests[0].headers
    assert fake.requests[1].headers["If-None-Match"] == '"v1"'
    assert fake.requests[1].headers["If-Modified-Since"] == stamp


async def test_cache_is_per_url_and_params(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(ETag='"a"'), reply(ETag='"b"'), reply(304, body=b""))
    async with client(fake_time) as http:
        await http.get(fake.url(), {"date": "2026-07-01"})
        await http.get(fake.url(), {"date": "2026-07-02"})
        await http.get(fake.url(), {"date": "2026-07-01"})
    assert "If-None-Match" not in fake.requests[1].headers
    assert fake.requests[2].headers["If-None-Match"] == '"a"'


async def test_cache_is_bounded(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(ETag='"a"'), reply(ETag='"b"'), reply(ETag='"a2"'))
    async with client(fake_time, cache_entries=1) as http:
        await http.get(fake.url("/a"))
        await http.get(fake.url("/b"))
        await http.get(fake.url("/a"))
    assert "If-None-Match" not in fake.requests[2].headers


async def test_spaced_host_waits_between_requests(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(), reply())
    async with client(fake_time, min_interval_s={"127.0.0.1": 3.0}) as http:
        await http.get(fake.url("/api/query"))
        fake_time.now += 1.0  # the caller spent a second on the first page
        await http.get(fake.url("/api/query"))
    assert fake_time.sleeps == [pytest.approx(2.0)]


async def test_spaced_host_sees_one_request_at_a_time(
    fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.then(reply(body=b"1"), reply(body=b"2"), reply(body=b"3"))
    async with client(fake_time, min_interval_s={"127.0.0.1": 3.0}) as http:
        bodies = await asyncio.gather(*(http.get(fake.url()) for _ in range(3)))
    assert sorted(r.body for r in bodies) == [b"1", b"2", b"3"]
    assert fake.most_in_flight == 1
    assert fake_time.sleeps == [pytest.approx(3.0), pytest.approx(3.0)]


async def test_retries_to_a_spaced_host_keep_the_spacing(
    fake: FakeServer, fake_time: FakeTime
) -> None:
    fake.then(reply(503), reply())
    async with client(fake_time, min_interval_s={"127.0.0.1": 3.0}) as http:
        await http.get(fake.url())
    backoff, spacing = fake_time.sleeps
    assert backoff + spacing == pytest.approx(3.0)


async def test_404_is_not_retried(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(404, body=b"no such page"))
    async with client(fake_time) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(fake.url())
    assert str(caught.value) == "127.0.0.1 answered 404 (Not Found)"
    assert caught.value.permanent
    assert caught.value.status == 404
    assert len(fake.requests) == 1
    assert fake_time.sleeps == []


async def test_accepted_400_is_returned(fake: FakeServer, fake_time: FakeTime) -> None:
    atom = b"<feed><entry><title>Error</title></entry></feed>"
    fake.then(reply(400, body=atom, Content_Type="application/atom+xml; charset=utf-8"))
    async with client(fake_time) as http:
        response = await http.get(fake.url(), expect="xml", accept_status={400})
    assert (response.status, response.body) == (400, atom)


async def test_unexpected_content_type(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(body=b"<html>Sign in</html>", Content_Type="text/html; charset=utf-8"))
    async with client(fake_time) as http:
        with pytest.raises(HttpError, match="sent text/html where JSON was expected"):
            await http.get(fake.url(), expect="json")


async def test_service_names_in_messages() -> None:
    assert _service_name(URL("http://export.arxiv.org/api/query")) == "arXiv"
    assert _service_name(URL("https://rss.arxiv.org/rss/cs.CL")) == "arXiv"
    assert _service_name(URL("https://huggingface.co/api/daily_papers")) == "Hugging Face"


async def test_get_outside_async_with_is_a_bug(fake_time: FakeTime) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await client(fake_time).get("http://127.0.0.1/")


@pytest.mark.parametrize("chunked", [False, True])
async def test_body_too_big(fake: FakeServer, fake_time: FakeTime, chunked: bool) -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        if not chunked:
            return web.Response(body=b"x" * 100)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"x" * 10)
        await response.write_eof()
        return response

    fake.then(big)
    async with client(fake_time, max_body_bytes=50) as http:
        with pytest.raises(HttpError, match="sent more than 50 bytes"):
            await http.get(fake.url())
    assert len(fake.requests) == 1


async def test_body_at_the_limit_is_fine(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.then(reply(body=b"x" * 50))
    async with client(fake_time, max_body_bytes=50) as http:
        assert (await http.get(fake.url())).body == b"x" * 50


async def test_retries_are_logged_at_info_without_headers(
    fake: FakeServer, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    fake.then(reply(503), reply())
    caplog.set_level(logging.INFO, logger="bot.sources.http")
    async with client(fake_time, user_agent="paperwire-test-agent") as http:
        await http.get(fake.url())
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert f"trying again in {fake_time.sleeps[0]:.1f} s (try 2 of 5)" in record.getMessage()
    assert "paperwire-test-agent" not in record.getMessage()
