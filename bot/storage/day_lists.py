"""How each day's list from each source is filling in, in SQLite."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from bot.day_lists import CompletionRule, ListState
from bot.models import Observation
from bot.storage.database import Database
from bot.storage.decode import LIST_STATE_COLUMNS, list_state_from_row
from bot.storage.ingest_plan import list_sizes
from bot.storage.rows import as_datetime


class SqliteDayLists:
    """Day lists: recorded by an ingest (inside its transaction), read by the schedules."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        conn: aiosqlite.Connection,
        batch: list[Observation],
        fetched: set[tuple[date, str]],
        rule: CompletionRule,
        now: datetime,
    ) -> list[ListState]:
        """How many papers each day's list in `batch` (or `fetched`) has now, inside the
        ingest's transaction."""
        states = []
        for day, source, size in list_sizes(batch, fetched):
            state = rule.after_fetch(await self.list_state(day, source), day, source, size, now)
            await conn.execute(
                f"INSERT OR REPLACE INTO day_lists ({LIST_STATE_COLUMNS}) VALUES (?,?,?,?,?,?)",
                (
                    state.day.isoformat(),
                    state.source,
                    state.size,
                    state.grew_at.isoformat(),
                    state.fetched_at.isoformat(),
                    state.complete_at.isoformat() if state.complete_at else None,
                ),
            )
            states.append(state)
        return states

    async def list_state(self, day: date, source: str) -> ListState | None:
        rows = await self._db.fetch(
            f"SELECT {LIST_STATE_COLUMNS} FROM day_lists WHERE day = ? AND source = ?",
            (day.isoformat(), source),
        )
        return list_state_from_row(rows[0]) if rows else None

    async def last_fetched(self, source: str) -> datetime | None:
        rows = await self._db.fetch(
            "SELECT max(fetched_at) FROM day_lists WHERE source = ?", (source,)
        )
        return as_datetime(rows[0][0])

    async def list_states(self) -> list[ListState]:
        rows = await self._db.fetch(
            f"SELECT {LIST_STATE_COLUMNS} FROM day_lists ORDER BY day DESC, source"
        )
        return [list_state_from_row(row) for row in rows]
