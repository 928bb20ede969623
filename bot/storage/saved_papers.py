"""Users' reading lists: the papers each user saved, newest first, with their tags. One
implementation for both backends, as `installations.py`: the SQL is the same but for the
placeholders, and times and JSON go to SQLite as text."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.models import Destination
from bot.storage.paper_changes import OWNERS_WITH_CHANGES, PENDING_CHANGES
from bot.storage.rows import from_json, to_datetime
from bot.storage.types import PaperChange, SavedPaper

_NEWEST_FIRST = "ORDER BY s.saved_at DESC, s.paper_pk DESC"


class _Db(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]: ...


def saved_paper_from_row(row: Sequence[Any]) -> SavedPaper:
    return SavedPaper(
        paper_pk=int(row[0]),
        paper_id=str(row[1]),
        saved_at=to_datetime(row[2]),
        tags=tuple(from_json(row[3])),
    )


class SqlSavedPapers:
    """The `SavedPapers` repository over either backend (`postgres`: its placeholders and
    types)."""

    def __init__(self, db: _Db, postgres: bool = False) -> None:
        self._db = db
        self._postgres = postgres
        self._sql: Callable[[str], str] = (lambda s: s.replace("?", "%s")) if postgres else str
        self._time: Callable[[datetime], Any] = (
            (lambda t: t) if postgres else (lambda t: t.isoformat())
        )

    async def save_paper(self, owner: Destination, paper_pk: int, at: datetime) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                self._sql(
                    "INSERT INTO saved_papers (owner, paper_pk, saved_at, tags)"
                    " VALUES (?, ?, ?, '[]') ON CONFLICT (owner, paper_pk) DO NOTHING"
                ),
                (owner.key, paper_pk, self._time(at)),
            )
            return int(cursor.rowcount) == 1

    async def saved_papers(
        self,
        owner: Destination,
        tag: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[SavedPaper]:
        rows = await self._db.fetch(
            self._sql(
                "SELECT s.paper_pk, p.id, s.saved_at, s.tags FROM saved_papers s"
                f" JOIN papers p ON p.pk = s.paper_pk WHERE s.owner = ? {_NEWEST_FIRST}"
            ),
            (owner.key,),
        )
        # A user's list is short: the tag is matched here, the same on both backends.
        saved = [saved_paper_from_row(r) for r in rows]
        if tag is not None:
            saved = [s for s in saved if tag in s.tags]
        return saved[offset : None if limit is None else offset + limit]

    async def remove_saved(self, owner: Destination, paper_pk: int) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                self._sql("DELETE FROM saved_papers WHERE owner = ? AND paper_pk = ?"),
                (owner.key, paper_pk),
            )
            return int(cursor.rowcount) == 1

    async def forget_user(self, owner: Destination) -> int:
        async with self._db.transaction() as conn:
            # Which updates they were told of goes with the list.
            await conn.execute(self._sql("DELETE FROM saved_notices WHERE owner = ?"), (owner.key,))
            cursor = await conn.execute(
                self._sql("DELETE FROM saved_papers WHERE owner = ?"), (owner.key,)
            )
            return int(cursor.rowcount)

    async def tag_saved(self, owner: Destination, paper_pk: int, tag: str) -> bool:
        lock = " FOR UPDATE" if self._postgres else ""  # SQLite's writes are serial already
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                self._sql(f"SELECT tags FROM saved_papers WHERE owner = ? AND paper_pk = ?{lock}"),
                (owner.key, paper_pk),
            )
            row = await cursor.fetchone()
            if row is None:
                return False
            tags = list(from_json(row[0]))
            if tag not in tags:
                tags.append(tag)
                await conn.execute(
                    self._sql("UPDATE saved_papers SET tags = ? WHERE owner = ? AND paper_pk = ?"),
                    (json.dumps(tags, ensure_ascii=False), owner.key, paper_pk),
                )
            return True

    async def pending_changes(self, owner: Destination) -> list[PaperChange]:
        rows = await self._db.fetch(self._sql(PENDING_CHANGES), (owner.key,))
        return [PaperChange(int(r[0]), int(r[1]), r[2], r[3], to_datetime(r[4])) for r in rows]

    async def owners_with_changes(self) -> list[Destination]:
        rows = await self._db.fetch(OWNERS_WITH_CHANGES)
        return [Destination.from_key(r[0]) for r in rows]

    async def saver_counts(self, paper_pks: Sequence[int], owners: str) -> dict[int, int]:
        if not paper_pks:
            return {}
        marks = ", ".join("?" * len(paper_pks))
        # The prefix is matched by substr, not LIKE, so `_` or `%` in a key match only
        # themselves.
        rows = await self._db.fetch(
            self._sql(
                "SELECT paper_pk, count(*) FROM saved_papers WHERE substr(owner, 1, ?) = ?"
                f" AND paper_pk IN ({marks}) GROUP BY paper_pk"
            ),
            (len(owners), owners, *paper_pks),
        )
        return {int(r[0]): int(r[1]) for r in rows}
