"""Papers in SQLite: ingesting observations (merged by `bot.storage.merge`), reading papers
and trending lists, and the change sequence the search index follows."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite

from bot.day_lists import WHOLE, CompletionRule
from bot.models import Observation, Paper, TrendingEntry
from bot.storage.database import Database
from bot.storage.day_lists import SqliteDayLists
from bot.storage.merge import Known, plan_batch
from bot.storage.rows import (
    PAPER_COLUMNS,
    chunks,
    paper_from_row,
    paper_row,
    pks_for_ids,
    title_hash,
)
from bot.storage.types import IndexRow, IngestCounts


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlitePapers:
    """The corpus: papers, the days they trended, and their change sequence."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._clock = clock  # when `ingest` is given no `now`
        self._lists = SqliteDayLists(db)
        self._changed = asyncio.Event()

    async def ingest(
        self,
        observations: Iterable[Observation],
        lists: CompletionRule = WHOLE,
        now: datetime | None = None,
        fetched: Iterable[tuple[date, str]] = (),
    ) -> IngestCounts:
        """Merge observations into the corpus in one transaction: the same paper from two
        sources or two days becomes one record, and newer signals refresh older ones. The
        day lists they carry, and the `fetched` (day, source) lists even when empty, are
        recorded in the same transaction, judged by `lists`."""
        batch = list(observations)
        fetched = set(fetched)
        if not batch and not fetched:
            return IngestCounts()
        now = now or self._clock()
        async with self._db.transaction() as conn:
            counts = await self._ingest_batch(conn, batch, now) if batch else IngestCounts()
            states = await self._lists.record(conn, batch, fetched, lists, now)
        self._changed.set()
        return replace(counts, lists=tuple(states))

    async def wait_for_change(self, or_until: asyncio.Event) -> None:
        """Return once an ingest has committed since the last call, or `or_until` is set."""
        waiters = [
            asyncio.ensure_future(self._changed.wait()),
            asyncio.ensure_future(or_until.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._changed.clear()

    async def _ingest_batch(
        self, conn: aiosqlite.Connection, batch: list[Observation], at: datetime
    ) -> IngestCounts:
        known = await self._find_existing(batch)
        plan = plan_batch(batch, known)
        now = at.isoformat()
        seq, first_pk = await self._next_keys()
        original = known.papers
        touched = plan.touched
        trending_rows = [
            (row.day, row.source, row.key, row.rank, row.upvotes) for row in plan.trending
        ]
        placeholder_pk: dict[int, int] = {}
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for key, pending in touched.items():
            if pending.is_new:
                inserts.append((*paper_row(pending), now, now, seq, key))
                seq += 1
            elif pending.paper != original[key]:
                updates.append((*paper_row(pending), now, seq, key))
                seq += 1
        # A paper joining or leaving a day's list is a change for the search index (its
        # trending days are a date filter) even when nothing else about it changed.
        rewritten = {row[-1] for row in updates}
        moved = await self._list_moves(trending_rows)
        reindexed = [(seq + i, pk) for i, pk in enumerate(sorted(moved - rewritten))]
        await conn.executemany("UPDATE papers SET seq = ? WHERE pk = ?", reindexed)

        await conn.executemany(
            "UPDATE papers SET id=?, arxiv_id=?, title_hash=?, title=?, abstract=?, authors=?,"
            " published=?, links=?, code_links=?, categories=?, signals=?, signals_at=?,"
            " sources=?, version=?, affiliations=?, updated_at=?, seq=? WHERE pk=?",
            updates,
        )
        # Keys are given, not left to SQLite, so a batch is one statement (single writer).
        for offset, row in enumerate(inserts):
            placeholder_pk[row[-1]] = first_pk + offset
        await conn.executemany(
            "INSERT INTO papers (id, arxiv_id, title_hash, title, abstract, authors,"
            " published, links, code_links, categories, signals, signals_at, sources,"
            " version, affiliations, first_seen, updated_at, seq, pk)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(*row[:-1], placeholder_pk[row[-1]]) for row in inserts],
        )
        # A batch carrying a day's list from a source is that list now: it replaces the
        # earlier fetch (Hugging Face reorders by upvotes during the day). The same paper
        # twice in one list keeps its best rank.
        await conn.executemany(
            "DELETE FROM trending WHERE day = ? AND source = ?",
            sorted({(day, source) for day, source, *_ in trending_rows}),
        )
        await conn.executemany(
            "INSERT INTO trending (day, source, paper_pk, rank, upvotes) VALUES (?,?,?,?,?)"
            " ON CONFLICT (day, source, paper_pk) DO UPDATE SET"
            " rank = min(rank, excluded.rank),"
            " upvotes = coalesce(excluded.upvotes, upvotes)",
            [
                (day, source, placeholder_pk.get(key, key), rank, upvotes)
                for day, source, key, rank, upvotes in trending_rows
            ],
        )
        return IngestCounts(plan.new, plan.updated, plan.unchanged)

    async def _list_moves(
        self, trending_rows: Sequence[tuple[str, str, int, int, int | None]]
    ) -> set[int]:
        """Existing papers that join or leave a day's list the batch carries (new papers,
        with placeholder keys below 0, are left out: they are indexed anyway)."""
        joining: dict[tuple[str, str], set[int]] = defaultdict(set)
        for day, source, key, *_ in trending_rows:
            joining[(day, source)].add(key)
        moved: set[int] = set()
        for (day, source), keys in joining.items():
            rows = await self._db.fetch(
                "SELECT paper_pk FROM trending WHERE day = ? AND source = ?", (day, source)
            )
            moved |= {pk for pk in keys.symmetric_difference(r[0] for r in rows) if pk > 0}
        return moved

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
        found = Known()
        for row in rows:
            found.add(row[0], paper_from_row(row), row[11])
        return found

    async def _next_keys(self) -> tuple[int, int]:
        """The next change sequence and the next internal key."""
        rows = await self._db.fetch(
            "SELECT coalesce(max(seq), 0) + 1, coalesce(max(pk), 0) + 1 FROM papers"
        )
        return int(rows[0][0]), int(rows[0][1])

    async def count_papers(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM papers")

    async def papers_by_pk(self, pks: Sequence[int]) -> dict[int, Paper]:
        """Papers with their trending days, keyed by internal key."""
        result: dict[int, Paper] = {}
        for chunk in chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetch(
                f"SELECT {PAPER_COLUMNS} FROM papers WHERE pk IN ({marks})", chunk
            )
            trending = await self._db.fetch(
                f"SELECT paper_pk, day, source, rank, upvotes FROM trending"
                f" WHERE paper_pk IN ({marks}) ORDER BY day DESC, rank",
                chunk,
            )
            entries: dict[int, list[TrendingEntry]] = {}
            for pk, day, source, rank, upvotes in trending:
                entries.setdefault(pk, []).append(
                    TrendingEntry(date.fromisoformat(day), source, rank, upvotes)
                )
            for row in rows:
                paper = paper_from_row(row)
                result[row[0]] = _with_trending(paper, entries.get(row[0], []))
        return result

    async def paper_by_id(self, paper_id: str) -> Paper | None:
        rows = await self._db.fetch("SELECT pk FROM papers WHERE id = ?", (paper_id,))
        if not rows:
            return None
        return (await self.papers_by_pk([rows[0][0]]))[rows[0][0]]

    async def trending_days(self) -> list[date]:
        """Days that have a trending list, newest first."""
        rows = await self._db.fetch("SELECT DISTINCT day FROM trending ORDER BY day DESC")
        return [date.fromisoformat(r[0]) for r in rows]

    async def trending_list(self, day: date) -> list[Paper]:
        """Papers on `day`'s trending lists (any source), each with all its entries."""
        rows = await self._db.fetch(
            "SELECT DISTINCT paper_pk FROM trending WHERE day = ?", (day.isoformat(),)
        )
        papers = await self.papers_by_pk([r[0] for r in rows])
        return list(papers.values())

    async def changes_since(self, seq: int, limit: int = 5000) -> list[IndexRow]:
        """What the search index needs of the papers written after change `seq`, oldest
        change first. `days` are the days a paper trended, else its publication date."""
        rows = await self._db.fetch(
            "SELECT pk, seq, title, abstract, authors, categories, published,"
            " (SELECT group_concat(DISTINCT day) FROM trending WHERE paper_pk = pk)"
            " FROM papers WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [
            IndexRow(
                pk=r[0],
                seq=r[1],
                title=r[2],
                abstract=r[3],
                authors=tuple(json.loads(r[4])),
                categories=tuple(json.loads(r[5])),
                days=_index_days(r[7], r[6]),
            )
            for r in rows
        ]

    async def max_seq(self) -> int:
        return await self._db.scalar("SELECT coalesce(max(seq), 0) FROM papers")

    async def pks_for_ids(self, paper_ids: Sequence[str]) -> dict[str, int]:
        return await pks_for_ids(self._db, paper_ids)


def _index_days(trended: str | None, published: str | None) -> tuple[date, ...]:
    """The days the search filters look at: every day it trended, else the day published."""
    found = trended.split(",") if trended else [published] if published else []
    return tuple(sorted(date.fromisoformat(day) for day in found))


def _with_trending(paper: Paper, entries: list[TrendingEntry]) -> Paper:
    return replace(paper, trending=tuple(entries)) if entries else paper
