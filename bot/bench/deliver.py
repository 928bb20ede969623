"""`paperwire bench deliver`: a digest to each of N channels through the outbox and the
real Slack and Discord clients, against local fakes that enforce the platforms' limits
(`limited_fakes`). It prints the elapsed time, the rate achieved beside the rate allowed
(the baseline: nothing can go faster without 429s), the 429s met, and the messages lost
or doubled."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Services, build_services
from bot.bench.limited_fakes import LimitedDiscord, LimitedSlack, Tally
from bot.config import Settings
from bot.delivery.outbox import OutgoingMessage
from bot.delivery.pacing import Pacer
from bot.models import Destination, Paper
from bot.platforms.discord import DiscordConfig, PaperwireDiscord
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.render.discord import render_discord
from bot.render.neutral import Digest, Reply
from bot.render.slack import render_slack, render_slack_abstracts

PLATFORMS = ("slack", "discord")
RATE_TARGET = 0.90  # achieved / allowed
RATE_LIMITED_TARGET = 0.01  # 429s / requests
SETTLE_LIMIT_S = 120.0  # after the fan-out, how long retries may take to empty the outbox


@dataclass(frozen=True)
class Figures:
    recipients: int
    seconds: float
    achieved_per_s: float
    allowed_per_s: float
    requests: int
    rate_limited: int
    lost: int
    duplicated: int


async def run_deliver_bench(
    recipients: int, platforms: list[str], slack_rate: int, discord_rate: int, as_json: bool
) -> int:
    logging.getLogger("bot.delivery.outbox").setLevel(logging.ERROR)  # retries are counted instead
    logging.getLogger("discord").setLevel(logging.ERROR)  # no gateway here: no intents, voice
    results: dict[str, Figures] = {}
    for platform in platforms:
        rate = slack_rate if platform == "slack" else discord_rate
        print(f"{platform}: {recipients} channels at {rate}/s allowed ...", file=sys.stderr)
        results[platform] = await _bench(platform, recipients, rate)
    if as_json:
        print(json.dumps({p: f.__dict__ for p, f in results.items()}, indent=2))
    else:
        for platform, f in results.items():
            _print(platform, f)
    return 0 if all(meets(f) for f in results.values()) else 1


async def _bench(platform: str, recipients: int, rate: int) -> Figures:
    digest = digest_of_three()
    fake: LimitedSlack | LimitedDiscord
    fake = LimitedSlack(rate) if platform == "slack" else LimitedDiscord(rate)
    with tempfile.TemporaryDirectory(prefix="paperwire-bench-") as tmp:
        settings = Settings(db_path=str(Path(tmp) / "bench.db"))
        async with (
            build_services(settings) as services,
            serve(fake.app()) as url,
            _platform(platform, services, url, rate),
        ):
            messages = [_message(platform, n, digest) for n in range(recipients)]
            started = time.monotonic()
            await asyncio.gather(*(services.delivery.deliver(m) for m in messages))
            while await services.outbox.outbox_depths():  # a failed send retries after a wait
                if time.monotonic() - started > SETTLE_LIMIT_S + recipients / rate * 3:
                    break
                await asyncio.sleep(1)
                await services.delivery.drain()
            seconds = time.monotonic() - started
    parts = parts_of(platform, digest)
    allowed = allowed_rate(platform, parts, recipients, rate)
    return figures(fake.tally, parts, recipients, started, seconds, allowed)


def allowed_rate(platform: str, parts: int, recipients: int, rate: int) -> float:
    """The fastest the fake's limits let this fan-out go, in requests a second: the
    shared rate, unless so few channels get so many parts that each channel's own limit
    binds (Slack: a digest's thread reply waits a second after it)."""
    if platform != "slack" or parts < 2:
        return float(rate)
    per_channel_s = (parts - 1) / LimitedSlack.CHANNEL_RATE
    return min(float(rate), parts * recipients / per_channel_s)


def figures(
    tally: Tally, parts: int, recipients: int, started: float, seconds: float, allowed: float
) -> Figures:
    """What the fake counted. `started`: when sending began (monotonic, as the fake's)."""
    per_channel: dict[str, int] = {}
    for channel, _ in tally.kept:
        per_channel[channel] = per_channel.get(channel, 0) + 1
    lost = sum(max(0, parts - n) for n in per_channel.values())
    lost += parts * (recipients - len(per_channel))
    # Messages kept a second, from when sending began to the last one kept. (Not from the
    # first one kept: a first request that arrives late, its loop busy with the fan-out's
    # start, would shorten that span and show a rate above what the pacer let through.)
    # The pacer spaces its turns, the first at the start or later: this stays within
    # allowed * kept / (kept - 1).
    span = (tally.last_at or started) - started
    kept = sum(tally.kept.values())
    achieved = kept / span if span > 0 else 0.0
    return Figures(
        recipients=recipients,
        seconds=round(seconds, 2),
        achieved_per_s=round(achieved, 2),
        allowed_per_s=round(allowed, 2),
        requests=tally.requests,
        rate_limited=tally.rate_limited,
        lost=lost,
        duplicated=tally.duplicated,
    )


def meets(f: Figures) -> bool:
    return (
        f.achieved_per_s >= RATE_TARGET * f.allowed_per_s
        and f.rate_limited <= RATE_LIMITED_TARGET * max(1, f.requests)
        and f.lost == 0
        and f.duplicated == 0
    )


def _print(platform: str, f: Figures) -> None:
    ratio = f.achieved_per_s / f.allowed_per_s
    share = f.rate_limited / max(1, f.requests)
    print(f"{platform}: {f.recipients} channels in {f.seconds:.1f} s")
    print(
        f"  rate     {f.achieved_per_s:8.2f} messages/s  vs allowed {f.allowed_per_s:.0f}/s"
        f"  ({ratio:.1%} of the limit; target >= {RATE_TARGET:.0%})"
    )
    print(
        f"  429s     {f.rate_limited:8d} of {f.requests} requests"
        f"  ({share:.2%}; target <= {RATE_LIMITED_TARGET:.0%})"
    )
    print(f"  lost     {f.lost:8d}   duplicated {f.duplicated}  (target 0 and 0)")


def digest_of_three() -> Digest:
    papers = tuple(
        Paper(
            id=f"2611.{n:05d}",
            title=f"Benchmark paper {n}: pacing a fan-out to the limit",
            abstract="A paper the benchmark sends. " * 8,
            authors=("A. Author", "B. Author"),
            arxiv_id=f"2611.{n:05d}",
        )
        for n in range(3)
    )
    return Digest(date(2026, 11, 22), papers)


def _message(platform: str, n: int, digest: Digest) -> OutgoingMessage:
    channel = f"C{n:08d}" if platform == "slack" else str(10**15 + n)
    workspace = "T1" if platform == "slack" else "1"
    return OutgoingMessage(Destination(platform, workspace, channel), Reply(digest, False))


def parts_of(platform: str, digest: Digest) -> int:
    """Requests that make one digest: Slack's abstracts go as a thread reply."""
    if platform == "slack":
        return len(render_slack(digest, interactive=True)) + len(render_slack_abstracts(digest))
    return len(render_discord(digest))


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _platform(platform: str, services: Services, url: str, rate: int) -> AsyncIterator[Any]:
    if platform == "slack":
        config = SlackConfig("xoxb-bench", "bench-secret", api_url=f"{url}/api/", posts_per_s=rate)
        services.delivery.register(SlackAdapter(services, config))
        yield None
        return
    with DiscordConfig(api_url=f"{url}/api/v10").endpoints():
        client = PaperwireDiscord(services, pacer=Pacer(rate))
        try:
            await client.login("bench-token")
            services.delivery.register(client)
            yield None
        finally:
            await client.close()
