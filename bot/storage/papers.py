"""Papers in SQLite: ingesting observations (merged by `bot.storage.merge`), reading papers
and trending lists, and the change sequence the search index follows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime

import aiosqlite

from bot.day_lists import CompletionRule
from bot.models import Observation, Paper
from bot.storage.database import Database
from bot.storage.day_lists import SqliteDayLists
from bot.storage.decode import TRENDING_ENTRY_COLUMNS, index_row_from_row, papers_with_trending
from bot.storage.ingest_plan import ListKey, carried_lists, paper_changes, write_plan
from bot.storage.ingesting import IngestingPapers, utc_now
from bot.storage.merge import Known, plan_batch
from bot.storage.paper_changes import RECORD_CHANGE, change_rows
from bot.storage.rows import (
    PAPER_COLUMNS,
    chunks,
    known_papers,
    pks_for_ids,
    title_hash,
    to_date,
)
from bot.storage.types import IndexRow, IngestCounts


class SqlitePapers(IngestingPapers):
    """The corpus: papers, the days they trended, and their change sequence."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(clock)
        self._db = db
        self._lists = SqliteDayLists(db)

    async def _ingest(
        self,
        batch: list[Observation],
        fetched: set[tuple[date, str]],
        lists: CompletionRule,
        now: datetime,
    ) -> IngestCounts:
        async with self._db.transaction() as conn:
            counts = await self._ingest_batch(conn, batch, now) if batch else IngestCounts()
            states = await self._lists.record(conn, batch, fetched, lists, now)
        return replace(counts, lists=tuple(states))

    async def _ingest_batch(
        self, conn: aiosqlite.Connection, batch: list[Observation], at: datetime
    ) -> IngestCounts:
        known = await self._find_existing(batch)
        plan = plan_batch(batch, known)
        seq, first_pk = await self._next_keys()
        listed = await self._listed(carried_lists(plan))
        writes = write_plan(plan, known.papers, listed, at.isoformat(), seq, first_pk)
        await conn.executemany("UPDATE papers SET seq = ? WHERE pk = ?", writes.reindexed)
        await conn.executemany(
            "UPDATE papers SET id=?, arxiv_id=?, title_hash=?, title=?, abstract=?, authors=?,"
            " published=?, links=?, code_links=?, categories=?, signals=?, signals_at=?,"
            " sources=?, version=?, affiliations=?, doi=?, journal_ref=?, updated_at=?, seq=?"
            " WHERE pk=?",
            writes.updates,
        )
        # Keys are given, not left to SQLite, so a batch is one statement (single writer).
        await conn.executemany(
            "INSERT INTO papers (id, arxiv_id, title_hash, title, abstract, authors,"
            " published, links, code_links, categories, signals, signals_at, sources,"
            " version, affiliations, doi, journal_ref, first_seen, updated_at, seq, pk)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            writes.inserts,
        )
        await conn.executemany(
            "DELETE FROM trending WHERE day = ? AND source = ?", writes.replaced_lists
        )
        # The same paper twice in one list keeps its best rank.
        await conn.executemany(
            "INSERT INTO trending (day, source, paper_pk, rank, upvotes) VALUES (?,?,?,?,?)"
            " ON CONFLICT (day, source, paper_pk) DO UPDATE SET"
            " rank = min(rank, excluded.rank),"
            " upvotes = coalesce(excluded.upvotes, upvotes)",
            writes.trending,
        )
        changes = paper_changes(plan, known.papers)
        await conn.executemany(RECORD_CHANGE, change_rows(changes, at.isoformat()))
        return IngestCounts(plan.new, plan.updated, plan.unchanged)

    async def _listed(self, lists: Iterable[ListKey]) -> dict[ListKey, list[int]]:
        """The papers on each of these day lists, as stored now."""
        listed: dict[ListKey, list[int]] = {}
        for day, source in lists:
            rows = await self._db.fetch(
                "SELECT paper_pk FROM trending WHERE day = ? AND source = ?", (day, source)
            )
            listed[(day, source)] = [r[0] for r in rows]
        return listed

    async def _find_existing(self, batch: Sequence[Observation]) -> Known:
        """Existing papers matching the batch by id (arXiv id or DOI) or normalised title."""
        known_ids = sorted({o.known_id for o in batch if o.known_id})
        hashes = sorted({title_hash(o.normalized_title) for o in batch})
        rows: list[aiosqlite.Row] = []
        # A known arXiv id or DOI is also the paper's id, so the id index serves both.
        for column, keys in (("id", known_ids), ("title_hash", hashes)):
            for chunk in chunks(keys):
                rows += await self._db.fetch(
                    f"SELECT {PAPER_COLUMNS} FROM papers WHERE {column} IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                )
        return known_papers(rows)

    async def _next_keys(self) -> tuple[int, int]:
        """The next change sequence and the next internal key."""
        rows = await self._db.fetch(
            "SELECT coalesce(max(seq), 0) + 1, coalesce(max(pk), 0) + 1 FROM papers"
        )
        return int(rows[0][0]), int(rows[0][1])

    async def count_papers(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM papers")

    async def papers_by_pk(self, pks: Sequence[int]) -> dict[int, Paper]:
        result: dict[int, Paper] = {}
        for chunk in chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetch(
                f"SELECT {PAPER_COLUMNS} FROM papers WHERE pk IN ({marks})", chunk
            )
            trending = await self._db.fetch(
                f"SELECT {TRENDING_ENTRY_COLUMNS} FROM trending"
                f" WHERE paper_pk IN ({marks}) ORDER BY day DESC, rank",
                chunk,
            )
            result.update(papers_with_trending(rows, trending))
        return result

    async def paper_by_id(self, paper_id: str) -> Paper | None:
        rows = await self._db.fetch("SELECT pk FROM papers WHERE id = ?", (paper_id,))
        if not rows:
            return None
        return (await self.papers_by_pk([rows[0][0]]))[rows[0][0]]

    async def trending_days(self) -> list[date]:
        rows = await self._db.fetch("SELECT DISTINCT day FROM trending ORDER BY day DESC")
        return [to_date(r[0]) for r in rows]

    async def trending_list(self, day: date) -> list[Paper]:
        rows = await self._db.fetch(
            "SELECT DISTINCT paper_pk FROM trending WHERE day = ?", (day.isoformat(),)
        )
        papers = await self.papers_by_pk([r[0] for r in rows])
        return list(papers.values())

    async def changes_since(self, seq: int, limit: int = 5000) -> list[IndexRow]:
        rows = await self._db.fetch(
            "SELECT pk, seq, title, abstract, authors, categories, published,"
            " (SELECT group_concat(DISTINCT day) FROM trending WHERE paper_pk = pk)"
            " FROM papers WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [index_row_from_row(r) for r in rows]

    async def max_seq(self) -> int:
        return await self._db.scalar("SELECT coalesce(max(seq), 0) FROM papers")

    async def pks_for_ids(self, paper_ids: Sequence[str]) -> dict[str, int]:
        return await pks_for_ids(self._db, paper_ids)
