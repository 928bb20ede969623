"""Weekly recaps on the scheduler, with an injected clock: the job posts the week's recap
(its chart attached) once, never a second time that week, not after a restart either; a
recap missed while down is posted once on return; the next week gets its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.app import Services, build_services
from bot.config import Settings
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.digests.recap_run import recap_key
from bot.digests.settings import WEEKDAYS, DigestRun, DigestSettings, Outcome
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from schedules.recaps import DIGEST_WAIT_S, RecapJobs, next_recap, recap_job_id
from schedules.scheduler import Scheduler
from tests.conftest import Clock, make_observation
from tests.payload_checks import PNG_SIGNATURE
from tests.postgres import fresh_schema

pytestmark = pytest.mark.backends()  # every backend: a restart reopens the same database

CHANNEL = Destination("fake", "T1", "C1")
MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)  # 09:00 in Paris
DUE = datetime(2026, 11, 29, 16, tzinfo=UTC)  # Sunday 29 November, 17:00 in Paris
GRACE = timedelta(hours=6)
IDS = ("2611.00001", "2611.00002", "2611.00003", "2611.00004")


class FakeTransport:
    platform = "fake"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return Receipt(ok=True, platform_ids=(f"m{len(self.sent)}",))

    def recaps(self) -> list[Reply]:
        return [m.reply for m in self.sent if m.reply.files]


@pytest.fixture
async def location(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database that outlives one `build_services`: a file, or a PostgreSQL schema."""
    if backend == "postgresql":
        async with fresh_schema() as url:
            yield url
    else:
        yield str(tmp_path / "paperwire.db")


@asynccontextmanager
async def running(location: str, clock: Clock) -> AsyncIterator[tuple[Services, FakeTransport]]:
    """One paperwire process (services and a transport) on the database."""
    async with build_services(Settings(db_path=location), clock=clock) as services:
        transport = FakeTransport()
        services.delivery.register(transport)
        yield services, transport


async def _a_week_of_digests(services: Services, clock: Clock) -> None:
    """Monday: two papers; Thursday: two more; votes and saves on them."""
    observations = [make_observation(arxiv_id=i, title=f"Paper {i[-1]}") for i in IDS]
    await services.papers.ingest(observations, now=MONDAY)
    pks = await services.papers.pks_for_ids(IDS)
    settings = DigestSettings(
        CHANNEL, timezone="Europe/Paris", recap_day="sun", recap_time=time(17), recap_name="ml"
    )
    await services.digests.save_channel_digest(settings, "ada", MONDAY)
    for day, ids in ((MONDAY, IDS[:2]), (MONDAY + timedelta(days=3), IDS[2:])):
        clock.now = day
        digest = Reply(Notice("digest"), ephemeral=False)
        await services.delivery.deliver(OutgoingMessage(CHANNEL, digest, ids))
    for user in ("U1", "U2", "U3"):
        await services.votes.vote(CHANNEL.key, pks[IDS[2]], f"fake:T1:@{user}", 1, clock.now)
    await services.saved_papers.save_paper(Destination("fake", "T1", "U1", "dm"), pks[IDS[0]], DUE)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


async def test_the_week_is_posted_once_and_not_again_after_a_restart(
    location: str, clock: Clock
) -> None:
    async with running(location, clock) as (services, transport):
        await _a_week_of_digests(services, clock)
        jobs = RecapJobs(Scheduler(), services, GRACE)
        assert await jobs.load() == [recap_job_id(DigestSettings(CHANNEL))]
        clock.now = DUE + timedelta(seconds=2)  # the job starts a moment late
        run = await jobs.run_scheduled(CHANNEL.key)
        assert run is not None and (run.outcome, run.posted) == (Outcome.POSTED, 4)
        assert run.run_day == date(2026, 11, 23) and run.list_day == date(2026, 11, 29)
        [recap] = transport.recaps()
        assert isinstance(recap.content, Notice)
        assert recap.content.title == "#ml's week in papers, 23\u201329 Nov"
        [chart] = recap.files
        assert chart.filename == "paperwire-week-2026-11-29.png"
        assert chart.data.startswith(PNG_SIGNATURE)
        assert "Top paper: Paper 3" in chart.alt_text  # three likes
        # The same week again: by the job, the catch-up, or a second firing.
        clock.now += timedelta(minutes=5)
        assert await jobs.run_scheduled(CHANNEL.key) is None
        assert await jobs.catch_up() == []
    clock.now += timedelta(minutes=10)
    async with running(location, clock) as (services, transport):
        await services.digests.release_interrupted_runs(before=clock.now)
        jobs = RecapJobs(Scheduler(), services, GRACE)
        await jobs.load()
        assert await jobs.catch_up() == []
        assert await jobs.run_scheduled(CHANNEL.key) is None
        assert await services.delivery.drain() == {}
        assert transport.sent == []
        runs = await services.digests.digest_runs(recap_key(CHANNEL))
        assert [r.outcome for r in runs] == [Outcome.POSTED]
        # The next week has its own recap; with nothing sent that week it posts nothing.
        settings = await services.digests.channel_digest(CHANNEL.key)
        assert settings is not None
        assert next_recap(settings, clock.now) == DUE + timedelta(days=7)
        clock.now = DUE + timedelta(days=7)
        run = await jobs.run_scheduled(CHANNEL.key)
        assert run is not None and run.outcome is Outcome.NO_MATCH
        assert transport.sent == []


async def test_a_recap_cut_short_by_a_crash_is_posted_once_on_return(
    location: str, clock: Clock
) -> None:
    async with running(location, clock) as (services, transport):
        await _a_week_of_digests(services, clock)
        clock.now = DUE
        # The process claimed the week, then died before queueing the message.
        assert await services.digests.claim_run(
            recap_key(CHANNEL), date(2026, 11, 23), DUE, timedelta(hours=1)
        )
    clock.now = DUE + timedelta(minutes=20)
    async with running(location, clock) as (services, transport):
        await services.digests.release_interrupted_runs(before=clock.now)
        jobs = RecapJobs(Scheduler(), services, GRACE)
        [run] = await jobs.catch_up()
        assert run.outcome is Outcome.POSTED
        assert len(transport.recaps()) == 1
        assert await jobs.catch_up() == []
        assert len(transport.recaps()) == 1


async def test_a_recap_missed_past_the_grace_period_is_not_posted(
    location: str, clock: Clock
) -> None:
    async with running(location, clock) as (services, transport):
        await _a_week_of_digests(services, clock)
        clock.now = DUE + GRACE + timedelta(minutes=1)
        assert await RecapJobs(Scheduler(), services, GRACE).catch_up() == []
        assert transport.recaps() == []


async def test_the_recap_days_digest_due_at_the_same_time_counts_in_the_week(
    location: str, clock: Clock
) -> None:
    """The recap at the digest's time (its default): the two jobs fire together, and the
    recap waits for the day's digest, whose papers would otherwise count in no week."""
    async with running(location, clock) as (services, transport):
        await _a_week_of_digests(services, clock)
        settings = DigestSettings(
            CHANNEL, time=time(17), timezone="Europe/Paris", weekdays=WEEKDAYS, recap_day="sun"
        )
        await services.digests.save_channel_digest(settings, "ada", MONDAY)
        sunday = date(2026, 11, 29)
        clock.now = DUE
        # The digest job fired with the recap's and is under way.
        assert await services.digests.claim_run(CHANNEL.key, sunday, DUE, timedelta(hours=1))
        looks: list[float] = []

        async def digest_goes_on(wait_s: float) -> None:
            """While the recap waits, the day's digest is queued and its run ends."""
            looks.append(wait_s)
            if len(looks) == 1:
                extra = make_observation(arxiv_id="2611.00005", title="Paper 5")
                await services.papers.ingest([extra], now=MONDAY)
                digest = Reply(Notice("digest"), ephemeral=False)
                await services.delivery.deliver(OutgoingMessage(CHANNEL, digest, ("2611.00005",)))
                await services.digests.finish_run(
                    DigestRun(CHANNEL.key, sunday, DUE, Outcome.POSTED, finished_at=DUE, posted=1)
                )

        jobs = RecapJobs(Scheduler(), services, GRACE, sleep=digest_goes_on)
        run = await jobs.run_scheduled(CHANNEL.key)
        assert run is not None and (run.outcome, run.posted) == (Outcome.POSTED, 5)
        assert len(looks) == 1 and len(transport.recaps()) == 1


async def test_a_recap_waits_for_the_days_digest_only_so_long(location: str, clock: Clock) -> None:
    async with running(location, clock) as (services, transport):
        await _a_week_of_digests(services, clock)
        settings = DigestSettings(
            CHANNEL, time=time(17), timezone="Europe/Paris", weekdays=WEEKDAYS, recap_day="sun"
        )
        await services.digests.save_channel_digest(settings, "ada", MONDAY)
        clock.now = DUE
        # A digest run that never ends (its process died): the recap goes after a while.
        assert await services.digests.claim_run(
            CHANNEL.key, date(2026, 11, 29), DUE, timedelta(hours=1)
        )
        looks: list[float] = []

        async def no_news(wait_s: float) -> None:
            looks.append(wait_s)

        run = await RecapJobs(Scheduler(), services, GRACE, sleep=no_news).run_scheduled(
            CHANNEL.key
        )
        assert run is not None and (run.outcome, run.posted) == (Outcome.POSTED, 4)
        assert sum(looks) == pytest.approx(DIGEST_WAIT_S)
        assert len(transport.recaps()) == 1
