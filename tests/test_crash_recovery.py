"""Crash safety: `paperwire run` posts digests to 40 Slack channels (each a message and its
abstracts in a thread) and 20 Discord channels at once, and is killed with SIGKILL 28
times on the way (restarted each time): while most destinations wait for their pacing
turn, once a post reached the platform but before its answer, just after an answer, while
it looks for what a crashed send posted. Three Slack channels meet a real failure.

In the end every channel has its digest exactly once (Discord through each part's nonce,
Slack by finding the parts that did arrive by their metadata marker), nothing waits in the
outbox, no message counts more failed attempts than the failures the platform answered, and
the history reads that look for what arrived are no more than the messages really in
flight at the kills (a post of theirs reached the platform, their outcome not kept), or
that met a failure. Kill points are chosen by progress seen at the fakes, never by time."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.digests.settings import WEEKDAYS, DigestSettings
from bot.models import Destination
from bot.storage import open_storage
from tests.canned import Canned, DefaultAnswer, Slow, slow
from tests.conftest import seed_observations
from tests.discord.fake_discord import GUILD_ID, FakeDiscord, running_fake_discord
from tests.processes import read_until, start_paperwire_run
from tests.slack.fake_slack import TEAM_ID, FakeSlack, api_error, running_fake_slack

KILLS = 28
SLACK_CHANNELS = [f"C{10_000 + i}" for i in range(40)]
DISCORD_CHANNELS = [str(20_000 + i) for i in range(20)]
FAILING = SLACK_CHANNELS[:3]  # their first post meets Slack's internal_error
DIGEST_SIZE = 3
SLACK_PARTS = 2  # the digest, and its abstracts in the thread
SLACK_RATE = 10  # posts a second across the workspace: most channels wait for a turn
DISCORD_RATE = 5
DISCORD_POSTS = r"/channels/\d+/messages"
SLACK_POSTS = "chat.postMessage"
HISTORY = "conversations.history"


class Noticed(Canned):
    """The platform's own answer; `done` is set once it is made (then on its way back)."""

    def __init__(self) -> None:
        self.done = asyncio.Event()

    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        response: web.StreamResponse = await default()
        self.done.set()
        return response


class Failure(Canned):
    """Slack's `internal_error` (nothing posted); the messages it answered are counted."""

    def __init__(self, answered: list[int]) -> None:
        self._answered = answered

    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        self._answered.append(call.args["metadata"]["event_payload"]["id"])
        return await api_error("internal_error").answer(call, default)


class StoredThenHeld(Canned):
    """The platform stores the post (`stored` is set), and its answer waits for `release`:
    the process is killed before it comes."""

    def __init__(self) -> None:
        self.stored = asyncio.Event()
        self._released = asyncio.Event()

    async def answer(self, call: Any, default: DefaultAnswer) -> web.StreamResponse:
        await default()
        self.stored.set()
        await self._released.wait()
        return web.Response(status=500, text="nobody is listening")

    def release(self) -> None:
        self._released.set()


@dataclass
class Figures:
    kills: int = 0
    in_flight: list[int] = field(default_factory=list)  # Slack messages, at each end
    waiting: list[int] = field(default_factory=list)  # messages waiting, not in flight
    # Marked sending with no request at Slack yet: the process died in the instant between.
    departing: set[int] = field(default_factory=set)
    history_reads: int = 0
    posts: int = 0
    messages: int = 0
    longest_delay_s: float = 0.0


class Fans:
    """Both fakes, what reached them, and the kill points."""

    def __init__(self, slack: FakeSlack, discord: FakeDiscord) -> None:
        self.slack = slack
        self.discord = discord
        self.failed: list[int] = []  # outbox messages Slack answered a failure
        for channel in FAILING:
            slack.fail(SLACK_POSTS, Failure(self.failed), channel=channel)

    def env(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.slack.token,
            "SLACK_SIGNING_SECRET": "secret",
            "PAPERWIRE_SLACK_API_URL": self.slack.api_url,
            "PAPERWIRE_SLACK_RATE": str(SLACK_RATE),
            "PAPERWIRE_SLACK_HISTORY_RATE": "120",
            "PAPERWIRE_HTTP_HOST": "127.0.0.1",
            "PAPERWIRE_HTTP_PORT": "0",
            "DISCORD_BOT_TOKEN": self.discord.token,
            "PAPERWIRE_DISCORD_API_URL": self.discord.api_base,
            "PAPERWIRE_DISCORD_GATEWAY_URL": self.discord.gateway_url,
            "PAPERWIRE_DISCORD_RATE": str(DISCORD_RATE),
        }

    def slack_posts(self) -> int:
        return len(self.slack.calls_to(SLACK_POSTS))

    def discord_posts(self) -> int:
        return len(self.discord.calls_to("POST", DISCORD_POSTS))

    def posts(self) -> int:
        return self.slack_posts() + self.discord_posts()

    def slack_complete(self) -> bool:
        return all(n == SLACK_PARTS for n in self.slack_per_channel().values())

    def discord_complete(self) -> bool:
        return all(self.discord.messages_in(c) for c in DISCORD_CHANNELS)

    def complete(self) -> bool:
        return self.slack_complete() and self.discord_complete()

    def slack_per_channel(self) -> dict[str, int]:
        """Posts each channel holds: its messages and their thread replies."""
        counts = {}
        for channel in SLACK_CHANNELS:
            messages = self.slack.history.get(channel, [])
            replies = sum(len(self.slack.threads.get((channel, m["ts"]), [])) for m in messages)
            counts[channel] = len(messages) + replies
        return counts

    def slack_ids_seen(self) -> set[int]:
        """Outbox messages a post of which reached Slack (answered or not)."""
        return {
            call.args["metadata"]["event_payload"]["id"]
            for call in self.slack.calls_to(SLACK_POSTS)
        }

    def slack_failures(self) -> dict[int, int]:
        """Failures Slack answered, by outbox message."""
        return {message: self.failed.count(message) for message in set(self.failed)}

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

    async def kill_point(self, kind: str, rng: random.Random) -> Canned | None:
        """Wait for the moment `kind` names; the canned answer to release after the kill."""
        if kind == "slack-stored" and not self.slack_complete():
            held = StoredThenHeld()
            self.slack.fail(SLACK_POSTS, held)
            await asyncio.wait_for(held.stored.wait(), 60)
            return held
        if kind == "discord-stored" and not self.discord_complete():
            held = StoredThenHeld()
            self.discord.fail("POST", DISCORD_POSTS, held)
            await asyncio.wait_for(held.stored.wait(), 60)
            return held
        if kind == "slack-answered" and not self.slack_complete():
            answered = Noticed()
            self.slack.fail(SLACK_POSTS, answered)
            await asyncio.wait_for(answered.done.wait(), 60)
            return answered
        if kind == "recovery":
            checking: Slow = slow()
            self.slack.fail(HISTORY, checking)  # held: killed while it looks
            await first_of(checking.arrived.wait(), self.more_posts(2))
            return checking
        await self.more_posts(rng.randint(0, 3))  # wherever start-up or the fan-out got to
        return None


KINDS = ("progress", "progress", "slack-stored", "discord-stored", "slack-answered", "recovery")


async def first_of(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a wait that failed (timed out) fails the test
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _set_up(db: Path) -> None:
    due = datetime.now(UTC) - timedelta(minutes=30)
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
        places = [("slack", TEAM_ID, c) for c in SLACK_CHANNELS] + [
            ("discord", GUILD_ID, c) for c in DISCORD_CHANNELS
        ]
        for platform, workspace, channel in places:
            settings = DigestSettings(
                Destination(platform, workspace, channel),
                time=due.time().replace(second=0, microsecond=0),
                weekdays=WEEKDAYS,
                size=DIGEST_SIZE,
            )
            await storage.digests.save_channel_digest(settings, "test", due - timedelta(minutes=5))


async def _outbox(db: Path) -> list[tuple[int, str, str]]:
    async with open_storage(db) as storage:
        rows = await storage.db.fetch_raw("SELECT id, destination, state FROM outbox ORDER BY id")
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


async def _ended(db: Path, fans: Fans, figures: Figures, reads_before: list[int]) -> set[str]:
    """After a process ended: count what was in flight; the Slack channels whose message
    was (a check of what arrived there is due at the next start)."""
    rows = await _outbox(db)
    seen = fans.slack_ids_seen()
    slack = [(i, d, s) for i, d, s in rows if d.startswith("slack:")]
    in_flight = {d.rsplit(":", 1)[1] for i, d, s in slack if i in seen and s != "sent"}
    departing = {(i, d.rsplit(":", 1)[1]) for i, d, s in slack if i not in seen and s == "sending"}
    figures.in_flight.append(len(in_flight))
    figures.departing |= {i for i, _ in departing}
    # Only messages under way are uncertain (and those that met a failure): never the ones
    # waiting for their turn (40 channels' worth). Under way: a second of posts at the
    # workspace's rate, and the digests whose first part went in the second before, whose
    # thread reply waits for its channel's turn (one post a second per channel).
    under_way = SLACK_PARTS * SLACK_RATE + len(FAILING)
    assert len(in_flight) + len(departing) <= under_way, (in_flight, departing)
    figures.waiting.append(sum(s == "pending" for _, _, s in rows))
    reads_before.append(len(fans.slack.calls_to(HISTORY)))
    return in_flight | {channel for _, channel in departing}


async def test_every_channel_gets_its_digest_exactly_once_across_kills(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    rng = random.Random(20261201)
    figures = Figures()
    checkable: list[set[str]] = []  # after each process: channels a check may look at
    reads_at: list[int] = []  # history reads made by then
    async with (
        running_fake_slack() as slack,
        running_fake_discord() as discord,
        asyncio.timeout(240),
    ):
        slack.clock = time.time  # the processes queue on the real clock: Slack's ts follow it
        fans = Fans(slack, discord)
        await _set_up(db)
        for _ in range(KILLS):
            process = await start_paperwire_run(db, True, **fans.env())
            try:
                held = await fans.kill_point(rng.choice(KINDS), rng)
            finally:
                process.kill()  # SIGKILL: no cleanup at all
                await process.wait()
            if held is not None:
                held.release()
            figures.kills += 1
            checkable.append(await _ended(db, fans, figures, reads_at) | set(FAILING))
        await _finish(db, fans, figures, checkable, reads_at)
    _check_reads(fans, figures, checkable, reads_at)
    await _check_outcome(db, fans, figures)
    print("crash figures:", json.dumps({**figures.__dict__, "departing": len(figures.departing)}))


async def _finish(
    db: Path, fans: Fans, figures: Figures, checkable: list[set[str]], reads_at: list[int]
) -> None:
    """A run left alone until everything arrived, stopped; then one more start settles a
    send the stop cut short (its answer not yet kept)."""
    process = await start_paperwire_run(db, True, **fans.env())
    try:
        while not fans.complete():
            await fans.more_posts(1)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    checkable.append(await _ended(db, fans, figures, reads_at) | set(FAILING))
    process = await start_paperwire_run(db, **fans.env())
    assert process.stderr is not None
    try:
        await read_until(process.stderr, "outbox at start:")
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    reads_at.append(len(fans.slack.calls_to(HISTORY)))


def _check_reads(
    fans: Fans, figures: Figures, checkable: list[set[str]], reads_at: list[int]
) -> None:
    """Each process read the history only of channels whose message was in flight when the
    one before it ended (or met a failure), at most once each."""
    reads = fans.slack.calls_to(HISTORY)
    figures.history_reads = len(reads)
    for run, (start, end) in enumerate(zip([0, *reads_at], reads_at, strict=False)):
        allowed = checkable[run - 1] if run else set(FAILING)
        read = [call.args["channel"] for call in reads[start:end]]
        assert set(read) <= allowed, f"run {run} read {sorted(set(read) - allowed)}"
        # Once each (a message that met a failure is uncertain again after it).
        twice = [c for c in set(read) if read.count(c) > 1 and c not in FAILING]
        assert not twice, f"run {run} read {twice} more than once"
    most = sum(figures.in_flight) + len(figures.departing) + len(FAILING)
    assert figures.history_reads <= most
    assert sum(figures.in_flight) > 0  # sends were cut short, and recovered (the path taken)
    assert figures.history_reads > 0


async def _check_outcome(db: Path, fans: Fans, figures: Figures) -> None:
    assert fans.slack_per_channel() == dict.fromkeys(SLACK_CHANNELS, SLACK_PARTS)
    assert {c: len(fans.discord.messages_in(c)) for c in DISCORD_CHANNELS} == dict.fromkeys(
        DISCORD_CHANNELS, 1
    )
    failures = fans.slack_failures()
    async with open_storage(db) as storage:
        assert await storage.outbox.outbox_depths() == {}  # nothing waits
        rows = await storage.db.fetch_raw(
            "SELECT id, destination, attempts, created_at, sent_at FROM outbox"
        )
        for platform, workspace, channels in (
            ("slack", TEAM_ID, SLACK_CHANNELS),
            ("discord", GUILD_ID, DISCORD_CHANNELS),
        ):
            for channel in channels:
                [run] = await storage.digests.digest_runs(f"{platform}:{workspace}:{channel}")
                assert (run.outcome.value, run.posted) == ("posted", DIGEST_SIZE)
    assert len(rows) == len(SLACK_CHANNELS) + len(DISCORD_CHANNELS)
    for message, destination, attempts, _, _ in rows:
        # Attempts count failures the platform answered, never a crash.
        assert attempts <= failures.get(message, 0), (destination, attempts)
    assert sum(failures.values()) >= 1  # a real failure came, and was retried
    delays = [_seconds(sent) - _seconds(created) for *_, created, sent in rows]
    figures.longest_delay_s = round(max(delays), 1)
    figures.messages = len(rows)
    figures.posts = fans.posts()
    assert figures.longest_delay_s < 120  # no backoff grown by crashes (it was an hour)
    # Many kills came while most destinations waited for their turn.
    assert sum(waiting >= 20 for waiting in figures.waiting) >= 5


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
