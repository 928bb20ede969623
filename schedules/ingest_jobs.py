"""Scheduled ingest: Hugging Face every hour (today's and yesterday's lists, since upvotes
grow and lists fill in over the day), arXiv after its daily announcement, bioRxiv /
medRxiv once a day."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.alerts import match_new_lists
from bot.app import Services
from bot.errors import PaperwireError
from bot.ingest import IngestReport, ingest_arxiv_rss, ingest_biorxiv, ingest_hf_day
from schedules.scheduler import Scheduler, cron

_log = logging.getLogger(__name__)

# arXiv announces at 20:00 US Eastern, Sunday to Thursday; the RSS feed follows shortly.
ARXIV_ANNOUNCED = cron(
    day_of_week="sun,mon,tue,wed,thu", hour=20, minute=30, timezone=ZoneInfo("America/New_York")
)

# bioRxiv and medRxiv post over the (US) day: fetch the last two days once a day, after
# midnight in California, when yesterday's lists are whole.
BIORXIV_DAILY = cron(hour=9, minute=15)
BIORXIV_DAYS = 2


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
    if "biorxiv" in settings.sources:
        scheduler.add("ingest:biorxiv", BIORXIV_DAILY, ingest_biorxiv_recent, services)
        jobs.append("ingest:biorxiv")
    return jobs


async def ingest_hf_recent(services: Services) -> list[IngestReport]:
    """Today's and yesterday's Hugging Face lists (UTC days). A failing day is logged and
    does not stop the other."""
    today = services.clock().date()
    reports = []
    for day in (today - timedelta(days=1), today):
        try:
            report = await ingest_hf_day(services, services.http, day)
        except PaperwireError as exc:
            _log.warning("Hugging Face list for %s not ingested: %s", day, exc)
            report = IngestReport(errors=[str(exc)])
        else:
            _log.info("Hugging Face list for %s: %s", day, report.line())
        reports.append(report)
    await match_new_lists(services)  # lists that just became complete
    return reports


async def ingest_arxiv_announcements(services: Services) -> IngestReport:
    categories = services.settings.arxiv_categories
    try:
        report = await ingest_arxiv_rss(services, services.http, categories)
    except PaperwireError as exc:
        _log.warning("arXiv announcements not ingested: %s", exc)
        return IngestReport(errors=[str(exc)])
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
