"""The PostgreSQL database through psycopg 3 and its connection pool: many paperwire
processes may share it. `PgDatabase` owns the pool, the migrations (applied at start under
an advisory lock) and the one write path, `transaction()`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from bot.errors import UserError
from bot.storage.locations import describe
from bot.storage.postgres.migrations import LATEST_VERSION, MIGRATIONS

_log = logging.getLogger(__name__)

# Advisory lock keys: (one of these, the schema's hash), so that deployments in two schemas
# of one database never share a lock. Use with `ON_SCHEMA`, e.g.
# f"SELECT pg_advisory_xact_lock({ON_SCHEMA})" with (MIGRATION_LOCK,).
MIGRATION_LOCK = 0x70617001  # one process migrates at a time
INGEST_LOCK = 0x70617002  # writers of papers take turns: `seq` follows commits
LEADER_LOCK = 0x70617003  # held by the process that runs the schedule
ON_SCHEMA = "%s, hashtext(current_schema())"

CONNECT_TIMEOUT_S = 10


class PgDatabase:
    """The pool. Build with `PgDatabase.open(url)`."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], url: str) -> None:
        self._pool = pool
        self.url = url  # for a connection of its own (the leader's lock)

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, max_size: int = 10) -> AsyncIterator[PgDatabase]:
        """Connect to the database at `url` and bring its schema up to date (the URL may
        name a schema with `options=-csearch_path%3D...`)."""
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": True},
            configure=_configure,
            timeout=30,
            name="paperwire",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (PoolTimeout, psycopg.Error):
            await pool.close()
            raise UserError(
                f"cannot connect to {describe(url)} (is it running, and may this user log in?)"
            ) from None
        try:
            db = cls(pool, url)
            await db.migrate()
            yield db
        finally:
            await pool.close()

    async def migrate(self) -> int:
        """Bring the schema to the latest version, one process at a time; returns the
        version it was at."""
        async with self.transaction() as conn:
            await conn.execute(f"SELECT pg_advisory_xact_lock({ON_SCHEMA})", (MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS paperwire_schema (version integer NOT NULL)"
            )
            row = await (await conn.execute("SELECT max(version) FROM paperwire_schema")).fetchone()
            start = int(row[0]) if row and row[0] is not None else 0
            if start > LATEST_VERSION:
                raise UserError(
                    f"the database was written by a newer paperwire (schema {start}, this one"
                    f" knows {LATEST_VERSION}): upgrade paperwire"
                )
            for version in range(start + 1, LATEST_VERSION + 1):
                _log.info("migrating the PostgreSQL schema to version %d", version)
                await conn.execute(MIGRATIONS[version - 1])
                await conn.execute("INSERT INTO paperwire_schema VALUES (%s)", (version,))
        return start

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection[Any]]:
        """The one way to write: a pooled connection in a transaction, committed when the
        block ends, rolled back if it raises (or is cancelled)."""
        async with self._pool.connection() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A pooled connection held for longer than a transaction (an advisory lock's)."""
        async with self._pool.connection() as conn:
            yield conn

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            return list(await cursor.fetchall())

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        rows = await self.fetch(sql, params)
        return int(rows[0][0])

    async def fetch_raw(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for diagnostics and benchmarks."""
        return await self.fetch(sql, params)


async def _configure(conn: AsyncConnection[Any]) -> None:
    # Times come back in UTC, as the SQLite backend gives them.
    await conn.execute("SET TIME ZONE 'UTC'")
