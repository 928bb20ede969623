"""Scheduled ingest: Hugging Face every hour (today's and yesterday's lists, since upvotes
grow and lists fill in over the day), arXiv after its daily announcement."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.alerts import match_new_lists
from bot.app import Services
from bot.errors import PaperwireError
from bot.ingest import IngestReport, ingest_arxiv_rss, ingest_hf_day
from schedules.scheduler import Scheduler, cron

_log = logging.getLogger(__name__)

# arXiv announces at 20:00 US Eastern, Sunday to Thursday; the RSS feed follows shortly.
ARXIV_ANNOUNCED = cron(
    day_of_week="sun,mon,tue,wed,thu", hour=20, minute=30, timezone=ZoneInfo("America/New_York")
)


def add_ingest_jobs(scheduler: Scheduler, services: Services) -> list[str]:
    """Schedule the configured sources; returns the job ids."""
    settings = services.settings
    jobs = []
    if "hf" in settings.sources:
        scheduler.add("ingest:hf", cron(hour="*", minute=5), ingest_hf_recent, services)
        jobs.append("ingest:hf")
    if "arxiv" in settings.sources:
        if settings.arxiv_categories:
            scheduler.add("ingest:arxiv", ARXIV_ANNOUNCED, ingest_arxiv_announcements, services)
            jobs.append("ingest:arxiv")
        else:
            _log.warning("the arxiv source needs PAPERWIRE_ARXIV_CATEGORIES, e.g. cs.CL,cs.LG")
    return jobs


async def ingest_hf_recent(services: Services) -> list[IngestReport]:
    """Today's and yesterday's Hugging Face lists (UTC days). A failing day, whatever the
    error, is logged and stops neither the other day nor the alert matching."""
    today = services.clock().date()
    reports = []
    for day in (today - timedelta(days=1), today):
        try:
            report = await ingest_hf_day(services, services.http, day)
        except Exception as exc:  # one day's failure must not stop the rest
            report = _not_ingested(f"Hugging Face list for {day}", exc)
        else:
            _log.info("Hugging Face list for %s: %s", day, report.line())
        reports.append(report)
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


def _not_ingested(what: str, exc: Exception) -> IngestReport:
    """Log one line for a failed day or feed; an error of our own kind is expected (the
    source is down or answered nonsense), anything else is a bug worth its traceback."""
    if isinstance(exc, PaperwireError):
        _log.warning("%s not ingested: %s", what, exc)
    else:
        _log.error("%s not ingested: %s: %s", what, type(exc).__name__, exc, exc_info=exc)
    return IngestReport(errors=[str(exc) or type(exc).__name__])
