"""SQLite state through aiosqlite: the source of truth for papers, trending lists and what
was sent. One connection per process is the single writer; WAL lets other processes read.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.channel_digests import DigestRun, DigestSettings, Outcome
from bot.day_lists import WHOLE, CompletionRule, ListState
from bot.models import (
    Destination,
    Observation,
    Paper,
    Signals,
    TrendingEntry,
)
from bot.storage.database import Database
from bot.storage.merge import Known, Pending, plan_batch
from bot.subscriptions import AlertSettings, Subscription, same_topic

_log = logging.getLogger(__name__)

_PAPER_COLUMNS = (
    "pk, id, arxiv_id, title, abstract, authors, published, links, code_links, "
    "categories, signals, signals_at, sources, version, affiliations"
)
_CHUNK = 500  # SQLite's default limit on bound parameters is far above this.


@dataclass(frozen=True)
class IngestCounts:
    """What happened to each observation of a batch: it made a new paper, changed a known
    one, or changed nothing. The three add up to the observations given, even when two of
    them are the same paper."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    lists: tuple[ListState, ...] = field(default=(), compare=False)  # day lists it touched

    def __add__(self, other: IngestCounts) -> IngestCounts:
        return IngestCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.lists + other.lists,
        )


@dataclass(frozen=True)
class DestinationState:
    """Whether a destination takes messages, and how the last sends went."""

    destination: str
    stopped_at: datetime | None = None
    error: str | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None


@dataclass(frozen=True)
class QueuedMessage:
    """A message in the outbox. `state` "sending" after a restart means a request of it had
    left and its outcome is unknown (the process died while it was out)."""

    id: int
    destination: str
    reply: str  # bot.codec JSON
    paper_ids: tuple[str, ...]
    state: str
    attempts: int  # sends that failed: the backoff follows them
    handle: str | None = None  # a command reply's address (JSON), see `enqueue`
    sends: int = 0  # sends begun (a request left): any may have posted some of it


@dataclass(frozen=True)
class OutboxHead:
    """Where a destination's queue stands: its first waiting message and how many wait."""

    destination: str
    waiting: int
    state: str  # of the first message: "pending", or "sending" (a send was under way)
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class IndexRow:
    """What the search index holds of a paper, with its key and change sequence."""

    pk: int
    seq: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    days: tuple[date, ...]  # every day it trended, else its publication date (if known)


class Store:
    """Papers, trending lists and sent records. Build with `Store.open(path)`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._changed = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path, own_folder: bool = False) -> AsyncIterator[Store]:
        """Open (creating if needed) and migrate the database at `path`, see `Database`."""
        async with Database.open(path, own_folder) as db:
            yield cls(db)

    # --- ingest ---------------------------------------------------------------------------

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
        async with self._db.transaction() as conn:
            counts = await self._ingest_batch(conn, batch) if batch else IngestCounts()
            states = await self._record_lists(conn, batch, fetched, lists, now or datetime.now(UTC))
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
        self, conn: aiosqlite.Connection, batch: list[Observation]
    ) -> IngestCounts:
        known = await self._find_existing(batch)
        plan = plan_batch(batch, known)
        now = datetime.now(UTC).isoformat()
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
                inserts.append((*_paper_row(pending), now, now, seq, key))
                seq += 1
            elif pending.paper != original[key]:
                updates.append((*_paper_row(pending), now, seq, key))
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
            for chunk in _chunks(keys):
                rows += await self._db.fetch(
                    f"SELECT {_PAPER_COLUMNS} FROM papers WHERE {column} IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                )
        found = Known()
        for row in rows:
            found.add(row[0], _paper_from_row(row), row[11])
        return found

    async def _next_keys(self) -> tuple[int, int]:
        """The next change sequence and the next internal key."""
        rows = await self._db.fetch(
            "SELECT coalesce(max(seq), 0) + 1, coalesce(max(pk), 0) + 1 FROM papers"
        )
        return int(rows[0][0]), int(rows[0][1])

    # --- reads ----------------------------------------------------------------------------

    async def count_papers(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM papers")

    async def papers_by_pk(self, pks: Sequence[int]) -> dict[int, Paper]:
        """Papers with their trending days, keyed by internal key."""
        result: dict[int, Paper] = {}
        for chunk in _chunks(list(pks)):
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetch(
                f"SELECT {_PAPER_COLUMNS} FROM papers WHERE pk IN ({marks})", chunk
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
                paper = _paper_from_row(row)
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
        result: dict[str, int] = {}
        for chunk in _chunks(list(paper_ids)):
            rows = await self._db.fetch(
                f"SELECT id, pk FROM papers WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            result.update({r[0]: r[1] for r in rows})
        return result

    # --- day lists ------------------------------------------------------------------------

    async def _record_lists(
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

    # --- channel digests ------------------------------------------------------------------

    async def channel_digest(self, destination: str) -> DigestSettings | None:
        rows = await self._db.fetch(f"{_DIGEST_SELECT} WHERE destination = ?", (destination,))
        return _digest_settings(rows[0]) if rows else None

    async def channel_digests(self, enabled_only: bool = True) -> list[DigestSettings]:
        where = " WHERE enabled = 1" if enabled_only else ""
        rows = await self._db.fetch(f"{_DIGEST_SELECT}{where} ORDER BY destination")
        return [_digest_settings(row) for row in rows]

    async def save_channel_digest(self, digest: DigestSettings, by: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO channel_digests (destination, enabled, time, timezone,"
                " weekdays, size, topic, format, covers, updated_at, updated_by)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    digest.destination.key,
                    int(digest.enabled),
                    digest.time.strftime("%H:%M"),
                    digest.timezone,
                    ",".join(digest.weekdays),
                    digest.size,
                    digest.topic,
                    digest.format,
                    digest.covers,
                    at.isoformat(),
                    by,
                ),
            )

    async def claim_run(
        self, destination: str, run_day: date, at: datetime, stale_after: timedelta
    ) -> bool:
        """Take the one digest `destination` may have on `run_day`. False when it is taken:
        posted, or running (by the schedule, `now`, or another process). A run that posted
        nothing, or that died more than `stale_after` ago, may be taken again."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO digest_runs (destination, run_day, started_at, outcome)"
                " VALUES (?, ?, ?, 'running') ON CONFLICT (destination, run_day) DO UPDATE SET"
                " started_at = excluded.started_at, outcome = 'running', finished_at = NULL,"
                " posted = 0, detail = NULL, list_day = NULL"
                " WHERE outcome NOT IN ('running', 'posted', 'queued') OR"
                " (outcome = 'running' AND started_at < ?)",
                (destination, run_day.isoformat(), at.isoformat(), (at - stale_after).isoformat()),
            )
            return cursor.rowcount == 1

    async def finish_run(self, run: DigestRun) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO digest_runs (destination, run_day, started_at,"
                " finished_at, list_day, posted, outcome, detail) VALUES (?,?,?,?,?,?,?,?)",
                (
                    run.destination,
                    run.run_day.isoformat(),
                    run.started_at.isoformat(),
                    run.finished_at.isoformat() if run.finished_at else None,
                    run.list_day.isoformat() if run.list_day else None,
                    run.posted,
                    run.outcome.value,
                    run.detail,
                ),
            )

    async def release_interrupted_runs(self) -> int:
        """At start: runs left "running" by a process that died before it queued anything
        can be taken again at once (a run that queued its message is "queued", not these)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE digest_runs SET started_at = '1970-01-01T00:00:00+00:00'"
                " WHERE outcome = 'running'"
            )
            return cursor.rowcount

    async def digest_runs(self, destination: str, limit: int = 10) -> list[DigestRun]:
        """The latest runs for `destination`, newest first."""
        rows = await self._db.fetch(
            "SELECT destination, run_day, started_at, outcome, finished_at, list_day, posted,"
            " detail FROM digest_runs WHERE destination = ? ORDER BY run_day DESC LIMIT ?",
            (destination, limit),
        )
        return [
            DigestRun(
                destination=r[0],
                run_day=date.fromisoformat(r[1]),
                started_at=datetime.fromisoformat(r[2]),
                outcome=Outcome(r[3]),
                finished_at=datetime.fromisoformat(r[4]) if r[4] else None,
                list_day=date.fromisoformat(r[5]) if r[5] else None,
                posted=r[6],
                detail=r[7],
            )
            for r in rows
        ]

    # --- destinations ---------------------------------------------------------------------

    async def destination_state(self, destination: str) -> DestinationState:
        rows = await self._db.fetch(f"{_DESTINATION_SELECT} WHERE destination = ?", (destination,))
        return _destination_state(rows[0]) if rows else DestinationState(destination)

    async def record_delivery(
        self, destination: str, at: datetime, error: str | None = None, permanent: bool = False
    ) -> None:
        """A send's outcome: success, a passing error, or a permanent one that stops it."""
        when = at.isoformat()
        if error is None:
            sql = (
                "INSERT INTO destinations (destination, last_success_at) VALUES (?, ?)"
                " ON CONFLICT (destination) DO UPDATE SET"
                " last_success_at = excluded.last_success_at"
            )
            params: tuple[Any, ...] = (destination, when)
        else:
            sql = (
                "INSERT INTO destinations (destination, stopped_at, error, last_error_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (destination) DO UPDATE SET"
                " stopped_at = coalesce(excluded.stopped_at, stopped_at),"
                " error = excluded.error, last_error_at = excluded.last_error_at"
            )
            params = (destination, when if permanent else None, error, when)
        async with self._db.transaction() as conn:
            await conn.execute(sql, params)

    async def resume_destination(self, destination: str, at: datetime) -> None:
        """Take messages again; what waits in the outbox is due at once."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE destinations SET stopped_at = NULL WHERE destination = ?", (destination,)
            )
            await conn.execute(
                f"UPDATE outbox SET next_attempt_at = ? WHERE destination = ? AND {_WAITING}",
                (at.isoformat(), destination),
            )

    # --- subscriptions --------------------------------------------------------------------

    async def add_subscription(
        self, owner: Destination, topic: str, at: datetime, limit: int
    ) -> tuple[int | None, list[Subscription]]:
        """Add `topic` to `owner`'s topics unless they follow it already (ignoring case) or
        follow `limit` topics. Returns the new id (None when nothing was added) and the
        owner's topics before it. Checks and insert happen under the write lock, and the
        insert counts again in the same statement, so the limit holds however many adds
        run at once (another process writing the database included)."""
        async with self._db.transaction() as conn:
            mine = await self.subscriptions(owner)
            if any(same_topic(s.topic, topic) for s in mine):
                return None, mine
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO subscriptions (owner, topic, created_at)"
                " SELECT ?, ?, ? WHERE (SELECT count(*) FROM subscriptions WHERE owner = ?) < ?",
                (owner.key, topic, at.isoformat(), owner.key, limit),
            )
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                return cursor.lastrowid, mine
            return None, await self.subscriptions(owner)  # another process added some

    async def subscriptions(self, owner: Destination | None = None) -> list[Subscription]:
        """One user's subscriptions (or everyone's), oldest first."""
        where, params = ("WHERE owner = ?", (owner.key,)) if owner else ("", ())
        rows = await self._db.fetch(
            "SELECT id, owner, topic, created_at, last_match_at, last_match_title"
            f" FROM subscriptions {where} ORDER BY id",
            params,
        )
        return [
            Subscription(
                id=r[0],
                owner=Destination.from_key(r[1]),
                topic=r[2],
                created_at=datetime.fromisoformat(r[3]),
                last_match_at=datetime.fromisoformat(r[4]) if r[4] else None,
                last_match_title=r[5],
            )
            for r in rows
        ]

    async def remove_subscriptions(self, owner: Destination, ids: Sequence[int]) -> int:
        """Remove some of `owner`'s subscriptions; others' ids are never touched."""
        async with self._db.transaction() as conn:
            total = 0
            for chunk in _chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                cursor = await conn.execute(
                    f"DELETE FROM subscriptions WHERE owner = ? AND id IN ({marks})",
                    (owner.key, *chunk),
                )
                total += cursor.rowcount
                await conn.execute(
                    f"DELETE FROM pending_matches WHERE owner = ? AND subscription_id IN ({marks})",
                    (owner.key, *chunk),
                )
            return total

    async def alert_settings(self, owner: Destination) -> AlertSettings | None:
        rows = await self._db.fetch(
            "SELECT time, timezone, paused_until FROM alert_settings WHERE owner = ?",
            (owner.key,),
        )
        if not rows:
            return None
        clock_time, zone, paused = rows[0]
        return AlertSettings(
            owner,
            time.fromisoformat(clock_time),
            zone,
            datetime.fromisoformat(paused) if paused else None,
        )

    async def save_alert_settings(self, settings: AlertSettings, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO alert_settings (owner, time, timezone, paused_until,"
                " updated_at) VALUES (?, ?, ?, ?, ?)",
                (
                    settings.owner.key,
                    settings.time.strftime("%H:%M"),
                    settings.timezone,
                    settings.paused_until.isoformat() if settings.paused_until else None,
                    at.isoformat(),
                ),
            )

    async def lists_to_match(self) -> list[tuple[date, str, datetime]]:
        """Complete day lists whose papers were not matched against subscriptions yet:
        (day, source, when it became complete)."""
        rows = await self._db.fetch(
            "SELECT l.day, l.source, l.complete_at FROM day_lists l LEFT JOIN matched_lists m"
            " ON m.day = l.day AND m.source = l.source"
            " WHERE l.complete_at IS NOT NULL AND m.day IS NULL ORDER BY l.day"
        )
        return [(date.fromisoformat(r[0]), r[1], datetime.fromisoformat(r[2])) for r in rows]

    async def queue_matches(
        self,
        matches: Sequence[tuple[Destination, str, int]],
        lists: Sequence[tuple[date, str]],
        at: datetime,
    ) -> int:
        """Queue (owner, paper id, subscription id) matches, and mark `lists` matched, in
        one transaction. Papers already sent to the owner are left out."""
        async with self._db.transaction() as conn:
            pks = await self.pks_for_ids(sorted({paper_id for _, paper_id, _ in matches}))
            rows = [
                (owner.key, pks[paper_id], sub_id, at.isoformat())
                for owner, paper_id, sub_id in matches
                if paper_id in pks
            ]
            before = conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO pending_matches (owner, paper_pk, subscription_id,"
                " matched_at) SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM sent_papers"
                " WHERE destination = ?1 AND paper_pk = ?2)",
                rows,
            )
            queued = conn.total_changes - before
            await conn.executemany(
                "INSERT OR IGNORE INTO matched_lists (day, source, matched_at) VALUES (?, ?, ?)",
                [(day.isoformat(), source, at.isoformat()) for day, source in lists],
            )
            return queued

    async def pending_matches(self, owner: Destination) -> list[tuple[int, int]]:
        """(paper key, subscription id) waiting for `owner`, oldest match first."""
        rows = await self._db.fetch(
            "SELECT paper_pk, subscription_id FROM pending_matches WHERE owner = ?"
            " ORDER BY matched_at, paper_pk",
            (owner.key,),
        )
        return [(r[0], r[1]) for r in rows]

    async def clear_pending(self, owner: Destination) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM pending_matches WHERE owner = ?", (owner.key,))

    async def note_last_match(self, sub_id: int, title: str, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE subscriptions SET last_match_at = ?, last_match_title = ? WHERE id = ?",
                (at.isoformat(), title, sub_id),
            )

    # --- saved queries --------------------------------------------------------------------

    async def save_query(self, query: str, at: datetime) -> str:
        """A short stable key for `query` (buttons carry the key, not the query)."""
        key = hashlib.blake2b(query.encode("utf-8"), digest_size=9).hexdigest()
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO saved_queries (key, query, created_at) VALUES (?, ?, ?)",
                (key, query, at.isoformat()),
            )
        return key

    async def saved_query(self, key: str) -> str | None:
        rows = await self._db.fetch("SELECT query FROM saved_queries WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    # --- outbox ---------------------------------------------------------------------------

    async def enqueue(
        self,
        destination: str,
        reply: str,
        paper_ids: Sequence[str],
        at: datetime,
        run: tuple[str, date] | None = None,
        handle: str | None = None,
    ) -> int:
        """Keep a message until it is delivered, record its papers as sent there, and mark
        the digest `run` it settles as queued, in one transaction: deciding to send it and
        sending it cannot come apart. A command's reply comes with its `handle` (JSON):
        where to answer, for as long as the platform allows."""
        async with self._db.transaction() as conn:
            if run is not None:
                await conn.execute(
                    "UPDATE digest_runs SET outcome = 'queued', posted = ? WHERE destination = ?"
                    " AND run_day = ?",
                    (len(paper_ids), run[0], run[1].isoformat()),
                )
            cursor = await conn.execute(
                "INSERT INTO outbox (destination, reply, paper_ids, created_at, state,"
                " next_attempt_at, run_day, handle) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    destination,
                    reply,
                    json.dumps(list(paper_ids)),
                    at.isoformat(),
                    at.isoformat(),
                    run[1].isoformat() if run else None,
                    handle,
                ),
            )
            pks = await self.pks_for_ids(paper_ids)
            await conn.executemany(
                "INSERT OR IGNORE INTO sent_papers (destination, paper_pk, sent_at)"
                " VALUES (?, ?, ?)",
                [(destination, pk, at.isoformat()) for pk in pks.values()],
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    async def due_destinations(self, now: datetime) -> list[str]:
        """Destinations not stopped whose oldest undelivered message is due, oldest first;
        but first those whose message may have arrived before (settled first, their check
        does not wait behind new sends)."""
        rows = await self._db.fetch(
            "SELECT o.destination, o.next_attempt_at FROM outbox o JOIN"
            f" (SELECT min(id) AS first FROM outbox WHERE {_WAITING} GROUP BY destination)"
            " ON o.id = first LEFT JOIN destinations d ON d.destination = o.destination"
            " WHERE d.stopped_at IS NULL ORDER BY o.sends = 0, o.id"
        )
        return [r[0] for r in rows if datetime.fromisoformat(r[1]) <= now]

    async def due_messages(self, destination: str | None, now: datetime) -> list[QueuedMessage]:
        """Undelivered messages in order (of one destination, or all) whose time has come;
        per destination, only those up to its first not yet due (order is kept)."""
        where = _WAITING + (" AND destination = ?" if destination else "")
        rows = await self._db.fetch(
            "SELECT id, destination, reply, paper_ids, state, attempts, next_attempt_at, handle,"
            f" sends FROM outbox WHERE {where} ORDER BY destination, id",
            (destination,) if destination else (),
        )
        due: list[QueuedMessage] = []
        blocked: set[str] = set()
        for row in rows:
            if row[1] in blocked:
                continue
            if datetime.fromisoformat(row[6]) > now:
                blocked.add(row[1])
                continue
            due.append(
                QueuedMessage(
                    id=row[0],
                    destination=row[1],
                    reply=row[2],
                    paper_ids=tuple(json.loads(row[3])),
                    state=row[4],
                    attempts=row[5],
                    handle=row[7],
                    sends=row[8],
                )
            )
        return due

    async def mark_sending(self, message_id: int) -> None:
        """A request of it is about to leave (it had its turn): from now until its outcome is
        kept, it may have arrived. A send begun, not an attempt: only a failure counts."""
        await self._outbox_update(
            "UPDATE outbox SET state = 'sending', sends = sends + 1 WHERE id = ?",
            (message_id,),
        )

    async def mark_sent(self, message_id: int, platform_ids: Sequence[str], at: datetime) -> None:
        """Delivered; a run it settles that was still "queued" is now "posted"."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET state = 'sent', platform_ids = ?, sent_at = ?,"
                " last_error = NULL, handle = NULL WHERE id = ?",
                (json.dumps(list(platform_ids)), at.isoformat(), message_id),
            )
            await conn.execute(
                "UPDATE digest_runs SET outcome = 'posted', finished_at = ?, detail = NULL"
                " WHERE outcome = 'queued' AND (destination, run_day) IN"
                " (SELECT destination, run_day FROM outbox WHERE id = ?)",
                (at.isoformat(), message_id),
            )

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Not delivered (one more failed attempt); tried again at `retry_at`."""
        await self._outbox_update(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?,"
            " next_attempt_at = ? WHERE id = ?",
            (error, retry_at.isoformat(), message_id),
        )

    async def mark_deferred(self, message_id: int, reason: str, retry_at: datetime) -> None:
        """Not tried now, for `reason` (no failure: the attempts stay); tried at `retry_at`."""
        await self._outbox_update(
            "UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
            (reason, retry_at.isoformat(), message_id),
        )

    async def prune_outbox(self, before: datetime) -> int:
        """Forget delivered (or dropped) messages created before `before`; what they
        showed stays recorded as sent. The newest row always stays: ids must never be
        reused, since a message's id is its marker and nonce on the platforms."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM outbox WHERE state IN ('sent', 'dropped') AND created_at < ?"
                " AND id < (SELECT max(id) FROM outbox)",
                (before.isoformat(),),
            )
            return cursor.rowcount

    async def outbox_state(self, message_id: int) -> str | None:
        rows = await self._db.fetch("SELECT state FROM outbox WHERE id = ?", (message_id,))
        return str(rows[0][0]) if rows else None

    async def mark_dropped(self, message_id: int, error: str) -> None:
        """Given up for good: a command's reply the platform no longer takes (expired)."""
        await self._outbox_update(
            "UPDATE outbox SET state = 'dropped', last_error = ?, handle = NULL WHERE id = ?",
            (error, message_id),
        )

    async def outbox_depths(self) -> dict[str, int]:
        rows = await self._db.fetch(
            f"SELECT destination, count(*) FROM outbox WHERE {_WAITING} GROUP BY destination"
        )
        return {r[0]: int(r[1]) for r in rows}

    async def outbox_heads(self) -> list[OutboxHead]:
        """Each destination's first waiting message (the one the others wait behind)."""
        rows = await self._db.fetch(
            "SELECT o.destination, n.waiting, o.state, o.attempts, o.next_attempt_at,"
            " o.last_error FROM outbox o JOIN (SELECT min(id) AS first, count(*) AS waiting"
            f" FROM outbox WHERE {_WAITING} GROUP BY destination) n ON o.id = n.first"
            " ORDER BY o.destination"
        )
        return [
            OutboxHead(r[0], int(r[1]), r[2], int(r[3]), datetime.fromisoformat(r[4]), r[5])
            for r in rows
        ]

    async def destination_states(self) -> list[DestinationState]:
        rows = await self._db.fetch(f"{_DESTINATION_SELECT} ORDER BY destination")
        return [_destination_state(row) for row in rows]

    async def _outbox_update(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(sql, params)

    # --- sent records ---------------------------------------------------------------------

    async def sent_paper_ids(self, destination: str) -> frozenset[str]:
        rows = await self._db.fetch(
            "SELECT p.id FROM sent_papers s JOIN papers p ON p.pk = s.paper_pk"
            " WHERE s.destination = ?",
            (destination,),
        )
        return frozenset(r[0] for r in rows)

    # --- helpers --------------------------------------------------------------------------

    async def fetch_raw(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for diagnostics and benchmarks."""
        return await self._db.fetch_raw(sql, params)


def title_hash(normalized_title: str) -> int:
    """A signed 64-bit key for a normalised title: a far smaller index than the text."""
    digest = hashlib.blake2b(normalized_title.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _paper_row(pending: Pending) -> tuple[Any, ...]:
    paper = pending.paper
    signals = {k: v for k, v in paper.signals.__dict__.items() if v not in (None, ())}
    return (
        paper.id,
        paper.arxiv_id,
        title_hash(pending.normalized_title),
        paper.title,
        paper.abstract,
        _json(paper.authors),
        paper.published.isoformat() if paper.published else None,
        _json(paper.links),
        _json(paper.code_links),
        _json(paper.categories),
        _json(signals) if signals else "{}",
        pending.signals_at,
        _json(paper.sources),
        paper.version,
        _json(paper.affiliations),
    )


def _index_days(trended: str | None, published: str | None) -> tuple[date, ...]:
    """The days the search filters look at: every day it trended, else the day published."""
    found = trended.split(",") if trended else [published] if published else []
    return tuple(sorted(date.fromisoformat(day) for day in found))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value else "[]"


def _paper_from_row(row: Sequence[Any]) -> Paper:
    signals = json.loads(row[10])
    if "ai_keywords" in signals:
        signals["ai_keywords"] = tuple(signals["ai_keywords"])
    return Paper(
        id=row[1],
        arxiv_id=row[2],
        title=row[3],
        abstract=row[4],
        authors=tuple(json.loads(row[5])),
        published=date.fromisoformat(row[6]) if row[6] else None,
        links=tuple(json.loads(row[7])),
        code_links=tuple(json.loads(row[8])),
        categories=tuple(json.loads(row[9])),
        signals=Signals(**signals),
        sources=tuple(json.loads(row[12])),
        version=row[13],
        affiliations=tuple(json.loads(row[14])),
    )


_DIGEST_SELECT = (
    "SELECT destination, enabled, time, timezone, weekdays, size, topic, format, covers,"
    " updated_at FROM channel_digests"
)


def _digest_settings(row: Sequence[Any]) -> DigestSettings:
    return DigestSettings(
        destination=Destination.from_key(row[0]),
        enabled=bool(row[1]),
        time=time.fromisoformat(row[2]),
        timezone=row[3],
        weekdays=tuple(row[4].split(",")),
        size=row[5],
        topic=row[6],
        format=row[7],
        covers=row[8],
        updated_at=datetime.fromisoformat(row[9]),
    )


_DESTINATION_SELECT = (
    "SELECT destination, stopped_at, error, last_success_at, last_error_at FROM destinations"
)


# Outbox rows still to deliver ("sent" and "dropped" are done).
_WAITING = "state IN ('pending', 'sending')"


def _destination_state(row: Sequence[Any]) -> DestinationState:
    def moment(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    return DestinationState(
        row[0],
        stopped_at=moment(row[1]),
        error=row[2],
        last_success_at=moment(row[3]),
        last_error_at=moment(row[4]),
    )


def _list_state(row: Sequence[Any]) -> ListState:
    return ListState(
        day=date.fromisoformat(row[0]),
        source=row[1],
        size=row[2],
        grew_at=datetime.fromisoformat(row[3]),
        fetched_at=datetime.fromisoformat(row[4]),
        complete_at=datetime.fromisoformat(row[5]) if row[5] else None,
    )


def _with_trending(paper: Paper, entries: list[TrendingEntry]) -> Paper:
    return replace(paper, trending=tuple(entries)) if entries else paper
