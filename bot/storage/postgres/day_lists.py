"""How each day's list from each source is filling in, in PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection

from bot.day_lists import CompletionRule, ListState
from bot.models import Observation
from bot.storage.decode import LIST_STATE_COLUMNS, list_state_from_row
from bot.storage.ingest_plan import list_sizes
from bot.storage.postgres.database import PgDatabase
from bot.storage.rows import as_datetime

_SELECT = f"SELECT {LIST_STATE_COLUMNS} FROM day_lists"


class PgDayLists:
    """Day lists: recorded by an ingest (inside its transaction), read by the schedules."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def record(
        self,
        conn: AsyncConnection[Any],
        batch: list[Observation],
        fetched: set[tuple[date, str]],
        rule: CompletionRule,
        now: datetime,
    ) -> list[ListState]:
        """How many papers each day's list in `batch` (or `fetched`) has now, inside the
        ingest's transaction."""
        states = []
        for day, source, size in list_sizes(batch, fetched):
            cursor = await conn.execute(f"{_SELECT} WHERE day = %s AND source = %s", (day, source))
            row = await cursor.fetchone()
            previous = list_state_from_row(row) if row else None
            state = rule.after_fetch(previous, day, source, size, now)
            await conn.execute(
                f"INSERT INTO day_lists ({LIST_STATE_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s)"
                " ON CONFLICT (day, source) DO UPDATE SET"
                " size = excluded.size, grew_at = excluded.grew_at,"
                " fetched_at = excluded.fetched_at, complete_at = excluded.complete_at",
                (
                    state.day,
                    state.source,
                    state.size,
                    state.grew_at,
                    state.fetched_at,
                    state.complete_at,
                ),
            )
            states.append(state)
        return states

    async def list_state(self, day: date, source: str) -> ListState | None:
        rows = await self._db.fetch(f"{_SELECT} WHERE day = %s AND source = %s", (day, source))
        return list_state_from_row(rows[0]) if rows else None

    async def last_fetched(self, source: str) -> datetime | None:
        rows = await self._db.fetch(
            "SELECT max(fetched_at) FROM day_lists WHERE source = %s", (source,)
        )
        return as_datetime(rows[0][0])

    async def list_states(self) -> list[ListState]:
        rows = await self._db.fetch(f"{_SELECT} ORDER BY day DESC, source")
        return [list_state_from_row(row) for row in rows]
