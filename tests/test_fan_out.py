"""A fan-out through the outbox with the real Slack and Discord clients, against local
fakes: a 429 storm, 5xx answers (after the platform did post), a timeout, and a channel
that refuses for good in the middle. Each ends with every channel holding its message
exactly once, or the refused one stopped with its message kept."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Services
from bot.bench.limited_fakes import LimitedDiscord, LimitedSlack
from bot.delivery.outbox import DeliveryService, OutgoingMessage
from bot.delivery.pacing import Pacer
from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.render.neutral import Digest, Notice, Reply
from tests.canned import Passes, PostedThenFailed
from tests.conftest import NOW, Clock, make_paper
from tests.discord.fake_discord import (
    DEFAULT_TOKEN,
    FakeDiscord,
    http_error,
    point_discord_py_at,
    running_fake_discord,
    text_channel_object,
)
from tests.slack.fake_slack import FakeSlack, api_error, running_fake_slack

TOKEN = "xoxb-test"
FAST = 1000  # a pacer that does not stand in the way, where pacing is not the point


def _notice(platform: str, workspace: str, channel: str) -> OutgoingMessage:
    return OutgoingMessage(Destination(platform, workspace, channel), Reply(Notice("hello")))


def _digest(channel: str) -> OutgoingMessage:
    digest = Digest(day=NOW.date(), papers=(make_paper(),))
    return OutgoingMessage(Destination("slack", "T1", channel), Reply(digest, ephemeral=False))


async def _fan_out(delivery: DeliveryService, messages: list[OutgoingMessage]) -> None:
    await asyncio.gather(*(delivery.deliver(m) for m in messages))


# --- Slack -----------------------------------------------------------------------------


def _slack(
    services: Services, api_url: str, clock: Clock, rate: int = FAST, timeout_s: int = 30
) -> DeliveryService:
    delivery = DeliveryService(services.outbox, clock)
    config = SlackConfig(TOKEN, "secret", api_url=api_url, posts_per_s=rate)
    adapter = SlackAdapter(services, config, Pacer(rate, per_channel=FAST))
    adapter.transport.timeout = timeout_s  # the Web API clients' own request timeout
    delivery.register(adapter)
    return delivery


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def limited_slack() -> AsyncIterator[tuple[LimitedSlack, str]]:
    fake = LimitedSlack(workspace_rate=20)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("/api/"))
    finally:
        await server.close()


async def test_slack_paced_to_the_budget_meets_no_429(
    services: Services, limited_slack: tuple[LimitedSlack, str]
) -> None:
    fake, url = limited_slack
    delivery = _slack(services, url, Clock(), rate=20)
    await _fan_out(delivery, [_notice("slack", "T1", f"C{n}") for n in range(40)])
    assert fake.tally.rate_limited == 0
    assert sorted(c for c, _ in fake.tally.kept) == sorted(f"C{n}" for n in range(40))
    assert fake.tally.duplicated == 0
    assert await services.outbox.outbox_depths() == {}


async def test_slack_429_storm_is_waited_out_without_loss_or_duplicate(
    services: Services, limited_slack: tuple[LimitedSlack, str]
) -> None:
    fake, url = limited_slack
    # Paced ten times faster than the fake allows: a storm of 429s.
    clock = Clock()
    delivery = _slack(services, url, clock, rate=200)
    await _fan_out(delivery, [_notice("slack", "T1", f"C{n}") for n in range(40)])
    await _until_empty(services, delivery, clock)  # what gave up after 5 tries, retried
    assert fake.tally.rate_limited > 0
    assert sorted(c for c, _ in fake.tally.kept) == sorted(f"C{n}" for n in range(40))
    assert fake.tally.duplicated == 0
    assert await services.outbox.outbox_depths() == {}


async def test_slack_5xx_after_posting_is_retried_without_a_duplicate(
    services: Services, fake_slack: FakeSlack
) -> None:
    clock = Clock()
    delivery = _slack(services, fake_slack.api_url, clock)
    fake_slack.fail("chat.postMessage", PostedThenFailed(500), channel="C1")
    first = await delivery.deliver(_digest("C1"))
    assert first.queued and not first.ok  # the outcome is unknown: kept to check
    assert len(fake_slack.history["C1"]) == 1  # yet it did arrive
    clock.advance(seconds=10)
    await delivery.drain()
    assert len(fake_slack.history["C1"]) == 1  # found by its marker, not posted again
    [(_, thread)] = fake_slack.threads.items()
    assert len(thread) == 1  # the abstracts, posted once in its thread
    assert await services.outbox.outbox_depths() == {}


async def test_slack_digest_whose_thread_reply_failed_is_not_posted_again(
    services: Services, fake_slack: FakeSlack
) -> None:
    clock = Clock()
    delivery = _slack(services, fake_slack.api_url, clock)
    # The digest's message goes; its thread reply meets an ordinary error.
    fake_slack.fail("chat.postMessage", Passes(), api_error("internal_error"), channel="C1")
    first = await delivery.deliver(_digest("C1"))
    assert first.queued and first.error == "internal_error"
    clock.advance(seconds=10)
    await delivery.drain()
    assert len(fake_slack.history["C1"]) == 1  # the message: once
    [thread] = fake_slack.threads.values()
    assert len(thread) == 1  # the abstracts: once, now
    assert await services.outbox.outbox_depths() == {}


async def test_slack_timeout_is_checked_before_resending(
    services: Services, fake_slack: FakeSlack
) -> None:
    clock = Clock()
    delivery = _slack(services, fake_slack.api_url, clock, timeout_s=1)
    fake_slack.fail("chat.postMessage", PostedThenFailed(hang=True), channel="C1")
    first = await delivery.deliver(_notice("slack", "T1", "C1"))
    assert first.queued and first.error == "Slack did not answer in time"
    assert len(fake_slack.history["C1"]) == 1  # it was posted; the answer never came
    clock.advance(seconds=10)
    await delivery.drain()
    assert len(fake_slack.history["C1"]) == 1
    assert len(fake_slack.calls_to("conversations.history")) == 1  # it looked first
    assert await services.outbox.outbox_depths() == {}


async def test_slack_channel_refusing_mid_fan_out_stops_only_that_channel(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery = _slack(services, fake_slack.api_url, Clock())
    fake_slack.fail("chat.postMessage", api_error("channel_not_found"), channel="C5")
    await _fan_out(delivery, [_notice("slack", "T1", f"C{n}") for n in range(10)])
    later = await delivery.deliver(_notice("slack", "T1", "C5"))  # kept, not tried
    assert later.permanent and not later.ok
    assert sorted(fake_slack.history) == sorted(f"C{n}" for n in range(10) if n != 5)
    assert await services.outbox.outbox_depths() == {"slack:T1:C5": 2}
    states = {s.destination: s for s in await services.outbox.destination_states()}
    assert states["slack:T1:C5"].stopped and states["slack:T1:C5"].error == "channel_not_found"
    assert not any(s.stopped for k, s in states.items() if k != "slack:T1:C5")


# --- Discord ---------------------------------------------------------------------------


@asynccontextmanager
async def _discord(
    services: Services, clock: Clock, rate: int = FAST, send_timeout_s: float = 60
) -> AsyncIterator[DeliveryService]:
    client = PaperwireDiscord(services, pacer=Pacer(rate))
    try:
        await client.login(DEFAULT_TOKEN)
        delivery = DeliveryService(services.outbox, clock, send_timeout_s=send_timeout_s)
        delivery.register(client)
        yield delivery
    finally:
        await client.close()


async def _until_empty(services: Services, delivery: DeliveryService, clock: Clock) -> int:
    """Retry what waits in the outbox (moving the clock past each backoff) until it is
    empty; how many rounds it took."""
    for rounds in range(10):
        if not await services.outbox.outbox_depths():
            return rounds
        clock.advance(seconds=3600)
        await delivery.drain()
    raise AssertionError(f"still waiting: {await services.outbox.outbox_depths()}")


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as fake:
        with point_discord_py_at(fake):
            yield fake


async def test_discord_429_storm_is_waited_out_without_loss_or_duplicate(
    services: Services,
) -> None:
    fake = LimitedDiscord(global_rate=20)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    base = discord.http.Route.BASE
    discord.http.Route.BASE = str(server.make_url("/api/v10"))
    clock = Clock()
    channels = [str(10**15 + n) for n in range(40)]
    try:
        async with _discord(services, clock, rate=200) as delivery:
            await _fan_out(delivery, [_notice("discord", "1", c) for c in channels])
            # discord.py gives up after 5 tries; the outbox keeps those for later.
            await _until_empty(services, delivery, clock)
    finally:
        discord.http.Route.BASE = base
        await server.close()
    assert fake.tally.rate_limited > 0
    assert sorted(c for c, _ in fake.tally.kept) == sorted(channels)
    assert fake.tally.duplicated == 0
    assert await services.outbox.outbox_depths() == {}


async def test_discord_5xx_after_posting_is_retried_without_a_duplicate(
    services: Services, fake_discord: FakeDiscord
) -> None:
    clock = Clock()
    fake_discord.channels["500"] = text_channel_object("500")
    fake_discord.fail("POST", r"/channels/500/messages", PostedThenFailed(503))
    async with _discord(services, clock) as delivery:
        first = await delivery.deliver(_notice("discord", "1", "500"))
        assert first.queued and len(fake_discord.messages_in("500")) == 1
        clock.advance(seconds=10)
        await delivery.drain()  # the same nonce: Discord hands back the message it made
    assert len(fake_discord.messages_in("500")) == 1
    assert await services.outbox.outbox_depths() == {}


async def test_discord_send_that_hangs_is_given_up_and_retried_without_a_duplicate(
    services: Services, fake_discord: FakeDiscord
) -> None:
    clock = Clock()
    fake_discord.channels["600"] = text_channel_object("600")
    hang = PostedThenFailed(hang=True)  # Discord made the message; the answer never comes
    fake_discord.fail("POST", r"/channels/600/messages", hang)
    async with _discord(services, clock, send_timeout_s=0.5) as delivery:
        first = await delivery.deliver(_notice("discord", "1", "600"))
        assert first.queued and "no answer within 0.5 s" in (first.error or "")
        hang.release()
        clock.advance(seconds=10)
        await delivery.drain()
    assert len(fake_discord.messages_in("600")) == 1  # the retry's nonce matched
    assert await services.outbox.outbox_depths() == {}


async def test_discord_channel_refusing_mid_fan_out_stops_only_that_channel(
    services: Services, fake_discord: FakeDiscord
) -> None:
    channels = [str(700 + n) for n in range(10)]
    for channel in channels:
        fake_discord.channels[channel] = text_channel_object(channel)
    fake_discord.fail(
        "POST", r"/channels/705/messages", http_error(403, 50013, "Missing Permissions")
    )
    async with _discord(services, Clock()) as delivery:
        await _fan_out(delivery, [_notice("discord", "1", c) for c in channels])
    assert [c for c in channels if fake_discord.messages_in(c)] == [
        c for c in channels if c != "705"
    ]
    assert await services.outbox.outbox_depths() == {"discord:1:705": 1}
    state = await services.outbox.destination_state("discord:1:705")
    assert state.stopped and "50013" in (state.error or "")


# --- what a crash would leave uncertain ------------------------------------------------


class GatedPacer(Pacer):
    """Turns come only as the test hands them out (`give`); `asking` counts the requests
    that waited for one."""

    def __init__(self) -> None:
        super().__init__(FAST, per_channel=FAST)
        self.asking = 0
        self._turns = asyncio.Semaphore(0)
        self._changed = asyncio.Condition()

    async def acquire(self, channel: str | None = None) -> None:
        async with self._changed:
            self.asking += 1
            self._changed.notify_all()
        await self._turns.acquire()

    def give(self, turns: int) -> None:
        for _ in range(turns):
            self._turns.release()

    async def wait_asking(self, count: int) -> None:
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: self.asking >= count)


async def _states(services: Services) -> list[str]:
    rows = await services.db.fetch_raw("SELECT state FROM outbox ORDER BY id")
    return [str(r[0]) for r in rows]


async def test_slack_messages_waiting_for_their_turn_are_not_in_flight(
    services: Services, fake_slack: FakeSlack
) -> None:
    pacer = GatedPacer()
    delivery = DeliveryService(services.outbox, Clock())
    config = SlackConfig(TOKEN, "secret", api_url=fake_slack.api_url, posts_per_s=3)
    delivery.register(SlackAdapter(services, config, pacer))
    fan_out = asyncio.create_task(_fan_out(delivery, [_digest(f"C{n}") for n in range(10)]))
    await pacer.wait_asking(3)  # three messages under way (the rate), seven behind them
    pacer.give(1)
    await fake_slack.wait_for("chat.postMessage", count=1)
    # Only the message whose request left is uncertain: a crash now leaves one to check.
    assert sorted(await _states(services)) == ["pending"] * 9 + ["sending"]
    await pacer.wait_asking(4)  # its thread reply waits for a turn: it stays the one
    assert sorted(await _states(services)) == ["pending"] * 9 + ["sending"]
    pacer.give(100)
    await fan_out
    assert await _states(services) == ["sent"] * 10
    assert len(fake_slack.calls_to("chat.postMessage")) == 20  # each digest and its thread
    rows = await services.db.fetch_raw("SELECT attempts, sends FROM outbox")
    assert set(rows) == {(0, 1)}  # one send begun each, no failure


async def test_discord_messages_waiting_for_their_turn_are_not_in_flight(
    services: Services, fake_discord: FakeDiscord
) -> None:
    channels = [str(800 + n) for n in range(10)]
    for channel in channels:
        fake_discord.channels[channel] = text_channel_object(channel)
    pacer = GatedPacer()
    client = PaperwireDiscord(services, pacer=pacer)
    try:
        await client.login(DEFAULT_TOKEN)
        delivery = DeliveryService(services.outbox, Clock())
        delivery.register(client)
        messages = [_notice("discord", "1", c) for c in channels]
        fan_out = asyncio.create_task(_fan_out(delivery, messages))
        await pacer.wait_asking(10)
        pacer.give(1)
        await fake_discord.wait_for("POST", r"/channels/\d+/messages", count=1)
        # The one whose request left is sending, or already sent (Discord answered it
        # meanwhile): the nine still waiting for their turn are not in flight.
        states = sorted(await _states(services))
        assert states[:9] == ["pending"] * 9 and states[9] in ("sending", "sent")
        pacer.give(100)
        await fan_out
    finally:
        await client.close()
    assert await _states(services) == ["sent"] * 10


# --- the benchmark ---------------------------------------------------------------------


async def test_bench_deliver_reports_every_figure_per_platform(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.bench.deliver import run_deliver_bench

    await run_deliver_bench(60, ["slack", "discord"], 60, 60, as_json=True)
    figures = json.loads(capsys.readouterr().out)
    keys = {"recipients", "seconds", "achieved_per_s", "allowed_per_s", "requests",
            "rate_limited", "lost", "duplicated"}  # fmt: skip
    assert set(figures) == {"slack", "discord"}
    for platform in figures.values():
        assert set(platform) == keys
        assert platform["recipients"] == 60 and platform["allowed_per_s"] == 60
        assert (platform["lost"], platform["duplicated"]) == (0, 0)
        # The fakes count their limits on the wall clock: on a loaded machine a stalled loop
        # can bunch a few paced sends into one window. Those 429s are retried (nothing lost,
        # nothing doubled); more than a few would mean the pacing is wrong.
        assert platform["rate_limited"] <= platform["requests"] * 0.05
        # Never faster than allowed: the rate is taken from the start of sending, and the
        # pacer's turns (burst 1) are 1/60 s apart, the first at the start or later, so the
        # last kept message comes no sooner than (kept - 1) / 60 s after it. Rounded to 0.01.
        kept = platform["requests"] - platform["rate_limited"]
        assert 0 < platform["achieved_per_s"] <= 60 * kept / (kept - 1) + 0.01
    # A Slack digest is two posts (the abstracts go in its thread); Discord's is one.
    assert figures["slack"]["requests"] == 120 and figures["discord"]["requests"] == 60


async def test_bench_deliver_table_names_its_targets(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.bench.deliver import run_deliver_bench

    await run_deliver_bench(5, ["discord"], 500, 500, as_json=False)
    out = capsys.readouterr().out
    assert "of the limit; target >= 90%" in out and "target <= 1%" in out
    assert "lost            0" in out
