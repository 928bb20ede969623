"""`paperwire run`: the long-running bot. It ingests on a schedule, posts each channel's
daily digest, and answers Slack (`SLACK_BOT_TOKEN`) and Discord (`DISCORD_BOT_TOKEN`, or
only `DISCORD_WEBHOOK_URL` for digests). With no token the console is the platform:
scheduled digests print to stdout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import aiohttp
import discord
from apscheduler.triggers.interval import IntervalTrigger

from bot.alerts import match_new_lists
from bot.app import Services, build_services
from bot.channel_digests import DigestSettings, parse_time, parse_timezone
from bot.config import Settings
from bot.errors import UserError
from bot.pacing import Pacer
from bot.platforms.console import ConsoleTransport
from bot.platforms.discord import (
    DiscordConfig,
    PaperwireDiscord,
    WebhookTransport,
    webhook_destination,
)
from bot.platforms.slack import SlackAdapter, SlackConfig, SlackServer
from schedules.alerts import AlertJobs
from schedules.digests import DigestJobs
from schedules.ingest_jobs import add_ingest_jobs
from schedules.scheduler import Scheduler

_log = logging.getLogger(__name__)
OUTBOX_KEEP = timedelta(days=7)  # delivered messages stay this long (for status, for looking)


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set, or SIGINT / SIGTERM."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    slack = SlackConfig.from_env()
    discord_config = DiscordConfig.from_env()
    async with (
        build_services(settings) as services,
        _platforms(services, slack, discord_config) as platforms,
    ):
        # What a crash left: runs that queued nothing are taken again; what is in the
        # outbox goes first (a part that did arrive is not sent again).
        await services.store.release_interrupted_runs()
        await services.delivery.drain()
        scheduler = Scheduler()
        scheduler.add("outbox:retry", IntervalTrigger(seconds=30), services.delivery.drain)
        scheduler.add("outbox:prune", IntervalTrigger(hours=6), _prune_outbox, services)
        jobs = ["outbox:retry", "outbox:prune", *add_ingest_jobs(scheduler, services)]
        digests = DigestJobs(scheduler, services, timedelta(hours=settings.digest_grace_hours))
        jobs += await digests.load()
        services.digest_schedule = digests
        await digests.catch_up()
        alerts = AlertJobs(scheduler, services)
        jobs += await alerts.load()
        services.alert_schedule = alerts
        await match_new_lists(services)
        scheduler.start()
        _log.info(
            "paperwire is running (database %s; platforms: %s; jobs: %s). Ctrl-C stops it.",
            settings.db_path,
            ", ".join(platforms),
            ", ".join(jobs) or "none",
        )
        try:
            await stop.wait()
        finally:
            scheduler.stop()
            _log.info("paperwire stopped")


async def _prune_outbox(services: Services) -> None:
    before = services.clock() - OUTBOX_KEEP
    if pruned := await services.store.prune_outbox(before):
        _log.info("outbox: forgot %d messages delivered before %s", pruned, before.date())


@asynccontextmanager
async def _platforms(
    services: Services, slack: SlackConfig | None, discord_config: DiscordConfig | None
) -> AsyncIterator[list[str]]:
    """Register each configured platform's transport and start receiving its requests."""
    services.delivery.register(ConsoleTransport(sys.stdout))
    names = ["console"]
    async with contextlib.AsyncExitStack() as stack:
        if slack is not None:
            adapter = SlackAdapter(services, slack)
            services.delivery.register(adapter)
            server = SlackServer(adapter, slack)
            await server.start()
            stack.push_async_callback(server.stop)
            names.append("slack")
        if discord_config is not None:
            names.append(await _start_discord(services, discord_config, stack))
        yield names


async def _start_discord(
    services: Services, config: DiscordConfig, stack: contextlib.AsyncExitStack
) -> str:
    config.point_discord_py()
    if config.bot_token is None:
        assert config.webhook_url is not None
        session = await stack.enter_async_context(aiohttp.ClientSession())
        services.delivery.register(WebhookTransport(config.webhook_url, session))
        await ensure_webhook_digest(services, config.webhook_url, config.webhook_digest)
        return "discord (webhook)"
    client = PaperwireDiscord(services, pacer=Pacer(config.requests_per_s))
    services.delivery.register(client)
    stack.push_async_callback(client.close)
    try:
        await client.login(config.bot_token)
    except discord.LoginFailure:
        raise UserError("Discord refused DISCORD_BOT_TOKEN: copy the bot's token again") from None
    synced = await client.sync_commands()
    _log.info("Discord: %d commands synced globally (they can take an hour to show)", synced)
    task = asyncio.create_task(client.connect(reconnect=True))
    stack.callback(task.cancel)
    return "discord"


async def ensure_webhook_digest(services: Services, url: str, when: str) -> DigestSettings:
    """The webhook's channel gets a daily digest (PAPERWIRE_WEBHOOK_DIGEST, e.g. "08:30
    Europe/Paris", default 09:00 UTC) unless it already has settings."""
    destination = webhook_destination(url)
    existing = await services.store.channel_digest(destination.key)
    if existing is not None:
        return existing
    settings = DigestSettings(destination, size=services.settings.digest_size)
    for part in when.split():
        if part[:1].isdigit():
            settings = replace(settings, time=parse_time(part))
        else:
            settings = replace(settings, timezone=parse_timezone(part))
    await services.store.save_channel_digest(settings, "webhook", services.clock())
    return settings
