"""The processes sharing a PostgreSQL database and the one that leads: it holds an advisory
lock on a connection of its own. When it dies, its connection closes, PostgreSQL frees the
lock, and the next process to try takes the lead."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo

from bot.storage.decode import PROCESS_COLUMNS, process_beat_from_row
from bot.storage.postgres.database import CONNECT_TIMEOUT_S, LEADER_LOCK, ON_SCHEMA, PgDatabase
from bot.storage.types import ProcessBeat

_log = logging.getLogger(__name__)

# A leader whose network went away learns it within about this long (TCP keepalives), and
# the server frees its lock as soon as it sees the connection dead.
_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "connect_timeout": CONNECT_TIMEOUT_S,
}

_SESSION_SETTINGS = (
    ("tcp_keepalives_idle", "5"),
    ("tcp_keepalives_interval", "2"),
    ("tcp_keepalives_count", "3"),
    ("TimeZone", "'UTC'"),  # times come back in UTC, as the pool's connections give them
)


class PgProcesses:
    """Heartbeats and the lead go over a connection of this process's own, not the pool:
    a process busy with a fan-out (every pooled connection taken by its sends) still beats
    and keeps or takes the lead on time."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._conn: AsyncConnection[Any] | None = None
        self._leading = False  # this connection holds the leader's lock

    async def try_lead(self) -> bool:
        try:
            conn = await self._connection()
            if self._leading:
                await conn.execute("SELECT 1")  # still connected: still holding the lock
                return True
            row = await (
                await conn.execute(f"SELECT pg_try_advisory_lock({ON_SCHEMA})", (LEADER_LOCK,))
            ).fetchone()
        except psycopg.Error as exc:
            if self._leading:
                _log.warning("lost the lead: its database connection failed (%s)", exc)
            else:
                _log.warning("cannot ask for the lead: %s", type(exc).__name__)
            await self._close()
            return False
        self._leading = bool(row and row[0])
        return self._leading

    async def resign(self) -> None:
        # Closing the session frees its lock too, but only once the server has seen the
        # close: unlocking first means the next process can lead the moment this returns.
        if self._leading and self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.execute("SELECT pg_advisory_unlock_all()")
        await self._close()

    async def _connection(self) -> AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            conn = await AsyncConnection.connect(
                make_conninfo(self._db.url, **_KEEPALIVE), autocommit=True
            )
            try:
                # The server's side too: a leader cut off is found dead, and its lock
                # freed, within seconds rather than the system's default two hours.
                for setting, value in _SESSION_SETTINGS:
                    await conn.execute(f"SET {setting} = {value}")
            except psycopg.Error:
                await conn.close()
                raise
            self._conn, self._leading = conn, False
        return self._conn

    async def _close(self) -> None:
        conn, self._conn, self._leading = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _execute(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """One statement on this process's own connection (dropped if it failed: the next
        call connects again, and a lock it held is gone with it)."""
        try:
            cursor = await (await self._connection()).execute(sql, params)
            return list(await cursor.fetchall()) if cursor.description else []
        except psycopg.Error:
            await self._close()
            raise

    async def beat(self, beat: ProcessBeat) -> None:
        # One statement: whoever beat as leader before no longer leads once this one does.
        await self._execute(
            "WITH beat AS (INSERT INTO processes"
            f" ({PROCESS_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (process) DO UPDATE SET seen_at = excluded.seen_at,"
            " leader = excluded.leader, detail = excluded.detail RETURNING leader)"
            " UPDATE processes SET leader = false WHERE process <> %s AND leader"
            " AND (SELECT leader FROM beat)",
            (beat.process, beat.started_at, beat.seen_at, beat.leader, beat.detail, beat.process),
        )

    async def live_processes(self, seen_since: datetime) -> list[ProcessBeat]:
        rows = await self._execute(
            f"SELECT {PROCESS_COLUMNS} FROM processes WHERE seen_at >= %s ORDER BY started_at",
            (seen_since,),
        )
        return [process_beat_from_row(row) for row in rows]

    async def forget_process(self, process: str) -> None:
        await self._execute("DELETE FROM processes WHERE process = %s", (process,))
