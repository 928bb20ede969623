"""Slack's failures as its own mock Web API servers answer them (HTML error pages without an
`error` field, a connection cut after the request, `invalid_auth`, an `ok` without `ts`,
a DM opened without its channel): every logged and shown error names the real cause
(errors.py), a transient failure is one warning line and is retried, and a stopped
channel's reply says so. (`auth.test` in trouble: test_identity.py; a failed permission
lookup: test_managers.py.)"""

from __future__ import annotations

import logging
import re

import pytest

from bot.models import Destination
from tests.conftest import drained_later
from tests.slack.fake_slack import api_error, cut, html_page, reply, without
from tests.slack.served import Bot, no_none, ours, texts_of
from tests.slack.signing import slash_command_body

ADMIN = "U3"
CHANNEL = "slack:T1:C1"


# --- 1. an answer without an `error` field ------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 404])
async def test_an_html_error_page_is_named_by_its_status_in_the_log_reply_and_status(
    bot: Bot, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.INFO)
    bot.fake.users[ADMIN] = {"is_admin": True}
    await bot.command("digest on", user=ADMIN)
    bot.fake.fail("chat.postMessage", html_page(status))
    reply = texts_of(await bot.command("digest now", user=ADMIN))
    named = f"HTTP {status} (HTML page)"
    assert f"Not posted yet: Slack answered `{named}`." in reply
    state = await bot.services.outbox.destination_state(CHANNEL)
    assert state.error == named and not state.stopped  # what `paperwire status` shows
    assert re.search(
        rf"delivery to {CHANNEL} failed; retrying in \d+ s: {re.escape(named)}$", caplog.text, re.M
    )
    status_reply = texts_of(await bot.command("digest status", user=ADMIN))
    assert f"Slack answered `{named}`" in status_reply
    no_none(caplog, reply, status_reply)


async def test_an_answer_with_no_error_code_at_all_is_named_from_what_came(bot: Bot) -> None:
    bot.fake.users[ADMIN] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", reply({"ok": False}), reply("", status=502))
    first = texts_of(await bot.command("digest now", user=ADMIN))
    assert "Slack answered `HTTP 200 (no error code)`" in first
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.error == "HTTP 502 (empty answer)"


# --- 2. a cut connection ------------------------------------------------------------------


async def test_a_connection_cut_after_the_post_is_one_warning_and_is_not_posted_twice(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot.fake.users[ADMIN] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", cut(after=True))
    reply = texts_of(await bot.command("digest now", user=ADMIN))
    broke = "the connection to Slack broke before its answer (ServerDisconnectedError)"
    assert f"Not posted yet: {broke}." in reply
    assert not [r for r in caplog.records if r.exc_info]  # no traceback: a passing failure
    [warning] = [r for r in ours(caplog) if r.levelno >= logging.WARNING]
    assert warning.getMessage().endswith(broke)
    # The post did arrive: the retry looks for it and only adds what is missing.
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    assert len(bot.fake.history["C1"]) == 1
    assert bot.fake.calls_to("conversations.history")
    no_none(caplog, reply)


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
    reply = texts_of(await bot.command("digest now", user=ADMIN))
    assert "failed for good, stopping it: invalid_auth" in caplog.text
    assert "Posting here is stopped: Slack answered `invalid_auth`." in reply
    assert "reinstalls the app" in reply and "SLACK_BOT_TOKEN" in reply
    assert "retried" not in reply and "Not posted yet" not in reply
    status = texts_of(await bot.command("digest status", user=ADMIN))
    assert "Posting here is stopped: Slack answered `invalid_auth`." in status


# --- 4. an ok without ts --------------------------------------------------------------------


async def test_a_post_answered_ok_without_ts_is_uncertain_and_no_reply_goes_to_an_empty_thread(
    bot: Bot,
) -> None:
    bot.fake.users[ADMIN] = {"is_admin": True}
    await bot.command("digest set format full", user=ADMIN)  # abstracts go in the thread
    bot.fake.fail("chat.postMessage", without("ts"))
    reply = texts_of(await bot.command("digest now", user=ADMIN))
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
    from bot.render.neutral import Notice, Reply

    bot.fake.fail("conversations.open", without("channel"))
    owner = Destination("slack", "T1", "U7", kind="dm")
    receipt = await bot.services.delivery.deliver(OutgoingMessage(owner, Reply(Notice("hi"))))
    assert receipt.queued and not receipt.permanent
    assert receipt.error == "Slack opened the direct message without naming it"
    assert bot.fake.calls_to("chat.postMessage") == []  # not to channel ""
    assert (await drained_later(bot.services, bot.adapter, minutes=1)).ok
