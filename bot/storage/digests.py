"""Channel digests (their settings) and digest runs (one per destination and day), in
SQLite. Alert runs are digest runs too, keyed by the user's direct-message destination."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.digests.settings import DigestRun, DigestSettings
from bot.storage.database import Database
from bot.storage.decode import (
    DIGEST_RUN_COLUMNS,
    DIGEST_SETTINGS_COLUMNS,
    FINISH_UPSERT,
    FORGET_EDITOR,
    digest_run_from_row,
    digest_settings_from_row,
)


class SqliteDigests:
    """Channel digest settings and the runs that post them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def channel_digest(self, destination: str) -> DigestSettings | None:
        rows = await self._db.fetch(f"{_DIGEST_SELECT} WHERE destination = ?", (destination,))
        return digest_settings_from_row(rows[0]) if rows else None

    async def forget_editor(self, workspace: str, user: str) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(FORGET_EDITOR, (user, len(workspace), workspace))
            return int(cursor.rowcount)

    async def channel_digests(self, enabled_only: bool = True) -> list[DigestSettings]:
        where = " WHERE enabled = 1" if enabled_only else ""
        rows = await self._db.fetch(f"{_DIGEST_SELECT}{where} ORDER BY destination")
        return [digest_settings_from_row(row) for row in rows]

    async def save_channel_digest(self, digest: DigestSettings, by: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO channel_digests (destination, enabled, time, timezone,"
                " weekdays, size, topic, format, covers, updated_at, updated_by, taste,"
                " recap_day, recap_time, recap_name)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    digest.destination.key,
                    int(digest.enabled),
                    digest.time.strftime("%H:%M"),
                    digest.timezone,
                    ",".join(digest.weekdays),
                    digest.size,
                    digest.topic,
                    digest.format,
                    digest.covers,
                    at.isoformat(),
                    by,
                    int(digest.taste),
                    digest.recap_day,
                    digest.recap_time.strftime("%H:%M") if digest.recap_time else None,
                    digest.recap_name,
                ),
            )

    async def claim_run(
        self, destination: str, run_day: date, at: datetime, stale_after: timedelta
    ) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO digest_runs (destination, run_day, started_at, outcome)"
                " VALUES (?, ?, ?, 'running') ON CONFLICT (destination, run_day) DO UPDATE SET"
                " started_at = excluded.started_at, outcome = 'running', finished_at = NULL,"
                " posted = 0, detail = NULL, list_day = NULL"
                " WHERE outcome NOT IN ('running', 'posted', 'queued') OR"
                " (outcome = 'running' AND started_at < ?)",
                (destination, run_day.isoformat(), at.isoformat(), (at - stale_after).isoformat()),
            )
            return cursor.rowcount == 1

    async def finish_run(self, run: DigestRun) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO digest_runs (destination, run_day, started_at, finished_at,"
                " list_day, posted, outcome, detail) VALUES (?,?,?,?,?,?,?,?)"
                f" {FINISH_UPSERT}",
                (
                    run.destination,
                    run.run_day.isoformat(),
                    run.started_at.isoformat(),
                    run.finished_at.isoformat() if run.finished_at else None,
                    run.list_day.isoformat() if run.list_day else None,
                    run.posted,
                    run.outcome.value,
                    run.detail,
                ),
            )

    async def release_run(self, destination: str, run_day: date) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE digest_runs SET started_at = ? WHERE destination = ?"
                " AND run_day = ? AND outcome = 'running'",
                ("1970-01-01T00:00:00+00:00", destination, run_day.isoformat()),
            )

    async def release_interrupted_runs(self, before: datetime) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE digest_runs SET started_at = '1970-01-01T00:00:00+00:00'"
                " WHERE outcome = 'running' AND started_at < ?",
                (before.isoformat(),),
            )
            return cursor.rowcount

    async def digest_runs(self, destination: str, limit: int = 10) -> list[DigestRun]:
        rows = await self._db.fetch(
            f"SELECT {DIGEST_RUN_COLUMNS} FROM digest_runs WHERE destination = ?"
            " ORDER BY run_day DESC LIMIT ?",
            (destination, limit),
        )
        return [digest_run_from_row(r) for r in rows]


_DIGEST_SELECT = f"SELECT {DIGEST_SETTINGS_COLUMNS} FROM channel_digests"
