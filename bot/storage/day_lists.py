"""How each day's list from each source is filling in, in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.day_lists import CompletionRule, ListState
from bot.models import Observation
from bot.storage.database import Database


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
        papers: dict[tuple[date, str], set[str]] = {key: set() for key in fetched}
        for obs in batch:
            if obs.day is not None:
                papers.setdefault((obs.day, obs.source), set()).add(obs.paper_id)
        states = []
        for (day, source), ids in sorted(papers.items()):
            previous = await self.list_state(day, source)
            state = rule.after_fetch(previous, day, source, len(ids), now)
            await conn.execute(
                "INSERT OR REPLACE INTO day_lists"
                " (day, source, size, grew_at, fetched_at, complete_at) VALUES (?,?,?,?,?,?)",
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
            "SELECT day, source, size, grew_at, fetched_at, complete_at FROM day_lists"
            " WHERE day = ? AND source = ?",
            (day.isoformat(), source),
        )
        return _list_state(rows[0]) if rows else None

    async def last_fetched(self, source: str) -> datetime | None:
        """When a day's list from `source` was last fetched, None if never."""
        rows = await self._db.fetch(
            "SELECT max(fetched_at) FROM day_lists WHERE source = ?", (source,)
        )
        return datetime.fromisoformat(rows[0][0]) if rows[0][0] else None

    async def list_states(self) -> list[ListState]:
        """Every day's list from every source, newest day first."""
        rows = await self._db.fetch(
            "SELECT day, source, size, grew_at, fetched_at, complete_at FROM day_lists"
            " ORDER BY day DESC, source"
        )
        return [_list_state(row) for row in rows]


def _list_state(row: Sequence[Any]) -> ListState:
    return ListState(
        day=date.fromisoformat(row[0]),
        source=row[1],
        size=row[2],
        grew_at=datetime.fromisoformat(row[3]),
        fetched_at=datetime.fromisoformat(row[4]),
        complete_at=datetime.fromisoformat(row[5]) if row[5] else None,
    )
