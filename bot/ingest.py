"""Ingesting papers from a source: store what it gave, note how each day's list is filling
in, bring the search index up to date, and report what happened in one line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.app import Services
from bot.config import Settings
from bot.day_lists import WHOLE, CompletionRule, ListState
from bot.errors import PaperwireError, UserError
from bot.models import Observation, normalize_arxiv_id
from bot.sources import arxiv, biorxiv, hf_daily, seeds
from bot.sources.fetch import (
    Fetched,
    days_back,
    decode_json,
    fetch_arxiv_category,
    fetch_arxiv_ids,
    fetch_arxiv_rss,
    fetch_biorxiv,
    fetch_hf_day,
)
from bot.sources.hf_daily import SOURCE
from bot.sources.http import HttpClient
from bot.storage import IngestCounts
from bot.wording import plural

_log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest did, summed over its batches. Every item of the input is counted once:
    new + updated + unchanged + skipped is the number of items read (a file that could not
    be read at all is an error, and its items are not counted)."""

    counts: IngestCounts = field(default_factory=IngestCounts)
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    lists: list[ListState] = field(default_factory=list)

    def line(self) -> str:
        c = self.counts
        return (
            f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged,"
            f" {self.skipped} skipped, {plural(len(self.errors), 'error')}"
        )


async def store_observations(
    services: Services,
    observations: Sequence[Observation],
    rule: CompletionRule,
    report: IngestReport,
    day_lists: Sequence[tuple[date, str]] = (),
) -> None:
    """Store one fetched batch, with the size of each day's list it carried (`day_lists`
    are recorded even when the batch has none of their papers: those lists were fetched)."""
    counts = await services.papers.ingest(observations, rule, services.clock(), day_lists)
    report.counts += counts
    if observations:  # a batch is one fetch, of one source
        source = observations[0].source
        services.metrics.ingested(source, counts.new, counts.updated, counts.unchanged)
    report.lists += counts.lists


async def ingest_seeds(
    services: Services, paths: Sequence[Path] = (), year: int | None = None
) -> IngestReport:
    """The bundled pages (or `paths`); a page is a whole day's list."""
    now = services.clock()
    pages = seeds.read_pages(paths or seeds.bundled_pages(), reference=now.date(), year=year)
    report = IngestReport()
    await store_observations(services, list(seeds.observations(pages, now)), WHOLE, report)
    await services.refresh_index()
    return report


async def ingest_bundled_seeds(services: Services) -> IngestReport | None:
    """The bundled pages, unless the corpus already has any of their papers (so running it
    at every start adds them once). None when nothing was done."""
    now = services.clock()
    pages = seeds.read_pages(seeds.bundled_pages(), reference=now.date())
    ids = sorted({obs.paper_id for obs in seeds.observations(pages, now)})
    if await services.papers.pks_for_ids(ids):
        return None
    return await ingest_seeds(services)


Progress = Callable[[str], None]


def hf_rule(settings: Settings) -> CompletionRule:
    return CompletionRule(
        settle=timedelta(hours=settings.list_settle_hours),
        next_day_hour=settings.list_complete_hour,
    )


async def ingest_hf_day(services: Services, http: HttpClient, day: date) -> IngestReport:
    """Fetch `day`'s Hugging Face list (all pages) and store it. Raises `HttpError` or
    `SourceError` before storing anything when a page fails."""
    fetched = await fetch_hf_day(http, services.settings.hf_url, day, services.clock())
    log_refused(f"Hugging Face daily papers for {day}", fetched.refused)
    # Recorded even when empty, so the day can become complete with nothing on it.
    return await _store_fetched(services, fetched, hf_rule(services.settings), [(day, SOURCE)])


async def ingest_arxiv_category(
    services: Services, http: HttpClient, category: str, days: int
) -> IngestReport:
    now = services.clock()
    since = days_back(now, days)
    fetched = await fetch_arxiv_category(
        http, services.settings.arxiv_api_url, category, since, now
    )
    return await _store_fetched(services, fetched, WHOLE)


async def ingest_arxiv_ids(
    services: Services, http: HttpClient, ids: Sequence[str]
) -> IngestReport:
    """Papers by arXiv id; an id arXiv does not know is left out (it says nothing of it)."""
    for raw in ids:
        if normalize_arxiv_id(raw) is None:
            raise UserError(f"{raw[:40]!r} is not an arXiv id such as 2509.04664")
    fetched = await fetch_arxiv_ids(http, services.settings.arxiv_api_url, ids, services.clock())
    return await _store_fetched(services, fetched, WHOLE)


async def ingest_arxiv_rss(
    services: Services, http: HttpClient, categories: Sequence[str]
) -> IngestReport:
    """An announcement arrives whole, so its day's list is complete at once."""
    fetched = await fetch_arxiv_rss(
        http, services.settings.arxiv_rss_url, categories, services.clock()
    )
    return await _store_fetched(services, fetched, WHOLE)


SKIPS_SHOWN = 10  # skipped items named in the log; the rest are counted


def log_skips(reasons: Sequence[str]) -> None:
    """Name each skipped item (position, id when known, why) on stderr, up to
    `SKIPS_SHOWN`, then how many more."""
    for reason in reasons[:SKIPS_SHOWN]:
        _log.warning("skipped %s", reason)
    if len(reasons) > SKIPS_SHOWN:
        _log.warning("... and %d more skipped items", len(reasons) - SKIPS_SHOWN)


def log_refused(where: str, refused: Sequence[str]) -> None:
    """One warning for the items of a Hugging Face list that are not arXiv papers."""
    if refused:
        _log.warning(
            "%s: refused %d items whose id is not an arXiv id (the first: %r);"
            " a Hugging Face daily list holds only arXiv papers",
            where,
            len(refused),
            refused[0][:40],
        )


@dataclass(frozen=True)
class ParsedFile:
    observations: tuple[Observation, ...]
    skipped: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


async def ingest_biorxiv(
    services: Services, http: HttpClient, server: str, days: int
) -> IngestReport:
    """`server`'s posts of the last `days` days (UTC dates, today included). Each day's
    first versions make its list, recorded even when empty; posts arrive over the day, so
    a list completes as a Hugging Face one does."""
    now = services.clock()
    since = days_back(now, days)
    fetched = await fetch_biorxiv(
        http, services.settings.biorxiv_api_url, server, since, now.date(), now
    )
    lists = [(since + timedelta(days=n), server) for n in range((now.date() - since).days + 1)]
    return await _store_fetched(services, fetched, hf_rule(services.settings), lists)


async def ingest_files(
    services: Services, paths: Sequence[Path], kind: str, progress: Progress | None = None
) -> IngestReport:
    """Import saved responses: Hugging Face JSON named `YYYY-MM-DD.json` (the list's day),
    arXiv XML (API Atom, RSS 2.0 or RSS 1.0 / RDF announcements), or pages of the bioRxiv /
    medRxiv details API (`kind` "biorxiv" or "medrxiv", the server of records that do not
    name theirs). Each file stands alone: a bad one is reported, the rest go in. The pages
    of the details API are stored as one batch: together they are the days' lists."""
    report = IngestReport()
    rule = WHOLE if kind == "arxiv" else hf_rule(services.settings)
    skipped: list[str] = []
    pages: list[Observation] = []
    for number, path in enumerate(paths, 1):
        if progress:
            progress(f"{number}/{len(paths)} {path.name}")
        try:
            parsed = parse_file(path, kind, services.clock())
            if kind not in biorxiv.SERVERS:  # those are ranked together, after the last file
                await store_observations(services, parsed.observations, rule, report)
        except OSError as exc:
            report.errors.append(f"{path.name}: {exc.strerror or exc}")
            continue
        except PaperwireError as exc:  # its message already names the file
            message = str(exc)
            report.errors.append(message if path.name in message else f"{path.name}: {message}")
            continue
        except Exception as exc:  # a case no one foresaw: this file only, with its traceback
            _log.debug("importing %s failed", path, exc_info=exc)
            report.errors.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        report.skipped += len(parsed.skipped) + len(parsed.refused)
        skipped += (f"{path.name} {reason}" for reason in parsed.skipped)
        log_refused(path.name, parsed.refused)
        if kind in biorxiv.SERVERS:
            pages += parsed.observations
    if pages:
        await store_observations(services, biorxiv.rank_by_day(pages), rule, report)
    log_skips(skipped)
    await services.refresh_index()
    return report


def parse_file(path: Path, kind: str, now: datetime) -> ParsedFile:
    body = path.read_bytes()
    if kind == "hf":
        day = _day_from_name(path)
        page = hf_daily.parse_daily_papers(decode_json(body, path.name), day, now)
        return ParsedFile(page.observations, page.skipped, page.refused)
    if kind in biorxiv.SERVERS:
        details = biorxiv.parse_details(decode_json(body, path.name), kind, now)
        return ParsedFile(details.observations, details.skipped)
    feed = arxiv.parse_feed(body, now, path.name)
    return ParsedFile(feed.observations, feed.skipped)


def _day_from_name(path: Path) -> date:
    try:
        return date.fromisoformat(path.stem[:10])
    except ValueError:
        raise UserError(
            f"{path.name}: name the file after its list's day, e.g. 2026-07-01.json"
        ) from None


async def _store_fetched(
    services: Services,
    fetched: Fetched,
    rule: CompletionRule,
    day_lists: Sequence[tuple[date, str]] = (),
) -> IngestReport:
    report = IngestReport(skipped=len(fetched.skipped) + len(fetched.refused))
    log_skips(fetched.skipped)
    await store_observations(services, fetched.observations, rule, report, day_lists)
    await services.refresh_index()
    return report
