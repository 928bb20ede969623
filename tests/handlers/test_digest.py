"""`/papers digest ...` through the router: managers only, settings parsed and stored, the
schedule told, `now` at most once a day, and `status` explaining what happened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.app import Services, build_services
from bot.config import Settings
from bot.day_lists import CompletionRule
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.digests.settings import WORKDAYS, DigestSettings, Outcome
from bot.models import Destination, Observation, Signals
from bot.render.neutral import Digest, Notice, Reply
from handlers.context import Context, Invocation
from handlers.guards import REFUSAL
from handlers.router import dispatch
from schedules.digests import DigestJobs
from schedules.scheduler import Scheduler
from tests.conftest import NOW, Clock, make_observation

# NOW is Sunday 22 November 2026, 09:30 UTC (10:30 in Paris).
CHANNEL = Destination("fake", "T1", "C1")
OTHER = Destination("fake", "T1", "C2")
YESTERDAY = date(2026, 11, 21)
DAY_BEFORE = date(2026, 11, 20)


class FakeTransport:
    platform = "fake"

    def __init__(self, receipt: Receipt | None = None) -> None:
        self.sent: list[OutgoingMessage] = []
        self.receipt = receipt or Receipt(ok=True)

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return self.receipt

    def titles(self, index: int = -1) -> list[str]:
        content = self.sent[index].reply.content
        assert isinstance(content, Digest)
        return [p.title for p in content.papers]


class Bot:
    """Services on a memory database, a movable clock and a recording transport."""

    def __init__(self, services: Services, clock: Clock, transport: FakeTransport) -> None:
        self.services = services
        self.clock = clock
        self.transport = transport

    async def ask(self, text: str, manager: bool = True, channel: Destination = CHANNEL) -> Notice:
        invocation = Invocation(
            channel.platform, channel.workspace, channel.channel, "ada", text, is_manager=manager
        )
        reply = await dispatch(Context(invocation, self.services, self.clock()))
        assert isinstance(reply, Reply) and isinstance(reply.content, Notice)
        return reply.content

    async def ok(self, text: str, channel: Destination = CHANNEL) -> str:
        notice = await self.ask(text, channel=channel)
        assert not notice.is_error, notice.text
        return notice.text

    async def error(self, text: str) -> str:
        notice = await self.ask(text)
        assert notice.is_error, notice.text
        return notice.text

    async def stored(self, channel: Destination = CHANNEL) -> DigestSettings | None:
        return await self.services.digests.channel_digest(channel.key)

    async def ingest_list(
        self, day: date, titles: list[str], rule: CompletionRule | None = None
    ) -> None:
        observations = [_observation(day, rank, title) for rank, title in enumerate(titles, 1)]
        if rule is None:
            await self.services.papers.ingest(observations, now=self.clock())
        else:
            await self.services.papers.ingest(observations, lists=rule, now=self.clock())


def _observation(day: date, rank: int, title: str) -> Observation:
    return make_observation(
        title=title,
        abstract=f"{title}. We study it.",
        arxiv_id=PAPER_IDS[title],
        day=day,
        rank=rank,
        signals=Signals(upvotes=50 - rank),
        observed_at=NOW,
    )


PAPER_IDS = {
    "Agents That Plan": "2611.00001",
    "Diffusion Everywhere": "2611.00002",
    "Sparse Attention": "2611.00003",
    "Tool-Using Agents": "2611.00004",
    "Protein Folding Again": "2611.00005",
}


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    clock = Clock(NOW)
    async with build_services(Settings(db_path=":memory:"), clock=clock) as services:
        transport = FakeTransport()
        services.delivery.register(transport)
        yield Bot(services, clock, transport)


# --- managers only ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "digest",
        "digest status",
        "digest on",
        "digest on 08:30 Europe/Paris",
        "digest off",
        "digest set size 5",
        "digest set topic agents",
        "digest now",
        "digest frobnicate",
    ],
)
async def test_only_channel_managers_may_use_digest_commands(bot: Bot, text: str) -> None:
    await bot.ingest_list(YESTERDAY, ["Agents That Plan"])
    notice = await bot.ask(text, manager=False)
    assert notice.is_error and notice.text == REFUSAL
    assert await bot.stored() is None
    assert bot.transport.sent == []
    assert await bot.services.digests.digest_runs(CHANNEL.key) == []


async def test_a_non_manager_cannot_turn_off_an_existing_digest(bot: Bot) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    before = await bot.stored()
    notice = await bot.ask("digest off", manager=False)
    assert notice.is_error and "channel managers" in notice.text
    assert await bot.stored() == before and before is not None and before.enabled


# --- on / off ---------------------------------------------------------------------------------


async def test_on_with_time_and_zone_stores_and_tells_the_next_run(bot: Bot) -> None:
    text = await bot.ok("digest on 08:30 Europe/Paris")
    assert text == (
        "On: 08:30 Europe/Paris, Mon-Fri, 10 papers, compact, covers the latest list.\n"
        "Next: Monday 23 November, 08:30 (Europe/Paris)."
    )
    stored = await bot.stored()
    assert stored == DigestSettings(CHANNEL, time=time(8, 30), timezone="Europe/Paris")
    assert stored.weekdays == WORKDAYS and stored.size == 10 and stored.covers == "latest"


async def test_on_without_arguments_uses_the_defaults(bot: Bot) -> None:
    text = await bot.ok("digest on")
    assert text.startswith("On: 09:00 UTC, Mon-Fri, 10 papers, compact, covers the latest list.")
    assert "Next: Monday 23 November, 09:00 (UTC)." in text
    assert await bot.stored() == DigestSettings(CHANNEL)


@pytest.mark.parametrize(
    ("text", "at", "zone"),
    [
        ("digest on 7:05", time(7, 5), "UTC"),
        ("digest on 5pm", time(17, 0), "UTC"),
        ("digest on america/new_york", time(9, 0), "America/New_York"),
        ("digest on Asia/Tokyo 12am", time(0, 0), "Asia/Tokyo"),
        ("digest ON 23:59 utc", time(23, 59), "UTC"),
    ],
)
async def test_on_accepts_a_time_or_a_zone_in_either_order(
    bot: Bot, text: str, at: time, zone: str
) -> None:
    await bot.ok(text)
    stored = await bot.stored()
    assert stored is not None and (stored.time, stored.timezone) == (at, zone)


async def test_on_again_keeps_the_other_settings(bot: Bot) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    await bot.ok("digest set size 5")
    await bot.ok("digest on America/New_York")
    stored = await bot.stored()
    assert stored is not None
    assert (stored.time, stored.timezone, stored.size) == (time(8, 30), "America/New_York", 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("digest on 25:00", "`25:00` is not a time of day"),
        ("digest on 08:61 Europe/Paris", "`08:61` is not a time of day"),
        ("digest on 13pm", "`13pm` is not a time of day"),
        ("digest on 08:30 Mars/Olympus", "`Mars/Olympus` is not a time zone"),
        ("digest on Mars/Olympus", "use an IANA name such as Europe/Paris"),
        ("digest on 08:30 Europe/Paris extra", "`on` takes a time and a time zone"),
        ("digest bogus", "Unknown digest command `bogus`"),
    ],
)
async def test_bad_on_arguments_get_a_clear_message_and_store_nothing(
    bot: Bot, text: str, message: str
) -> None:
    assert message in await bot.error(text)
    assert await bot.stored() is None


async def test_off_stops_the_digest_and_keeps_its_settings(bot: Bot) -> None:
    assert "already off" in await bot.ok("digest off")
    assert await bot.stored() is None
    await bot.ok("digest on 08:30 Europe/Paris")
    assert (await bot.ok("digest off")).startswith("Off.")
    stored = await bot.stored()
    assert stored is not None and not stored.enabled and stored.time == time(8, 30)
    assert "already off" in await bot.ok("digest off")
    status = await bot.ok("digest status")
    assert status.startswith("Off: 08:30 Europe/Paris") and "Next:" not in status
    await bot.ok("digest on")
    stored = await bot.stored()
    assert stored is not None and stored.enabled and stored.timezone == "Europe/Paris"


async def test_on_set_and_off_keep_the_schedule_in_step(bot: Bot) -> None:
    scheduler = Scheduler()
    bot.services.digest_schedule = DigestJobs(scheduler, bot.services, timedelta(hours=6))
    await bot.ok("digest set size 3")  # set before on: stored, but off, so no job
    assert scheduler.job_ids() == []
    await bot.ok("digest on 08:30 Europe/Paris")
    assert scheduler.job_ids() == ["digest:fake:T1:C1"]
    await bot.ok("digest on 07:00 Europe/Paris", channel=OTHER)
    assert scheduler.job_ids() == ["digest:fake:T1:C1", "digest:fake:T1:C2"]
    await bot.ok("digest off")
    assert scheduler.job_ids() == ["digest:fake:T1:C2"]


# --- set ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("digest set size 5", "size", 5),
        ("digest set size 30", "size", 30),
        ("digest set topic agents -survey", "topic", "agents -survey"),
        ("digest set days mon,wed,fri", "weekdays", ("mon", "wed", "fri")),
        ("digest set days daily", "weekdays", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        ("digest set weekdays sat-sun", "weekdays", ("sat", "sun")),
        ("digest set days fri-mon", "weekdays", ("mon", "fri", "sat", "sun")),
        ("digest set format full", "format", "full"),
        ("digest set FORMAT Compact", "format", "compact"),
        ("digest set covers yesterday", "covers", "yesterday"),
    ],
)
async def test_set_each_setting(bot: Bot, text: str, field: str, value: object) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    reply = await bot.ok(text)
    assert reply.startswith("Saved: 08:30 Europe/Paris") and "(the digest is off" not in reply
    stored = await bot.stored()
    assert stored is not None and getattr(stored, field) == value and stored.enabled


async def test_set_topic_none_clears_it_and_set_before_on_says_it_is_off(bot: Bot) -> None:
    reply = await bot.ok("digest set topic agents")
    assert reply == (
        "Saved: 09:00 UTC, Mon-Fri, 10 papers, compact, covers the latest list, topic: agents"
        " (the digest is off: `/papers digest on` starts it)."
    )
    stored = await bot.stored()
    assert stored is not None and stored.topic == "agents" and not stored.enabled
    await bot.ok("digest set topic none")
    stored = await bot.stored()
    assert stored is not None and stored.topic is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("digest set size 0", "from 1 to 30"),
        ("digest set size 31", "from 1 to 30"),
        ("digest set size ten", "from 1 to 30"),
        ("digest set size -3", "from 1 to 30"),
        ("digest set size", "`set size` needs a value"),
        ("digest set topic -survey", "no words to match"),
        ("digest set days funday", "is not a set of weekdays"),
        ("digest set days ,", "at least one weekday"),
        ("digest set format html", "`compact` (titles and a one-line summary) or `full`"),
        ("digest set covers tomorrow", "`latest` complete list or `yesterday`"),
        ("digest set time 08:00", "/papers digest on 08:30 Europe/Paris"),
        ("digest set tz Europe/Paris", "/papers digest on 08:30 Europe/Paris"),
        ("digest set colour blue", "There is no digest setting `colour`"),
    ],
)
async def test_bad_set_values_get_a_clear_message_and_change_nothing(
    bot: Bot, text: str, message: str
) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    before = await bot.stored()
    assert message in await bot.error(text)
    assert await bot.stored() == before


async def test_a_superscript_size_gets_the_size_message(bot: Bot) -> None:
    await bot.ok("digest on")
    assert "from 1 to 30" in await bot.error("digest set size ²")


# --- now and status -----------------------------------------------------------------------------


async def test_status_when_never_set_up(bot: Bot) -> None:
    assert await bot.ok("digest status") == (
        "No daily digest here yet. `/papers digest on 09:00 Europe/Paris` starts one."
    )
    assert await bot.ok("digest") == await bot.ok("digest status")


async def test_status_tells_the_next_run_in_the_channels_own_time(bot: Bot) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    status = await bot.ok("digest status")
    assert status.splitlines() == [
        "On: 08:30 Europe/Paris, Mon-Fri, 10 papers, compact, covers the latest list.",
        "Next: Monday 23 November, 08:30 (Europe/Paris).",
        "Taste: on, no votes yet (More like this and Not for us under each paper of the digest"
        " steer it).",
        "Nothing posted here yet.",
    ]
    # Monday 20:00 in Los Angeles is already Tuesday 04:00 in UTC: the channel's day counts.
    await bot.ok("digest on 20:00 America/Los_Angeles")
    status = await bot.ok("digest status")
    assert "Next: Monday 23 November, 20:00 (America/Los_Angeles)." in status
    # Across the change of time the hour stays the channel's: 09:00 in New York both sides.
    bot.clock.now = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)  # Saturday, still EDT
    await bot.ok("digest on 09:00 America/New_York")
    assert "Next: Monday 2 November, 09:00 (America/New_York)." in await bot.ok("digest status")


async def test_now_posts_and_status_tells_the_last_post(bot: Bot) -> None:
    await bot.ingest_list(YESTERDAY, ["Agents That Plan", "Diffusion Everywhere"])
    await bot.ok("digest on 08:30 Europe/Paris")
    assert await bot.ok("digest now") == "Posted 2 papers from the list of 2026-11-21."
    assert bot.transport.titles() == ["Agents That Plan", "Diffusion Everywhere"]
    status = await bot.ok("digest status")
    assert status.splitlines()[1:] == [
        "Next: Monday 23 November, 08:30 (Europe/Paris).",
        "Taste: on, no votes yet (More like this and Not for us under each paper of the digest"
        " steer it).",
        "Last post: Sunday 22 November, 10:30, 2 papers from the list of 2026-11-21.",
    ]
    # At most one a day: asking again the same local day posts nothing more.
    bot.clock.now = NOW + timedelta(hours=3)
    assert "already posted here" in await bot.ok("digest now")
    assert len(bot.transport.sent) == 1


async def test_status_when_no_list_is_complete_yet(bot: Bot) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    # An empty store: no lists at all.
    reply = await bot.ok("digest now")
    assert reply == "Nothing posted: no trending list was complete yet."
    # Hugging Face's list for today, fetched once: it is still growing, so not complete.
    await bot.ingest_list(date(2026, 11, 22), ["Agents That Plan"], rule=CompletionRule())
    states = await bot.services.day_lists.list_states()
    assert [s.complete for s in states] == [False]
    bot.clock.now = NOW + timedelta(minutes=10)
    assert "no trending list was complete yet" in await bot.ok("digest now")
    assert bot.transport.sent == []
    status = await bot.ok("digest status")
    assert "Nothing posted here yet." in status
    assert status.endswith(
        "The run of Sunday 22 November posted nothing: no trending list was complete yet."
    )


async def test_status_when_no_paper_matched_the_topic(bot: Bot) -> None:
    await bot.ingest_list(YESTERDAY, ["Agents That Plan", "Diffusion Everywhere"])
    await bot.ok("digest on 08:30 Europe/Paris")
    await bot.ok("digest set topic quantum")
    assert await bot.ok("digest now") == ("Nothing posted: no paper of the list matched the topic.")
    assert bot.transport.sent == []
    status = await bot.ok("digest status")
    assert status.endswith(
        "The run of Sunday 22 November posted nothing: no paper of the list matched the topic."
    )


async def test_status_when_everything_was_already_posted(bot: Bot) -> None:
    await bot.ingest_list(YESTERDAY, ["Agents That Plan", "Diffusion Everywhere"])
    await bot.ok("digest on 08:30 Europe/Paris")
    assert (await bot.ok("digest now")).startswith("Posted 2 papers")
    bot.clock.now = NOW + timedelta(days=1)  # Monday: no newer list than Saturday's
    assert await bot.ok("digest now") == (
        "Nothing posted: every paper of the list had already been posted here."
    )
    assert len(bot.transport.sent) == 1
    status = await bot.ok("digest status")
    lines = status.splitlines()
    assert "Last post: Sunday 22 November, 10:30, 2 papers from the list of 2026-11-21." in lines
    assert lines[-1] == (
        "The run of Monday 23 November posted nothing:"
        " every paper of the list had already been posted here."
    )


async def test_a_refused_digest_waits_and_status_says_so(bot: Bot) -> None:
    failing = FakeTransport(Receipt(ok=False, error="channel_not_found"))
    bot.services.delivery.register(failing)
    await bot.ingest_list(YESTERDAY, ["Agents That Plan"])
    await bot.ok("digest on 08:30 Europe/Paris")
    assert (await bot.ok("digest now")).startswith(
        "Not posted yet: the platform answered `channel_not_found`."
    )
    assert len(failing.sent) == 1
    assert (await bot.services.outbox.outbox_depths()) == {CHANNEL.key: 1}
    status = await bot.ok("digest status")
    assert "Nothing posted here yet." in status
    assert "is waiting to be delivered: the platform answered `channel_not_found`." in status
    # Once the channel is fixed, `now` sends the digest that waited (not a second one).
    bot.services.delivery.register(bot.transport)
    bot.clock.advance(minutes=1)  # `now` runs at most once a minute in a channel
    assert (await bot.ok("digest now")).startswith("Sent the digest that was waiting")
    assert bot.transport.titles() == ["Agents That Plan"]
    assert (await bot.services.outbox.outbox_depths()) == {}
    bot.clock.advance(minutes=1)
    assert "already posted" in await bot.ok("digest now")


async def test_status_explains_a_run_missed_while_down(bot: Bot) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    # Monday 08:30 in Paris was missed; paperwire is back at 16:00, past the 6 h grace.
    bot.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    jobs = DigestJobs(Scheduler(), bot.services, timedelta(hours=6))
    assert [r.outcome for r in await jobs.catch_up()] == [Outcome.MISSED]
    status = await bot.ok("digest status")
    assert status.endswith(
        "The run of Monday 23 November posted nothing:"
        " paperwire was not running at the time (past the grace period)."
    )
    assert "Next: Tuesday 24 November, 08:30 (Europe/Paris)." in status


async def test_now_and_the_scheduled_run_racing_post_once(bot: Bot) -> None:
    await bot.ingest_list(YESTERDAY, ["Agents That Plan"])
    await bot.ok("digest on 10:30 Europe/Paris")  # due exactly NOW (a Sunday)
    await bot.ok("digest set days daily")
    jobs = DigestJobs(Scheduler(), bot.services, timedelta(hours=6))
    scheduled, asked = await asyncio.gather(jobs.run_scheduled(CHANNEL.key), bot.ask("digest now"))
    assert len(bot.transport.sent) == 1
    if scheduled is None:
        assert asked.text.startswith("Posted 1 paper")
    else:
        assert scheduled.outcome is Outcome.POSTED and "already posted" in asked.text


# --- selection: ranking, topic, no repeats ------------------------------------------------------


async def test_a_digest_is_ranked_by_upvotes_comments_stars_then_list_order(bot: Bot) -> None:
    observations = [
        _with(1, "Agents That Plan", upvotes=5),
        _with(2, "Diffusion Everywhere", upvotes=9),
        _with(3, "Sparse Attention", upvotes=9, comments=3),
        _with(4, "Tool-Using Agents", upvotes=9, comments=3, github_stars=50),
        _with(5, "Protein Folding Again", upvotes=9, comments=3, github_stars=50),
    ]
    await bot.services.papers.ingest(observations, now=NOW)
    await bot.ok("digest on")
    await bot.ok("digest set format full")
    await bot.ok("digest now")
    assert bot.transport.titles() == [
        "Tool-Using Agents",
        "Protein Folding Again",
        "Sparse Attention",
        "Diffusion Everywhere",
        "Agents That Plan",
    ]
    content = bot.transport.sent[0].reply.content
    assert isinstance(content, Digest) and content.style == "full" and content.topic is None


def _with(
    rank: int,
    title: str,
    upvotes: int,
    comments: int | None = None,
    github_stars: int | None = None,
) -> Observation:
    return make_observation(
        title=title,
        arxiv_id=PAPER_IDS[title],
        day=YESTERDAY,
        rank=rank,
        signals=Signals(upvotes=upvotes, comments=comments, github_stars=github_stars),
        observed_at=NOW,
    )


async def test_the_topic_filters_and_the_size_limits(bot: Bot) -> None:
    await bot.ingest_list(YESTERDAY, list(PAPER_IDS))
    await bot.ok("digest on")
    await bot.ok("digest set topic agents")
    assert await bot.ok("digest now") == "Posted 2 papers from the list of 2026-11-21."
    assert bot.transport.titles() == ["Agents That Plan", "Tool-Using Agents"]
    content = bot.transport.sent[0].reply.content
    assert isinstance(content, Digest) and content.topic == "agents"
    await bot.ok("digest set topic none", channel=OTHER)
    await bot.ok("digest set size 2", channel=OTHER)
    await bot.ok("digest now", channel=OTHER)
    assert bot.transport.titles() == ["Agents That Plan", "Diffusion Everywhere"]


async def test_no_repeats_across_days_per_channel(bot: Bot) -> None:
    bot.clock.now = NOW - timedelta(days=1)  # Saturday
    await bot.ingest_list(DAY_BEFORE, ["Agents That Plan", "Diffusion Everywhere"])
    await bot.ok("digest on 08:30 Europe/Paris")
    await bot.ok("digest now")
    assert bot.transport.titles() == ["Agents That Plan", "Diffusion Everywhere"]
    # Sunday's list (Saturday's papers) shares a paper with Friday's.
    bot.clock.now = NOW
    await bot.ingest_list(YESTERDAY, ["Sparse Attention", "Diffusion Everywhere"])
    assert await bot.ok("digest now") == "Posted 1 paper from the list of 2026-11-21."
    assert bot.transport.titles() == ["Sparse Attention"]
    # Another channel was sent nothing yet: it gets the whole list.
    await bot.ok("digest on 08:30 Europe/Paris", channel=OTHER)
    await bot.ok("digest now", channel=OTHER)
    assert bot.transport.titles() == ["Sparse Attention", "Diffusion Everywhere"]
    assert [m.destination for m in bot.transport.sent] == [CHANNEL, CHANNEL, OTHER]
    assert await bot.services.outbox.sent_paper_ids(CHANNEL.key) == frozenset(
        PAPER_IDS[t] for t in ("Agents That Plan", "Diffusion Everywhere", "Sparse Attention")
    )
    assert await bot.services.outbox.sent_paper_ids(OTHER.key) == frozenset(
        PAPER_IDS[t] for t in ("Diffusion Everywhere", "Sparse Attention")
    )
    runs = await bot.services.digests.digest_runs(CHANNEL.key)
    assert [(r.run_day, r.list_day, r.posted) for r in runs] == [
        (date(2026, 11, 22), YESTERDAY, 1),
        (date(2026, 11, 21), DAY_BEFORE, 2),
    ]


async def test_covers_yesterday_takes_the_channels_yesterday(bot: Bot) -> None:
    await bot.ingest_list(DAY_BEFORE, ["Agents That Plan"])
    await bot.ingest_list(YESTERDAY, ["Sparse Attention"])
    # 20:00 UTC on Sunday is 09:00 on Monday in Auckland: its yesterday is Sunday 22nd,
    # which has no list, while `latest` would have taken Saturday's.
    bot.clock.now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    await bot.ok("digest on 09:00 Pacific/Auckland")
    await bot.ok("digest set covers yesterday")
    assert "no trending list was complete yet" in await bot.ok("digest now")
    await bot.ok("digest on 09:00 Europe/Paris", channel=OTHER)
    await bot.ok("digest set covers yesterday", channel=OTHER)
    assert await bot.ok("digest now", channel=OTHER) == (
        "Posted 1 paper from the list of 2026-11-21."
    )


async def test_a_permanent_refusal_stops_the_channel_until_on_again(bot: Bot) -> None:
    refusing = FakeTransport(Receipt(ok=False, error="channel_not_found", permanent=True))
    bot.services.delivery.register(refusing)
    await bot.ingest_list(YESTERDAY, ["Agents That Plan"])
    await bot.ok("digest on 08:30 Europe/Paris")
    stopped = (
        "Posting here is stopped: the platform answered `channel_not_found`. To fix it,"
        " invite the bot to the channel"
    )
    # The reply says what the log says: stopped, why, and what to do (not "retried").
    now = await bot.ok("digest now")
    assert now.startswith(f"Not posted. {stopped}") and "retried" not in now
    assert "`/papers digest on` resumes posting" in now
    status = await bot.ok("digest status")
    assert stopped in status
    # Stopped: a scheduled run does not reach the platform; the message is kept.
    await bot.services.delivery.drain()
    assert len(refusing.sent) == 1
    assert (await bot.services.outbox.outbox_depths()) == {CHANNEL.key: 1}
    # A manager turning it on again resumes it: the kept digest goes, once.
    bot.services.delivery.register(bot.transport)
    await bot.ok("digest on")
    assert "Posting here is stopped" not in await bot.ok("digest status")
    assert bot.transport.titles() == ["Agents That Plan"]
    assert (await bot.services.outbox.outbox_depths()) == {}


async def test_status_shows_what_the_digest_covers(bot: Bot) -> None:
    await bot.ok("digest on 08:30 Europe/Paris")
    assert "covers yesterday's list" in await bot.ok("digest set covers yesterday")
    assert "covers yesterday's list" in await bot.ok("digest status")
    await bot.ok("digest set covers latest")
    assert "covers the latest list" in await bot.ok("digest status")
