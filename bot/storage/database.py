"""The SQLite database through aiosqlite: one connection per process is the single writer;
WAL lets other processes read. `Database` owns the connection, the checks made on opening,
the migrations and the one write path, `transaction()`."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import UserError
from bot.private_files import FILE_MODE, narrow, private_file, private_folder
from bot.storage.migrations import LATEST_VERSION, MIGRATIONS

_log = logging.getLogger(__name__)


class Database:
    """The connection and its write lock. Build with `Database.open(path)`."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._write_lock = asyncio.Lock()

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path, own_folder: bool = False) -> AsyncIterator[Database]:
        """Open (creating if needed) and migrate the database at `path` (':memory:' works).
        The database is private to its owner: a folder made for it is 0700 (an existing one
        is narrowed too if it is paperwire's `own_folder`), the files 0600."""
        on_disk = str(path) not in (":memory:", "")
        if on_disk:
            private_folder(Path(path).parent, narrow_existing=own_folder)
            private_file(Path(path))
        try:
            conn = await aiosqlite.connect(str(path))
        except sqlite3.Error as exc:
            raise UserError(f"cannot open the database {path} ({exc})") from None
        try:
            # Whose file is it? Asked before any PRAGMA that writes (journal_mode=WAL does):
            # a file paperwire must not touch is left exactly as it was.
            await check_schema(conn, path)
            if on_disk:  # files of an older paperwire, before their modes were set
                for suffix in ("", "-wal", "-shm"):
                    narrow(Path(f"{path}{suffix}"), FILE_MODE)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            await migrate(conn)
            yield cls(conn)
        finally:
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The one way to write: under the write lock, committed when the block ends,
        rolled back if it raises (or is cancelled)."""
        async with self._write_lock:
            try:
                yield self._conn
            except BaseException:
                await self._conn.rollback()
                raise
            await self._conn.commit()

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        rows = await self.fetch(sql, params)
        return int(rows[0][0])

    async def fetch_raw(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for diagnostics and benchmarks."""
        return [tuple(r) for r in await self.fetch(sql, params)]


async def check_schema(conn: aiosqlite.Connection, path: str | Path) -> int:
    """The schema version of the database at `path`, read without writing anything; a
    `UserError` if it is not a paperwire database or one from a newer paperwire."""
    try:
        version = await _user_version(conn)
        async with conn.execute("SELECT count(*) FROM sqlite_master") as cursor:
            row = await cursor.fetchone()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path} is not a paperwire database ({exc})") from None
    if version == 0 and row is not None and row[0] > 0:
        # Every migration sets user_version with its tables: these are someone else's.
        raise UserError(f"{path} is not a paperwire database (it has other tables)")
    if version > LATEST_VERSION:
        raise UserError(
            f"{path} was written by a newer paperwire (schema {version}, this one knows"
            f" {LATEST_VERSION}): upgrade paperwire"
        )
    return version


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the database to the latest schema; returns the version it was at."""
    start = await _user_version(conn)
    if start > LATEST_VERSION:  # check_schema refuses these first
        raise UserError(f"the database is at schema {start}, newer than this paperwire")
    for version in range(start + 1, LATEST_VERSION + 1):
        _log.info("migrating database to schema version %d", version)
        # executescript commits first; each migration runs in its own transaction.
        await conn.executescript(
            f"BEGIN; {MIGRATIONS[version - 1]} PRAGMA user_version = {version}; COMMIT;"
        )
    return start
