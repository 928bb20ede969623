"""Topic subscriptions, alert settings and the matches waiting for delivery, in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection

from bot.alerts.topics import AlertSettings, Subscription, same_topic
from bot.models import Destination
from bot.storage.decode import (
    ALERT_SETTINGS_COLUMNS,
    FORGET_OWNER,
    LISTS_TO_MATCH,
    SUBSCRIPTION_COLUMNS,
    alert_settings_from_row,
    list_to_match_from_row,
    subscription_from_row,
)
from bot.storage.postgres.database import PgDatabase
from bot.storage.postgres.papers import pks_for_ids


class PgSubscriptions:
    """Users' topics, when their alerts go out, and the papers matched for them."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def add_subscription(
        self, owner: Destination, topic: str, at: datetime, limit: int
    ) -> tuple[int | None, list[Subscription]]:
        async with self._db.transaction() as conn:
            # One add per owner at a time, whichever process runs it: the limit holds.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"topics:{owner.key}",)
            )
            mine = await self._subscriptions(conn, owner)
            if any(same_topic(s.topic, topic) for s in mine) or len(mine) >= limit:
                return None, mine
            cursor = await conn.execute(
                "INSERT INTO subscriptions (owner, topic, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (owner, topic) DO NOTHING RETURNING id",
                (owner.key, topic, at),
            )
            row = await cursor.fetchone()
            return (int(row[0]) if row else None), mine

    async def subscriptions(self, owner: Destination | None = None) -> list[Subscription]:
        async with self._db.connection() as conn:
            return await self._subscriptions(conn, owner)

    @staticmethod
    async def _subscriptions(
        conn: AsyncConnection[Any], owner: Destination | None
    ) -> list[Subscription]:
        where, params = ("WHERE owner = %s", (owner.key,)) if owner else ("", ())
        cursor = await conn.execute(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions {where} ORDER BY id", params
        )
        return [subscription_from_row(r) for r in await cursor.fetchall()]

    async def remove_subscriptions(self, owner: Destination, ids: Sequence[int]) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM subscriptions WHERE owner = %s AND id = ANY(%s)",
                (owner.key, list(ids)),
            )
            await conn.execute(
                "DELETE FROM pending_matches WHERE owner = %s AND subscription_id = ANY(%s)",
                (owner.key, list(ids)),
            )
            return cursor.rowcount

    async def forget_user(self, owner: Destination) -> int:
        async with self._db.transaction() as conn:
            for sql in FORGET_OWNER:
                cursor = await conn.execute(sql.replace("?", "%s"), (owner.key,))
            return cursor.rowcount

    async def alert_settings(self, owner: Destination) -> AlertSettings | None:
        rows = await self._db.fetch(
            f"SELECT {ALERT_SETTINGS_COLUMNS} FROM alert_settings WHERE owner = %s", (owner.key,)
        )
        return alert_settings_from_row(owner, rows[0]) if rows else None

    async def save_alert_settings(self, settings: AlertSettings, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO alert_settings (owner, time, timezone, paused_until, updated_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (owner) DO UPDATE SET"
                " time = excluded.time, timezone = excluded.timezone,"
                " paused_until = excluded.paused_until, updated_at = excluded.updated_at",
                (
                    settings.owner.key,
                    settings.time.strftime("%H:%M"),
                    settings.timezone,
                    settings.paused_until,
                    at,
                ),
            )

    async def lists_to_match(self) -> list[tuple[date, str, datetime]]:
        rows = await self._db.fetch(LISTS_TO_MATCH)
        return [list_to_match_from_row(r) for r in rows]

    async def queue_matches(
        self,
        matches: Sequence[tuple[Destination, str, int]],
        lists: Sequence[tuple[date, str]],
        at: datetime,
    ) -> int:
        pks = await pks_for_ids(self._db, sorted({paper_id for _, paper_id, _ in matches}))
        found = [(owner.key, pks[pid], sub) for owner, pid, sub in matches if pid in pks]
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO pending_matches (owner, paper_pk, subscription_id, matched_at)"
                " SELECT m.owner, m.pk, m.sub, %s"
                " FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS m(owner, pk, sub)"
                " WHERE NOT EXISTS (SELECT 1 FROM sent_papers s"
                "   WHERE s.destination = m.owner AND s.paper_pk = m.pk)"
                " ON CONFLICT (owner, paper_pk) DO NOTHING",
                (
                    at,
                    [row[0] for row in found],
                    [row[1] for row in found],
                    [row[2] for row in found],
                ),
            )
            queued = max(cursor.rowcount, 0)
            await conn.execute(
                "INSERT INTO matched_lists (day, source, matched_at)"
                " SELECT d, s, %s FROM unnest(%s::date[], %s::text[]) AS l(d, s)"
                " ON CONFLICT (day, source) DO NOTHING",
                (at, [day for day, _ in lists], [source for _, source in lists]),
            )
            return queued

    async def pending_matches(self, owner: Destination) -> list[tuple[int, int]]:
        rows = await self._db.fetch(
            "SELECT paper_pk, subscription_id FROM pending_matches WHERE owner = %s"
            " ORDER BY matched_at, paper_pk",
            (owner.key,),
        )
        return [(r[0], r[1]) for r in rows]

    async def clear_pending(self, owner: Destination) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM pending_matches WHERE owner = %s", (owner.key,))

    async def note_last_match(self, sub_id: int, title: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE subscriptions SET last_match_at = %s, last_match_title = %s WHERE id = %s",
                (at, title, sub_id),
            )
