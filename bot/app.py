"""The composition root: builds every service with an explicit async lifecycle."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bot.alerts.matching import LiveTopics
from bot.alerts.topics import AlertSchedule
from bot.budget import Budgets
from bot.config import Settings
from bot.delivery.outbox import DeliveryService
from bot.digests.settings import DigestSchedule
from bot.in_flight import InFlight
from bot.ops.metrics import Metrics
from bot.search.index import SearchIndex, index_path_for
from bot.search.service import SearchService
from bot.sources.http import HttpClient
from bot.storage import (
    DayLists,
    Digests,
    Installations,
    Outbox,
    Papers,
    Processes,
    RawReader,
    SavedPapers,
    SavedQueries,
    Subscriptions,
    Votes,
    open_storage,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def process_name() -> str:
    """host:pid:nonce, unique among the processes sharing a database while they run."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


@dataclass
class Services:
    settings: Settings
    db: RawReader  # for diagnostics (`fetch_raw`); callers use the repositories below
    papers: Papers
    day_lists: DayLists
    digests: Digests
    subscriptions: Subscriptions
    outbox: Outbox
    saved_queries: SavedQueries
    processes: Processes
    installations: Installations  # Slack workspaces installed through OAuth
    votes: Votes  # channels' votes on their digests' papers
    saved_papers: SavedPapers  # users' reading lists
    index: SearchIndex
    search: SearchService
    delivery: DeliveryService
    http: HttpClient
    clock: Callable[[], datetime]
    digest_schedule: DigestSchedule | None = None  # set while `paperwire run` schedules
    alert_schedule: AlertSchedule | None = None
    budgets: Budgets = field(default_factory=Budgets)  # commands per user, in memory
    requests: InFlight = field(default_factory=InFlight)  # being answered: ended on a stop
    topics: LiveTopics = field(default_factory=LiveTopics)  # every subscription, indexed
    process: str = field(default_factory=process_name)  # this process, among those sharing
    metrics: Metrics = field(default_factory=Metrics)  # what GET /metrics exports

    async def refresh_index(self) -> int:
        """Bring the search index up to date with the store."""
        return await self.index.sync(self.papers)


def http_client(settings: Settings) -> HttpClient:
    """The one HTTP client paper sources share, spacing requests to arXiv's hosts."""
    arxiv_hosts = {
        urlsplit(settings.arxiv_api_url).hostname,
        urlsplit(settings.arxiv_rss_url).hostname,
    }
    spacing = {host: float(settings.arxiv_interval_s) for host in arxiv_hosts if host}
    return HttpClient(min_interval_s=spacing)


@asynccontextmanager
async def build_services(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Services]:
    async with (
        open_storage(settings.db_path, settings.own_data_folder, clock) as storage,
        http_client(settings) as http,
    ):
        index = SearchIndex.open(index_path_for(settings.db_path))
        process = process_name()
        metrics = Metrics()
        services = Services(
            settings=settings,
            db=storage.db,
            papers=storage.papers,
            day_lists=storage.day_lists,
            digests=storage.digests,
            subscriptions=storage.subscriptions,
            outbox=storage.outbox,
            saved_queries=storage.saved_queries,
            processes=storage.processes,
            installations=storage.installations,
            votes=storage.votes,
            saved_papers=storage.saved_papers,
            index=index,
            search=SearchService(storage.papers, index, timed=metrics.searched),
            delivery=DeliveryService(storage.outbox, clock, process=process, observe=metrics.send),
            http=http,
            clock=clock,
            budgets=Budgets(settings.commands_per_minute, settings.commands_per_hour),
            process=process,
            metrics=metrics,
        )
        await services.refresh_index()
        try:
            yield services
        finally:
            services.delivery.close()  # a drain still waiting must not reach a closed database
