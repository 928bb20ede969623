"""The bot as a platform of `paperwire run`: a real run answering an interaction, a refused
token, a login tried again, the webhook mode's digest (`bot/platforms/discord/platform.py`)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.platforms.connecting import Unreachable
from bot.platforms.discord import DiscordBot, PaperwireDiscord
from bot.platforms.discord.transport import NOT_CONNECTED_WAIT_S
from bot.render.neutral import Notice, Reply
from bot.storage import open_storage
from tests.conftest import seed_observations
from tests.discord.asking import CHANNEL, FOLLOW_UP, discord_env
from tests.discord.fake_discord import APPLICATION_ID, FakeDiscord, server_error, slash_interaction
from tests.payload_checks import check_discord_message
from tests.processes import start_paperwire_run


async def test_paperwire_run_answers_an_interaction(fake: FakeDiscord, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
    process = await start_paperwire_run(db, **discord_env(fake, fake.token))
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


async def test_a_refused_token_is_a_clear_error(fake: FakeDiscord, tmp_path: Path) -> None:
    process = await start_paperwire_run(tmp_path / "p.db", **discord_env(fake, "not-the-token"))
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


async def test_webhook_mode_gives_its_channel_a_digest_once(seeded: Services) -> None:
    from bot.runner import ensure_webhook_digest

    url = "https://discord.com/api/webhooks/123456789012345678/" + "T" * 68
    created = await ensure_webhook_digest(seeded, url, "08:30 Europe/Paris")
    assert created.destination.key == "discord:webhook:123456789012345678"
    assert (f"{created.time:%H:%M}", created.timezone) == ("08:30", "Europe/Paris")
    kept = await ensure_webhook_digest(seeded, url, "")  # settings already there: unchanged
    assert (kept.time, kept.timezone) == (created.time, created.timezone)
