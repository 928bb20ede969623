"""`paperwire migrate-db`: copy an SQLite deployment into an empty PostgreSQL database.

The source is read in one read transaction (a consistent snapshot even while a
`paperwire run` writes it); the target is written in one transaction, with PostgreSQL's
COPY, and its row counts are checked against the source's before it commits: either all
of it arrives or nothing does. The search index is not copied: every process rebuilds its
own from the database at start."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import psycopg
from psycopg import AsyncConnection

from bot.errors import PaperwireError, UserError
from bot.storage.copy_tables import TABLES, Table
from bot.storage.database import Database, check_schema
from bot.storage.locations import describe, is_postgres_url
from bot.storage.postgres.database import PgDatabase

CHUNK_ROWS = 2000  # rows read from SQLite at a time: memory stays flat however big the copy
LOCK_TIMEOUT = "10s"  # how long to wait for a process still using the target

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CopiedTable:
    name: str
    rows: int  # counted on both sides, and equal


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str  # as `describe` names it: never the password
    tables: tuple[CopiedTable, ...]
    seconds: float

    def lines(self, paperwire: str = "paperwire") -> list[str]:
        """What was copied where, one line per table, that the counts were checked, and
        what to do next (`paperwire`: the command as the user runs it)."""
        width = max(len(t.name) for t in self.tables)
        return [
            f"Copied {self.source} into {self.target} in {self.seconds:.1f} s:",
            *(f"  {t.name:<{width}}  {t.rows:>9,} rows" for t in self.tables),
            "Every table's rows were counted on both sides: they match.",
            "Next steps",
            "  • Set PAPERWIRE_DATABASE_URL to the URL given to --to (and unset PAPERWIRE_DB).",
            f"  • Start {paperwire} run: it builds its search index from the database"
            " (nothing to copy).",
            "  • The SQLite file is as it was: keep it as a backup until the new database"
            " runs well.",
        ]


async def copy_to_postgres(
    source: str | Path,
    target_url: str,
    progress: Progress = lambda _: None,
    chunk_rows: int = CHUNK_ROWS,
) -> CopyReport:
    """Copy the SQLite database at `source` (brought to the latest schema first, as opening
    it does) into the PostgreSQL database at `target_url`, which must hold no paperwire
    data. A `UserError`, with nothing copied, when either side cannot be used."""
    if not is_postgres_url(target_url):
        raise UserError("the target must be a postgresql:// URL (--to postgresql://USER@HOST/DB)")
    path = _source_path(source)
    await _check_source(path)
    async with Database.open(path):  # migrates an older schema, as `paperwire run` would
        pass
    started = time.perf_counter()
    async with _snapshot(path) as sqlite, PgDatabase.open(target_url, max_size=1) as pg:
        await _check_sqlite_columns(sqlite)
        async with pg.transaction() as conn:
            await _lock_empty_target(conn, describe(target_url))
            await _check_postgres_columns(conn)
            for table in TABLES:
                progress(f"copying {table.name}")
                await _copy_table(sqlite, conn, table, chunk_rows)
            progress("counting the rows on both sides")
            tables = await _verified_counts(sqlite, conn)
    return CopyReport(str(path), describe(target_url), tables, time.perf_counter() - started)


def _source_path(source: str | Path) -> Path:
    """The SQLite file to copy, which must exist: opening a missing one would create it."""
    if isinstance(source, str) and is_postgres_url(source):
        raise UserError(
            f"the source is {describe(source)}: migrate-db copies an SQLite file; name it"
            " with --db PATH (or PAPERWIRE_DB, with PAPERWIRE_DATABASE_URL unset)"
        )
    if str(source) in ("", ":memory:"):
        raise UserError("migrate-db copies an SQLite file: name it with --db PATH")
    path = Path(source)
    if not path.exists():
        raise UserError(f"{path} does not exist: there is no SQLite database to copy there")
    if not path.is_file():
        raise UserError(f"{path} is not a file: name the SQLite database with --db PATH")
    return path


async def _check_source(path: Path) -> None:
    """A paperwire database, of a schema this paperwire knows, read without writing."""
    try:
        async with aiosqlite.connect(path) as conn:
            version = await check_schema(conn, path)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open the database {path} ({exc})") from None
    if version == 0:
        raise UserError(f"{path} is not a paperwire database (it has no paperwire tables)")


@asynccontextmanager
async def _snapshot(path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A connection inside one read transaction: every read sees the database as it was
    at the first, whatever a live `paperwire run` commits meanwhile (WAL keeps it)."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("BEGIN")
        try:
            await conn.execute_fetchall("SELECT count(*) FROM sqlite_master")  # takes it
            yield conn
        finally:
            await conn.execute("ROLLBACK")  # it only read


async def _check_sqlite_columns(sqlite: aiosqlite.Connection) -> None:
    """Every source column is one `TABLES` copies: nothing is left behind unnoticed."""
    for table in TABLES:
        rows = await sqlite.execute_fetchall(f"PRAGMA table_info({table.name})")
        found = {str(r[1]) for r in rows}
        if found != set(table.names):
            raise UserError(_unknown_columns(table, found, "the SQLite source"))


async def _check_postgres_columns(conn: AsyncConnection[Any]) -> None:
    """Every column copied has its place in the target (which may have more, with defaults)."""
    cursor = await conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
    )
    found: dict[str, set[str]] = {}
    for table_name, column in await cursor.fetchall():
        found.setdefault(table_name, set()).add(column)
    for table in TABLES:
        if not set(table.names) <= found.get(table.name, set()):
            raise UserError(_unknown_columns(table, found.get(table.name, set()), "the target"))


def _unknown_columns(table: Table, found: set[str], where: str) -> str:
    return (
        f"{where}'s table {table.name} has the columns {sorted(found)}, this paperwire copies"
        f" {sorted(table.names)}: nothing was copied (is the paperwire doing this older?)"
    )


async def _lock_empty_target(conn: AsyncConnection[Any], target: str) -> None:
    """Hold every table until the copy commits (no process writes meanwhile), and refuse
    a target that holds anything: migrate-db never overwrites nor merges."""
    await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    try:
        await conn.execute(f"LOCK TABLE {', '.join(t.name for t in TABLES)} IN EXCLUSIVE MODE")
    except psycopg.errors.LockNotAvailable:
        raise UserError(
            f"{target} is in use (is a paperwire process running on it?): stop it and copy again"
        ) from None
    exists = ", ".join(f"EXISTS (SELECT 1 FROM {t.name})" for t in TABLES)
    row = await (await conn.execute(f"SELECT {exists}")).fetchone()
    held = [t.name for t, has_rows in zip(TABLES, row or (), strict=True) if has_rows]
    if held:
        raise UserError(
            f"{target} already holds paperwire data (in {', '.join(held)}): migrate-db copies"
            " into an empty database only, and changed nothing"
        )


async def _copy_table(
    sqlite: aiosqlite.Connection, conn: AsyncConnection[Any], table: Table, chunk_rows: int
) -> None:
    """COPY the table's rows, converted, in chunks; then move an identity past its ids."""
    columns = ", ".join(table.names)
    try:
        async with (
            sqlite.execute(f"SELECT {columns} FROM {table.name}") as source,
            conn.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy,
        ):
            while rows := await source.fetchmany(chunk_rows):
                for row in rows:
                    await copy.write_row(table.convert(row))
    except (psycopg.DataError, psycopg.IntegrityError) as exc:
        raise UserError(
            f"cannot copy {table.name} ({exc.diag.message_primary}): nothing was copied"
        ) from None
    if table.identity:
        # The ids were copied as they were (COPY writes identity columns); new ones follow
        # the highest: an outbox id is a message's nonce and is never used twice.
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), max({table.identity}))"
            f" FROM {table.name} HAVING count(*) > 0",
            (table.name, table.identity),
        )


async def _verified_counts(
    sqlite: aiosqlite.Connection, conn: AsyncConnection[Any]
) -> tuple[CopiedTable, ...]:
    """Each table's rows counted on both sides (the target inside the copy's transaction:
    a difference rolls it all back)."""
    counted = []
    for table in TABLES:
        [(source_rows,)] = await sqlite.execute_fetchall(f"SELECT count(*) FROM {table.name}")
        row = await (await conn.execute(f"SELECT count(*) FROM {table.name}")).fetchone()
        target_rows = int(row[0]) if row else -1
        if target_rows != source_rows:
            raise PaperwireError(
                f"{table.name}: {source_rows} rows in the source, {target_rows} copied:"
                " nothing was copied"
            )
        counted.append(CopiedTable(table.name, int(source_rows)))
    return tuple(counted)
