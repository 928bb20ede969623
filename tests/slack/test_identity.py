"""No request waits on `auth.test` (identity.py): bolt is handed the start-up check's answer,
or the token alone while a check runs in the background, whatever Slack does with
`auth.test` (429, HTML 503, a cut, slow); the token is checked again now and then."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import Services
from bot.platforms.slack import SlackAdapter, SlackConfig, SlackServer
from bot.platforms.slack.identity import RECHECK_FAILED_S, RECHECK_S
from bot.storage import open_storage
from tests.canned import Canned, Passes, slow
from tests.conftest import seed_observations
from tests.processes import start_paperwire_run
from tests.slack.fake_slack import api_error, cut, html_page, rate_limited, running_fake_slack
from tests.slack.served import SECRET, TOKEN, Bot, listening_url, ours, texts_of
from tests.slack.signing import signed_headers, slash_command_body


async def _ack(bot: Bot, text: str, user: str = "U1") -> tuple[float, str]:
    """Send a command; how long its acknowledgement took, and its body."""
    body = slash_command_body(text, user_id=user, response_url=bot.fake.response_url())
    started = time.monotonic()
    async with bot.http.post(
        bot.url, data=body.encode(), headers=signed_headers(SECRET, body)
    ) as r:
        assert r.status == 200
        return time.monotonic() - started, await r.text()


@pytest.mark.parametrize(
    "answers",
    [
        [rate_limited(retry_after=5)] * 3,
        [rate_limited(retry_after=None)] * 3,
        [html_page(503)] * 3,
        [cut()] * 3,
        [slow()],
    ],
    ids=["429", "429 without Retry-After", "HTML 503", "cut", "slow"],
)
async def test_commands_are_acknowledged_at_once_whatever_auth_test_does(
    bot: Bot, answers: list[Canned]
) -> None:
    bot.fake.fail("auth.test", *answers)
    for number in range(3):
        took, body = await _ack(bot, "search diffusion")
        assert took < 1.0 and body == ""  # not bolt's "reinstall this app"
        [*_, answer] = await bot.fake.wait_for("response_url", count=number + 1)
        assert "iffusion" in texts_of(answer)
    # auth.test was asked once, in the background: not again per request while it failed.
    assert len(bot.fake.calls_to("auth.test")) == 1


async def test_the_start_up_check_is_handed_to_bolt(seeded: Services) -> None:
    async with running_fake_slack(token=TOKEN) as fake:
        config = SlackConfig(
            TOKEN, SECRET, api_url=fake.api_url, http_host="127.0.0.1", http_port=0
        )
        adapter = SlackAdapter(seeded, config)
        seeded.delivery.register(adapter)
        server = SlackServer(adapter, config)
        await server.start()
        await server.connect()
        try:
            fake.fail("auth.test", slow())  # were bolt to ask again, the command would wait
            body = slash_command_body("search diffusion", response_url=fake.response_url())
            url = f"http://127.0.0.1:{server.port}/slack/events"
            async with aiohttp.ClientSession() as http:
                started = time.monotonic()
                async with http.post(url, data=body, headers=signed_headers(SECRET, body)) as r:
                    assert r.status == 200 and time.monotonic() - started < 1.0
            await fake.wait_for("response_url")
        finally:
            await server.stop()
        assert len(fake.calls_to("auth.test")) == 1  # the start-up check only


async def test_the_token_is_checked_again_in_the_background(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    identity = bot.adapter.identity
    assert identity is not None  # SLACK_BOT_TOKEN's
    bot.fake.fail("auth.test", Passes(), html_page(503), api_error("token_revoked"))
    await identity.check()  # at start
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 3:
            raise asyncio.CancelledError
        took, _ = await _ack(bot, "help")  # answered at once, whatever the check found
        assert took < 1.0

    with pytest.raises(asyncio.CancelledError):
        await identity.keep_checking(sleep)
    assert waits == [RECHECK_S, RECHECK_FAILED_S, RECHECK_FAILED_S, RECHECK_S]
    messages = [r.getMessage() for r in ours(caplog)]
    assert "Slack: checking the bot token failed (HTTP 503 (HTML page))" in messages
    assert any(m.startswith("Slack refuses SLACK_BOT_TOKEN now (token_revoked)") for m in messages)


@pytest.mark.parametrize("trouble", ["rate-limited", "slow"])
async def test_paperwire_run_acknowledges_at_once_while_auth_test_is_in_trouble(
    tmp_path: Path, trouble: str
) -> None:
    db = tmp_path / "p.db"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
    async with running_fake_slack(token=TOKEN) as fake:
        if trouble == "slow":
            fake.fail("auth.test", *[slow() for _ in range(3)])
        else:
            fake.fail("auth.test", *[rate_limited(retry_after=30) for _ in range(20)])
        process = await start_paperwire_run(
            db,
            **fake.http_mode_env(SECRET),
        )
        assert process.stderr is not None
        try:
            url = await listening_url(process.stderr)
            await fake.wait_for("auth.test")  # the start-up check is under way
            async with aiohttp.ClientSession() as http:
                for number in range(2):
                    body = slash_command_body("search diffusion", response_url=fake.response_url())
                    started = time.monotonic()
                    headers = signed_headers(SECRET, body)
                    async with http.post(url, data=body.encode(), headers=headers) as response:
                        assert response.status == 200 and await response.text() == ""
                        assert time.monotonic() - started < 1.0
                    await fake.wait_for("response_url", count=number + 1, timeout=20)
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                code = await process.wait()
        logged = (await process.stderr.read()).decode()
        assert code == 0, logged
        if trouble == "rate-limited":
            assert "cannot connect (Slack answered ratelimited, HTTP 429)" in logged
        assert "None" not in logged and "Traceback" not in logged, logged
