"""Scheduled ingest: Hugging Face every hour (today's and yesterday's lists, since upvotes
grow and lists fill in over the day), arXiv after its daily announcement, bioRxiv /
medRxiv once a day.

A new deployment is never empty: at start, each source whose lists were last fetched
longer ago than its period is ingested at once, in the background (the bot serves and
stops meanwhile). With no source configured, the bundled papers are loaded at start
unless the corpus already has them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.alerts.send import match_new_lists
from bot.app import Services
from bot.errors import PaperwireError
from bot.ingest import (
    IngestReport,
    ingest_arxiv_rss,
    ingest_biorxiv,
    ingest_bundled_seeds,
    ingest_hf_day,
)
from bot.sources import arxiv, hf_daily
from schedules.scheduler import Scheduler, cron

_log = logging.getLogger(__name__)

# arXiv announces at 20:00 US Eastern, Sunday to Thursday; the RSS feed follows shortly.
ARXIV_ANNOUNCED = cron(
    day_of_week="sun,mon,tue,wed,thu", hour=20, minute=30, timezone=ZoneInfo("America/New_York")
)
HF_PERIOD = timedelta(hours=1)
ARXIV_PERIOD = timedelta(days=1)
# bioRxiv and medRxiv post over the (US) day: fetch the last two days once a day, after
# midnight in California, when yesterday's lists are whole.
BIORXIV_DAILY = cron(hour=9, minute=15)
BIORXIV_DAYS = 2
BIORXIV_PERIOD = timedelta(days=1)


def add_ingest_jobs(scheduler: Scheduler, services: Services) -> list[str]:
    """Schedule the configured sources, and the start-up ingest; returns the job ids."""
    settings = services.settings
    jobs = []
    if "hf" in settings.sources:
        scheduler.add("ingest:hf", cron(hour="*", minute=5), ingest_hf_recent, services)
        scheduler.run_now("ingest:hf:start", catch_up_hf, services)
        jobs += ["ingest:hf", "ingest:hf:start"]
    if "arxiv" in settings.sources:
        if settings.arxiv_categories:
            scheduler.add("ingest:arxiv", ARXIV_ANNOUNCED, ingest_arxiv_announcements, services)
            scheduler.run_now("ingest:arxiv:start", catch_up_arxiv, services)
            jobs += ["ingest:arxiv", "ingest:arxiv:start"]
        else:
            _log.warning("the arxiv source needs PAPERWIRE_ARXIV_CATEGORIES, e.g. cs.CL,cs.LG")
    if "biorxiv" in settings.sources:
        scheduler.add("ingest:biorxiv", BIORXIV_DAILY, ingest_biorxiv_recent, services)
        scheduler.run_now("ingest:biorxiv:start", catch_up_biorxiv, services)
        jobs += ["ingest:biorxiv", "ingest:biorxiv:start"]
    if not settings.sources:
        scheduler.run_now("ingest:seeds", ingest_seeds_at_start, services)
        jobs.append("ingest:seeds")
    return jobs


async def ingest_hf_recent(services: Services) -> list[IngestReport]:
    """Today's and yesterday's Hugging Face lists (UTC days). A failing day, whatever the
    error, stops neither the other day nor the alert matching; the source's own failures
    are logged in one line for both days (an unreachable source is one line)."""
    today = services.clock().date()
    reports = []
    failed = []
    for day in (today - timedelta(days=1), today):
        try:
            report = await ingest_hf_day(services, services.http, day)
        except PaperwireError as exc:
            failed.append(f"{day}: {exc}")
            report = IngestReport(errors=[str(exc)])
        except Exception as exc:  # a bug: this day only, with its traceback
            report = _not_ingested(f"Hugging Face list for {day}", exc)
        else:
            _log.info("Hugging Face list for %s: %s", day, report.line())
        reports.append(report)
    if failed:
        _log.warning("Hugging Face lists not ingested (%s)", "; ".join(failed))
    await match_new_lists(services)  # lists that just became complete
    return reports


async def ingest_arxiv_announcements(services: Services) -> IngestReport:
    categories = services.settings.arxiv_categories
    try:
        report = await ingest_arxiv_rss(services, services.http, categories)
    except Exception as exc:  # the matching after it still runs
        report = _not_ingested("arXiv announcements", exc)
    else:
        _log.info("arXiv announcements of %s: %s", "+".join(categories), report.line())
    await match_new_lists(services)
    return report


async def ingest_biorxiv_recent(services: Services) -> list[IngestReport]:
    """The last days' posts of each configured server; a failing server is logged and does
    not stop the other."""
    reports = []
    for server in services.settings.biorxiv_servers:
        try:
            report = await ingest_biorxiv(services, services.http, server, BIORXIV_DAYS)
        except PaperwireError as exc:
            _log.warning("%s posts not ingested: %s", server, exc)
            report = IngestReport(errors=[str(exc)])
        else:
            _log.info("%s posts of the last %d days: %s", server, BIORXIV_DAYS, report.line())
        reports.append(report)
    await match_new_lists(services)
    return reports


async def catch_up_hf(services: Services) -> bool:
    return await _catch_up(services, hf_daily.SOURCE, HF_PERIOD, ingest_hf_recent)


async def catch_up_arxiv(services: Services) -> bool:
    return await _catch_up(services, arxiv.SOURCE, ARXIV_PERIOD, ingest_arxiv_announcements)


async def catch_up_biorxiv(services: Services) -> bool:
    # One job fetches every configured server: the first one's lists stand for them all.
    server = services.settings.biorxiv_servers[0]
    return await _catch_up(services, server, BIORXIV_PERIOD, ingest_biorxiv_recent)


async def _catch_up(
    services: Services,
    source: str,
    period: timedelta,
    ingest: Callable[[Services], Awaitable[object]],
) -> bool:
    """Ingest `source` now unless its lists were fetched within `period` (the next
    scheduled run is soon enough then); whether it did."""
    fetched = await services.day_lists.last_fetched(source)
    if fetched is not None and services.clock() - fetched < period:
        return False
    _log.info("start-up ingest of %s (last fetched: %s)", source, fetched or "never")
    await ingest(services)
    return True


async def ingest_seeds_at_start(services: Services) -> IngestReport | None:
    report = await ingest_bundled_seeds(services)
    if report is not None:
        _log.info("bundled papers: %s", report.line())
        await match_new_lists(services)
    return report


def _not_ingested(what: str, exc: Exception) -> IngestReport:
    """Log one line for a failed day or feed; an error of our own kind is expected (the
    source is down or answered nonsense), anything else is a bug worth its traceback."""
    if isinstance(exc, PaperwireError):
        _log.warning("%s not ingested: %s", what, exc)
    else:
        _log.error("%s not ingested: %s: %s", what, type(exc).__name__, exc, exc_info=exc)
    return IngestReport(errors=[str(exc) or type(exc).__name__])
