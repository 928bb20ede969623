"""The HTTP endpoint (http_endpoint.py): only requests Slack signed reach bolt; a refusal is
a short status and one short log line quoting nothing of the request."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import Services
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.platforms.slack.http_endpoint import EVENTS_PATH
from tests.slack.served import SECRET, TOKEN, Bot
from tests.slack.signing import signed_headers, slash_command_body


async def test_forged_and_replayed_requests_get_401_and_do_nothing(bot: Bot) -> None:
    body = slash_command_body("help", response_url=bot.fake.response_url())
    assert await bot.post(body, secret="not-the-secret") == 401
    six_minutes_ago = int(time.time()) - 360
    assert await bot.post(body, timestamp=six_minutes_ago) == 401
    assert bot.fake.calls_to("response_url") == []
    assert bot.fake.calls_to("chat.postMessage") == []


MARKER = "zq-marker-7f3a"  # in the body of each refused request: must appear in no log


def _logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name != "aiohttp.access"]


@pytest.mark.parametrize("refusal", ["wrong secret", "clock skew"])
async def test_a_refused_request_is_logged_in_one_short_line_without_its_body(
    bot: Bot, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    caplog.set_level(logging.DEBUG)
    # A genuine request carries a live response URL and the verification token.
    url = bot.fake.response_url(MARKER)
    body = slash_command_body(f"search {MARKER}", response_url=url, token=MARKER)
    if refusal == "wrong secret":
        status = await bot.post(body, secret="not-the-secret")
    else:
        status = await bot.post(body, timestamp=int(time.time()) - 360)
    assert status == 401
    assert bot.fake.calls_to("response_url") == []
    assert MARKER not in caplog.text and "v0=" not in caplog.text
    [line] = _logged(caplog)
    assert line.levelno == logging.WARNING and len(line.getMessage()) < 160


async def test_a_burst_of_refusals_logs_one_line_a_minute(
    seeded: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    minute = 0.0
    config = SlackConfig(bot_token=TOKEN, signing_secret=SECRET, api_url="http://127.0.0.1:9/")
    app = SlackAdapter(seeded, config).web_app(monotonic=lambda: minute)
    body = slash_command_body(MARKER, response_url="http://127.0.0.1:9/r")
    huge = MARKER * (1024 * 1024 // len(MARKER))  # 1 MB: refused before it is read whole
    async with _served(app) as url, aiohttp.ClientSession() as http:

        async def forge(data: str, chunked: bool = False) -> int:
            headers = signed_headers("not-the-secret", data)

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length to refuse early
                yield data.encode()

            sent = chunks() if chunked else data.encode()
            async with http.post(url, data=sent, headers=headers) as response:
                return response.status

        statuses = [await forge(body) for _ in range(20)] + [await forge(huge) for _ in range(5)]
        statuses.append(await forge(huge, chunked=True))
        assert statuses == [401] * 20 + [413] * 6
        assert len(_logged(caplog)) == 1
        minute = 61.0
        assert await forge(body) == 401
    _, second = _logged(caplog)
    assert "25 more" in second.getMessage()  # the ones not logged are counted
    assert MARKER not in caplog.text


@asynccontextmanager
async def _served(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    try:
        yield str(server.make_url(EVENTS_PATH))
    finally:
        await server.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=é"},
        {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "{now}"},
        {"Content-Type": "text/plain; charset=bogus", "X-Slack-Request-Timestamp": "{now}"},
        {},
    ],
)
@pytest.mark.parametrize("body", [b"text=help", b"{not json", b"payload=%7Bnot", b"\xff\xfe"])
async def test_a_malformed_signature_or_body_is_a_401_not_a_500(
    bot: Bot, caplog: pytest.LogCaptureFixture, headers: dict[str, str], body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    sent = {name: value.format(now=int(time.time())) for name, value in headers.items()}
    async with bot.http.post(bot.url, data=body, headers=sent) as response:
        assert response.status == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
