"""Crash safety: `paperwire run` is killed with SIGKILL at 20 random points of a fan-out of
digests to 25 channels, restarted each time, and every channel ends up with its digest
exactly once: on Discord through each part's nonce, on Slack by finding the parts that did
arrive by their metadata marker. Kill points are chosen by progress (after the n-th post
reaches the fake), not by sleeping."""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from bot.channel_digests import WEEKDAYS, DigestSettings
from bot.models import Destination
from bot.storage import Store
from tests.conftest import seed_observations
from tests.discord.fake_discord import GUILD_ID, FakeDiscord, running_fake_discord
from tests.processes import read_until, start_paperwire_run, stop
from tests.slack.fake_slack import TEAM_ID, FakeSlack, running_fake_slack

KILLS = 20
DIGEST_SIZE = 3


class Fan(Protocol):
    """One platform's side of the test: where the digests go and what arrived."""

    platform: str
    workspace: str
    channels: list[str]

    def env(self) -> dict[str, str]: ...
    def posts(self) -> int: ...
    async def wait_for_posts(self, count: int) -> None: ...
    def complete(self) -> bool: ...
    def per_channel(self) -> dict[str, int]: ...
    def recoveries(self) -> int: ...


class DiscordFan:
    platform = "discord"
    workspace = GUILD_ID
    MESSAGES = r"/channels/\d+/messages"

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.channels = [str(10_000 + i) for i in range(25)]

    def env(self) -> dict[str, str]:
        return {
            "DISCORD_BOT_TOKEN": self.fake.token,
            "PAPERWIRE_DISCORD_API_URL": self.fake.api_base,
            "PAPERWIRE_DISCORD_GATEWAY_URL": self.fake.gateway_url,
        }

    def posts(self) -> int:
        return len(self.fake.calls_to("POST", self.MESSAGES))

    async def wait_for_posts(self, count: int) -> None:
        await self.fake.wait_for("POST", self.MESSAGES, count=count, timeout=60)

    def complete(self) -> bool:
        return all(self.fake.messages_in(c) for c in self.channels)

    def per_channel(self) -> dict[str, int]:
        return {c: len(self.fake.messages_in(c)) for c in self.channels}

    def recoveries(self) -> int:
        """Posts Discord answered with the message an earlier try had made (same nonce)."""
        return self.posts() - len(self.fake.messages)


class SlackFan:
    """A Slack digest is two posts: the message, and the abstracts in its thread."""

    platform = "slack"
    workspace = TEAM_ID

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.channels = [f"C{10_000 + i}" for i in range(25)]

    def env(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.fake.token,
            "SLACK_SIGNING_SECRET": "secret",
            "PAPERWIRE_SLACK_API_URL": self.fake.api_url,
            "PAPERWIRE_SLACK_RATE": "100",
            "PAPERWIRE_HTTP_HOST": "127.0.0.1",
            "PAPERWIRE_HTTP_PORT": "0",
        }

    def posts(self) -> int:
        return len(self.fake.calls_to("chat.postMessage"))

    async def wait_for_posts(self, count: int) -> None:
        await self.fake.wait_for("chat.postMessage", count=count, timeout=60)

    def complete(self) -> bool:
        return all(n == 2 for n in self.per_channel().values())

    def per_channel(self) -> dict[str, int]:
        """Posts each channel holds: its messages and their thread replies."""
        counts = {}
        for channel in self.channels:
            messages = self.fake.history.get(channel, [])
            replies = sum(len(self.fake.threads.get((channel, m["ts"]), [])) for m in messages)
            counts[channel] = len(messages) + replies
        return counts

    def recoveries(self) -> int:
        """Sends that looked in the channel's history first (their outcome was unknown)."""
        return len(self.fake.calls_to("conversations.history"))


@asynccontextmanager
async def _fan(platform: str) -> AsyncIterator[Fan]:
    if platform == "discord":
        async with running_fake_discord() as discord_fake:
            yield DiscordFan(discord_fake)
    else:
        async with running_fake_slack() as slack_fake:
            yield SlackFan(slack_fake)


async def _set_up(db: Path, fan: Fan) -> None:
    due = datetime.now(UTC) - timedelta(minutes=30)
    async with Store.open(db) as store:
        await store.ingest(seed_observations())
        for channel in fan.channels:
            settings = DigestSettings(
                Destination(fan.platform, fan.workspace, channel),
                time=due.time().replace(second=0, microsecond=0),
                weekdays=WEEKDAYS,
                size=DIGEST_SIZE,
            )
            await store.save_channel_digest(settings, "test", due - timedelta(minutes=5))


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_every_channel_gets_its_digest_exactly_once_across_kills(
    tmp_path: Path, platform: str
) -> None:
    db = tmp_path / "p.db"
    rng = random.Random(20261122)
    async with _fan(platform) as fan, asyncio.timeout(300):
        await _set_up(db, fan)
        for _ in range(KILLS):
            process = await start_paperwire_run(db, quiet=True, **fan.env())
            seen = fan.posts()
            # Kill once 0 to 2 more posts reached the platform (0: wherever start-up got to).
            wanted = seen + rng.randint(0, 2)
            if not fan.complete() and wanted > seen:
                await fan.wait_for_posts(wanted)
            process.kill()  # SIGKILL: no cleanup at all
            await process.wait()
        process = await start_paperwire_run(db, quiet=True, **fan.env())
        try:
            while not fan.complete():
                await fan.wait_for_posts(fan.posts() + 1)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        # The last post reached the fake, but a stop may cancel the send before its answer
        # is kept (a stop cancels whatever is under way): one more start settles it.
        process = await start_paperwire_run(db, **fan.env())
        assert process.stderr is not None
        try:
            await read_until(process.stderr, "paperwire is running")
        finally:
            await stop(process, signal.SIGTERM)
    parts = 2 if platform == "slack" else 1
    assert fan.per_channel() == dict.fromkeys(fan.channels, parts)
    # Some kills came after a post left and before its answer was kept: those sends were
    # recovered (the seed makes it many; one is enough to show the path was taken).
    assert fan.recoveries() > 0
    async with Store.open(db) as store:
        assert await store.outbox_depths() == {}
        for channel in fan.channels:
            [run] = await store.digest_runs(f"{platform}:{fan.workspace}:{channel}")
            assert (run.outcome.value, run.posted) == ("posted", DIGEST_SIZE)
