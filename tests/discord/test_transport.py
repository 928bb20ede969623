"""How a message is sent: as the bot (channels, direct messages, follow-ups) and through a
webhook, with nonces, rate limits and refusals (`bot/platforms/discord/transport.py`)."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
import pytest

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.digests.runs import run_channel_digest
from bot.digests.settings import DigestSettings
from bot.errors import UserError
from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord, WebhookTransport, webhook_destination
from bot.render.neutral import Digest, Notice, Reply
from tests.conftest import drained_later
from tests.discord.asking import CHANNEL, FOLLOW_UP, ask, custom_ids, text_of
from tests.discord.fake_discord import (
    APPLICATION_ID,
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_CHANNELS,
    FakeDiscord,
    http_error,
    rate_limited,
    reply,
    slash_interaction,
)
from tests.payload_checks import check_discord_message


async def test_digest_posts_embeds_with_nonce_and_no_mentions(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    await ask(fake, "now", group="digest", permissions=str(MANAGE_CHANNELS))
    posts = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert posts
    for post in posts:
        check_discord_message(post.json)
        assert post.json["nonce"] and post.json["enforce_nonce"] is True
        assert post.json["allowed_mentions"] == {"parse": []}
    ids = [cid for post in posts for cid in custom_ids(post.json)]
    assert len([cid for cid in ids if cid.startswith("pw:abstract:")]) == 10
    assert len(await bot.services.outbox.sent_paper_ids(CHANNEL.key)) == 10


async def test_a_retried_send_is_not_duplicated(fake: FakeDiscord, bot: PaperwireDiscord) -> None:
    day = (await bot.services.papers.trending_days())[0]
    papers = tuple((await bot.services.papers.trending_list(day))[:3])
    message = OutgoingMessage(CHANNEL, Reply(Digest(day=day, papers=papers)))
    first = await bot.send(message)
    again = await bot.send(message)  # the same message sent twice, as after a crash
    assert first.ok and again.ok and first.platform_ids == again.platform_ids
    assert len(fake.messages_in(CHANNEL_ID)) == len(first.platform_ids)


async def test_rate_limit_is_waited_out(fake: FakeDiscord, bot: PaperwireDiscord) -> None:
    fake.fail("POST", rf"/channels/{CHANNEL_ID}/messages", rate_limited(retry_after=0.01))
    run = await run_channel_digest(
        bot.services, DigestSettings(CHANNEL, size=2), bot.services.clock()
    )
    assert run is not None and (run.outcome.value, run.posted) == ("posted", 2)
    assert len(fake.messages_in(CHANNEL_ID)) == 1
    # The first try met the 429; discord.py waited and sent the same message again.
    assert len(fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")) == 2


async def test_missing_access_stops_the_channel(fake: FakeDiscord, bot: PaperwireDiscord) -> None:
    fake.fail("POST", rf"/channels/{CHANNEL_ID}/messages", http_error(403, 50001, "Missing Access"))
    run = await run_channel_digest(
        bot.services, DigestSettings(CHANNEL, size=2), bot.services.clock()
    )
    assert run is not None and run.outcome.value == "queued"
    assert await bot.services.outbox.outbox_depths() == {CHANNEL.key: 1}  # kept
    state = await bot.services.outbox.destination_state(CHANNEL.key)
    assert state.stopped and "50001" in (state.error or "")
    [status] = await ask(fake, "status", group="digest", permissions=str(MANAGE_CHANNELS))
    assert "stopped" in text_of(status)


async def test_a_recovering_send_is_deduplicated_by_its_nonce(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    day = (await bot.services.papers.trending_days())[0]
    papers = tuple((await bot.services.papers.trending_list(day))[:2])
    message = OutgoingMessage(CHANNEL, Reply(Digest(day=day, papers=papers)), outbox_id=42)
    first = await bot.send(message)  # arrived, but the process died before noting it
    again = await bot.send(replace(message, recovering=True))
    assert first.platform_ids == again.platform_ids
    assert len(fake.messages_in(CHANNEL_ID)) == len(first.platform_ids)
    nonces = {c.json["nonce"] for c in fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")}
    assert nonces == {"pw42.0"}


async def test_a_follow_up_kept_in_the_outbox_is_sent_after_a_restart(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    # A 429 without Discord's `Via` header (a proxy's block): discord.py gives up at once.
    fake.fail("POST", FOLLOW_UP, reply({"message": "blocked"}, status=429))
    await fake.dispatch("INTERACTION_CREATE", slash_interaction(subcommand="help"))
    await fake.wait_for("POST", FOLLOW_UP, count=1)
    await bot.services.delivery.wait_idle()  # the failure is recorded
    [key] = await bot.services.outbox.outbox_depths()
    assert key.startswith(f"discord:{GUILD_ID}:") and "!" in key
    # A new delivery service, a minute later: the follow-up goes with the kept token.
    receipt = await drained_later(bot.services, bot, minutes=1)
    assert receipt.ok
    first, second = fake.calls_to("POST", FOLLOW_UP)
    assert second.path == first.path and second.json == first.json
    assert await bot.services.outbox.outbox_depths() == {}


async def test_discord_out_of_reach_while_sending_is_a_failed_send_not_a_bug(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    """A lost connection (a stop closing the session under a send, Discord gone) is tried
    again later with one line, like a refused send; the interaction's token stays out."""
    import discord

    from tests.processes import closed_port

    token = "itoken-secret-of-the-interaction"
    reply = OutgoingMessage(
        Destination.reply_in("discord", GUILD_ID, CHANNEL_ID),
        Reply(Notice("hello")),
        handle={"application_id": APPLICATION_ID, "token": token},
    )
    url = fake.add_webhook()
    base = discord.http.Route.BASE
    with closed_port() as port:
        discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
        try:
            receipts = [
                await bot.send(reply),
                await bot.send(OutgoingMessage(CHANNEL, Reply(Notice("hello")))),
            ]
            async with aiohttp.ClientSession() as session:
                webhook = WebhookTransport(url, session)
                where = webhook_destination(url)
                receipts.append(await webhook.send(OutgoingMessage(where, Reply(Notice("hi")))))
        finally:
            discord.http.Route.BASE = base
    for receipt in receipts:
        assert not receipt.ok and not receipt.permanent
        assert receipt.error is not None
        assert receipt.error.startswith("Discord could not be reached: ClientConnectorError")
        assert token not in receipt.error and url.rsplit("/", 1)[1] not in receipt.error


async def test_webhook_mode_posts_digests_without_a_bot(
    fake: FakeDiscord, seeded: Services
) -> None:
    url = fake.add_webhook()
    async with aiohttp.ClientSession() as session:
        seeded.delivery.register(WebhookTransport(url, session))
        where = webhook_destination(url)
        run = await run_channel_digest(seeded, DigestSettings(where, size=3), seeded.clock())
    assert run is not None and run.posted == 3
    [post] = fake.calls_to("POST", r"/webhooks/123456789012345678/[^/]+")
    check_discord_message(post.json)
    assert post.json["allowed_mentions"] == {"parse": []}


async def test_webhook_mode_asks_discord_about_its_webhook(fake: FakeDiscord) -> None:
    url = fake.add_webhook()
    async with aiohttp.ClientSession() as session:
        await WebhookTransport(url, session).connect()
        deleted = url.replace("123456789012345678", "123456789012345679")
        with pytest.raises(UserError) as refused:
            await WebhookTransport(deleted, session).connect()
    assert str(refused.value).startswith(
        "Discord refused DISCORD_WEBHOOK_URL (404 Unknown Webhook)"
    )
    assert url.rsplit("/", 1)[1] not in str(refused.value)


async def test_a_weekly_recap_posts_to_the_channel(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from bot.digests.recap_run import run_recap

    settings = DigestSettings(CHANNEL, size=3, recap_day="sun", recap_name="papers")
    run = await run_channel_digest(bot.services, settings, bot.services.clock())
    assert run is not None and run.posted == 3
    posts = rf"/channels/{CHANNEL_ID}/messages"
    before = len(fake.calls_to("POST", posts))
    recap = await run_recap(bot.services, settings, bot.services.clock())
    assert recap is not None and (recap.outcome.value, recap.posted) == ("posted", 3)
    [post] = fake.calls_to("POST", posts)[before:]
    check_discord_message(post.json)
    assert "#papers's week in papers" in text_of(post.json)
