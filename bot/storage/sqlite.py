"""The SQLite backend: every repository over one `Database`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.storage.database import Database
from bot.storage.day_lists import SqliteDayLists
from bot.storage.digests import SqliteDigests
from bot.storage.installations import SqlInstallations
from bot.storage.outbox import SqliteOutbox
from bot.storage.papers import SqlitePapers
from bot.storage.processes import SqliteProcesses
from bot.storage.protocols import Storage
from bot.storage.saved_papers import SqlSavedPapers
from bot.storage.saved_queries import SqliteSavedQueries
from bot.storage.subscriptions import SqliteSubscriptions
from bot.storage.votes import SqlVotes


@asynccontextmanager
async def open_sqlite(
    path: str | Path,
    own_folder: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[Storage]:
    """Open the database at `path` (see `Database.open`) with its repositories; `clock`
    dates what is stored when a caller gives no time."""
    async with Database.open(path, own_folder) as db:
        yield Storage(
            db=db,
            papers=SqlitePapers(db, clock),
            day_lists=SqliteDayLists(db),
            digests=SqliteDigests(db),
            subscriptions=SqliteSubscriptions(db),
            outbox=SqliteOutbox(db),
            saved_queries=SqliteSavedQueries(db),
            processes=SqliteProcesses(db),
            installations=SqlInstallations(db),
            votes=SqlVotes(db),
            saved_papers=SqlSavedPapers(db),
        )
