"""Search queries behind buttons whose ids are too short to hold them (Discord), in SQLite."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.storage.database import Database


def query_key(query: str) -> str:
    """The key a query is kept under, the same on every backend."""
    return hashlib.blake2b(query.encode("utf-8"), digest_size=9).hexdigest()


class SqliteSavedQueries:
    """Queries kept under a short stable key."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_query(self, query: str, at: datetime) -> str:
        key = query_key(query)
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO saved_queries (key, query, created_at) VALUES (?, ?, ?)",
                (key, query, at.isoformat()),
            )
        return key

    async def saved_query(self, key: str) -> str | None:
        rows = await self._db.fetch("SELECT query FROM saved_queries WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None
