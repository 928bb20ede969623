"""Slack's failures as its own mock Web API servers answer them (HTML error pages without an
`error` field, 429 with and without `Retry-After`, a connection cut after the request,
`invalid_auth`, a slow or rate-limited `auth.test`, an `ok` without `ts`): every command is
acknowledged at once, every logged and shown error names the real cause, a transient
failure is one warning line and is retried, and a stopped channel's reply says so."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import Services
from bot.platforms.slack import SlackAdapter, SlackConfig, SlackServer
from bot.platforms.slack_identity import RECHECK_FAILED_S, RECHECK_S
from bot.storage import open_storage
from tests.canned import Canned, Passes, slow
from tests.conftest import drained_later, seed_observations
from tests.processes import start_paperwire_run
from tests.slack import test_adapter
from tests.slack.fake_slack import (
    api_error,
    cut,
    html_page,
    rate_limited,
    reply,
    running_fake_slack,
    without,
)
from tests.slack.signing import signed_headers, slash_command_body
from tests.slack.test_adapter import SECRET, TOKEN, Bot, _listening_url, _texts

bot = test_adapter.bot  # the fixture: the adapter served over HTTP, with the fake Slack
ADMIN = "U3"
CHANNEL = "slack:T1:C1"


def _ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What paperwire logged (not the fake's server, not the test client)."""
    return [r for r in caplog.records if r.name.startswith("bot")]


def _no_none(caplog: pytest.LogCaptureFixture, *shown: str) -> None:
    lines = [r.getMessage() for r in _ours(caplog)] + list(shown)
    assert not [line for line in lines if "None" in line]


async def _ack(bot: Bot, text: str, user: str = "U1") -> tuple[float, str]:
    """Send a command; how long its acknowledgement took, and its body."""
    body = slash_command_body(text, user_id=user, response_url=bot.fake.response_url())
    started = time.monotonic()
    async with bot.http.post(
        bot.url, data=body.encode(), headers=signed_headers(SECRET, body)
    ) as r:
        assert r.status == 200
        return time.monotonic() - started, await r.text()


# --- 1. an answer without an `error` field ------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 404])
async def test_an_html_error_page_is_named_by_its_status_in_the_log_reply_and_status(
    bot: Bot, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.INFO)
    bot.fake.users[ADMIN] = {"is_admin": True}
    await bot.command("digest on", user=ADMIN)
    bot.fake.fail("chat.postMessage", html_page(status))
    reply = _texts(await bot.command("digest now", user=ADMIN))
    named = f"HTTP {status} (HTML page)"
    assert f"Not posted yet: Slack answered `{named}`." in reply
    state = await bot.services.outbox.destination_state(CHANNEL)
    assert state.error == named and not state.stopped  # what `paperwire status` shows
    assert re.search(
        rf"delivery to {CHANNEL} failed; retrying in \d+ s: {re.escape(named)}$", caplog.text, re.M
    )
    status_reply = _texts(await bot.command("digest status", user=ADMIN))
    assert f"Slack answered `{named}`" in status_reply
    _no_none(caplog, reply, status_reply)


async def test_an_answer_with_no_error_code_at_all_is_named_from_what_came(bot: Bot) -> None:
    bot.fake.users[ADMIN] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", reply({"ok": False}), reply("", status=502))
    first = _texts(await bot.command("digest now", user=ADMIN))
    assert "Slack answered `HTTP 200 (no error code)`" in first
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.error == "HTTP 502 (empty answer)"


async def test_a_failed_user_lookup_is_named(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot.fake.fail("users.info", html_page(503))
    await bot.command("digest status", user=ADMIN)
    assert "could not look up Slack user U3: HTTP 503 (HTML page)" in caplog.text
    _no_none(caplog)


# --- 2. a cut connection ------------------------------------------------------------------


async def test_a_connection_cut_after_the_post_is_one_warning_and_is_not_posted_twice(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot.fake.users[ADMIN] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", cut(after=True))
    reply = _texts(await bot.command("digest now", user=ADMIN))
    broke = "the connection to Slack broke before its answer (ServerDisconnectedError)"
    assert f"Not posted yet: {broke}." in reply
    assert not [r for r in caplog.records if r.exc_info]  # no traceback: a passing failure
    [warning] = [r for r in _ours(caplog) if r.levelno >= logging.WARNING]
    assert warning.getMessage().endswith(broke)
    # The post did arrive: the retry looks for it and only adds what is missing.
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    assert len(bot.fake.history["C1"]) == 1
    assert bot.fake.calls_to("conversations.history")
    _no_none(caplog, reply)


async def test_a_reply_whose_connection_was_cut_is_retried_without_a_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.fail("response_url", cut())
    body = slash_command_body("search diffusion", response_url=bot.fake.response_url())
    assert await bot.post(body) == 200
    await bot.fake.wait_for("response_url")
    await bot.services.delivery.wait_idle()
    assert not [r for r in caplog.records if r.exc_info]
    assert "could not be sent" not in caplog.text  # kept for a retry, not dropped
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok and len(bot.fake.calls_to("response_url")) == 2


# --- 3. a refusal that stops the channel ----------------------------------------------------


async def test_after_invalid_auth_the_reply_says_posting_is_stopped_why_and_what_to_do(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.users[ADMIN] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", api_error("invalid_auth"))
    reply = _texts(await bot.command("digest now", user=ADMIN))
    assert "failed for good, stopping it: invalid_auth" in caplog.text
    assert "Posting here is stopped: Slack answered `invalid_auth`." in reply
    assert "reinstalls the app" in reply and "SLACK_BOT_TOKEN" in reply
    assert "retried" not in reply and "Not posted yet" not in reply
    status = _texts(await bot.command("digest status", user=ADMIN))
    assert "Posting here is stopped: Slack answered `invalid_auth`." in status


# --- 4. no request waits on auth.test -------------------------------------------------------


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
        assert "iffusion" in _texts(answer)
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
    messages = [r.getMessage() for r in _ours(caplog)]
    assert "Slack: checking the bot token failed (HTTP 503 (HTML page))" in messages
    assert any(m.startswith("Slack refuses SLACK_BOT_TOKEN now (token_revoked)") for m in messages)


# --- 5. a permission lookup that fails ------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        [html_page(500)],
        [rate_limited(retry_after=5)],
        [cut(), cut()],  # (aiohttp itself tries a GET again once after a cut)
        [api_error("internal_error")],
    ],
    ids=["HTML 500", "429", "cut", "internal_error"],
)
async def test_a_failed_permission_lookup_says_so_and_is_not_repeated_per_command(
    bot: Bot, caplog: pytest.LogCaptureFixture, failure: list[Canned]
) -> None:
    bot.fake.users[ADMIN] = {"is_admin": True}
    bot.fake.fail("users.info", *failure)
    started = time.monotonic()
    first = _texts(await bot.command("digest status", user=ADMIN))
    lookups = len(bot.fake.calls_to("users.info"))
    second = _texts(await bot.command("digest on", user=ADMIN))
    assert time.monotonic() - started < 2.0  # no Retry-After waited out
    for answer in (first, second):
        assert "Could not check your permissions" in answer and "try again in a minute" in answer
        assert "Only channel managers" not in answer  # not a wrong refusal
    assert len(bot.fake.calls_to("users.info")) == lookups  # the failure is kept a minute
    [lookup, *_] = [r.getMessage() for r in _ours(caplog)]
    assert lookup.startswith("could not look up Slack user U3")
    _no_none(caplog, first, second)


# --- 6. an ok without ts --------------------------------------------------------------------


async def test_a_post_answered_ok_without_ts_is_uncertain_and_no_reply_goes_to_an_empty_thread(
    bot: Bot,
) -> None:
    bot.fake.users[ADMIN] = {"is_admin": True}
    await bot.command("digest set format full", user=ADMIN)  # abstracts go in the thread
    bot.fake.fail("chat.postMessage", without("ts"))
    reply = _texts(await bot.command("digest now", user=ADMIN))
    assert "Not posted yet: Slack answered ok without the message's ts" in reply
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    [main] = bot.fake.history["C1"]  # found by its marker, not posted again
    posts = bot.fake.calls_to("chat.postMessage")
    assert all(p.args.get("thread_ts") in (None, main["ts"]) for p in posts)
    assert any(p.args.get("thread_ts") == main["ts"] for p in posts)


async def test_a_direct_message_opened_without_a_channel_id_is_retried_not_stopped(
    bot: Bot,
) -> None:
    from bot.delivery.outbox import OutgoingMessage
    from bot.models import Destination
    from bot.render.neutral import Notice, Reply

    bot.fake.fail("conversations.open", without("channel"))
    owner = Destination("slack", "T1", "U7", kind="dm")
    receipt = await bot.services.delivery.deliver(OutgoingMessage(owner, Reply(Notice("hi"))))
    assert receipt.queued and not receipt.permanent
    assert receipt.error == "Slack opened the direct message without naming it"
    assert bot.fake.calls_to("chat.postMessage") == []  # not to channel ""
    assert (await drained_later(bot.services, bot.adapter, minutes=1)).ok


# --- the whole process ----------------------------------------------------------------------


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
            url = await _listening_url(process.stderr)
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


def test_building_the_bolt_app_logs_nothing_the_start_up_log_would_show(
    seeded: Services, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import _drop_noise

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # as under `paperwire run`
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    SlackAdapter(seeded, SlackConfig(TOKEN, SECRET))
    bolt = [r for r in caplog.records if r.name.startswith("slack_bolt")]
    assert [r.getMessage() for r in bolt if r.levelno >= logging.INFO and _drop_noise(r)] == []
