"""The outbox in PostgreSQL: every message kept until delivered, what was sent where, and
each destination's state (stopped or not, how its last sends went)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

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
from bot.storage.paper_changes import NOTICE_DELIVERED, notice_rows, pg
from bot.storage.postgres.database import PgDatabase
from bot.storage.rows import WAITING, to_datetime
from bot.storage.types import PROCESS_GONE_AFTER, DestinationState, OutboxHead, QueuedMessage


class PgOutbox:
    """Messages waiting for delivery, sent records and destination states."""

    def __init__(self, db: PgDatabase) -> None:
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
                    "UPDATE digest_runs SET outcome = 'queued', posted = %s"
                    " WHERE destination = %s AND run_day = %s",
                    (len(paper_ids), run[0], run[1]),
                )
            cursor = await conn.execute(
                "INSERT INTO outbox (destination, reply, paper_ids, created_at, state,"
                " next_attempt_at, run_day, handle)"
                " VALUES (%s, %s, %s, %s, 'pending', %s, %s, %s) RETURNING id",
                (
                    destination,
                    reply,
                    json.dumps(list(paper_ids)),
                    at,
                    at,
                    settled_day(destination, run),
                    handle,
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
            await conn.execute(
                "INSERT INTO sent_papers (destination, paper_pk, sent_at)"
                " SELECT %s, pk, %s FROM papers WHERE id = ANY(%s)"
                " ON CONFLICT (destination, paper_pk) DO NOTHING",
                (destination, at, list(paper_ids)),
            )
            async with conn.cursor() as cur:
                await cur.executemany(pg(NOTICE_DELIVERED), notice_rows(destination, notices, at))
            return int(row[0])

    async def due_destinations(self, now: datetime) -> list[str]:
        rows = await self._db.fetch(
            "SELECT o.destination FROM outbox o JOIN"
            f" (SELECT min(id) AS first FROM outbox WHERE {WAITING} GROUP BY destination) f"
            " ON o.id = f.first LEFT JOIN destinations d ON d.destination = o.destination"
            " WHERE d.stopped_at IS NULL AND o.next_attempt_at <= %s"
            " ORDER BY o.sends = 0, o.id",
            (now,),
        )
        return [r[0] for r in rows]

    async def due_messages(self, destination: str | None, now: datetime) -> list[QueuedMessage]:
        where = WAITING + (" AND destination = %s" if destination else "")
        rows = await self._db.fetch(
            f"SELECT {QUEUED_COLUMNS} FROM outbox WHERE {where} ORDER BY destination, id",
            (destination,) if destination else (),
        )
        return due_in_order(rows, now)

    async def mark_sending(self, message_id: int) -> None:
        await self._update(
            "UPDATE outbox SET state = 'sending', sends = sends + 1 WHERE id = %s",
            (message_id,),
        )

    async def mark_sent(self, message_id: int, platform_ids: Sequence[str], at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET state = 'sent', platform_ids = %s, sent_at = %s,"
                " last_error = NULL, handle = NULL WHERE id = %s",
                (json.dumps(list(platform_ids)), at, message_id),
            )
            await conn.execute(
                "UPDATE digest_runs SET outcome = 'posted', finished_at = %s, detail = NULL"
                " WHERE outcome = 'queued' AND (destination, run_day) IN"
                " (SELECT destination, run_day FROM outbox WHERE id = %s)",
                (at, message_id),
            )

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        await self._update(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = %s,"
            " next_attempt_at = %s WHERE id = %s",
            (error, retry_at, message_id),
        )

    async def mark_deferred(self, message_id: int, reason: str, retry_at: datetime) -> None:
        await self._update(
            "UPDATE outbox SET state = 'pending', last_error = %s, next_attempt_at = %s"
            " WHERE id = %s",
            (reason, retry_at, message_id),
        )

    async def prune_outbox(self, before: datetime) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM outbox WHERE state IN ('sent', 'dropped') AND created_at < %s"
                " AND id < (SELECT max(id) FROM outbox)",
                (before,),
            )
            return cursor.rowcount

    async def outbox_state(self, message_id: int) -> str | None:
        rows = await self._db.fetch("SELECT state FROM outbox WHERE id = %s", (message_id,))
        return str(rows[0][0]) if rows else None

    async def mark_dropped(self, message_id: int, error: str) -> None:
        await self._update(
            "UPDATE outbox SET state = 'dropped', last_error = %s, handle = NULL WHERE id = %s",
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

    async def _update(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(sql, params)

    async def sent_paper_ids(self, destination: str) -> frozenset[str]:
        rows = await self._db.fetch(
            "SELECT p.id FROM sent_papers s JOIN papers p ON p.pk = s.paper_pk"
            " WHERE s.destination = %s",
            (destination,),
        )
        return frozenset(r[0] for r in rows)

    async def sent_between(
        self, destination: str, start: datetime, end: datetime
    ) -> list[tuple[int, datetime]]:
        rows = await self._db.fetch(SENT_BETWEEN.replace("?", "%s"), (destination, start, end))
        return [(int(r[0]), to_datetime(r[1])) for r in rows]

    async def destination_state(self, destination: str) -> DestinationState:
        rows = await self._db.fetch(f"{_DESTINATION_SELECT} WHERE destination = %s", (destination,))
        return destination_state_from_row(rows[0]) if rows else DestinationState(destination)

    async def destination_states(self) -> list[DestinationState]:
        rows = await self._db.fetch(f"{_DESTINATION_SELECT} ORDER BY destination")
        return [destination_state_from_row(row) for row in rows]

    async def record_delivery(
        self, destination: str, at: datetime, error: str | None = None, permanent: bool = False
    ) -> None:
        if error is None:
            sql = (
                "INSERT INTO destinations (destination, last_success_at) VALUES (%s, %s)"
                " ON CONFLICT (destination) DO UPDATE SET"
                " last_success_at = excluded.last_success_at"
            )
            params: tuple[Any, ...] = (destination, at)
        else:
            sql = (
                "INSERT INTO destinations AS d (destination, stopped_at, error, last_error_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (destination) DO UPDATE SET"
                " stopped_at = coalesce(excluded.stopped_at, d.stopped_at),"
                " error = excluded.error, last_error_at = excluded.last_error_at"
            )
            params = (destination, at if permanent else None, error, at)
        await self._update(sql, params)

    async def resume_destination(self, destination: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE destinations SET stopped_at = NULL WHERE destination = %s", (destination,)
            )
            await conn.execute(
                f"UPDATE outbox SET next_attempt_at = %s WHERE destination = %s AND {WAITING}",
                (at, destination),
            )

    async def forget_destination(self, destination: str, reason: str) -> int:
        async with self._db.transaction() as conn:
            for sql in FORGET_DESTINATION:
                await conn.execute(sql.replace("?", "%s"), (destination,))
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'dropped', last_error = %s, handle = NULL"
                f" WHERE destination = %s AND {WAITING}",
                (reason, destination),
            )
            return cursor.rowcount

    async def claim(
        self, keys: Sequence[str], owner: str, until: datetime, now: datetime
    ) -> list[str]:
        """Claims are rows locked with SKIP LOCKED: processes claiming at once never wait
        on each other, and never both get one key. A claim whose process stopped
        beating is free before its time is up (a restart after a crash sends at once)."""
        if not keys:
            return []
        # The rows first, committed on their own and in one order: two processes adding
        # the same new keys at once wait for each other briefly, never in a circle.
        await self._update(
            "INSERT INTO outbox_claims (key) SELECT unnest(%s::text[])"
            " ON CONFLICT (key) DO NOTHING",
            (sorted(set(keys)),),
        )
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox_claims c SET owner = %s, held_until = %s WHERE c.key IN"
                " (SELECT key FROM outbox_claims WHERE key = ANY(%s)"
                "  AND (owner IS NULL OR owner = %s OR held_until < %s OR owner NOT IN"
                "   (SELECT process FROM processes WHERE seen_at >= %s))"
                "  FOR UPDATE SKIP LOCKED) RETURNING c.key",
                (owner, until, list(keys), owner, now, now - PROCESS_GONE_AFTER),
            )
            claimed = {row[0] for row in await cursor.fetchall()}
        return [key for key in keys if key in claimed]

    async def release_claim(self, key: str, owner: str) -> None:
        await self._update(
            "UPDATE outbox_claims SET owner = NULL, held_until = NULL"
            " WHERE key = %s AND owner = %s",
            (key, owner),
        )


_DESTINATION_SELECT = f"SELECT {DESTINATION_COLUMNS} FROM destinations"
