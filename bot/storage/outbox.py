"""The outbox in SQLite: every message kept until delivered, what was sent where, and each
destination's state (stopped or not, how its last sends went)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.storage.database import Database
from bot.storage.decode import (
    DESTINATION_COLUMNS,
    FORGET_DESTINATION,
    OUTBOX_HEADS,
    QUEUED_COLUMNS,
    SENT_BETWEEN,
    destination_state_from_row,
    due_in_order,
    outbox_head_from_row,
    settled_day,
)
from bot.storage.paper_changes import NOTICE_DELIVERED, notice_rows
from bot.storage.rows import WAITING, pks_for_ids, to_datetime
from bot.storage.types import DestinationState, OutboxHead, QueuedMessage


class SqliteOutbox:
    """Messages waiting for delivery, sent records and destination states."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(
        self,
        destination: str,
        reply: str,
        paper_ids: Sequence[str],
        at: datetime,
        run: tuple[str, date] | None = None,
        handle: str | None = None,
        notices: Sequence[int] = (),
    ) -> int:
        async with self._db.transaction() as conn:
            if run is not None:
                await conn.execute(
                    "UPDATE digest_runs SET outcome = 'queued', posted = ? WHERE destination = ?"
                    " AND run_day = ?",
                    (len(paper_ids), run[0], run[1].isoformat()),
                )
            cursor = await conn.execute(
                "INSERT INTO outbox (destination, reply, paper_ids, created_at, state,"
                " next_attempt_at, run_day, handle) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    destination,
                    reply,
                    json.dumps(list(paper_ids)),
                    at.isoformat(),
                    at.isoformat(),
                    _iso(settled_day(destination, run)),
                    handle,
                ),
            )
            pks = await pks_for_ids(self._db, paper_ids)
            await conn.executemany(
                "INSERT OR IGNORE INTO sent_papers (destination, paper_pk, sent_at)"
                " VALUES (?, ?, ?)",
                [(destination, pk, at.isoformat()) for pk in pks.values()],
            )
            await conn.executemany(
                NOTICE_DELIVERED, notice_rows(destination, notices, at.isoformat())
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    async def due_destinations(self, now: datetime) -> list[str]:
        rows = await self._db.fetch(
            "SELECT o.destination, o.next_attempt_at FROM outbox o JOIN"
            f" (SELECT min(id) AS first FROM outbox WHERE {WAITING} GROUP BY destination)"
            " ON o.id = first LEFT JOIN destinations d ON d.destination = o.destination"
            " WHERE d.stopped_at IS NULL ORDER BY o.sends = 0, o.id"
        )
        return [r[0] for r in rows if datetime.fromisoformat(r[1]) <= now]

    async def due_messages(self, destination: str | None, now: datetime) -> list[QueuedMessage]:
        where = WAITING + (" AND destination = ?" if destination else "")
        rows = await self._db.fetch(
            f"SELECT {QUEUED_COLUMNS} FROM outbox WHERE {where} ORDER BY destination, id",
            (destination,) if destination else (),
        )
        return due_in_order(rows, now)

    async def mark_sending(self, message_id: int) -> None:
        await self._outbox_update(
            "UPDATE outbox SET state = 'sending', sends = sends + 1 WHERE id = ?",
            (message_id,),
        )

    async def mark_sent(self, message_id: int, platform_ids: Sequence[str], at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET state = 'sent', platform_ids = ?, sent_at = ?,"
                " last_error = NULL, handle = NULL WHERE id = ?",
                (json.dumps(list(platform_ids)), at.isoformat(), message_id),
            )
            await conn.execute(
                "UPDATE digest_runs SET outcome = 'posted', finished_at = ?, detail = NULL"
                " WHERE outcome = 'queued' AND (destination, run_day) IN"
                " (SELECT destination, run_day FROM outbox WHERE id = ?)",
                (at.isoformat(), message_id),
            )

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        await self._outbox_update(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?,"
            " next_attempt_at = ? WHERE id = ?",
            (error, retry_at.isoformat(), message_id),
        )

    async def mark_deferred(self, message_id: int, reason: str, retry_at: datetime) -> None:
        await self._outbox_update(
            "UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
            (reason, retry_at.isoformat(), message_id),
        )

    async def prune_outbox(self, before: datetime) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM outbox WHERE state IN ('sent', 'dropped') AND created_at < ?"
                " AND id < (SELECT max(id) FROM outbox)",
                (before.isoformat(),),
            )
            return cursor.rowcount

    async def outbox_state(self, message_id: int) -> str | None:
        rows = await self._db.fetch("SELECT state FROM outbox WHERE id = ?", (message_id,))
        return str(rows[0][0]) if rows else None

    async def mark_dropped(self, message_id: int, error: str) -> None:
        await self._outbox_update(
            "UPDATE outbox SET state = 'dropped', last_error = ?, handle = NULL WHERE id = ?",
            (error, message_id),
        )

    async def outbox_depths(self) -> dict[str, int]:
        rows = await self._db.fetch(
            f"SELECT destination, count(*) FROM outbox WHERE {WAITING} GROUP BY destination"
        )
        return {r[0]: int(r[1]) for r in rows}

    async def outbox_heads(self) -> list[OutboxHead]:
        rows = await self._db.fetch(OUTBOX_HEADS)
        return [outbox_head_from_row(r) for r in rows]

    async def _outbox_update(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(sql, params)

    async def sent_paper_ids(self, destination: str) -> frozenset[str]:
        rows = await self._db.fetch(
            "SELECT p.id FROM sent_papers s JOIN papers p ON p.pk = s.paper_pk"
            " WHERE s.destination = ?",
            (destination,),
        )
        return frozenset(r[0] for r in rows)

    async def sent_between(
        self, destination: str, start: datetime, end: datetime
    ) -> list[tuple[int, datetime]]:
        rows = await self._db.fetch(
            SENT_BETWEEN, (destination, _utc(start).isoformat(), _utc(end).isoformat())
        )
        return [(int(r[0]), to_datetime(r[1])) for r in rows]

    async def destination_state(self, destination: str) -> DestinationState:
        rows = await self._db.fetch(f"{_DESTINATION_SELECT} WHERE destination = ?", (destination,))
        return destination_state_from_row(rows[0]) if rows else DestinationState(destination)

    async def destination_states(self) -> list[DestinationState]:
        rows = await self._db.fetch(f"{_DESTINATION_SELECT} ORDER BY destination")
        return [destination_state_from_row(row) for row in rows]

    async def record_delivery(
        self, destination: str, at: datetime, error: str | None = None, permanent: bool = False
    ) -> None:
        when = at.isoformat()
        if error is None:
            sql = (
                "INSERT INTO destinations (destination, last_success_at) VALUES (?, ?)"
                " ON CONFLICT (destination) DO UPDATE SET"
                " last_success_at = excluded.last_success_at"
            )
            params: tuple[Any, ...] = (destination, when)
        else:
            sql = (
                "INSERT INTO destinations (destination, stopped_at, error, last_error_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (destination) DO UPDATE SET"
                " stopped_at = coalesce(excluded.stopped_at, stopped_at),"
                " error = excluded.error, last_error_at = excluded.last_error_at"
            )
            params = (destination, when if permanent else None, error, when)
        async with self._db.transaction() as conn:
            await conn.execute(sql, params)

    async def resume_destination(self, destination: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE destinations SET stopped_at = NULL WHERE destination = ?", (destination,)
            )
            await conn.execute(
                f"UPDATE outbox SET next_attempt_at = ? WHERE destination = ? AND {WAITING}",
                (at.isoformat(), destination),
            )

    async def forget_destination(self, destination: str, reason: str) -> int:
        async with self._db.transaction() as conn:
            for sql in FORGET_DESTINATION:
                await conn.execute(sql, (destination,))
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'dropped', last_error = ?, handle = NULL"
                f" WHERE destination = ? AND {WAITING}",
                (reason, destination),
            )
            return cursor.rowcount

    async def claim(
        self, keys: Sequence[str], owner: str, until: datetime, now: datetime
    ) -> list[str]:
        """One process writes an SQLite database: everything is its own."""
        return list(keys)

    async def release_claim(self, key: str, owner: str) -> None:
        pass


_DESTINATION_SELECT = f"SELECT {DESTINATION_COLUMNS} FROM destinations"


def _utc(moment: datetime) -> datetime:
    """Times are kept as UTC ISO text, which compares in time order."""
    return moment.astimezone(UTC)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
