"""Opening storage: a file path is SQLite (the embedded default), a `postgresql://` URL is
PostgreSQL (several processes on one database)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.storage.locations import is_postgres_url
from bot.storage.protocols import Storage
from bot.storage.sqlite import open_sqlite


@asynccontextmanager
async def open_storage(
    location: str | Path,
    own_folder: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[Storage]:
    """The repositories of the database at `location` (created and migrated if needed);
    `clock` dates what is stored when a caller gives no time. `own_folder`: a SQLite file
    in paperwire's own data folder, kept private (see `Database.open`)."""
    if isinstance(location, str) and is_postgres_url(location):
        from bot.storage.postgres import open_postgres  # psycopg only when it is used

        async with open_postgres(location, clock) as storage:
            yield storage
    else:
        async with open_sqlite(location, own_folder, clock) as storage:
            yield storage
