"""HttpClient against a scripted aiohttp server on 127.0.0.1, port 0 (`http_server`):
requests, statuses, body limits and per-host spacing.

Waits go through a fake sleep that only moves a fake clock: no test sleeps on the wall
clock.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot import __version__
from bot.sources.http import HttpError
from tests.sources.fake_sources import FakeTime
from tests.sources.http_server import FakeServer, client, reply


async def test_200_with_user_agent_and_params(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(body=b'{"papers": []}', Content_Type="application/json"))
    async with client(fake_time) as http:
        response = await http.get(server.url(), {"date": "2026-07-01"}, expect="json")
    assert (response.status, response.body, response.from_cache) == (200, b'{"papers": []}', False)
    assert response.headers["content-type"] == "application/json"
    sent = server.requests[0]
    assert sent.headers["User-Agent"].startswith(f"paperwire/{__version__} ")
    assert sent.query["date"] == "2026-07-01"
    assert "json" in sent.headers["Accept"]
    assert fake_time.sleeps == []


async def test_spaced_host_waits_between_requests(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(), reply())
    async with client(fake_time, min_interval_s={"127.0.0.1": 3.0}) as http:
        await http.get(server.url("/api/query"))
        fake_time.now += 1.0  # the caller spent a second on the first page
        await http.get(server.url("/api/query"))
    assert fake_time.sleeps == [pytest.approx(2.0)]


async def test_spaced_host_sees_one_request_at_a_time(
    server: FakeServer, fake_time: FakeTime
) -> None:
    server.then(reply(body=b"1"), reply(body=b"2"), reply(body=b"3"))
    async with client(fake_time, min_interval_s={"127.0.0.1": 3.0}) as http:
        bodies = await asyncio.gather(*(http.get(server.url()) for _ in range(3)))
    assert sorted(r.body for r in bodies) == [b"1", b"2", b"3"]
    assert server.most_in_flight == 1
    assert fake_time.sleeps == [pytest.approx(3.0), pytest.approx(3.0)]


async def test_retries_to_a_spaced_host_keep_the_spacing(
    server: FakeServer, fake_time: FakeTime
) -> None:
    server.then(reply(503), reply())
    async with client(fake_time, min_interval_s={"127.0.0.1": 3.0}) as http:
        await http.get(server.url())
    backoff, spacing = fake_time.sleeps
    assert backoff + spacing == pytest.approx(3.0)


async def test_404_is_not_retried(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(404, body=b"no such page"))
    async with client(fake_time) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(server.url())
    assert str(caught.value) == "127.0.0.1 answered 404 (Not Found)"
    assert caught.value.permanent
    assert caught.value.status == 404
    assert len(server.requests) == 1
    assert fake_time.sleeps == []


async def test_accepted_400_is_returned(server: FakeServer, fake_time: FakeTime) -> None:
    atom = b"<feed><entry><title>Error</title></entry></feed>"
    server.then(reply(400, body=atom, Content_Type="application/atom+xml; charset=utf-8"))
    async with client(fake_time) as http:
        response = await http.get(server.url(), expect="xml", accept_status={400})
    assert (response.status, response.body) == (400, atom)


async def test_get_outside_async_with_is_a_bug(fake_time: FakeTime) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await client(fake_time).get("http://127.0.0.1/")


@pytest.mark.parametrize("chunked", [False, True])
async def test_body_too_big(server: FakeServer, fake_time: FakeTime, chunked: bool) -> None:
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

    server.then(big)
    async with client(fake_time, max_body_bytes=50) as http:
        with pytest.raises(HttpError, match="sent more than 50 bytes"):
            await http.get(server.url())
    assert len(server.requests) == 1


async def test_body_at_the_limit_is_fine(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(body=b"x" * 50))
    async with client(fake_time, max_body_bytes=50) as http:
        assert (await http.get(server.url())).body == b"x" * 50
