"""What the platforms change in the process: nothing at import, and discord.py's endpoints
only from a platform's start to its stop."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from datetime import timedelta

import aiohttp
import discord
import pytest

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.models import Destination
from bot.platforms.discord import DiscordBot, PaperwireDiscord, WebhookTransport
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.render.neutral import Notice, Reply
from tests.conftest import NOW
from tests.discord.fake_discord import APPLICATION_ID, running_fake_discord
from tests.processes import closed_port

# Runs in a fresh interpreter: the libraries first, then every paperwire module that the
# entry points import; what the second step changed is printed.
_IMPORTS = textwrap.dedent(
    """
    import logging
    import discord, slack_bolt, slack_sdk, aiohttp, apscheduler, yarl

    def settings():
        loggers = {
            name: (logger.level, list(logger.filters), list(logger.handlers), logger.propagate)
            for name, logger in logging.root.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)
        }
        loggers["<root>"] = (logging.root.level, [], list(logging.root.handlers), True)
        endpoints = (discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
        return loggers, endpoints

    before, endpoints = settings()
    import bot.cli, bot.commands, bot.runner, bot.bench
    import bot.platforms.slack, bot.platforms.discord, bot.platforms.console, handlers.router
    after, endpoints_after = settings()
    if endpoints_after != endpoints:
        print("endpoints", endpoints_after)
    for name, state in after.items():
        if name in before:
            if state != before[name]:
                print("changed", name, state)
        elif state[:3] != (logging.NOTSET, [], []):  # a new logger must be a plain one
            print("set up", name, state)
    """
)


def test_importing_paperwire_changes_no_logger_and_no_library_setting() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


async def test_discord_py_points_at_the_configured_endpoints_only_while_the_bot_runs(
    seeded: Services,
) -> None:
    default = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    reconnects = logging.getLogger("discord.client")
    filters = list(reconnects.filters)
    async with running_fake_discord() as fake:
        client = PaperwireDiscord(seeded)
        bot = DiscordBot(client, fake.token, api_url=fake.api_base, gateway_url=fake.gateway_url)
        await bot.start()
        try:
            assert fake.api_base == discord.http.Route.BASE
            assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
            assert len(reconnects.filters) == len(filters) + 1  # reconnects in one line
            await bot.connect()  # logged in and the commands registered: at the fake
            assert fake.calls_to("PUT", rf"/applications/{APPLICATION_ID}/commands")
        finally:
            await bot.stop()
    assert default == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert reconnects.filters == filters


async def test_a_webhook_points_discord_py_at_its_api_only_while_it_runs() -> None:
    default = discord.http.Route.BASE
    async with running_fake_discord() as fake, aiohttp.ClientSession() as session:
        webhook = WebhookTransport(fake.add_webhook(), session, api_url=fake.api_base)
        await webhook.start()
        try:
            await webhook.connect()  # asks the fake about the webhook
        finally:
            await webhook.stop()
        assert fake.calls_to("GET", r"/webhooks/123456789012345678/[^/]+")
    assert default == discord.http.Route.BASE


async def test_a_response_url_stays_out_of_the_log_when_it_is_retried(
    seeded: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The Slack SDK logs the URL it retries at INFO: its logger here takes warnings only
    (a level of its own, set up by the adapter, not at import)."""
    caplog.set_level(logging.INFO)  # as `paperwire run` logs
    config = SlackConfig(bot_token="xoxb-t", signing_secret="s", api_url="http://127.0.0.1:9/")
    seeded.delivery.register(SlackAdapter(seeded, config))
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/commands/T1/secret-of-the-response-url"
        handle = {"response_url": url, "expires_at": (NOW + timedelta(minutes=30)).isoformat()}
        where = Destination.reply_in("slack", "T1", "C1")
        message = OutgoingMessage(where, Reply(Notice("hello")), handle=handle)
        receipt = await seeded.delivery.deliver(message)
    assert not receipt.ok and "could not be reached" in (receipt.error or "")
    assert "secret-of-the-response-url" not in caplog.text
