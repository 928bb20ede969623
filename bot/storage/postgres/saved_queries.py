"""Search queries behind buttons whose ids are too short to hold them, in PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from bot.storage.postgres.database import PgDatabase
from bot.storage.saved_queries import query_key


class PgSavedQueries:
    """Queries kept under a short stable key."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def save_query(self, query: str, at: datetime) -> str:
        key = query_key(query)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO saved_queries (key, query, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (key) DO NOTHING",
                (key, query, at),
            )
        return key

    async def saved_query(self, key: str) -> str | None:
        rows = await self._db.fetch("SELECT query FROM saved_queries WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None
