"""Who may change a channel's digest on Slack (managers.py): admins and owners as
`users.info` tells, and what a lookup that fails says."""

from __future__ import annotations

import time

import pytest

from tests.canned import Canned
from tests.slack.fake_slack import api_error, cut, html_page, rate_limited
from tests.slack.served import Bot, no_none, ours, texts_of

ADMIN = "U3"


async def test_digest_commands_are_for_managers_only(bot: Bot) -> None:
    bot.fake.users["U2"] = {"is_admin": False, "is_owner": False}
    refused = await bot.command("digest on 08:30 Europe/Paris", user="U2")
    assert "Only channel managers" in texts_of(refused)
    assert await bot.services.digests.channel_digest("slack:T1:C1") is None
    bot.fake.users["U3"] = {"is_admin": True}
    accepted = await bot.command("digest on 08:30 Europe/Paris", user="U3")
    assert "On: 08:30 Europe/Paris" in texts_of(accepted)
    assert await bot.services.digests.channel_digest("slack:T1:C1") is not None


async def test_a_failed_user_lookup_is_named(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot.fake.fail("users.info", html_page(503))
    await bot.command("digest status", user=ADMIN)
    assert "could not look up Slack user U3: HTTP 503 (HTML page)" in caplog.text
    no_none(caplog)


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
    first = texts_of(await bot.command("digest status", user=ADMIN))
    lookups = len(bot.fake.calls_to("users.info"))
    second = texts_of(await bot.command("digest on", user=ADMIN))
    assert time.monotonic() - started < 2.0  # no Retry-After waited out
    for answer in (first, second):
        assert "Could not check your permissions" in answer and "try again in a minute" in answer
        assert "Only channel managers" not in answer  # not a wrong refusal
    assert len(bot.fake.calls_to("users.info")) == lookups  # the failure is kept a minute
    [lookup, *_] = [r.getMessage() for r in ours(caplog)]
    assert lookup.startswith("could not look up Slack user U3")
    no_none(caplog, first, second)


async def test_an_admin_sets_the_weekly_recap_named_after_the_channel(bot: Bot) -> None:
    bot.fake.users["U2"] = {"is_admin": False, "is_owner": False}
    refused = await bot.command("digest set recap sun 17:00", user="U2")
    assert "Only channel managers" in texts_of(refused)
    bot.fake.users[ADMIN] = {"is_admin": True}
    answer = await bot.command("digest set recap sun 17:00", user=ADMIN)
    assert "Weekly recap: Sundays at 17:00 UTC." in texts_of(answer)
    settings = await bot.services.digests.channel_digest("slack:T1:C1")
    assert settings is not None and (settings.recap_day, settings.recap_name) == ("sun", "general")
