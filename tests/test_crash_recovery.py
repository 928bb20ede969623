"""Crash safety: `paperwire run` is killed with SIGKILL at 20 random points of a fan-out of
digests to 25 Discord channels, restarted each time, and every channel ends up with its
digest exactly once. Kill points are chosen by progress (after the n-th request reaches the
fake), not by sleeping."""

from __future__ import annotations

import asyncio
import random
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.channel_digests import WEEKDAYS, DigestSettings
from bot.models import Destination
from bot.storage import Store
from tests.conftest import seed_observations
from tests.discord.fake_discord import GUILD_ID, FakeDiscord, running_fake_discord
from tests.processes import start_paperwire_run

CHANNELS = [str(10_000 + i) for i in range(25)]
KILLS = 20
MESSAGES = r"/channels/\d+/messages"


async def _set_up(db: Path) -> None:
    due = datetime.now(UTC) - timedelta(minutes=30)
    async with Store.open(db) as store:
        await store.ingest(seed_observations())
        for channel in CHANNELS:
            settings = DigestSettings(
                Destination("discord", GUILD_ID, channel),
                time=due.time().replace(second=0, microsecond=0),
                weekdays=WEEKDAYS,
                size=3,
            )
            await store.save_channel_digest(settings, "test", due - timedelta(minutes=5))


async def _start(fake: FakeDiscord, db: Path) -> asyncio.subprocess.Process:
    return await start_paperwire_run(
        db,
        quiet=True,
        DISCORD_BOT_TOKEN=fake.token,
        PAPERWIRE_DISCORD_API_URL=fake.api_base,
        PAPERWIRE_DISCORD_GATEWAY_URL=fake.gateway_url,
    )


def _delivered(fake: FakeDiscord) -> set[str]:
    return {m["channel_id"] for m in fake.messages if m["channel_id"] in CHANNELS}


async def test_every_channel_gets_its_digest_exactly_once_across_kills(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    await _set_up(db)
    rng = random.Random(20261122)
    async with running_fake_discord() as fake, asyncio.timeout(300):
        for _ in range(KILLS):
            process = await _start(fake, db)
            seen = len(fake.calls_to("POST", MESSAGES))
            # Kill once 0 to 2 more sends reached Discord (0: wherever start-up got to).
            wanted = seen + rng.randint(0, 2)
            if len(_delivered(fake)) < len(CHANNELS) and wanted > seen:
                await fake.wait_for("POST", MESSAGES, count=wanted, timeout=60)
            else:
                await fake.wait_for("GET", "/oauth2/applications/@me", count=1, timeout=60)
            process.kill()  # SIGKILL: no cleanup at all
            await process.wait()
        process = await _start(fake, db)
        try:
            while len(_delivered(fake)) < len(CHANNELS):
                count = len(fake.calls_to("POST", MESSAGES))
                await fake.wait_for("POST", MESSAGES, count=count + 1, timeout=60)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    per_channel = {c: len(fake.messages_in(c)) for c in CHANNELS}
    assert per_channel == dict.fromkeys(CHANNELS, 1)
    async with Store.open(db) as store:
        assert await store.outbox_depths() == {}
        for channel in CHANNELS:
            [run] = await store.digest_runs(f"discord:{GUILD_ID}:{channel}")
            assert (run.outcome.value, run.posted) == ("posted", 3)
