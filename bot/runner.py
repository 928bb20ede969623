"""`paperwire run`: the long-running bot. It ingests on a schedule, posts each channel's
daily digest, and answers Slack when `SLACK_BOT_TOKEN` is set. With no token the console is
the platform: scheduled digests print to stdout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.app import Services, build_services
from bot.config import Settings
from bot.platforms.console import ConsoleTransport
from bot.platforms.slack import SlackAdapter, SlackConfig, SlackServer
from schedules.digests import DigestJobs
from schedules.ingest_jobs import add_ingest_jobs
from schedules.scheduler import Scheduler

_log = logging.getLogger(__name__)


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set, or SIGINT / SIGTERM."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    slack = SlackConfig.from_env()
    async with build_services(settings) as services, _platforms(services, slack) as platforms:
        scheduler = Scheduler()
        jobs = add_ingest_jobs(scheduler, services)
        digests = DigestJobs(scheduler, services, timedelta(hours=settings.digest_grace_hours))
        jobs += await digests.load()
        services.digest_schedule = digests
        await digests.catch_up()
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


@asynccontextmanager
async def _platforms(services: Services, slack: SlackConfig | None) -> AsyncIterator[list[str]]:
    """Register each configured platform's transport and start receiving its requests."""
    services.delivery.register(ConsoleTransport(sys.stdout))
    names = ["console"]
    server = None
    if slack is not None:
        adapter = SlackAdapter(services, slack)
        services.delivery.register(adapter)
        server = SlackServer(adapter, slack)
        await server.start()
        names.append("slack")
    try:
        yield names
    finally:
        if server is not None:
            await server.stop()
