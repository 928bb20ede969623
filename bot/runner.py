"""`paperwire run`: the long-running bot. It ingests on a schedule and posts each channel's
daily digest; with no Slack or Discord token, the console is the platform and digests
print to stdout. The platform adapters join here as they land."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from datetime import timedelta

from bot.app import build_services
from bot.config import Settings
from bot.platforms.console import ConsoleTransport
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
    async with build_services(settings) as services:
        services.delivery.register(ConsoleTransport(sys.stdout))
        scheduler = Scheduler()
        jobs = add_ingest_jobs(scheduler, services)
        digests = DigestJobs(scheduler, services, timedelta(hours=settings.digest_grace_hours))
        jobs += await digests.load()
        services.digest_schedule = digests
        await digests.catch_up()
        scheduler.start()
        _log.info(
            "paperwire is running (database %s; jobs: %s). Ctrl-C stops it.",
            settings.db_path,
            ", ".join(jobs) or "none",
        )
        try:
            await stop.wait()
        finally:
            scheduler.stop()
            _log.info("paperwire stopped")
