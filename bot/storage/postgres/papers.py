"""Papers in PostgreSQL: the same merge (`bot.storage.merge`) as SQLite, with writers taking
turns under an advisory lock so the change sequence follows the order of commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection

from bot.day_lists import CompletionRule
from bot.models import Observation, Paper
from bot.storage.decode import TRENDING_ENTRY_COLUMNS, index_row_from_row, papers_with_trending
from bot.storage.ingest_plan import ListKey, carried_lists, paper_changes, write_plan
from bot.storage.ingesting import IngestingPapers, utc_now
from bot.storage.merge import Known, plan_batch
from bot.storage.paper_changes import RECORD_CHANGE, change_rows, pg
from bot.storage.postgres.database import INGEST_LOCK, ON_SCHEMA, PgDatabase
from bot.storage.postgres.day_lists import PgDayLists
from bot.storage.rows import PAPER_COLUMNS, known_papers, title_hash
from bot.storage.types import IndexRow, IngestCounts


class PgPapers(IngestingPapers):
    """The corpus: papers, the days they trended, and their change sequence."""

    def __init__(self, db: PgDatabase, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(clock)
        self._db = db
        self._lists = PgDayLists(db)

    async def _ingest(
        self,
        batch: list[Observation],
        fetched: set[tuple[date, str]],
        lists: CompletionRule,
        now: datetime,
    ) -> IngestCounts:
        async with self._db.transaction() as conn:
            # One writer at a time: keys and the change sequence are read, then written.
            await conn.execute(f"SELECT pg_advisory_xact_lock({ON_SCHEMA})", (INGEST_LOCK,))
            counts = await self._ingest_batch(conn, batch, now) if batch else IngestCounts()
            states = await self._lists.record(conn, batch, fetched, lists, now)
        return replace(counts, lists=tuple(states))

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
        listed = await _listed(conn, carried_lists(plan))
        writes = write_plan(plan, known.papers, listed, now, int(row[0]), int(row[1]))
        async with conn.cursor() as cur:
            await cur.executemany("UPDATE papers SET seq = %s WHERE pk = %s", writes.reindexed)
            await cur.executemany(
                "UPDATE papers SET id=%s, arxiv_id=%s, title_hash=%s, title=%s, abstract=%s,"
                " authors=%s, published=%s, links=%s, code_links=%s, categories=%s,"
                " signals=%s, signals_at=%s, sources=%s, version=%s, affiliations=%s, doi=%s,"
                " journal_ref=%s, updated_at=%s, seq=%s WHERE pk=%s",
                writes.updates,
            )
            await cur.executemany(
                "INSERT INTO papers (id, arxiv_id, title_hash, title, abstract, authors,"
                " published, links, code_links, categories, signals, signals_at, sources,"
                " version, affiliations, doi, journal_ref, first_seen, updated_at, seq, pk)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                writes.inserts,
            )
            await cur.executemany(
                "DELETE FROM trending WHERE day = %s AND source = %s", writes.replaced_lists
            )
            await cur.executemany(
                "INSERT INTO trending AS t (day, source, paper_pk, rank, upvotes)"
                " VALUES (%s,%s,%s,%s,%s) ON CONFLICT (day, source, paper_pk) DO UPDATE SET"
                " rank = least(t.rank, excluded.rank),"
                " upvotes = coalesce(excluded.upvotes, t.upvotes)",
                writes.trending,
            )
            changes = paper_changes(plan, known.papers)
            await cur.executemany(pg(RECORD_CHANGE), change_rows(changes, now))
        return IngestCounts(plan.new, plan.updated, plan.unchanged)

    async def count_papers(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM papers")

    async def papers_by_pk(self, pks: Sequence[int]) -> dict[int, Paper]:
        keys = list(pks)
        rows = await self._db.fetch(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE pk = ANY(%s)", (keys,)
        )
        trending = await self._db.fetch(
            f"SELECT {TRENDING_ENTRY_COLUMNS} FROM trending"
            " WHERE paper_pk = ANY(%s) ORDER BY day DESC, rank",
            (keys,),
        )
        return papers_with_trending(rows, trending)

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
        return [index_row_from_row(r) for r in rows]

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
    return known_papers(await cursor.fetchall())


async def _listed(conn: AsyncConnection[Any], lists: Iterable[ListKey]) -> dict[ListKey, list[int]]:
    """The papers on each of these day lists, as stored now."""
    listed: dict[ListKey, list[int]] = {}
    for day, source in lists:
        cursor = await conn.execute(
            "SELECT paper_pk FROM trending WHERE day = %s AND source = %s", (day, source)
        )
        listed[(day, source)] = [r[0] for r in await cursor.fetchall()]
    return listed
