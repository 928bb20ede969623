"""Channel digests on the scheduler: DST-correct triggers (with an injected `now`, never the
wall clock), jobs rebuilt from the database after a restart, catch-up of runs missed while
down, and at most one digest per channel and local day."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import schedules.digests as digests_module
from bot.app import Services, build_services
from bot.config import Settings
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.digests.runs import STALE_RUN, run_channel_digest
from bot.digests.settings import WEEKDAYS, DigestSettings, Outcome
from bot.models import Destination, Observation, Signals
from bot.render.neutral import Digest
from schedules.digests import DigestJobs, job_id, next_run, previous_run, trigger_for
from schedules.scheduler import Scheduler
from tests.conftest import make_observation

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
CHANNEL = Destination("fake", "T1", "C1")
OTHER = Destination("fake", "T1", "C2")
GRACE = timedelta(hours=6)


def _settings(
    at: str = "09:00", zone: str = "Europe/Paris", days: tuple[str, ...] = WEEKDAYS, **kw: Any
) -> DigestSettings:
    return DigestSettings(
        kw.pop("destination", CHANNEL),
        time=time.fromisoformat(at),
        timezone=zone,
        weekdays=days,
        **kw,
    )


def _in(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` on `zone`'s wall clock (through UTC: APScheduler may hand back a wall time
    that does not exist, which `astimezone` to the same zone would keep as it is)."""
    return moment.astimezone(UTC).astimezone(zone)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return _in(moment, zone).strftime("%a %Y-%m-%d %H:%M %z")


# --- pure trigger tests --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # Paris: CET (+01) until 29 March 2026, CEST (+02) until 25 October 2026.
        ("Europe/Paris", datetime(2026, 3, 28, 6, tzinfo=UTC), (8, 7)),
        ("Europe/Paris", datetime(2026, 10, 24, 6, tzinfo=UTC), (7, 8)),
        # New York: EST (-05) until 8 March 2026, EDT (-04) until 1 November 2026.
        ("America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC), (14, 13)),
        ("America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC), (13, 14)),
    ],
)
def test_a_nine_oclock_digest_stays_at_nine_local_across_dst(
    zone: str, before: datetime, after: tuple[int, int]
) -> None:
    settings = _settings("09:00", zone)
    first = next_run(settings, before)  # the day before the change
    assert first is not None
    second = next_run(settings, first + timedelta(seconds=1))  # the day of the change
    assert second is not None
    tz = ZoneInfo(zone)
    first_local, second_local = _in(first, tz), _in(second, tz)
    assert first_local.time() == time(9) == second_local.time()
    assert second_local.date() - first_local.date() == timedelta(days=1)
    # The UTC instant moves by an hour: 24 h apart on the wall clock is 23 h or 25 h.
    assert (first.astimezone(UTC).hour, second.astimezone(UTC).hour) == after
    elapsed = second.astimezone(UTC) - first.astimezone(UTC)
    assert abs(elapsed - timedelta(days=1)) == timedelta(hours=1)


def test_spring_forward_paris_exact_instants() -> None:
    settings = _settings("09:00", "Europe/Paris")
    fire = next_run(settings, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert fire == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    fire = next_run(settings, datetime(2026, 10, 25, 0, 0, tzinfo=UTC))
    assert fire == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_a_digest_in_the_skipped_hour_fires_once_an_hour_late() -> None:
    """02:30 does not exist in Paris on 29 March 2026 (02:00 CET -> 03:00 CEST).

    APScheduler 3.11 keeps the wall time with the pre-change offset (02:30+01:00), i.e. the
    instant 01:30 UTC, which is 03:30 CEST on the clock; it fires once that day."""
    settings = _settings("02:30", "Europe/Paris")
    fire = next_run(settings, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert fire is not None
    assert fire.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert _local(fire, PARIS) == "Sun 2026-03-29 03:30 +0200"
    trigger = trigger_for(settings)
    again = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(seconds=1))
    assert again.astimezone(UTC) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST
    fires = _fires(settings, datetime(2026, 3, 28, 12, tzinfo=UTC), days=3)
    assert [_local(f, PARIS) for f in fires] == [
        "Sun 2026-03-29 03:30 +0200",
        "Mon 2026-03-30 02:30 +0200",
        "Tue 2026-03-31 02:30 +0200",
    ]
    assert previous_run(settings, datetime(2026, 3, 29, 12, tzinfo=UTC)) == fire


def test_a_digest_in_the_repeated_hour_fires_twice_but_posts_once_a_day() -> None:
    """02:30 happens twice in Paris on 25 October 2026: APScheduler fires at both (see the
    test below that the second one cannot post: the run is claimed per local day)."""
    settings = _settings("02:30", "Europe/Paris")
    fires = _fires(settings, datetime(2026, 10, 24, 12, tzinfo=UTC), days=3)
    assert [f.astimezone(UTC) for f in fires[:2]] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]
    assert {_in(f, PARIS).date() for f in fires[:2]} == {date(2026, 10, 25)}


def _fires(settings: DigestSettings, start: datetime, days: int) -> list[datetime]:
    """Fire times as APScheduler's job loop asks for them, for `days` local days."""
    trigger = trigger_for(settings)
    fires: list[datetime] = []
    previous = None
    now = start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        local_day = _in(fire, settings.zone).date()
        if local_day - start.astimezone(settings.zone).date() > timedelta(days=days):
            return fires
        fires.append(fire)
        previous, now = fire, fire.astimezone(UTC) + timedelta(seconds=1)


def test_previous_run_after_the_repeated_hour_terminates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: stepping with `fire + timedelta(seconds=1)` (local arithmetic, which drops
    fold=1) gave back the second 02:30 forever, hanging `catch_up` at start for 8 days."""
    real = digests_module.trigger_for

    class Bounded:
        def __init__(self, settings: DigestSettings) -> None:
            self._trigger = real(settings)
            self.calls = 0

        def get_next_fire_time(self, previous: datetime | None, now: datetime) -> Any:
            self.calls += 1
            if self.calls > 100:
                raise RuntimeError("previous_run does not terminate")
            return self._trigger.get_next_fire_time(previous, now)

    monkeypatch.setattr(digests_module, "trigger_for", Bounded)
    settings = _settings("02:30", "Europe/Paris")  # every day, so Sunday 25 October too
    last = previous_run(settings, datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert last is not None and last.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_weekdays_are_respected() -> None:
    settings = _settings("09:00", "Europe/Paris", ("mon", "wed", "fri"))
    friday_evening = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # 20:00 in Paris
    fire = next_run(settings, friday_evening)
    assert fire is not None
    assert _local(fire, PARIS) == "Mon 2026-11-23 09:00 +0100"
    wednesday_early = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    assert _local(next_run(settings, wednesday_early) or wednesday_early, PARIS) == (
        "Wed 2026-11-18 09:00 +0100"
    )
    weekend = _settings("09:00", "America/New_York", ("sat", "sun"))
    fire = next_run(weekend, friday_evening)
    assert fire is not None and _local(fire, NEW_YORK) == "Sat 2026-11-21 09:00 -0500"


def test_a_disabled_digest_has_no_next_run() -> None:
    settings = _settings(enabled=False)
    assert next_run(settings, datetime(2026, 11, 20, 12, tzinfo=UTC)) is None


def test_previous_run() -> None:
    settings = _settings("09:00", "Europe/Paris", ("mon", "wed", "fri"))
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert previous_run(settings, sunday) == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    # At or before `now`: the due instant itself counts, a microsecond earlier does not.
    monday_due = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert previous_run(settings, monday_due) == monday_due
    before = monday_due - timedelta(microseconds=1)
    assert previous_run(settings, before) == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    # Across the spring change in New York: Saturday 09:00 EST, then Sunday 09:00 EDT.
    daily = _settings("09:00", "America/New_York")
    assert previous_run(daily, datetime(2026, 3, 8, 12, 59, tzinfo=UTC)) == datetime(
        2026, 3, 7, 14, 0, tzinfo=UTC
    )
    assert previous_run(daily, datetime(2026, 3, 8, 13, 0, tzinfo=UTC)) == datetime(
        2026, 3, 8, 13, 0, tzinfo=UTC
    )


# --- helpers for the stateful tests -------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeTransport:
    """Records what reaches the platform; optionally holds each send until released."""

    platform = "fake"

    def __init__(self, receipt: Receipt | None = None, hold: bool = False) -> None:
        self.sent: list[OutgoingMessage] = []
        self.receipt = receipt or Receipt(ok=True, platform_ids=("m1",))
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.entered.set()
        await self.release.wait()
        self.sent.append(message)
        return self.receipt


def _list(day: date, *titles: str, observed_at: datetime) -> list[Observation]:
    return [
        make_observation(
            title=title,
            arxiv_id=f"2611.{day.day:02d}{rank:03d}",
            day=day,
            rank=rank,
            signals=Signals(upvotes=100 - rank),
            observed_at=observed_at,
        )
        for rank, title in enumerate(titles, start=1)
    ]


LIST_DAY = date(2026, 11, 20)
# Sunday 22 November 2026, 08:00 in Paris (CET): the due time of the digests below.
DUE = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


@pytest.fixture
async def env() -> AsyncIterator[tuple[Services, Clock, FakeTransport]]:
    clock = Clock(DUE)
    async with build_services(Settings(db_path=":memory:"), clock=clock) as services:
        transport = FakeTransport()
        services.delivery.register(transport)
        observations = _list(
            LIST_DAY,
            "Agents That Plan",
            "Diffusion Everywhere",
            "Sparse Attention",
            observed_at=DUE,
        )
        await services.papers.ingest(observations, now=DUE)
        yield services, clock, transport


async def _save(services: Services, *settings: DigestSettings) -> None:
    for one in settings:
        await services.digests.save_channel_digest(one, "ada", services.clock())


# --- rebuilt after a restart ---------------------------------------------------------------


async def test_jobs_are_rebuilt_from_the_database_after_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "paperwire.db")
    enabled = [
        _settings("08:00", "Europe/Paris", destination=Destination("fake", "T1", "A")),
        _settings("07:15", "Asia/Tokyo", destination=Destination("fake", "T2", "B")),
    ]
    disabled = _settings(destination=Destination("fake", "T1", "Z"), enabled=False)
    async with build_services(Settings(db_path=db), clock=lambda: DUE) as first:
        await _save(first, *enabled, disabled)

    async with build_services(Settings(db_path=db), clock=lambda: DUE) as again:
        scheduler = Scheduler()
        jobs = DigestJobs(scheduler, again, GRACE)
        ids = await jobs.load()
        assert sorted(ids) == ["digest:fake:T1:A", "digest:fake:T2:B"]
        assert scheduler.job_ids() == ["digest:fake:T1:A", "digest:fake:T2:B"]
        # The settings came back whole from the file.
        assert await again.digests.channel_digest("fake:T2:B") == enabled[1]
        # Loading twice does not duplicate jobs (stable ids).
        await jobs.load()
        assert scheduler.job_ids() == ["digest:fake:T1:A", "digest:fake:T2:B"]
        # Turning one off removes its job; on again brings it back.
        jobs.update(replace(enabled[0], enabled=False))
        assert scheduler.job_ids() == ["digest:fake:T2:B"]
        jobs.update(enabled[0])
        assert scheduler.job_ids() == ["digest:fake:T1:A", "digest:fake:T2:B"]
        # Removing a job that is not there is harmless.
        jobs.update(disabled)
        assert scheduler.job_ids() == ["digest:fake:T1:A", "digest:fake:T2:B"]
        assert job_id(disabled) == "digest:fake:T1:Z"


async def test_a_started_scheduler_runs_the_job_at_the_channels_local_time(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, _, _ = env
    settings = _settings("08:30", "Asia/Tokyo", ("mon", "tue"))
    await _save(services, settings)
    scheduler = Scheduler()
    await DigestJobs(scheduler, services, GRACE).load()
    scheduler.start()  # computes the next run from the wall clock: only its shape is asserted
    try:
        upcoming = scheduler.next_run(job_id(settings))
    finally:
        await scheduler.stop()
    assert upcoming is not None
    local = _in(upcoming, ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute) == (8, 30)
    assert local.strftime("%a").lower() in ("mon", "tue")


# --- catch-up of runs missed while down -----------------------------------------------------


async def test_a_missed_run_within_the_grace_period_is_posted_on_return(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    settings = _settings("08:00", "Europe/Paris")  # due 07:00 UTC on Sunday 22 November
    await _save(services, settings)
    clock.now = DUE + timedelta(hours=2)
    jobs = DigestJobs(Scheduler(), services, GRACE)
    done = await jobs.catch_up()
    assert [(r.outcome, r.run_day, r.posted) for r in done] == [
        (Outcome.POSTED, date(2026, 11, 22), 3)
    ]
    assert len(transport.sent) == 1
    runs = await services.digests.digest_runs(CHANNEL.key)
    assert [(r.outcome, r.list_day) for r in runs] == [(Outcome.POSTED, LIST_DAY)]
    # A second catch-up (another restart) does nothing.
    clock.now += timedelta(minutes=30)
    assert await jobs.catch_up() == []
    assert len(transport.sent) == 1


async def test_a_missed_run_past_the_grace_period_is_skipped_and_recorded(
    env: tuple[Services, Clock, FakeTransport], caplog: pytest.LogCaptureFixture
) -> None:
    services, clock, transport = env
    settings = _settings("08:00", "Europe/Paris")
    await _save(services, settings)
    clock.now = DUE + timedelta(hours=7)
    jobs = DigestJobs(Scheduler(), services, GRACE)
    with caplog.at_level(logging.INFO, logger="schedules.digests"):
        done = await jobs.catch_up()
    assert [(r.outcome, r.run_day) for r in done] == [(Outcome.MISSED, date(2026, 11, 22))]
    assert transport.sent == []
    runs = await services.digests.digest_runs(CHANNEL.key)
    assert [r.outcome for r in runs] == [Outcome.MISSED]
    assert runs[0].detail is not None and "2026-11-22T08:00:00+01:00" in runs[0].detail
    skipped = [r for r in caplog.records if "skipping the digest" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.WARNING
    assert CHANNEL.key in skipped[0].getMessage()
    # Recorded once: a later catch-up the same day neither posts nor records it again.
    caplog.clear()
    assert await jobs.catch_up() == []
    assert transport.sent == [] and "skipping" not in caplog.text


async def test_catch_up_exactly_at_the_edge_of_the_grace_period_posts(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    await _save(services, _settings("08:00", "Europe/Paris"))
    clock.now = DUE + GRACE
    done = await DigestJobs(Scheduler(), services, GRACE).catch_up()
    assert [r.outcome for r in done] == [Outcome.POSTED] and len(transport.sent) == 1


async def test_catch_up_ignores_disabled_channels_and_runs_already_done(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    done_today = _settings("08:00", "Europe/Paris")
    off = _settings("08:00", "Europe/Paris", destination=OTHER, enabled=False)
    await _save(services, done_today, off)
    assert (await run_channel_digest(services, done_today, DUE)) is not None
    clock.now = DUE + timedelta(hours=1)
    assert await DigestJobs(Scheduler(), services, GRACE).catch_up() == []
    assert len(transport.sent) == 1
    assert await services.digests.digest_runs(OTHER.key) == []


async def test_catch_up_does_not_post_a_run_due_before_the_digest_was_set_up(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    """A due time from before the channel turned the digest on was not missed."""
    services, clock, transport = env
    clock.now = DUE + timedelta(hours=2)  # 10:00 in Paris: `on 08:00` -> next is tomorrow
    await _save(services, _settings("08:00", "Europe/Paris"))
    clock.now += timedelta(minutes=30)  # a restart half an hour later
    await DigestJobs(Scheduler(), services, GRACE).catch_up()
    assert transport.sent == []


async def test_catch_up_retakes_a_run_that_died_with_the_process(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    settings = _settings("08:00", "Europe/Paris")
    await _save(services, settings)
    # The 08:00 run claimed the day, then the process died before sending.
    assert await services.digests.claim_run(CHANNEL.key, date(2026, 11, 22), DUE, STALE_RUN)
    clock.now = DUE + timedelta(hours=2)  # back within the grace; the claim is stale
    done = await DigestJobs(Scheduler(), services, GRACE).catch_up()
    assert [r.outcome for r in done] == [Outcome.POSTED]
    assert len(transport.sent) == 1


class Together(FakeTransport):
    """Holds each send until `count` of them are under way at once."""

    def __init__(self, count: int) -> None:
        super().__init__(hold=True)
        self.count = count
        self.under_way = 0

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.under_way += 1
        if self.under_way == self.count:
            self.release.set()
        return await super().send(message)


async def test_catch_up_posts_the_missed_digests_side_by_side(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, _ = env
    together = Together(count=3)
    services.delivery.register(together)  # one after the other, this would never end
    channels = [Destination("fake", "T1", f"C{n}") for n in range(3)]
    await _save(services, *(_settings("08:00", "Europe/Paris", destination=c) for c in channels))
    clock.now = DUE + timedelta(hours=2)
    async with asyncio.timeout(10):
        done = await DigestJobs(Scheduler(), services, GRACE).catch_up()
    assert [r.outcome for r in done] == [Outcome.POSTED] * 3
    assert sorted(m.destination.channel for m in together.sent) == ["C0", "C1", "C2"]


# --- never two digests for one channel and local day -------------------------------------


async def test_concurrent_runs_for_one_channel_and_day_post_once(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    settings = _settings("08:00", "Europe/Paris")
    await _save(services, settings)
    runs = await asyncio.gather(
        run_channel_digest(services, settings, DUE),
        run_channel_digest(services, settings, DUE),
    )
    assert sorted(r.outcome.value if r else "none" for r in runs) == ["none", "posted"]
    assert len(transport.sent) == 1
    # The scheduled job later that local day (23:30 in Paris) posts nothing either.
    clock.now = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert await DigestJobs(Scheduler(), services, GRACE).run_scheduled(CHANNEL.key) is None
    assert len(transport.sent) == 1
    # A run at 00:15 in Paris (still the 22nd in UTC) is the next local day: a new day.
    await _save(services, _settings("00:15", "Europe/Paris"))
    clock.now = datetime(2026, 11, 22, 23, 15, tzinfo=UTC)
    await services.papers.ingest(
        _list(date(2026, 11, 21), "Fresh Paper", observed_at=clock.now), now=clock.now
    )
    run = await DigestJobs(Scheduler(), services, GRACE).run_scheduled(CHANNEL.key)
    assert run is not None and run.outcome is Outcome.POSTED
    assert run.run_day == date(2026, 11, 23)
    assert len(transport.sent) == 2


async def test_a_run_in_flight_blocks_another_until_it_is_done(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, _, _ = env
    slow = FakeTransport(hold=True)
    services.delivery.register(slow)
    settings = _settings("08:00", "Europe/Paris")
    first = asyncio.create_task(run_channel_digest(services, settings, DUE))
    await asyncio.wait_for(slow.entered.wait(), timeout=2)
    # While the first is sending, a second (e.g. `/papers digest now`) is refused at once.
    assert await run_channel_digest(services, settings, DUE) is None
    slow.release.set()
    done = await asyncio.wait_for(first, timeout=2)
    assert done is not None and done.outcome is Outcome.POSTED
    assert len(slow.sent) == 1


async def test_the_second_fire_of_a_repeated_hour_does_not_post_again(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    settings = _settings("02:30", "Europe/Paris")
    await _save(services, settings)
    fires = _fires(settings, datetime(2026, 10, 24, 12, tzinfo=UTC), days=1)
    assert len(fires) == 2
    await services.papers.ingest(
        _list(date(2026, 10, 23), "October Paper", observed_at=fires[0]), now=fires[0]
    )
    jobs = DigestJobs(Scheduler(), services, GRACE)
    outcomes = []
    for fire in fires:
        clock.now = fire.astimezone(UTC)
        run = await jobs.run_scheduled(CHANNEL.key)
        outcomes.append(run.outcome if run else None)
    assert outcomes == [Outcome.POSTED, None]
    assert len(transport.sent) == 1


async def test_a_run_that_posted_nothing_can_be_retried_the_same_day(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, transport = env
    # Yesterday's list (in Paris) is not there yet: nothing complete for `covers yesterday`.
    settings = _settings("08:00", "Europe/Paris", covers="yesterday")
    first = await run_channel_digest(services, settings, DUE)
    assert first is not None and first.outcome is Outcome.NOTHING_COMPLETE
    assert transport.sent == []
    clock.now = DUE + timedelta(hours=1)
    await services.papers.ingest(
        _list(date(2026, 11, 21), "Late List Paper", observed_at=clock.now), now=clock.now
    )
    second = await run_channel_digest(services, settings, clock.now)
    assert second is not None and second.outcome is Outcome.POSTED
    assert second.run_day == first.run_day and second.list_day == date(2026, 11, 21)
    assert len(transport.sent) == 1
    runs = await services.digests.digest_runs(CHANNEL.key)
    assert [(r.outcome, r.posted) for r in runs] == [(Outcome.POSTED, 1)]
    # ...and once posted, not again.
    assert await run_channel_digest(services, settings, clock.now) is None


async def test_a_refused_digest_waits_in_the_outbox_and_goes_on_retry(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, clock, _ = env
    failing = FakeTransport(Receipt(ok=False, error="channel_not_found"))
    services.delivery.register(failing)
    settings = _settings("08:00", "Europe/Paris")
    run = await run_channel_digest(services, settings, DUE)
    assert run is not None and run.outcome is Outcome.QUEUED
    assert run.detail == "channel_not_found"
    # Kept, and the day is taken: no second digest while the first waits.
    assert await run_channel_digest(services, settings, DUE) is None
    working = FakeTransport()
    services.delivery.register(working)
    clock.now = DUE + timedelta(minutes=5)  # past the first backoff
    results = await services.delivery.drain()
    assert [r.ok for r in results.values()] == [True] and len(working.sent) == 1


async def test_a_transport_that_raises_keeps_the_message(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, _, _ = env

    class Broken(FakeTransport):
        async def send(self, message: OutgoingMessage) -> Receipt:
            raise ConnectionError("socket closed")

    services.delivery.register(Broken())
    run = await run_channel_digest(services, _settings("08:00"), DUE)
    assert run is not None and run.outcome is Outcome.QUEUED
    assert run.detail == "ConnectionError: socket closed"
    runs = await services.digests.digest_runs(CHANNEL.key)
    assert runs[0].outcome is Outcome.QUEUED and runs[0].finished_at is not None
    assert (await services.outbox.outbox_depths()) == {CHANNEL.key: 1}


@pytest.mark.parametrize(
    ("age", "retaken"),
    [(timedelta(minutes=30), False), (STALE_RUN + timedelta(minutes=1), True)],
)
async def test_a_stale_running_claim_can_be_retaken(
    env: tuple[Services, Clock, FakeTransport], age: timedelta, retaken: bool
) -> None:
    services, clock, transport = env
    settings = _settings("08:00", "Europe/Paris")
    # A process claimed today's run and died before finishing it.
    assert await services.digests.claim_run(CHANNEL.key, date(2026, 11, 22), DUE, STALE_RUN)
    clock.now = DUE + age
    run = await run_channel_digest(services, settings, clock.now)
    assert (run is not None and run.outcome is Outcome.POSTED) is retaken
    assert len(transport.sent) == int(retaken)
    runs = await services.digests.digest_runs(CHANNEL.key)
    assert runs[0].outcome is (Outcome.POSTED if retaken else Outcome.RUNNING)


async def test_what_a_digest_sent_is_its_selection_in_order(
    env: tuple[Services, Clock, FakeTransport],
) -> None:
    services, _, transport = env
    await run_channel_digest(services, _settings("08:00", size=2), DUE)
    [message] = transport.sent
    content = message.reply.content
    assert isinstance(content, Digest) and not message.reply.ephemeral
    assert content.day == LIST_DAY and content.style == "compact"
    assert [p.title for p in content.papers] == ["Agents That Plan", "Diffusion Everywhere"]
    assert message.paper_ids == tuple(p.id for p in content.papers)
    assert await services.outbox.sent_paper_ids(CHANNEL.key) == frozenset(message.paper_ids)
