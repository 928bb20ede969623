"""What callers may do with storage: one Protocol per repository. A second backend
(PostgreSQL) implements these; `bot.storage.sqlite` builds the SQLite ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from bot.alerts.topics import AlertSettings, Subscription
from bot.day_lists import WHOLE, CompletionRule, ListState
from bot.digests.settings import DigestRun, DigestSettings
from bot.models import Destination, Observation, Paper
from bot.storage.protocols_people import Installations, SavedPapers, Votes
from bot.storage.types import (
    DestinationState,
    IndexRow,
    IngestCounts,
    OutboxHead,
    ProcessBeat,
    QueuedMessage,
)


class Papers(Protocol):
    """The corpus: papers, their trending days and their change sequence."""

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
        ...

    async def wait_for_change(self, or_until: asyncio.Event) -> None:
        """Return once an ingest has committed since the last call, or `or_until` is set."""
        ...

    async def count_papers(self) -> int: ...

    async def papers_by_pk(self, pks: Sequence[int]) -> dict[int, Paper]:
        """Papers with their trending days, keyed by internal key."""
        ...

    async def paper_by_id(self, paper_id: str) -> Paper | None: ...

    async def trending_days(self) -> list[date]:
        """Days that have a trending list, newest first."""
        ...

    async def trending_list(self, day: date) -> list[Paper]:
        """Papers on `day`'s trending lists (any source), each with all its entries."""
        ...

    async def changes_since(self, seq: int, limit: int = 5000) -> list[IndexRow]:
        """What the search index needs of the papers written after change `seq`, oldest
        change first. `days` are the days a paper trended, else its publication date."""
        ...

    async def max_seq(self) -> int: ...

    async def pks_for_ids(self, paper_ids: Sequence[str]) -> dict[str, int]: ...


class DayLists(Protocol):
    """How each day's list from each source is filling in."""

    async def list_state(self, day: date, source: str) -> ListState | None: ...

    async def last_fetched(self, source: str) -> datetime | None:
        """When a day's list from `source` was last fetched, None if never."""
        ...

    async def list_states(self) -> list[ListState]:
        """Every day's list from every source, newest day first."""
        ...


class Digests(Protocol):
    """Channel digest settings and the runs (digests and alerts) that post them."""

    async def channel_digest(self, destination: str) -> DigestSettings | None: ...

    async def channel_digests(self, enabled_only: bool = True) -> list[DigestSettings]: ...

    async def save_channel_digest(self, digest: DigestSettings, by: str, at: datetime) -> None: ...

    async def forget_editor(self, workspace: str, user: str) -> int:
        """Forget `user` (an id in the workspace whose destination keys start with
        `workspace`, e.g. `slack:T1:`) as who last changed its channels' digests."""
        ...

    async def claim_run(
        self, destination: str, run_day: date, at: datetime, stale_after: timedelta
    ) -> bool:
        """Take the one digest `destination` may have on `run_day`. False when it is taken:
        posted, or running (by the schedule, `now`, or another process). A run that posted
        nothing, or that died more than `stale_after` ago, may be taken again."""
        ...

    async def finish_run(self, run: DigestRun) -> None:
        """Record how `run` ended; a run already posted (its message sent by another
        process first) stays posted when this one says queued."""
        ...

    async def release_run(self, destination: str, run_day: date) -> None:
        """A run cut short before it queued anything (a stop, a lost lead): it may be
        taken again at once."""
        ...

    async def release_interrupted_runs(self, before: datetime) -> int:
        """At start: runs left "running" since before `before` by a process that died before
        it queued anything can be taken again at once (a run that queued its message is
        "queued", not these; a run begun since, by this process or another, is live)."""
        ...

    async def digest_runs(self, destination: str, limit: int = 10) -> list[DigestRun]:
        """The latest runs for `destination`, newest first."""
        ...


class Subscriptions(Protocol):
    """Users' topics, their alert settings and the matches waiting for them."""

    async def add_subscription(
        self, owner: Destination, topic: str, at: datetime, limit: int
    ) -> tuple[int | None, list[Subscription]]:
        """Add `topic` to `owner`'s topics unless they follow it already (ignoring case) or
        follow `limit` topics. Returns the new id (None when nothing was added) and the
        owner's topics before it. Checks and insert happen under the write lock, and the
        insert counts again in the same statement, so the limit holds however many adds
        run at once (another process writing the database included)."""
        ...

    async def subscriptions(self, owner: Destination | None = None) -> list[Subscription]:
        """One user's subscriptions (or everyone's), oldest first."""
        ...

    async def remove_subscriptions(self, owner: Destination, ids: Sequence[int]) -> int:
        """Remove some of `owner`'s subscriptions; others' ids are never touched."""
        ...

    async def alert_settings(self, owner: Destination) -> AlertSettings | None: ...

    async def save_alert_settings(self, settings: AlertSettings, at: datetime) -> None: ...

    async def lists_to_match(self) -> list[tuple[date, str, datetime]]:
        """Complete day lists whose papers were not matched against subscriptions yet:
        (day, source, when it became complete)."""
        ...

    async def queue_matches(
        self,
        matches: Sequence[tuple[Destination, str, int]],
        lists: Sequence[tuple[date, str]],
        at: datetime,
    ) -> int:
        """Queue (owner, paper id, subscription id) matches, and mark `lists` matched, in
        one transaction. Papers already sent to the owner are left out."""
        ...

    async def pending_matches(self, owner: Destination) -> list[tuple[int, int]]:
        """(paper key, subscription id) waiting for `owner`, oldest match first."""
        ...

    async def clear_pending(self, owner: Destination) -> None: ...

    async def note_last_match(self, sub_id: int, title: str, at: datetime) -> None: ...

    async def forget_user(self, owner: Destination) -> int:
        """Remove `owner`'s topics, alert settings and waiting matches, in one transaction;
        how many topics there were."""
        ...


class Outbox(Protocol):
    """Messages kept until delivered, sent records, destination states."""

    async def enqueue(
        self,
        destination: str,
        reply: str,
        paper_ids: Sequence[str],
        at: datetime,
        run: tuple[str, date] | None = None,
        handle: str | None = None,
        notices: Sequence[int] = (),
    ) -> int:
        """Keep a message until it is delivered, record its papers as sent there, mark
        the digest `run` it settles as queued and the reading-list changes it tells of
        (`notices`, ids of `paper_changes`) as told to `destination`, in one transaction:
        deciding to send it and sending it cannot come apart. A command's reply comes with
        its `handle` (JSON): where to answer, for as long as the platform allows."""
        ...

    async def due_destinations(self, now: datetime) -> list[str]:
        """Destinations not stopped whose oldest undelivered message is due, oldest first;
        but first those whose message may have arrived before (settled first, their check
        does not wait behind new sends)."""
        ...

    async def due_messages(self, destination: str | None, now: datetime) -> list[QueuedMessage]:
        """Undelivered messages in order (of one destination, or all) whose time has come;
        per destination, only those up to its first not yet due (order is kept)."""
        ...

    async def mark_sending(self, message_id: int) -> None:
        """A request of it is about to leave (it had its turn): from now until its outcome is
        kept, it may have arrived. A send begun, not an attempt: only a failure counts."""
        ...

    async def mark_sent(self, message_id: int, platform_ids: Sequence[str], at: datetime) -> None:
        """Delivered; a run it settles that was still "queued" is now "posted"."""
        ...

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Not delivered (one more failed attempt); tried again at `retry_at`."""
        ...

    async def mark_deferred(self, message_id: int, reason: str, retry_at: datetime) -> None:
        """Not tried now, for `reason` (no failure: the attempts stay); tried at `retry_at`."""
        ...

    async def prune_outbox(self, before: datetime) -> int:
        """Forget delivered (or dropped) messages created before `before`; what they
        showed stays recorded as sent. The newest row always stays: ids must never be
        reused, since a message's id is its marker and nonce on the platforms."""
        ...

    async def outbox_state(self, message_id: int) -> str | None: ...

    async def mark_dropped(self, message_id: int, error: str) -> None:
        """Given up for good: a command's reply the platform no longer takes (expired)."""
        ...

    async def outbox_depths(self) -> dict[str, int]: ...

    async def outbox_heads(self) -> list[OutboxHead]:
        """Each destination's first waiting message (the one the others wait behind)."""
        ...

    async def sent_paper_ids(self, destination: str) -> frozenset[str]: ...

    async def sent_between(
        self, destination: str, start: datetime, end: datetime
    ) -> list[tuple[int, datetime]]:
        """The papers first sent to `destination` from `start` until before `end`:
        (paper_pk, sent_at), oldest first."""
        ...

    async def destination_state(self, destination: str) -> DestinationState: ...

    async def destination_states(self) -> list[DestinationState]: ...

    async def record_delivery(
        self, destination: str, at: datetime, error: str | None = None, permanent: bool = False
    ) -> None:
        """A send's outcome: success, a passing error, or a permanent one that stops it."""
        ...

    async def resume_destination(self, destination: str, at: datetime) -> None:
        """Take messages again; what waits in the outbox is due at once."""
        ...

    async def claim(
        self, keys: Sequence[str], owner: str, until: datetime, now: datetime
    ) -> list[str]:
        """Those of `keys` (budgets, or replies' destinations) that `owner` may send for
        now, each held for it until `until` (claimed again to extend): no two processes
        send for one key at once. A claim whose time passed, or whose process stopped
        beating, is taken over."""
        ...

    async def release_claim(self, key: str, owner: str) -> None: ...

    async def forget_destination(self, destination: str, reason: str) -> int:
        """Forget what was sent to `destination` (a user's DMs, when they ask to be
        forgotten): its sent records, its state and its runs (alerts) deleted, and what
        waits for it dropped with `reason`, in one transaction; how many messages were
        dropped. Delivered messages go with the outbox's own pruning."""
        ...


class Processes(Protocol):
    """The paperwire processes sharing the database, and the one that leads (runs the
    schedule). With SQLite there is one process, always the leader."""

    async def try_lead(self) -> bool:
        """Whether this process leads now: it takes the lead when nobody holds it, keeps it
        while its connection lives, and learns here when it lost it."""
        ...

    async def resign(self) -> None: ...

    async def beat(self, beat: ProcessBeat) -> None:
        """Record this process alive (its heartbeat row)."""
        ...

    async def live_processes(self, seen_since: datetime) -> list[ProcessBeat]:
        """Processes whose last heartbeat is at or after `seen_since`, oldest first."""
        ...

    async def forget_process(self, process: str) -> None:
        """A process stopping removes its row."""
        ...


class SavedQueries(Protocol):
    """Queries kept under a short stable key (for buttons)."""

    async def save_query(self, query: str, at: datetime) -> str:
        """A short stable key for `query` (buttons carry the key, not the query)."""
        ...

    async def saved_query(self, key: str) -> str | None: ...


class RawReader(Protocol):
    """Read-only SQL for diagnostics, benchmarks and tests (backend-specific SQL)."""

    async def fetch_raw(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Storage:
    """The repositories of one database (and the database, for diagnostics)."""

    db: RawReader
    papers: Papers
    day_lists: DayLists
    digests: Digests
    subscriptions: Subscriptions
    outbox: Outbox
    saved_queries: SavedQueries
    processes: Processes
    installations: Installations
    votes: Votes
    saved_papers: SavedPapers
