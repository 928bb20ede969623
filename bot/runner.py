"""`paperwire run`: the long-running bot. It ingests on a schedule, posts each channel's
daily digest, and answers Slack (`SLACK_BOT_TOKEN`) and Discord (`DISCORD_BOT_TOKEN`, or
only `DISCORD_WEBHOOK_URL` for digests). With no token the console is the platform:
scheduled digests print to stdout."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import NoReturn

import aiohttp
from apscheduler.triggers.interval import IntervalTrigger

from bot import __version__
from bot.alerts.send import match_new_lists
from bot.app import Services, build_services
from bot.config import Settings
from bot.delivery.pacing import Pacer
from bot.digests.settings import DigestSettings, parse_when
from bot.in_flight import GRACE_S
from bot.ops.metrics import counting_discord_429s
from bot.ops.server import OpsConfig, OpsEndpoints
from bot.platforms.connecting import CLOSE_S, Platform, Platforms
from bot.platforms.console import ConsoleTransport
from bot.platforms.discord import (
    DiscordBot,
    DiscordConfig,
    WebhookTransport,
    discord_client,
    webhook_destination,
)
from bot.platforms.slack import SlackAdapter, SlackConfig, SlackServer
from bot.platforms.slack.workspaces import forget_uninstalled
from bot.storage.types import PROCESS_GONE_AFTER
from bot.wording import plural
from schedules.alerts import AlertJobs
from schedules.digests import DigestJobs
from schedules.ingest_jobs import add_ingest_jobs
from schedules.leader import Leadership
from schedules.outbox import drain_when_due
from schedules.recaps import RecapJobs, Schedules
from schedules.scheduler import Scheduler

_log = logging.getLogger(__name__)
OUTBOX_POLL_S = 2  # how often a process looks for what others queued for it to send
OUTBOX_KEEP = timedelta(days=7)  # delivered messages stay this long (for status, for looking)
ALERTS_REFRESH_MIN = 15  # how soon a saver with news of their list gets an alert job
# A stop must end the process within 5 s, whatever it was doing: the shutdown gets this long,
# all told. Its stages (the jobs, the requests, the platforms) share it but leave CLOSING_S
# for the database and the HTTP client to close.
STOP_S = 4.0
CLOSING_S = 0.5
SCHEDULER_S = 2.0  # the most the job runs under way get
# Start-up waits this long for each platform's first attempt to connect, then goes on (the
# platform keeps trying in the background).
FIRST_TRY_S = 10.0


class Deadline:
    """The one deadline of a stop, that its stages share: it starts with the stop, or with
    the first stage asking (a platform failing for good stops it too)."""

    def __init__(self, total_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._total_s = total_s
        self._clock = clock
        self._end: float | None = None

    def start(self) -> None:
        if self._end is None:
            self._end = self._clock() + self._total_s

    @property
    def started(self) -> bool:
        return self._end is not None

    def left(self, most_s: float, keep_s: float = 0.0) -> float:
        """What a stage may take: at most `most_s`, and what is left but `keep_s`."""
        self.start()
        assert self._end is not None
        return max(0.0, min(most_s, self._end - keep_s - self._clock()))


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set, or SIGINT / SIGTERM: at any moment, while starting and
    connecting included. Returns within STOP_S of the stop, whatever is left running (see
    `leave`)."""
    stop = stop or asyncio.Event()
    deadline = Deadline(STOP_S)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, _stopping, stop, sig)
    try:
        slack = SlackConfig.from_env()
        discord_config = DiscordConfig.from_env()
        ops_config = OpsConfig.from_env()
        # Everything runs in one task, so that a stop can cancel whatever it is waiting for.
        serving = asyncio.create_task(
            _serve(settings, slack, discord_config, ops_config, deadline), name="paperwire"
        )
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.start()
            stopped.cancel()
            serving.cancel()
            done, _ = await asyncio.wait({serving}, timeout=deadline.left(STOP_S))
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    if not done:
        # `leave` ends the process without waiting for it.
        _log.warning("paperwire: stopping took over %.0f s; leaving without waiting", STOP_S)
        return
    if not serving.cancelled() and (error := serving.exception()) is not None:
        raise error
    _log.info("paperwire stopped")


def leave(code: int) -> NoReturn:
    """End the process at once, once `run_bot` has returned. A normal exit would wait,
    without limit, for what the stop did not wait for: asyncio.run awaits the tasks still
    running (cancelled again) and, on Python 3.11, the threads still running (a search index
    commit), and the interpreter joins those threads again. What matters is closed, or its
    time is up: SQLite and the index stay consistent whenever the process ends."""
    logging.shutdown()  # flushes the log handlers
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, a stream closed
            stream.flush()
    os._exit(code)


def _stopping(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        _log.info("%s: stopping", sig.name)
    stop.set()


async def _serve(
    settings: Settings,
    slack: SlackConfig | None,
    discord_config: DiscordConfig | None,
    ops_config: OpsConfig,
    deadline: Deadline,
) -> None:
    """Start, and serve until cancelled (a stop) or a platform fails for good. Started in
    order, stopped in reverse: the database, the operator's endpoints, the platforms, the
    jobs every process runs, then (while this process leads) the schedule."""
    async with build_services(settings) as services, contextlib.AsyncExitStack() as stack:
        started = services.clock()
        ops = OpsEndpoints(services, ops_config, started)
        # In Slack's HTTP mode Slack's listener serves them too (one port for both).
        if ops_config.port is not None and (slack is None or slack.app_token):
            await ops.listen()
        stack.push_async_callback(ops.close)
        async with _platforms(services, slack, discord_config, deadline, ops) as platforms:
            ops.readiness.platforms = platforms
            await platforms.first_attempts(FIRST_TRY_S)
            leadership = Leadership(
                services.processes,
                services.process,
                lambda: _led(settings, services, deadline, started),
                services.clock,
                detail=f"paperwire {__version__}; {', '.join(['console', *platforms.names()])}",
                check_s=settings.leader_check_s,
                # Sharing the database, each process sends for its share of the budgets.
                on_peers=services.delivery.set_peers if settings.shared_database else None,
            )
            async with (
                _every_process(settings, services, deadline) as (jobs, scheduler),
                leadership,
            ):
                # What starting made lives as long as the process: out of the collector's
                # full passes, each of which would otherwise pause a job (a digest's ranking)
                # for tens of milliseconds scanning it (`paperwire bench taste`).
                gc.collect()  # what is garbage now would be kept for good once frozen
                gc.freeze()
                _log.info(
                    "paperwire is running (database %s; platforms: %s; jobs: %s). Ctrl-C stops it.",
                    settings.database_label,
                    ", ".join(["console", *platforms.names()]),
                    ", ".join(jobs + leadership.jobs) or "none",
                )
                with ops.readiness.watching(scheduler, leadership):
                    await platforms.failure()


@asynccontextmanager
async def _every_process(
    settings: Settings, services: Services, deadline: Deadline
) -> AsyncIterator[tuple[list[str], Scheduler]]:
    """What each process runs, leading or not: the outbox's retries and, on a database
    other processes write, following the search index to the papers they ingest and
    sending what they queued for the budgets this process sends for."""
    scheduler = Scheduler(on_start=services.metrics.job_started)
    drain_when_due(scheduler, services.delivery)
    scheduler.add("outbox:retry", IntervalTrigger(seconds=30), services.delivery.drain)
    jobs = ["outbox:retry"]
    if settings.shared_database:
        every = IntervalTrigger(seconds=settings.leader_check_s)
        scheduler.add("index:follow", every, services.refresh_index)
        # What other processes queued for the budgets this one sends for.
        poll = IntervalTrigger(seconds=OUTBOX_POLL_S)
        scheduler.add("outbox:poll", poll, services.delivery.drain)
        jobs += ["index:follow", "outbox:poll"]
    scheduler.start()
    try:
        yield jobs, scheduler
    finally:
        await scheduler.stop(deadline.left(SCHEDULER_S, keep_s=CLOSING_S))


@asynccontextmanager
async def _led(
    settings: Settings, services: Services, deadline: Deadline, started: datetime
) -> AsyncIterator[list[str]]:
    """The schedule, run by the leading process (the only one, on SQLite): ingest, the
    channel digests and topic alerts, and their catch-up; its stop waits for the jobs
    running. Returns the names of its jobs."""
    # What a crash (or a leader that died) left: runs that queued nothing are taken again
    # by the catch-up. Those begun before this process started (none of its own), and any
    # begun over PROCESS_GONE_AFTER ago: a run queues its message within seconds, so one
    # still running after that lost its process (a leader that died long after this
    # process started, say).
    interrupted = max(started, services.clock() - PROCESS_GONE_AFTER)
    await services.digests.release_interrupted_runs(before=interrupted)
    scheduler = Scheduler(on_start=services.metrics.job_started)
    scheduler.add("outbox:prune", IntervalTrigger(hours=6), _prune_outbox, services)
    # Slack workspaces uninstalled longer ago than their grace: their data is forgotten.
    scheduler.add("slack:forget", IntervalTrigger(hours=6), _forget_workspaces, services)
    scheduler.run_now("slack:forget-at-start", _forget_workspaces, services)
    jobs = ["outbox:prune", "slack:forget", *add_ingest_jobs(scheduler, services)]
    digests = DigestJobs(scheduler, services, timedelta(hours=settings.digest_grace_hours))
    jobs += await digests.load()
    # In the background, so the schedule runs meanwhile: what waits in the outbox (a part
    # that did arrive is not sent again), and the digests missed while down, side by
    # side (each destination's messages still go in order).
    scheduler.run_now("outbox:start", _send_what_waits, services)
    recaps = RecapJobs(scheduler, services, timedelta(hours=settings.digest_grace_hours))
    jobs += await recaps.load()
    scheduler.run_now("digests:catch-up", _catch_up, digests, recaps)
    alerts = AlertJobs(scheduler, services)
    jobs += await alerts.load()
    if settings.shared_database:  # settings changed through the other processes
        every = IntervalTrigger(seconds=settings.leader_check_s)
        scheduler.add("schedule:refresh", every, _refresh, digests, alerts, recaps)
        jobs.append("schedule:refresh")
    else:  # savers whom an ingest gave news of their reading list
        scheduler.add("alerts:refresh", IntervalTrigger(minutes=ALERTS_REFRESH_MIN), alerts.refresh)
        jobs.append("alerts:refresh")
    services.digest_schedule, services.alert_schedule = Schedules(digests, recaps), alerts
    await match_new_lists(services)
    scheduler.start()
    try:
        yield jobs
    finally:
        services.digest_schedule = services.alert_schedule = None
        # A lost lead is no stop: it must not start the stop's deadline (and use it up).
        stopping = deadline.started
        await scheduler.stop(deadline.left(SCHEDULER_S, CLOSING_S) if stopping else SCHEDULER_S)


async def _refresh(digests: DigestJobs, alerts: AlertJobs, recaps: RecapJobs) -> None:
    await digests.refresh()
    await alerts.refresh()
    await recaps.refresh()


async def _catch_up(digests: DigestJobs, recaps: RecapJobs) -> None:
    """The digests missed while down, then the recaps: a recap due the same day then
    counts the day's digest."""
    await digests.catch_up()
    await recaps.catch_up()


async def _send_what_waits(services: Services) -> None:
    """What waited in the outbox at start (what a crash left included), one line when done."""
    results = await services.delivery.drain()
    sent = sum(receipt.ok for receipt in results.values())
    _log.info("outbox at start: %s tried, %d sent", plural(len(results), "message"), sent)


async def _prune_outbox(services: Services) -> None:
    before = services.clock() - OUTBOX_KEEP
    if pruned := await services.outbox.prune_outbox(before):
        _log.info("outbox: forgot %d messages delivered before %s", pruned, before.date())


async def _forget_workspaces(services: Services) -> None:
    grace = services.settings.slack_uninstall_grace_days
    await forget_uninstalled(services.installations, services.clock(), grace)


@asynccontextmanager
async def _platforms(
    services: Services,
    slack: SlackConfig | None,
    discord_config: DiscordConfig | None,
    deadline: Deadline,
    ops: OpsEndpoints,
) -> AsyncIterator[Platforms]:
    """Register each configured platform's transport, start it and go on connecting to it
    in the background."""
    services.delivery.register(ConsoleTransport(sys.stdout))
    platforms = Platforms()
    async with contextlib.AsyncExitStack() as stack:
        # Last in, first out: the requests being answered get a moment to finish, the
        # platforms stop (no new requests), the requests still running are cancelled,
        # then (build_services) the database closes.
        def share(most_s: float) -> float:
            return deadline.left(most_s, keep_s=CLOSING_S)

        stack.push_async_callback(lambda: services.requests.cancel(share(GRACE_S)))
        stack.push_async_callback(lambda: platforms.stop(share(CLOSE_S)))
        stack.push_async_callback(lambda: services.requests.finish(share(GRACE_S)))
        if slack is not None:
            adapter = SlackAdapter(services, slack)
            adapter.transport.on_hold = lambda _: services.metrics.limited("slack")
            services.delivery.register(adapter)
            await platforms.start(SlackServer(adapter, slack, ops.add_routes))
        if discord_config is not None:
            stack.enter_context(counting_discord_429s(services.metrics))
            await platforms.start(await _discord(services, discord_config, stack))
        yield platforms


async def _discord(
    services: Services, config: DiscordConfig, stack: contextlib.AsyncExitStack
) -> Platform:
    if config.bot_token is None:
        assert config.webhook_url is not None
        session = await stack.enter_async_context(aiohttp.ClientSession())
        webhook = WebhookTransport(config.webhook_url, session, api_url=config.api_url)
        services.delivery.register(webhook)
        await ensure_webhook_digest(services, config.webhook_url, config.webhook_digest)
        return webhook
    client = discord_client(services, config.shards, pacer=Pacer(config.requests_per_s))
    services.delivery.register(client)
    return DiscordBot(
        client, config.bot_token, api_url=config.api_url, gateway_url=config.gateway_url
    )


async def ensure_webhook_digest(services: Services, url: str, when: str) -> DigestSettings:
    """The webhook's channel gets a daily digest (PAPERWIRE_WEBHOOK_DIGEST, e.g. "08:30
    Europe/Paris", default 09:00 UTC) unless it already has settings."""
    destination = webhook_destination(url)
    existing = await services.digests.channel_digest(destination.key)
    if existing is not None:
        return existing
    settings = DigestSettings(destination, size=services.settings.digest_size)
    settings = parse_when(when).apply(settings)
    await services.digests.save_channel_digest(settings, "webhook", services.clock())
    return settings
