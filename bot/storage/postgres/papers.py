"""Papers in PostgreSQL: the same merge (`bot.storage.merge`) as SQLite, with writers taking
turns under an advisory lock so the change sequence follows the order of commits."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from psycopg import AsyncConnection

from bot.day_lists import WHOLE, CompletionRule
from bot.models import Observation, Paper, TrendingEntry
from bot.storage.merge import Known, plan_batch
from bot.storage.postgres.database import INGEST_LOCK, ON_SCHEMA, PgDatabase
from bot.storage.postgres.day_lists import PgDayLists
from bot.storage.rows import PAPER_COLUMNS, from_json, paper_from_row, paper_row, title_hash
from bot.storage.types import IndexRow, IngestCounts


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PgPapers:
    """The corpus: papers, the days they trended, and their change sequence."""

    def __init__(self, db: PgDatabase, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._clock = clock
        self._lists = PgDayLists(db)
        self._changed = asyncio.Event()

    async def ingest(
        self,
        observations: Iterable[Observation],
        lists: CompletionRule = WHOLE,
        now: datetime | None = None,
        fetched: Iterable[tuple[date, str]] = (),
    ) -> IngestCounts:
        batch = list(observations)
        fetched = set(fetched)
        if not batch and not fetched:
            return IngestCounts()
        now = now or self._clock()
        async with self._db.transaction() as conn:
            # One writer at a time: keys and the change sequence are read, then written.
            await conn.execute(f"SELECT pg_advisory_xact_lock({ON_SCHEMA})", (INGEST_LOCK,))
            counts = await self._ingest_batch(conn, batch, now) if batch else IngestCounts()
            states = await self._lists.record(conn, batch, fetched, lists, now)
        self._changed.set()
        return replace(counts, lists=tuple(states))

    async def wait_for_change(self, or_until: asyncio.Event) -> None:
        """Return once an ingest of this process has committed since the last call, or
        `or_until` is set. (Other processes' ingests are seen through `changes_since`.)"""
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
        self, conn: AsyncConnection[Any], batch: list[Observation], now: datetime
    ) -> IngestCounts:
        known = await _find_existing(conn, batch)
        plan = plan_batch(batch, known)
        row = await (
            await conn.execute(
                "SELECT coalesce(max(seq), 0) + 1, coalesce(max(pk), 0) + 1 FROM papers"
            )
        ).fetchone()
        assert row is not None
        seq, first_pk = int(row[0]), int(row[1])
        trending_rows = [
            (row.day, row.source, row.key, row.rank, row.upvotes) for row in plan.trending
        ]
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for key, pending in plan.touched.items():
            if pending.is_new:
                inserts.append((*paper_row(pending), now, now, seq, key))
                seq += 1
            elif pending.paper != known.papers[key]:
                updates.append((*paper_row(pending), now, seq, key))
                seq += 1
        # A paper joining or leaving a day's list is a change for the search index.
        rewritten = {row[-1] for row in updates}
        moved = await _list_moves(conn, trending_rows)
        reindexed = [(seq + i, pk) for i, pk in enumerate(sorted(moved - rewritten))]
        async with conn.cursor() as cur:
            await cur.executemany("UPDATE papers SET seq = %s WHERE pk = %s", reindexed)
            await cur.executemany(
                "UPDATE papers SET id=%s, arxiv_id=%s, title_hash=%s, title=%s, abstract=%s,"
                " authors=%s, published=%s, links=%s, code_links=%s, categories=%s,"
                " signals=%s, signals_at=%s, sources=%s, version=%s, affiliations=%s,"
                " updated_at=%s, seq=%s WHERE pk=%s",
                updates,
            )
            placeholder_pk = {row[-1]: first_pk + n for n, row in enumerate(inserts)}
            await cur.executemany(
                "INSERT INTO papers (id, arxiv_id, title_hash, title, abstract, authors,"
                " published, links, code_links, categories, signals, signals_at, sources,"
                " version, affiliations, first_seen, updated_at, seq, pk)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [(*row[:-1], placeholder_pk[row[-1]]) for row in inserts],
            )
            # A batch carrying a day's list from a source is that list now (see SQLite's).
            await cur.executemany(
                "DELETE FROM trending WHERE day = %s AND source = %s",
                sorted({(day, source) for day, source, *_ in trending_rows}),
            )
            await cur.executemany(
                "INSERT INTO trending AS t (day, source, paper_pk, rank, upvotes)"
                " VALUES (%s,%s,%s,%s,%s) ON CONFLICT (day, source, paper_pk) DO UPDATE SET"
                " rank = least(t.rank, excluded.rank),"
                " upvotes = coalesce(excluded.upvotes, t.upvotes)",
                [
                    (day, source, placeholder_pk.get(key, key), rank, upvotes)
                    for day, source, key, rank, upvotes in trending_rows
                ],
            )
        return IngestCounts(plan.new, plan.updated, plan.unchanged)

    async def count_papers(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM papers")

    async def papers_by_pk(self, pks: Sequence[int]) -> dict[int, Paper]:
        keys = list(pks)
        rows = await self._db.fetch(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE pk = ANY(%s)", (keys,)
        )
        trending = await self._db.fetch(
            "SELECT paper_pk, day, source, rank, upvotes FROM trending"
            " WHERE paper_pk = ANY(%s) ORDER BY day DESC, rank",
            (keys,),
        )
        entries: dict[int, list[TrendingEntry]] = defaultdict(list)
        for pk, day, source, rank, upvotes in trending:
            entries[pk].append(TrendingEntry(day, source, rank, upvotes))
        result: dict[int, Paper] = {}
        for row in rows:
            paper = paper_from_row(row)
            found = entries.get(row[0])
            result[row[0]] = replace(paper, trending=tuple(found)) if found else paper
        return result

    async def paper_by_id(self, paper_id: str) -> Paper | None:
        rows = await self._db.fetch("SELECT pk FROM papers WHERE id = %s", (paper_id,))
        if not rows:
            return None
        return (await self.papers_by_pk([rows[0][0]]))[rows[0][0]]

    async def trending_days(self) -> list[date]:
        rows = await self._db.fetch("SELECT DISTINCT day FROM trending ORDER BY day DESC")
        return [r[0] for r in rows]

    async def trending_list(self, day: date) -> list[Paper]:
        rows = await self._db.fetch("SELECT DISTINCT paper_pk FROM trending WHERE day = %s", (day,))
        return list((await self.papers_by_pk([r[0] for r in rows])).values())

    async def changes_since(self, seq: int, limit: int = 5000) -> list[IndexRow]:
        rows = await self._db.fetch(
            "SELECT pk, seq, title, abstract, authors, categories, published,"
            " ARRAY(SELECT DISTINCT day FROM trending WHERE paper_pk = pk ORDER BY day)"
            " FROM papers WHERE seq > %s ORDER BY seq LIMIT %s",
            (seq, limit),
        )
        return [
            IndexRow(
                pk=r[0],
                seq=r[1],
                title=r[2],
                abstract=r[3],
                authors=tuple(from_json(r[4])),
                categories=tuple(from_json(r[5])),
                days=tuple(r[7]) if r[7] else (r[6],) if r[6] else (),
            )
            for r in rows
        ]

    async def max_seq(self) -> int:
        return await self._db.scalar("SELECT coalesce(max(seq), 0) FROM papers")

    async def pks_for_ids(self, paper_ids: Sequence[str]) -> dict[str, int]:
        return await pks_for_ids(self._db, paper_ids)


async def pks_for_ids(db: PgDatabase, paper_ids: Sequence[str]) -> dict[str, int]:
    """Internal keys of the papers with these ids (unknown ids are left out)."""
    rows = await db.fetch("SELECT id, pk FROM papers WHERE id = ANY(%s)", (list(paper_ids),))
    return {r[0]: r[1] for r in rows}


async def _find_existing(conn: AsyncConnection[Any], batch: Sequence[Observation]) -> Known:
    """Existing papers matching the batch by id (arXiv id or DOI) or normalised title."""
    known_ids = sorted({o.known_id for o in batch if o.known_id})
    hashes = sorted({title_hash(o.normalized_title) for o in batch})
    cursor = await conn.execute(
        f"SELECT {PAPER_COLUMNS} FROM papers WHERE id = ANY(%s) OR title_hash = ANY(%s)",
        (known_ids, hashes),
    )
    found = Known()
    for row in await cursor.fetchall():
        found.add(row[0], paper_from_row(row), row[11])
    return found


async def _list_moves(
    conn: AsyncConnection[Any], trending_rows: Sequence[tuple[str, str, int, int, int | None]]
) -> set[int]:
    """Existing papers that join or leave a day's list the batch carries."""
    joining: dict[tuple[str, str], set[int]] = defaultdict(set)
    for day, source, key, *_ in trending_rows:
        joining[(day, source)].add(key)
    moved: set[int] = set()
    for (day, source), keys in joining.items():
        cursor = await conn.execute(
            "SELECT paper_pk FROM trending WHERE day = %s AND source = %s", (day, source)
        )
        listed = {r[0] for r in await cursor.fetchall()}
        moved |= {pk for pk in keys.symmetric_difference(listed) if pk > 0}
    return moved
