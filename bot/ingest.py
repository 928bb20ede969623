"""Ingesting papers from a source: store what it gave, note how each day's list is filling
in, bring the search index up to date, and report what happened in one line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bot.app import Services
from bot.day_lists import WHOLE, CompletionRule, ListState
from bot.models import Observation
from bot.sources import seeds
from bot.storage import IngestCounts


@dataclass
class IngestReport:
    """What an ingest did, summed over its batches."""

    counts: IngestCounts = field(default_factory=IngestCounts)
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    lists: list[ListState] = field(default_factory=list)

    def line(self) -> str:
        c = self.counts
        return (
            f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged,"
            f" {self.skipped} skipped, {len(self.errors)} errors"
        )


async def store_observations(
    services: Services,
    observations: Sequence[Observation],
    rule: CompletionRule,
    report: IngestReport,
) -> None:
    """Store one fetched batch and record the size of each day's list it carried."""
    report.counts += await services.store.ingest(observations)
    report.lists += await record_lists(services, observations, rule, services.clock())


async def record_lists(
    services: Services, observations: Iterable[Observation], rule: CompletionRule, now: datetime
) -> list[ListState]:
    papers: dict[tuple[date, str], set[str]] = {}
    for obs in observations:
        if obs.day is not None:
            papers.setdefault((obs.day, obs.source), set()).add(obs.paper_id)
    states = []
    for (day, source), ids in sorted(papers.items()):
        previous = await services.store.list_state(day, source)
        state = rule.after_fetch(previous, day, source, len(ids), now)
        await services.store.save_list_state(state)
        states.append(state)
    return states


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
