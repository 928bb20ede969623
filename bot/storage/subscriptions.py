"""Topic subscriptions, alert settings and the matches waiting for delivery, in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.alerts.topics import AlertSettings, Subscription, same_topic
from bot.models import Destination
from bot.storage.database import Database
from bot.storage.decode import (
    ALERT_SETTINGS_COLUMNS,
    FORGET_OWNER,
    LISTS_TO_MATCH,
    SUBSCRIPTION_COLUMNS,
    alert_settings_from_row,
    list_to_match_from_row,
    subscription_from_row,
)
from bot.storage.rows import chunks, pks_for_ids


class SqliteSubscriptions:
    """Users' topics, when their alerts go out, and the papers matched for them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_subscription(
        self, owner: Destination, topic: str, at: datetime, limit: int
    ) -> tuple[int | None, list[Subscription]]:
        # Checks and insert happen under SQLite's write lock, and the insert counts again
        # in the same statement: the limit holds even with another process writing.
        async with self._db.transaction() as conn:
            mine = await self.subscriptions(owner)
            if any(same_topic(s.topic, topic) for s in mine):
                return None, mine
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO subscriptions (owner, topic, created_at)"
                " SELECT ?, ?, ? WHERE (SELECT count(*) FROM subscriptions WHERE owner = ?) < ?",
                (owner.key, topic, at.isoformat(), owner.key, limit),
            )
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                return cursor.lastrowid, mine
            return None, await self.subscriptions(owner)  # another process added some

    async def subscriptions(self, owner: Destination | None = None) -> list[Subscription]:
        where, params = ("WHERE owner = ?", (owner.key,)) if owner else ("", ())
        rows = await self._db.fetch(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions {where} ORDER BY id", params
        )
        return [subscription_from_row(r) for r in rows]

    async def remove_subscriptions(self, owner: Destination, ids: Sequence[int]) -> int:
        async with self._db.transaction() as conn:
            total = 0
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                cursor = await conn.execute(
                    f"DELETE FROM subscriptions WHERE owner = ? AND id IN ({marks})",
                    (owner.key, *chunk),
                )
                total += cursor.rowcount
                await conn.execute(
                    f"DELETE FROM pending_matches WHERE owner = ? AND subscription_id IN ({marks})",
                    (owner.key, *chunk),
                )
            return total

    async def forget_user(self, owner: Destination) -> int:
        async with self._db.transaction() as conn:
            for sql in FORGET_OWNER:
                cursor = await conn.execute(sql, (owner.key,))
            return cursor.rowcount

    async def alert_settings(self, owner: Destination) -> AlertSettings | None:
        rows = await self._db.fetch(
            f"SELECT {ALERT_SETTINGS_COLUMNS} FROM alert_settings WHERE owner = ?", (owner.key,)
        )
        return alert_settings_from_row(owner, rows[0]) if rows else None

    async def save_alert_settings(self, settings: AlertSettings, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO alert_settings (owner, time, timezone, paused_until,"
                " updated_at) VALUES (?, ?, ?, ?, ?)",
                (
                    settings.owner.key,
                    settings.time.strftime("%H:%M"),
                    settings.timezone,
                    settings.paused_until.isoformat() if settings.paused_until else None,
                    at.isoformat(),
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
        async with self._db.transaction() as conn:
            pks = await pks_for_ids(self._db, sorted({paper_id for _, paper_id, _ in matches}))
            rows = [
                (owner.key, pks[paper_id], sub_id, at.isoformat())
                for owner, paper_id, sub_id in matches
                if paper_id in pks
            ]
            before = conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO pending_matches (owner, paper_pk, subscription_id,"
                " matched_at) SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM sent_papers"
                " WHERE destination = ?1 AND paper_pk = ?2)",
                rows,
            )
            queued = conn.total_changes - before
            await conn.executemany(
                "INSERT OR IGNORE INTO matched_lists (day, source, matched_at) VALUES (?, ?, ?)",
                [(day.isoformat(), source, at.isoformat()) for day, source in lists],
            )
            return queued

    async def pending_matches(self, owner: Destination) -> list[tuple[int, int]]:
        rows = await self._db.fetch(
            "SELECT paper_pk, subscription_id FROM pending_matches WHERE owner = ?"
            " ORDER BY matched_at, paper_pk",
            (owner.key,),
        )
        return [(r[0], r[1]) for r in rows]

    async def clear_pending(self, owner: Destination) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM pending_matches WHERE owner = ?", (owner.key,))

    async def note_last_match(self, sub_id: int, title: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE subscriptions SET last_match_at = ?, last_match_title = ? WHERE id = ?",
                (at.isoformat(), title, sub_id),
            )
