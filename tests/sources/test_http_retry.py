"""What HttpClient retries and how long it waits (`bot.sources.http_retry`).

Waits go through a fake sleep that only moves a fake clock: no test sleeps on the wall
clock. The one real wait is the timeout test's 0.1 s client timeout.
"""

from __future__ import annotations

import logging
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.errors import PaperwireError
from bot.sources.http import HttpError
from tests.sources.fake_sources import FakeTime
from tests.sources.http_server import FakeServer, client, cut_off, reply


async def test_429_waits_what_retry_after_says(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(429, Retry_After="7"), reply(body=b"fine"))
    async with client(fake_time) as http:
        response = await http.get(server.url())
    assert response.body == b"fine"
    assert fake_time.sleeps == [7.0]


async def test_retry_after_as_http_date(server: FakeServer, fake_time: FakeTime) -> None:
    server_now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(server_now + timedelta(seconds=30), usegmt=True)
    server.then(
        reply(503, Retry_After=later, Date=format_datetime(server_now, usegmt=True)),
        reply(body=b"fine"),
    )
    async with client(fake_time) as http:
        await http.get(server.url())
    assert fake_time.sleeps == [30.0]


async def test_unreadable_retry_after_falls_back_to_backoff(
    server: FakeServer, fake_time: FakeTime
) -> None:
    server.then(reply(429, Retry_After="soon"), reply())
    async with client(fake_time, rng=random.Random(3)) as http:
        await http.get(server.url())
    assert fake_time.sleeps == [random.Random(3).uniform(0, 1.0)]


async def test_retry_after_too_long_gives_up_at_once(
    server: FakeServer, fake_time: FakeTime
) -> None:
    server.then(reply(429, Retry_After="3600"))
    async with client(fake_time, max_retry_after_s=300) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(server.url())
    assert caught.value.retry_after == 3600
    assert caught.value.status == 429
    assert "asked us to wait 3600 s" in str(caught.value)
    assert len(server.requests) == 1
    assert fake_time.sleeps == []


async def test_5xx_backs_off_with_full_jitter(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(reply(500), reply(503), reply(body=b"fine"))
    async with client(fake_time, rng=random.Random(42), backoff_base_s=1.0) as http:
        response = await http.get(server.url())
    assert response.body == b"fine"
    same = random.Random(42)
    assert fake_time.sleeps == [same.uniform(0, 1.0), same.uniform(0, 2.0)]
    assert 0 <= fake_time.sleeps[0] <= 1.0 and 0 <= fake_time.sleeps[1] <= 2.0


async def test_backoff_is_capped(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(*(reply(502) for _ in range(4)), reply())
    async with client(fake_time, backoff_base_s=10.0, backoff_max_s=15.0) as http:
        await http.get(server.url())
    assert len(fake_time.sleeps) == 4
    assert all(0 <= wait <= 15.0 for wait in fake_time.sleeps)


async def test_persistent_500_gives_up_after_all_tries(
    server: FakeServer, fake_time: FakeTime
) -> None:
    server.then(*(reply(500) for _ in range(3)))
    async with client(fake_time, retries=2) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(server.url())
    assert isinstance(caught.value, PaperwireError)
    assert str(caught.value) == "127.0.0.1 answered 500; gave up after 3 tries"
    assert caught.value.status == 500
    assert caught.value.url == server.url()
    assert not caught.value.permanent
    assert len(server.requests) == 3
    assert len(fake_time.sleeps) == 2


async def test_timeout_is_retried_then_reported(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(server.hang, server.hang)
    async with client(fake_time, timeout_s=0.1, retries=1) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(server.url())
    assert str(caught.value) == "127.0.0.1 timed out after 0.1 s; gave up after 2 tries"
    assert caught.value.status is None
    assert len(server.requests) == 2


async def test_cut_off_body_is_retried_then_reported(
    server: FakeServer, fake_time: FakeTime
) -> None:
    server.then(cut_off, cut_off)
    async with client(fake_time, retries=1) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(server.url())
    assert "cut off" in str(caught.value)
    assert len(server.requests) == 2


async def test_cut_off_body_then_whole_one(server: FakeServer, fake_time: FakeTime) -> None:
    server.then(cut_off, reply(body=b"whole"))
    async with client(fake_time) as http:
        response = await http.get(server.url())
    assert response.body == b"whole"


async def test_connection_refused(fake_time: FakeTime) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client(fake_time, retries=1) as http:
        with pytest.raises(HttpError) as caught:
            await http.get(f"http://127.0.0.1:{port}/papers")
    assert str(caught.value) == "127.0.0.1 refused the connection; gave up after 2 tries"


async def test_retries_are_logged_at_info_without_headers(
    server: FakeServer, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    server.then(reply(503), reply())
    caplog.set_level(logging.INFO, logger="bot.sources.http")
    async with client(fake_time, user_agent="paperwire-test-agent") as http:
        await http.get(server.url())
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert f"trying again in {fake_time.sleeps[0]:.1f} s (try 2 of 5)" in record.getMessage()
    assert "paperwire-test-agent" not in record.getMessage()
