"""Crash safety with several processes: three `paperwire run` processes on one PostgreSQL
database fan out a missed digest to 200 channels (150 Slack channels in 30 workspaces,
each workspace a budget of its own, and 50 Discord channels), and a process is killed
with SIGKILL at least 20 times on the way (restarted each time): the leader (running the
schedule, its catch-up among it), the process sending for a budget once a post of it
reached the platform but before its answer, or just after its answer, or while it looks
for what a crashed send posted. Kill points are chosen by progress seen at the fakes,
never by time; the process killed is chosen at random (a seeded RNG: the seed is printed,
PAPERWIRE_CRASH_SEED replays another).

Each time the leader is killed, another of the processes running takes the lead (its
"leading:" line). In the end every channel has its digest exactly once (Discord through
each message's nonce, Slack by finding the parts that did arrive by their metadata
marker), nothing waits in the outbox and no channel's digest was queued twice."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.digests.settings import WEEKDAYS, DigestSettings
from bot.models import Destination
from bot.storage import Storage, open_storage
from tests.canned import Canned, Slow
from tests.conftest import seed_observations
from tests.discord.fake_discord import GUILD_ID, FakeDiscord, running_fake_discord
from tests.fleet import LEADING, Fleet, Member
from tests.postgres import fresh_schema
from tests.slack.fake_slack import FakeSlack, running_fake_slack
from tests.test_crash_recovery import Failure, Noticed, StoredThenHeld, first_of

SEED = int(os.environ.get("PAPERWIRE_CRASH_SEED", "20261215"))
PROCESSES = 3
KILLS = 21
LEADER_KILLS = 6  # at least: every fourth kill is the leader's, and chance adds some
WORKSPACES = tuple(f"T{n}" for n in range(1, 31))
SLACK_CHANNELS = {f"C{30_000 + i}": WORKSPACES[i % len(WORKSPACES)] for i in range(150)}
DISCORD_CHANNELS = [str(40_000 + i) for i in range(50)]
FAILING = ["C30000", "C30001"]  # their first post meets Slack's internal_error
DIGEST_SIZE = 3
SLACK_PARTS = 2  # the digest, and its abstracts in the thread
DISCORD_POSTS = r"/channels/\d+/messages"
SLACK_POSTS = "chat.postMessage"
HISTORY = "conversations.history"
KINDS = ("progress", "progress", "slack-stored", "discord-stored", "slack-answered", "recovery")


@dataclass
class Figures:
    seed: int = SEED
    kills: int = 0
    leader_kills: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    takeover_s: list[float] = field(default_factory=list)  # leader killed -> another leads
    processes_started: int = 0
    posts: int = 0
    history_reads: int = 0
    run_s: float = 0.0


class Fans:
    """Both fakes and what reached them."""

    def __init__(self, slack: FakeSlack, discord: FakeDiscord) -> None:
        self.slack = slack
        self.discord = discord
        self.failed: list[int] = []
        for channel in FAILING:
            slack.fail(SLACK_POSTS, Failure(self.failed), channel=channel)

    def env(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.slack.token,
            "SLACK_SIGNING_SECRET": "secret",
            "PAPERWIRE_SLACK_API_URL": self.slack.api_url,
            "PAPERWIRE_SLACK_RATE": "50",
            "PAPERWIRE_SLACK_HISTORY_RATE": "600",
            "PAPERWIRE_HTTP_HOST": "127.0.0.1",
            "PAPERWIRE_HTTP_PORT": "0",
            "DISCORD_BOT_TOKEN": self.discord.token,
            "PAPERWIRE_DISCORD_API_URL": self.discord.api_base,
            "PAPERWIRE_DISCORD_GATEWAY_URL": self.discord.gateway_url,
            "PAPERWIRE_DISCORD_RATE": "25",
            "PAPERWIRE_LEADER_CHECK_S": "1",
        }

    def slack_posts(self) -> int:
        return len(self.slack.calls_to(SLACK_POSTS))

    def discord_posts(self) -> int:
        return len(self.discord.calls_to("POST", DISCORD_POSTS))

    def posts(self) -> int:
        return self.slack_posts() + self.discord_posts()

    def slack_per_channel(self) -> dict[str, int]:
        """Posts each channel holds: its messages and their thread replies."""
        counts = {}
        for channel in SLACK_CHANNELS:
            messages = self.slack.history.get(channel, [])
            replies = sum(len(self.slack.threads.get((channel, m["ts"]), [])) for m in messages)
            counts[channel] = len(messages) + replies
        return counts

    def discord_per_channel(self) -> dict[str, int]:
        return {c: len(self.discord.messages_in(c)) for c in DISCORD_CHANNELS}

    def slack_complete(self) -> bool:
        return all(n >= SLACK_PARTS for n in self.slack_per_channel().values())

    def discord_complete(self) -> bool:
        return all(self.discord_per_channel().values())

    def complete(self) -> bool:
        return self.slack_complete() and self.discord_complete()

    async def more_posts(self, count: int) -> None:
        """Until `count` more posts reached either platform."""
        wanted = self.posts() + count
        while self.posts() < wanted and not self.complete():
            await first_of(
                self.slack.wait_for(SLACK_POSTS, count=self.slack_posts() + 1, timeout=60),
                self.discord.wait_for(
                    "POST", DISCORD_POSTS, count=self.discord_posts() + 1, timeout=60
                ),
            )

    async def kill_point(self, kind: str, rng: random.Random) -> tuple[Canned | None, str | None]:
        """Wait for the moment `kind` names, or a few more posts if its platform waits
        (for the lease of a killed sender, say): the canned answer to release after the
        kill, and the budget whose sender made the call it holds (None: any process)."""
        if kind == "progress" or self.complete():
            await self.more_posts(rng.randint(1, 5))  # wherever start-up or the fan-out got to
            return None, None
        held: Canned
        if kind == "discord-stored":
            held = StoredThenHeld()
            self.discord.fail("POST", DISCORD_POSTS, held)
        else:
            made: dict[str, type[Canned]] = {
                "slack-stored": StoredThenHeld,
                "slack-answered": Noticed,
                "recovery": Slow,
            }
            held = made[kind]()
            self.slack.fail(HISTORY if kind == "recovery" else SLACK_POSTS, held)
        seen = len(self._calls(kind))
        await first_of(_reached(held).wait(), self.more_posts(4))
        if not _reached(held).is_set():
            return held, None
        if kind == "discord-stored":
            return held, "discord"
        # The call it holds came first since (the fake records a call as it takes its answer).
        channel = self._calls(kind)[seen].args.get("channel")
        return held, f"slack:{SLACK_CHANNELS[channel]}" if channel in SLACK_CHANNELS else None

    def _calls(self, kind: str) -> list[Any]:
        """The calls a kill point of `kind` waits for (one more than now)."""
        if kind == "discord-stored":
            return self.discord.calls_to("POST", DISCORD_POSTS)
        return self.slack.calls_to(HISTORY if kind == "recovery" else SLACK_POSTS)


def _reached(held: Canned) -> asyncio.Event:
    if isinstance(held, StoredThenHeld):
        return held.stored
    return held.arrived if isinstance(held, Slow) else held.done  # type: ignore[attr-defined]


async def _set_up(url: str) -> None:
    due = datetime.now(UTC) - timedelta(minutes=30)
    places = [("slack", w, c) for c, w in SLACK_CHANNELS.items()]
    places += [("discord", GUILD_ID, c) for c in DISCORD_CHANNELS]
    async with open_storage(url) as storage:
        await storage.papers.ingest(seed_observations())
        for platform, workspace, channel in places:
            settings = DigestSettings(
                Destination(platform, workspace, channel),
                time=due.time().replace(second=0, microsecond=0),
                weekdays=WEEKDAYS,
                size=DIGEST_SIZE,
            )
            await storage.digests.save_channel_digest(settings, "test", due - timedelta(minutes=5))


async def _sender(storage: Storage, fleet: Fleet, budget: str | None) -> Member | None:
    """The live process holding `budget`'s claim: the one sending for it."""
    if budget is None:
        return None
    rows = await storage.db.fetch_raw("SELECT owner FROM outbox_claims WHERE key = %s", (budget,))
    owner = str(rows[0][0]) if rows and rows[0][0] else ""
    pid = owner.split(":")[1] if owner.count(":") == 2 else ""
    return fleet.by_pid(int(pid)) if pid.isdigit() else None


async def _victim(
    storage: Storage, fleet: Fleet, rng: random.Random, number: int, budget: str | None
) -> Member:
    """Every fourth kill and a quarter of the others hit the leader; a kill at a held call
    hits its sender; the rest a process at random."""
    leader = fleet.leader()
    if leader is not None and (number % 4 == 0 or rng.random() < 0.25):
        return leader
    sender = await _sender(storage, fleet, budget)
    return sender if sender is not None else rng.choice(fleet.live())


# Known failures (issue 16), seen in about half the runs: (1) a leader killed and nobody
# takes the lead within 30 s (both followers silent: their leadership checks hang, their
# outbox polls overrun; psycopg's pool waits 30 s for a connection); (2) a Slack channel
# holding its digest twice (3-4 posts instead of 2). `_print_doubles` and
# PAPERWIRE_CRASH_LOGS=<dir> (each process's log) are there to find their causes.


async def test_three_processes_post_every_digest_once_across_kills() -> None:
    rng = random.Random(SEED)
    print(f"crash seed: {SEED} (PAPERWIRE_CRASH_SEED replays another)")
    figures = Figures()
    began = time.monotonic()
    async with (
        fresh_schema() as url,
        running_fake_slack() as slack,
        running_fake_discord() as discord,
        asyncio.timeout(240),
    ):
        slack.clock = time.time  # the processes queue on the real clock: Slack's ts follow it
        fans = Fans(slack, discord)
        await _set_up(url)
        fleet = Fleet(url, PROCESSES, fans.env())
        try:
            async with open_storage(url) as storage:
                for slot in range(PROCESSES):
                    await fleet.start(slot)
                await fleet.wait_for_leader()
                for number in range(KILLS):
                    await _kill_one(storage, fleet, fans, rng, number, figures)
                await _settle(storage, fans)
        finally:
            await fleet.stop_all()
            if logs := os.environ.get("PAPERWIRE_CRASH_LOGS"):
                fleet.dump(logs)
        _print_doubles(fans)
        figures.processes_started = fleet.started
        await _check_outcome(url, fans, figures)
    figures.run_s = round(time.monotonic() - began, 1)
    print("crash figures:", json.dumps(figures.__dict__))
    assert figures.kills >= 20 and figures.leader_kills >= LEADER_KILLS


async def _kill_one(
    storage: Storage,
    fleet: Fleet,
    fans: Fans,
    rng: random.Random,
    number: int,
    figures: Figures,
) -> None:
    kind = rng.choice(KINDS)
    held, budget = await fans.kill_point(kind, rng)
    victim = await _victim(storage, fleet, rng, number, budget)
    was_leader = victim.leading
    leads = {m.slot: m.count(LEADING) for m in fleet.live()}
    await victim.kill()
    print(f"kill {number}: {kind}, slot {victim.slot}{' (leading)' if was_leader else ''}")
    figures.kills += 1
    figures.by_kind[kind] = figures.by_kind.get(kind, 0) + 1
    if held is not None:
        held.release()
    if was_leader:
        # The schedule moves to another process (the killed one is not back yet).
        leader, took = await fleet.wait_for_leader()
        assert leader.slot != victim.slot and leader.count(LEADING) > leads[leader.slot]
        figures.leader_kills += 1
        figures.takeover_s.append(round(took, 2))
    await fleet.start(victim.slot)


async def _settle(storage: Storage, fans: Fans) -> None:
    """Left alone until every channel has its digest and the outbox is empty."""
    while not fans.complete():
        await fans.more_posts(1)
    async with asyncio.timeout(60):
        while await storage.outbox.outbox_depths():  # noqa: ASYNC110 (another process's rows)
            await asyncio.sleep(0.2)  # the last answers being kept


def _print_doubles(fans: Fans) -> None:
    """What reached the channels that hold more than their digest."""
    for channel, count in fans.slack_per_channel().items():
        if count > SLACK_PARTS:
            calls = [c for c in fans.slack.calls_to(SLACK_POSTS) if c.args["channel"] == channel]
            print(channel, [(c.args["metadata"], c.args.get("thread_ts")) for c in calls])


async def _check_outcome(url: str, fans: Fans, figures: Figures) -> None:
    assert fans.slack_per_channel() == dict.fromkeys(SLACK_CHANNELS, SLACK_PARTS)
    assert fans.discord_per_channel() == dict.fromkeys(DISCORD_CHANNELS, 1)
    async with open_storage(url) as storage:
        assert await storage.outbox.outbox_depths() == {}  # nothing waits
        rows = await storage.db.fetch_raw("SELECT destination FROM outbox")
        places = [f"slack:{w}:{c}" for c, w in SLACK_CHANNELS.items()]
        places += [f"discord:{GUILD_ID}:{c}" for c in DISCORD_CHANNELS]
        for place in places:
            [run] = await storage.digests.digest_runs(place)
            assert (place, run.outcome.value, run.posted) == (place, "posted", DIGEST_SIZE)
    destinations = [str(row[0]) for row in rows]
    assert sorted(destinations) == sorted(places)  # each channel's digest queued once
    assert fans.failed  # a real failure came, and was retried
    figures.posts = fans.posts()
    figures.history_reads = len(fans.slack.calls_to(HISTORY))
