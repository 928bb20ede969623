"""The PostgreSQL backend: every repository protocol over one connection pool, for several
paperwire processes on one database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from bot.storage.installations import SqlInstallations
from bot.storage.postgres.database import PgDatabase
from bot.storage.postgres.day_lists import PgDayLists
from bot.storage.postgres.digests import PgDigests
from bot.storage.postgres.outbox import PgOutbox
from bot.storage.postgres.papers import PgPapers
from bot.storage.postgres.processes import PgProcesses
from bot.storage.postgres.saved_queries import PgSavedQueries
from bot.storage.postgres.subscriptions import PgSubscriptions
from bot.storage.protocols import Storage
from bot.storage.saved_papers import SqlSavedPapers
from bot.storage.votes import SqlVotes

__all__ = ["PgDatabase", "open_postgres"]


@asynccontextmanager
async def open_postgres(url: str, clock: Callable[[], datetime]) -> AsyncIterator[Storage]:
    async with PgDatabase.open(url) as db:
        processes = PgProcesses(db)
        try:
            yield Storage(
                db=db,
                papers=PgPapers(db, clock),
                day_lists=PgDayLists(db),
                digests=PgDigests(db),
                subscriptions=PgSubscriptions(db),
                outbox=PgOutbox(db),
                saved_queries=PgSavedQueries(db),
                processes=processes,
                installations=SqlInstallations(db, postgres=True),
                votes=SqlVotes(db, postgres=True),
                saved_papers=SqlSavedPapers(db, postgres=True),
            )
        finally:
            await processes.resign()  # its own connection, apart from the pool
