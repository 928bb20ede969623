import asyncio
import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import Services, build_services
from bot.ingest import IngestReport, ingest_hf_day
from bot.models import Destination
from bot.sources.http import HttpClient
from schedules import ingest_jobs
from schedules.ingest_jobs import (
    ARXIV_ANNOUNCED,
    BIORXIV_DAILY,
    add_ingest_jobs,
    catch_up_biorxiv,
    catch_up_hf,
    ingest_biorxiv_recent,
    ingest_hf_recent,
    ingest_seeds_at_start,
)
from schedules.scheduler import Scheduler, cron
from tests.conftest import Clock
from tests.sources.fake_sources import running_fake_sources, settings_for, status

NEW_YORK = ZoneInfo("America/New_York")


def test_configured_sources_become_jobs(services: Services) -> None:
    scheduler = Scheduler()
    settings = replace(services.settings, sources=("hf", "arxiv"), arxiv_categories=("cs.CL",))
    jobs = add_ingest_jobs(scheduler, replace(services, settings=settings))
    assert jobs == ["ingest:hf", "ingest:hf:start", "ingest:arxiv", "ingest:arxiv:start"]
    assert scheduler.job_ids() == sorted(jobs)
    # Adding again replaces rather than duplicates (stable ids).
    add_ingest_jobs(scheduler, replace(services, settings=settings))
    assert scheduler.job_ids() == sorted(jobs)


def test_with_no_source_the_bundled_papers_are_loaded_at_start(services: Services) -> None:
    scheduler = Scheduler()
    settings = replace(services.settings, sources=())
    assert add_ingest_jobs(scheduler, replace(services, settings=settings)) == ["ingest:seeds"]


async def test_a_run_now_job_runs_once_in_the_background_when_the_scheduler_starts() -> None:
    ran = asyncio.Event()
    calls = []

    async def job(value: int) -> None:
        calls.append(value)
        ran.set()

    scheduler = Scheduler()
    scheduler.run_now("once", job, 7)
    scheduler.start()
    try:
        async with asyncio.timeout(10):
            await ran.wait()
        assert scheduler.job_ids() == []  # once only
    finally:
        await scheduler.stop()
    assert calls == [7]


def test_arxiv_without_categories_is_not_scheduled(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = Scheduler()
    settings = replace(services.settings, sources=("arxiv",), arxiv_categories=())
    assert add_ingest_jobs(scheduler, replace(services, settings=settings)) == []
    assert "PAPERWIRE_ARXIV_CATEGORIES" in caplog.text


def test_hourly_hf_fetch_fires_at_five_past() -> None:
    trigger = cron(hour="*", minute=5)
    now = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 7, 1, 10, 5, tzinfo=UTC)


def test_arxiv_job_follows_the_announcement_across_dst() -> None:
    # Thursday before the US clocks change (1 Nov 2026): 20:30 EDT is 00:30 UTC.
    before = datetime(2026, 10, 29, 12, 0, tzinfo=UTC)
    fire = ARXIV_ANNOUNCED.get_next_fire_time(None, before)
    assert fire.astimezone(UTC) == datetime(2026, 10, 30, 0, 30, tzinfo=UTC)
    # Friday and Saturday have no announcement; Sunday 1 Nov is EST: 20:30 is 01:30 UTC.
    after = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    fire = ARXIV_ANNOUNCED.get_next_fire_time(None, after)
    assert fire.astimezone(NEW_YORK).strftime("%a %H:%M") == "Sun 20:30"
    assert fire.astimezone(UTC) == datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


async def test_an_unexpected_error_on_one_day_stops_neither_the_next_day_nor_matching(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    yesterday, today = date(2026, 7, 1), date(2026, 7, 2)
    ada = Destination("console", "local", "ada", kind="dm")

    async def first_day_breaks(services: Services, http: HttpClient, day: date) -> IngestReport:
        if day == yesterday:
            raise RuntimeError("no one saw this coming")
        return await ingest_hf_day(services, http, day)

    now = datetime(2026, 7, 2, 10, tzinfo=UTC)
    async with (
        running_fake_sources() as fake,
        build_services(settings_for(fake), clock=lambda: now) as services,
    ):
        # An earlier run stored yesterday's list, complete by now but not matched yet.
        await ingest_hf_day(services, services.http, yesterday)
        assert [(d, s) for d, s, _ in await services.subscriptions.lists_to_match()] == [
            (yesterday, "hf")
        ]
        await services.subscriptions.add_subscription(ada, "Dockerless", now, limit=20)
        monkeypatch.setattr(ingest_jobs, "ingest_hf_day", first_day_breaks)

        reports = await ingest_hf_recent(services)

        assert reports[0].errors == ["no one saw this coming"]
        assert not reports[1].errors and reports[1].counts.new > 0
        assert await services.day_lists.list_state(today, "hf") is not None
        assert await services.subscriptions.lists_to_match() == []  # matching ran
        assert len(await services.subscriptions.pending_matches(ada)) == 1
    [failed] = [r for r in caplog.records if "not ingested" in r.getMessage()]
    assert failed.getMessage() == (
        "Hugging Face list for 2026-07-01 not ingested: RuntimeError: no one saw this coming"
    )
    assert failed.exc_info is not None  # the traceback of a bug is kept


async def test_an_unexpected_arxiv_error_is_logged_and_matching_still_runs(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def breaks(*args: object) -> IngestReport:
        raise KeyError("guid")

    async def matched(services: Services) -> int:
        calls.append("matched")
        return 0

    calls: list[str] = []
    monkeypatch.setattr(ingest_jobs, "ingest_arxiv_rss", breaks)
    monkeypatch.setattr(ingest_jobs, "match_new_lists", matched)
    settings = replace(services.settings, arxiv_categories=("cs.CL",))
    report = await ingest_jobs.ingest_arxiv_announcements(replace(services, settings=settings))
    assert report.errors == ["'guid'"] and calls == ["matched"]
    assert "arXiv announcements not ingested: KeyError: 'guid'" in caplog.text


async def test_a_failing_source_is_logged_and_does_not_stop_the_other_day(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 9 (discard) on loopback refuses connections: no network is touched.
    settings = replace(services.settings, hf_url="http://127.0.0.1:9")
    async with HttpClient(retries=0) as http:
        reports = await ingest_hf_recent(replace(services, settings=settings, http=http))
    assert len(reports) == 2 and all(r.errors for r in reports)
    assert "not ingested" in caplog.text
    assert await services.papers.count_papers() == 0


def test_biorxiv_is_scheduled_once_a_day_after_midnight_in_california(
    services: Services,
) -> None:
    scheduler = Scheduler()
    settings = replace(services.settings, sources=("biorxiv",))
    jobs = add_ingest_jobs(scheduler, replace(services, settings=settings))
    assert jobs == ["ingest:biorxiv", "ingest:biorxiv:start"]
    fire = BIORXIV_DAILY.get_next_fire_time(None, datetime(2025, 1, 15, 12, tzinfo=UTC))
    assert fire == datetime(2025, 1, 16, 9, 15, tzinfo=UTC)
    assert fire.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%H:%M") == "01:15"


async def test_scheduled_biorxiv_fetches_each_server_and_a_failing_one_does_not_stop_the_other(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_fake_sources() as fake:
        settings = replace(
            settings_for(fake),
            sources=("biorxiv",),
            biorxiv_servers=("medrxiv", "biorxiv"),
        )
        fake.fail("/details/medrxiv/2025-01-14/2025-01-15/0/json", status(500), status(500))
        clock = Clock(datetime(2025, 1, 15, 9, 15, tzinfo=UTC))
        async with HttpClient(retries=1, sleep=_no_wait) as http:
            reports = await ingest_biorxiv_recent(
                replace(services, settings=settings, http=http, clock=clock)
            )
    assert [bool(r.errors) for r in reports] == [True, False]
    assert "medrxiv posts not ingested" in caplog.text
    # bioRxiv's 14th: one first version, and the two later versions posted that day.
    assert reports[1].line() == "3 new, 0 updated, 0 unchanged, 0 skipped, 0 errors"
    state = await services.day_lists.list_state(date(2025, 1, 14), "biorxiv")
    assert state is not None and state.size == 1 and state.complete


async def _no_wait(seconds: float) -> None:
    return None


async def test_at_start_biorxiv_is_fetched_unless_fetched_within_a_day() -> None:
    clock = Clock(datetime(2025, 1, 15, 9, 0, tzinfo=UTC))
    async with (
        running_fake_sources() as fake,
        build_services(settings_for(fake, sources=("biorxiv",)), clock=clock) as services,
    ):
        assert await catch_up_biorxiv(services)  # a new deployment
        assert await services.papers.count_papers() == 3  # the 14th's posts
        clock.advance(hours=20)
        assert not await catch_up_biorxiv(services)


def hf_item(number: int, title: str) -> dict[str, Any]:
    return {"paper": {"id": f"2611.{number:05d}", "title": title, "summary": "About it."}}


async def test_at_start_a_source_not_fetched_within_its_period_is_ingested() -> None:
    clock = Clock()
    async with (
        running_fake_sources() as fake,
        build_services(settings_for(fake), clock=clock) as services,
    ):
        fake.hf_days[clock.now.date().isoformat()] = [hf_item(1, "Fresh"), hf_item(2, "Agents")]
        assert await catch_up_hf(services)  # never fetched: a new deployment
        assert await services.papers.count_papers() == 2
        fetches = len(fake.requests_to("/api/daily_papers"))
        clock.advance(minutes=40)
        assert not await catch_up_hf(services)  # a restart soon after: the schedule will do
        assert len(fake.requests_to("/api/daily_papers")) == fetches
        clock.advance(minutes=30)
        assert await catch_up_hf(services)  # down for longer than an hour
        assert len(fake.requests_to("/api/daily_papers")) > fetches


async def test_an_unreachable_source_at_start_is_one_line_and_the_schedule_stays(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(services.settings, hf_url="http://127.0.0.1:9")
    async with HttpClient(retries=0) as http:
        unreachable = replace(services, settings=settings, http=http)
        scheduler = Scheduler()
        add_ingest_jobs(scheduler, unreachable)
        with caplog.at_level(logging.WARNING):
            assert await catch_up_hf(unreachable)
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.startswith("Hugging Face lists not ingested")
    assert "ingest:hf" in scheduler.job_ids()


async def test_the_bundled_papers_are_loaded_once(services: Services) -> None:
    report = await ingest_seeds_at_start(services)
    assert report is not None and report.counts.new == await services.papers.count_papers() > 200
    assert await ingest_seeds_at_start(services) is None
    assert await services.papers.count_papers() == report.counts.new
