"""The Discord adapter end to end: the real discord.py client with the paperwire command
tree, over a real websocket and REST, against a local fake Discord."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.delivery.outbox import OutgoingMessage
from bot.digests.runs import run_channel_digest
from bot.digests.settings import DigestSettings
from bot.errors import UserError
from bot.models import Destination
from bot.platforms.connecting import Unreachable
from bot.platforms.discord import (
    NOT_CONNECTED_WAIT_S,
    DiscordBot,
    PaperwireDiscord,
    WebhookTransport,
    webhook_destination,
)
from bot.render.neutral import Digest, Notice, Reply
from bot.search.service import MAX_OFFSET
from bot.storage import open_storage
from tests.conftest import drained_later, offsets_reaching_the_index, seed_observations
from tests.discord.fake_discord import (
    APPLICATION_ID,
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_CHANNELS,
    FakeDiscord,
    component_interaction,
    http_error,
    point_discord_py_at,
    rate_limited,
    reply,
    running_client,
    running_fake_discord,
    server_error,
    slash_interaction,
)
from tests.payload_checks import check_discord_message
from tests.processes import start_paperwire_run

FOLLOW_UP = rf"/webhooks/{APPLICATION_ID}/[^/]+"
CHANNEL = Destination("discord", GUILD_ID, CHANNEL_ID)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as running:
        with point_discord_py_at(running):
            yield running


@pytest.fixture
async def bot(fake: FakeDiscord, seeded: Services) -> AsyncIterator[PaperwireDiscord]:
    client = PaperwireDiscord(seeded)
    seeded.delivery.register(client)
    async with running_client(client, fake):
        yield client


async def _ask(fake: FakeDiscord, subcommand: str, count: int = 1, **kw: Any) -> list[Any]:
    """Dispatch `/papers <subcommand>`; the follow-up bodies it gets."""
    group = kw.pop("group", None)
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch(
        "INTERACTION_CREATE", slash_interaction(subcommand=subcommand, group=group, **kw)
    )
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + count)
    return [call.json for call in calls[before:]]


def _discord_env(fake: FakeDiscord, token: str) -> dict[str, str]:
    """The environment that points `paperwire run` at the fake as a bot."""
    return {
        "DISCORD_BOT_TOKEN": token,
        "PAPERWIRE_DISCORD_API_URL": fake.api_base,
        "PAPERWIRE_DISCORD_GATEWAY_URL": fake.gateway_url,
    }


def _text(body: dict[str, Any]) -> str:
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
    return "\n".join(parts)


def _custom_ids(body: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in body.get("components") or [] for c in row["components"]]


async def test_search_is_deferred_then_followed_up_ephemerally(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    [body] = await _ask(fake, "search", options={"query": "diffusion"})
    [deferred] = fake.interaction_responses()
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64  # deferred, ephemeral
    check_discord_message(body)
    assert body["flags"] & 64
    assert "iffusion" in _text(body)
    assert any(cid.startswith("pw:next:5:") for cid in _custom_ids(body))


async def test_trending_and_help(fake: FakeDiscord, bot: PaperwireDiscord) -> None:
    bodies = await _ask(fake, "trending", options={"date": "2026-03-12"})
    for body in bodies:
        check_discord_message(body)
    assert "Todyformer" in _text(bodies[0]) + "".join(_text(b) for b in bodies)
    [help_body] = await _ask(fake, "help")
    assert "/papers search" in _text(help_body)


async def test_digest_commands_need_manage_channels(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    [refused] = await _ask(fake, "on", group="digest", permissions="0")
    assert "Only channel managers" in _text(refused)
    [accepted] = await _ask(
        fake,
        "on",
        group="digest",
        options={"time": "08:30", "zone": "Europe/Paris"},
        permissions=str(MANAGE_CHANNELS),
    )
    assert "On: 08:30 Europe/Paris" in _text(accepted)


async def test_digest_posts_embeds_with_nonce_and_no_mentions(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    await _ask(fake, "now", group="digest", permissions=str(MANAGE_CHANNELS))
    posts = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert posts
    for post in posts:
        check_discord_message(post.json)
        assert post.json["nonce"] and post.json["enforce_nonce"] is True
        assert post.json["allowed_mentions"] == {"parse": []}
    ids = [cid for post in posts for cid in _custom_ids(post.json)]
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
    [status] = await _ask(fake, "status", group="digest", permissions=str(MANAGE_CHANNELS))
    assert "stopped" in _text(status)


async def test_buttons_keep_working_after_a_restart(fake: FakeDiscord, seeded: Services) -> None:
    first = PaperwireDiscord(seeded)
    seeded.delivery.register(first)
    async with running_client(first, fake):
        [page] = await _ask(fake, "search", options={"query": "model"})
        await _ask(fake, "now", group="digest", permissions=str(MANAGE_CHANNELS))
    next_id = next(c for c in _custom_ids(page) if c.startswith("pw:next:"))
    digest_post = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")[0]
    abstract_id = next(c for c in _custom_ids(digest_post.json) if c.startswith("pw:abstract:"))
    second = PaperwireDiscord(seeded)  # a new process: nothing in memory
    seeded.delivery.register(second)
    async with running_client(second, fake):
        before = len(fake.calls_to("POST", FOLLOW_UP))
        await fake.dispatch("INTERACTION_CREATE", component_interaction(next_id))
        await fake.dispatch("INTERACTION_CREATE", component_interaction(abstract_id))
        calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 2)
    texts = [_text(call.json) for call in calls[before:]]
    assert any("Results 6" in text for text in texts)
    paper = await seeded.papers.paper_by_id(abstract_id.removeprefix("pw:abstract:"))
    assert paper is not None and any(paper.abstract[:30] in text for text in texts)


@pytest.mark.parametrize(
    "custom_id",
    [
        "pw:next:5000:{key}",  # past the deepest page
        "pw:next:10000000000:{key}",
        "pw:next:-5:{key}",
        "pw:next:5:{key}0",
        "pw:next:5:not-a-key",
        "pw:abstract:" + "2509.04664" * 9,  # longer than any paper id
        "pw:abstract:2509.04664 or 1=1",
        "pw:similar:",
        "pw:frobnicate:2509.04664",
    ],
)
async def test_a_button_id_paperwire_did_not_write_is_refused_in_one_line(
    fake: FakeDiscord, bot: PaperwireDiscord, monkeypatch: pytest.MonkeyPatch, custom_id: str
) -> None:
    key = await bot.services.saved_queries.save_query("model", bot.services.clock())
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id.format(key=key)))
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    check_discord_message(answer.json)
    assert STALE_BUTTON in _text(answer.json) and "Results" not in _text(answer.json)
    assert answer.json["flags"] & 64  # only to whoever pressed it
    assert offsets == []  # nothing reached the index


async def test_the_deepest_page_a_button_may_ask_for_is_answered(
    fake: FakeDiscord, bot: PaperwireDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await bot.services.saved_queries.save_query("model", bot.services.clock())
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    custom_id = f"pw:next:{MAX_OFFSET}:{key}"
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id))
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    assert STALE_BUTTON not in _text(answer.json)
    assert offsets and max(offsets) == MAX_OFFSET


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def _is_apology(body: dict[str, Any]) -> bool:
    return "Sorry, something went wrong" in _text(body) and bool(body["flags"] & 64)


async def test_a_bug_in_a_button_handler_is_an_apology_and_one_logged_traceback(
    fake: FakeDiscord,
    bot: PaperwireDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    key = await bot.services.saved_queries.save_query("model", bot.services.clock())
    monkeypatch.setattr(bot.services.search, "search", broken)
    await fake.dispatch("INTERACTION_CREATE", component_interaction(f"pw:next:5:{key}"))
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    check_discord_message(answer.json)
    assert _is_apology(answer.json) and "boom" not in _text(answer.json)
    [error] = _errors(caplog)
    assert error.getMessage() == "button failed: next" and error.exc_info is not None


@pytest.mark.parametrize("where", ["command", "button", "tree"])
async def test_an_error_past_the_handlers_gets_an_apology_follow_up(
    fake: FakeDiscord,
    bot: PaperwireDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    """Without the hook, discord.py logs the error and Discord's "thinking..." stays."""
    import bot.platforms.discord as adapter

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    if where == "command":
        monkeypatch.setattr(adapter, "dispatch", broken)
        interaction = slash_interaction(subcommand="help")
    elif where == "button":
        monkeypatch.setattr(adapter, "press", broken)
        interaction = component_interaction("pw:abstract:2509.04664")
    else:  # a command the tree does not know (an old registration): the tree's hook
        interaction = slash_interaction(name="nosuch", subcommand=None, options={})
    await fake.dispatch("INTERACTION_CREATE", interaction)
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    [deferred] = fake.interaction_responses()
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64
    check_discord_message(answer.json)
    assert _is_apology(answer.json) and "boom" not in _text(answer.json)
    await bot.services.delivery.wait_idle()
    [error] = _errors(caplog)
    assert error.getMessage() == "Discord: answering an interaction failed"
    assert error.exc_info is not None


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


async def test_paperwire_run_answers_an_interaction(fake: FakeDiscord, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
    process = await start_paperwire_run(db, **_discord_env(fake, fake.token))
    assert process.stderr is not None
    try:
        await fake.wait_ready(timeout=30)
        assert fake.calls_to("PUT", rf"/applications/{APPLICATION_ID}/commands")
        await fake.dispatch("INTERACTION_CREATE", slash_interaction(options={"query": "graph"}))
        [follow_up] = await fake.wait_for("POST", FOLLOW_UP, timeout=30)
        check_discord_message(follow_up.json)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    logged = (await process.stderr.read()).decode()
    assert code == 0, logged
    assert fake.token not in logged


async def test_subscriptions_on_discord_end_in_a_direct_message(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from bot.alerts.send import match_new_lists, send_alert
    from bot.alerts.topics import AlertSettings

    [reply] = await _ask(fake, "subscribe", options={"topic": "diffusion"})
    assert "Subscribed to “diffusion”" in _text(reply)
    paper = (await bot.services.search.search("graph", limit=1)).hits[0].paper
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", component_interaction(f"pw:similar:{paper.id}"))
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 1)
    assert "Subscribed to" in _text(calls[-1].json)
    assert await match_new_lists(bot.services) > 0
    owner = Destination("discord", GUILD_ID, "500", kind="dm")
    run = await send_alert(bot.services, AlertSettings(owner), bot.services.clock())
    assert run is not None and run.posted > 0
    assert fake.calls_to("POST", "/users/@me/channels")
    [dm] = fake.messages_in(str(fake.dm_channel_id("500")))
    assert "for your topics" in dm["content"]


async def test_a_refused_token_is_a_clear_error(fake: FakeDiscord, tmp_path: Path) -> None:
    process = await start_paperwire_run(tmp_path / "p.db", **_discord_env(fake, "not-the-token"))
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    assert process.returncode == 2
    assert (
        stderr.decode().splitlines()[-1].startswith("paperwire: Discord refused DISCORD_BOT_TOKEN")
    )
    assert "Traceback" not in stderr.decode() and "not-the-token" not in stderr.decode()


async def test_a_login_that_fails_is_tried_again_and_nothing_goes_before(
    fake: FakeDiscord, seeded: Services
) -> None:
    client = PaperwireDiscord(seeded)
    bot = DiscordBot(client, fake.token)
    fake.fail("GET", "/oauth2/applications/@me", server_error(503))  # half-way through login
    try:
        with pytest.raises(Unreachable, match="DiscordServerError: 503"):
            await bot.connect()
        # Meanwhile a message waits in the outbox rather than meet a client not logged in.
        receipt = await client.send(OutgoingMessage(CHANNEL, Reply(Notice("hello"))))
        assert not receipt.ok and not receipt.permanent
        assert receipt.error == "Discord has not been reached yet"
        assert receipt.retry_in == NOT_CONNECTED_WAIT_S  # a wait: no failure is counted
        seeded.delivery.register(client)
        queued = await seeded.delivery.deliver(OutgoingMessage(CHANNEL, Reply(Notice("later"))))
        assert queued.queued and not queued.permanent
        assert (await seeded.outbox.destination_state(CHANNEL.key)).error is None
        await bot.connect()
        assert client.logged_in
        assert fake.calls_to("PUT", rf"/applications/{APPLICATION_ID}/commands")
        assert (await client.send(OutgoingMessage(CHANNEL, Reply(Notice("hello"))))).ok
    finally:
        await bot.stop()
    assert len(fake.calls_to("GET", "/users/@me")) == 2


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


async def test_unsubscribe_offers_only_the_callers_own_topics(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from tests.discord.fake_discord import autocomplete_interaction

    await _ask(fake, "subscribe", options={"topic": "diffusion models"})
    await _ask(fake, "subscribe", options={"topic": "graph neural"}, user_id="501")
    await fake.dispatch(
        "INTERACTION_CREATE",
        autocomplete_interaction(
            subcommand="unsubscribe", options={"topic": "di"}, focused="topic"
        ),
    )
    await fake.wait_for("POST", r"/interactions/[^/]+/[^/]+/callback", count=3)
    answer = fake.interaction_responses()[-1]
    assert answer["type"] == 8
    assert answer["data"]["choices"] == [{"name": "1. diffusion models", "value": "1"}]


async def test_unsubscribe_takes_back_a_long_topic_it_offered(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from tests.discord.fake_discord import autocomplete_interaction

    long_topic = "diffusion " * 19 + "generative"
    assert len(long_topic) == 200  # the longest topic allowed
    await _ask(fake, "subscribe", options={"topic": "graph neural"})
    await _ask(fake, "subscribe", options={"topic": long_topic})
    await fake.dispatch(
        "INTERACTION_CREATE",
        autocomplete_interaction(
            subcommand="unsubscribe", options={"topic": "diffusion diff"}, focused="topic"
        ),
    )
    await fake.wait_for("POST", r"/interactions/[^/]+/[^/]+/callback", count=3)
    [choice] = fake.interaction_responses()[-1]["data"]["choices"]
    assert choice["value"] == "2"  # its number: the topic itself is longer than a value may be
    assert choice["name"].startswith("2. diffusion") and len(choice["name"]) <= 100
    [reply] = await _ask(fake, "unsubscribe", options={"topic": choice["value"]})
    assert f"Unsubscribed from “{long_topic}”" in _text(reply)
    owner = Destination("discord", GUILD_ID, "500", kind="dm")
    assert [s.topic for s in await bot.services.subscriptions.subscriptions(owner)] == [
        "graph neural"
    ]


async def test_webhook_mode_gives_its_channel_a_digest_once(seeded: Services) -> None:
    from bot.runner import ensure_webhook_digest

    url = "https://discord.com/api/webhooks/123456789012345678/" + "T" * 68
    created = await ensure_webhook_digest(seeded, url, "08:30 Europe/Paris")
    assert created.destination.key == "discord:webhook:123456789012345678"
    assert (f"{created.time:%H:%M}", created.timezone) == ("08:30", "Europe/Paris")
    kept = await ensure_webhook_digest(seeded, url, "")  # settings already there: unchanged
    assert (kept.time, kept.timezone) == (created.time, created.timezone)


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
