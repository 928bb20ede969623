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

_SERVER_KEEPALIVE = (
    ("tcp_keepalives_idle", 5),
    ("tcp_keepalives_interval", 2),
    ("tcp_keepalives_count", 3),
)


class PgProcesses:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._conn: AsyncConnection[Any] | None = None  # held while this process leads

    async def try_lead(self) -> bool:
        if self._conn is not None:
            try:
                await self._conn.execute("SELECT 1")
                return True
            except psycopg.Error as exc:
                _log.warning("lost the lead: its database connection failed (%s)", exc)
                await self._close()
                return False
        try:
            conn = await AsyncConnection.connect(
                make_conninfo(self._db.url, **_KEEPALIVE),
                autocommit=True,
            )
        except psycopg.Error as exc:
            _log.warning("cannot ask for the lead: %s", type(exc).__name__)
            return False
        try:
            # The server's side too: a leader cut off is found dead, and its lock freed,
            # within seconds rather than the system's default two hours.
            for setting, value in _SERVER_KEEPALIVE:
                await conn.execute(f"SET {setting} = {value}")
            row = await (
                await conn.execute(f"SELECT pg_try_advisory_lock({ON_SCHEMA})", (LEADER_LOCK,))
            ).fetchone()
        except psycopg.Error:
            await conn.close()
            return False
        if row and row[0]:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def resign(self) -> None:
        await self._close()  # closing the session frees its lock

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def beat(self, beat: ProcessBeat) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO processes ({PROCESS_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (process) DO UPDATE SET"
                " seen_at = excluded.seen_at, leader = excluded.leader,"
                " detail = excluded.detail",
                (beat.process, beat.started_at, beat.seen_at, beat.leader, beat.detail),
            )
            if beat.leader:  # it holds the lock: whoever beat as leader before no longer leads
                await conn.execute(
                    "UPDATE processes SET leader = false WHERE process <> %s AND leader",
                    (beat.process,),
                )

    async def live_processes(self, seen_since: datetime) -> list[ProcessBeat]:
        rows = await self._db.fetch(
            f"SELECT {PROCESS_COLUMNS} FROM processes WHERE seen_at >= %s ORDER BY started_at",
            (seen_since,),
        )
        return [process_beat_from_row(row) for row in rows]

    async def forget_process(self, process: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM processes WHERE process = %s", (process,))
