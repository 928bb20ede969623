"""Conditional requests and the kept responses (`bot.sources.http_cache`)."""

from __future__ import annotations

from tests.sources.fake_sources import FakeTime
from tests.sources.http_server import FakeServer, client, reply


async def test_etag_and_last_modified_make_conditional_requests(
    server: FakeServer, fake_time: FakeTime
) -> None:
    stamp = "Wed, 01 Jul 2026 08:00:00 GMT"
    server.then(reply(body=b"feed v1", ETag='"v1"', Last_Modified=stamp), reply(304, body=b""))
    async with client(fake_time) as http:
        first = await http.get(server.url("/rss/cs.CL"))
        second = await http.get(server.url("/rss/cs.CL"))
    assert not first.from_cache
    assert (second.status, second.body, second.from_cache) == (200, b"feed v1", True)
    assert "If-None-Match" not in server.requests[0].headers
    assert server.requests[1].headers["If-None-Match"] == '"v1"'
    assert server.requests[1].headers["If-Modified-Since"] == stamp


async def test_cache_is_per_url_and_params(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(ETag='"a"'), reply(ETag='"b"'), reply(304, body=b""))
    async with client(fake_time) as http:
        await http.get(server.url(), {"date": "2026-07-01"})
        await http.get(server.url(), {"date": "2026-07-02"})
        await http.get(server.url(), {"date": "2026-07-01"})
    assert "If-None-Match" not in server.requests[1].headers
    assert server.requests[2].headers["If-None-Match"] == '"a"'


async def test_cache_is_bounded(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(ETag='"a"'), reply(ETag='"b"'), reply(ETag='"a2"'))
    async with client(fake_time, cache_entries=1) as http:
        await http.get(server.url("/a"))
        await http.get(server.url("/b"))
        await http.get(server.url("/a"))
    assert "If-None-Match" not in server.requests[2].headers
