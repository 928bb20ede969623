"""How each day's list from each source is filling in, in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection

from bot.day_lists import CompletionRule, ListState
from bot.models import Observation
from bot.storage.postgres.database import PgDatabase

_SELECT = "SELECT day, source, size, grew_at, fetched_at, complete_at FROM day_lists"


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
        papers: dict[tuple[date, str], set[str]] = {key: set() for key in fetched}
        for obs in batch:
            if obs.day is not None:
                papers.setdefault((obs.day, obs.source), set()).add(obs.paper_id)
        states = []
        for (day, source), ids in sorted(papers.items()):
            cursor = await conn.execute(f"{_SELECT} WHERE day = %s AND source = %s", (day, source))
            row = await cursor.fetchone()
            state = rule.after_fetch(_list_state(row) if row else None, day, source, len(ids), now)
            await conn.execute(
                "INSERT INTO day_lists (day, source, size, grew_at, fetched_at, complete_at)"
                " VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (day, source) DO UPDATE SET"
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
        return _list_state(rows[0]) if rows else None

    async def last_fetched(self, source: str) -> datetime | None:
        rows = await self._db.fetch(
            "SELECT max(fetched_at) FROM day_lists WHERE source = %s", (source,)
        )
        found: datetime | None = rows[0][0]
        return found

    async def list_states(self) -> list[ListState]:
        rows = await self._db.fetch(f"{_SELECT} ORDER BY day DESC, source")
        return [_list_state(row) for row in rows]


def _list_state(row: Sequence[Any]) -> ListState:
    return ListState(
        day=row[0],
        source=row[1],
        size=row[2],
        grew_at=row[3],
        fetched_at=row[4],
        complete_at=row[5],
    )
