"""A channel's votes on the papers of its digests ("More like this" +1, "Not for us" -1):
one per user and paper in each channel, changeable and removable. Who voted is kept (a user
may change or take back their own vote, and `forget_user` removes them all) but only counts
leave this module. One implementation for both backends, like `installations.py`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.storage.types import VoteCounts

LIKE = 1
DISLIKE = -1


class _Db(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]: ...


class SqlVotes:
    """The `Votes` repository over either backend (`postgres`: its placeholders and types)."""

    def __init__(self, db: _Db, postgres: bool = False) -> None:
        self._db = db
        self._sql: Callable[[str], str] = (lambda s: s.replace("?", "%s")) if postgres else str
        self._time: Callable[[datetime], Any] = (lambda t: t) if postgres else datetime.isoformat

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(self._sql(sql), params)
            return int(cursor.rowcount)

    async def vote(
        self, destination: str, paper_pk: int, user: str, value: int, at: datetime
    ) -> VoteCounts:
        if value not in (LIKE, DISLIKE):
            raise ValueError(f"a vote is {LIKE} or {DISLIKE}, not {value!r}")
        await self._execute(
            "INSERT INTO votes (destination, paper_pk, user_key, value, voted_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (destination, paper_pk, user_key)"
            " DO UPDATE SET value = excluded.value, voted_at = excluded.voted_at",
            (destination, paper_pk, user, value, self._time(at)),
        )
        return await self.counts(destination, paper_pk)

    async def remove_vote(self, destination: str, paper_pk: int, user: str) -> bool:
        removed = await self._execute(
            "DELETE FROM votes WHERE destination = ? AND paper_pk = ? AND user_key = ?",
            (destination, paper_pk, user),
        )
        return removed > 0

    async def vote_of(self, destination: str, paper_pk: int, user: str) -> int | None:
        rows = await self._db.fetch(
            self._sql(
                "SELECT value FROM votes WHERE destination = ? AND paper_pk = ? AND user_key = ?"
            ),
            (destination, paper_pk, user),
        )
        return int(rows[0][0]) if rows else None

    async def counts(self, destination: str, paper_pk: int) -> VoteCounts:
        return (await self.channel_counts(destination, [paper_pk])).get(paper_pk, VoteCounts())

    async def channel_counts(
        self, destination: str, paper_pks: Sequence[int] | None = None
    ) -> dict[int, VoteCounts]:
        sql = (
            "SELECT paper_pk, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END),"
            " sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) FROM votes WHERE destination = ?"
        )
        params: list[Any] = [destination]
        if paper_pks is not None:
            if not paper_pks:
                return {}
            sql += f" AND paper_pk IN ({', '.join('?' * len(paper_pks))})"
            params += list(paper_pks)
        rows = await self._db.fetch(self._sql(sql + " GROUP BY paper_pk"), params)
        return {int(r[0]): VoteCounts(int(r[1]), int(r[2])) for r in rows}

    async def forget_user(self, user: str) -> int:
        return await self._execute("DELETE FROM votes WHERE user_key = ?", (user,))

    async def forget_channel(self, destination: str) -> int:
        return await self._execute("DELETE FROM votes WHERE destination = ?", (destination,))
