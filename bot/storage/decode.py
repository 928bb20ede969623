"""Values from table rows, whichever backend read them: SQLite hands over times and dates as
ISO text, booleans as integers and JSON as text; PostgreSQL as datetimes, dates, booleans
and decoded jsonb. Each decoder's columns, in its order, stand beside it (the SELECTs of
both backends name them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from bot.alerts.topics import AlertSettings, Subscription
from bot.day_lists import ListState
from bot.digests.settings import DigestRun, DigestSettings, Outcome
from bot.models import Destination, Paper, TrendingEntry
from bot.storage.rows import (
    WAITING,
    as_date,
    as_datetime,
    from_json,
    paper_from_row,
    to_date,
    to_datetime,
)
from bot.storage.types import DestinationState, IndexRow, OutboxHead, ProcessBeat, QueuedMessage

LIST_STATE_COLUMNS = "day, source, size, grew_at, fetched_at, complete_at"


def list_state_from_row(row: Sequence[Any]) -> ListState:
    return ListState(
        day=to_date(row[0]),
        source=row[1],
        size=row[2],
        grew_at=to_datetime(row[3]),
        fetched_at=to_datetime(row[4]),
        complete_at=as_datetime(row[5]),
    )


# Complete day lists not matched against subscriptions yet (no placeholder: the same SQL on
# both backends).
LISTS_TO_MATCH = (
    "SELECT l.day, l.source, l.complete_at FROM day_lists l LEFT JOIN matched_lists m"
    " ON m.day = l.day AND m.source = l.source"
    " WHERE l.complete_at IS NOT NULL AND m.day IS NULL ORDER BY l.day"
)


def list_to_match_from_row(row: Sequence[Any]) -> tuple[date, str, datetime]:
    """(day, source, complete_at) of a complete day list."""
    return to_date(row[0]), row[1], to_datetime(row[2])


DIGEST_SETTINGS_COLUMNS = (
    "destination, enabled, time, timezone, weekdays, size, topic, format, covers, updated_at,"
    " taste, recap_day, recap_time, recap_name"
)


def digest_settings_from_row(row: Sequence[Any]) -> DigestSettings:
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
        updated_at=as_datetime(row[9]),
        taste=bool(row[10]),
        recap_day=row[11],
        recap_time=time.fromisoformat(row[12]) if row[12] else None,
        recap_name=row[13],
    )


DIGEST_RUN_COLUMNS = (
    "destination, run_day, started_at, outcome, finished_at, list_day, posted, detail"
)


def digest_run_from_row(row: Sequence[Any]) -> DigestRun:
    return DigestRun(
        destination=row[0],
        run_day=to_date(row[1]),
        started_at=to_datetime(row[2]),
        outcome=Outcome(row[3]),
        finished_at=as_datetime(row[4]),
        list_day=as_date(row[5]),
        posted=row[6],
        detail=row[7],
    )


# What `forget_user` deletes of a user's topics and alerts (`?`: the owner's key; PostgreSQL
# takes `%s`), the topics last: their count is the answer.
FORGET_OWNER = (
    "DELETE FROM pending_matches WHERE owner = ?",
    "DELETE FROM alert_settings WHERE owner = ?",
    "DELETE FROM subscriptions WHERE owner = ?",
)
# And what `forget_destination` deletes of what was sent to a destination (a user's DMs).
# Its outbox rows stay until pruned (the newest row's id must never be reused: a retry finds
# its parts by it), but without what they said (their topics, their papers).
FORGET_DESTINATION = (
    "DELETE FROM sent_papers WHERE destination = ?",
    "DELETE FROM destinations WHERE destination = ?",
    "DELETE FROM digest_runs WHERE destination = ?",
    "UPDATE outbox SET reply = '{}', paper_ids = '[]' WHERE destination = ?",
)


SUBSCRIPTION_COLUMNS = "id, owner, topic, created_at, last_match_at, last_match_title"


def subscription_from_row(row: Sequence[Any]) -> Subscription:
    return Subscription(
        id=row[0],
        owner=Destination.from_key(row[1]),
        topic=row[2],
        created_at=to_datetime(row[3]),
        last_match_at=as_datetime(row[4]),
        last_match_title=row[5],
    )


ALERT_SETTINGS_COLUMNS = "time, timezone, paused_until"


def alert_settings_from_row(owner: Destination, row: Sequence[Any]) -> AlertSettings:
    return AlertSettings(owner, time.fromisoformat(row[0]), row[1], as_datetime(row[2]))


QUEUED_COLUMNS = (
    "id, destination, reply, paper_ids, state, attempts, next_attempt_at, handle, sends, created_at"
)


def queued_message_from_row(row: Sequence[Any]) -> QueuedMessage:
    return QueuedMessage(
        id=row[0],
        destination=row[1],
        reply=row[2],
        paper_ids=tuple(from_json(row[3])),
        state=row[4],
        attempts=row[5],
        handle=row[7],
        sends=row[8],
        created_at=as_datetime(row[9]),
    )


def due_in_order(rows: Iterable[Sequence[Any]], now: datetime) -> list[QueuedMessage]:
    """The messages of `rows` (`QUEUED_COLUMNS`, by destination then id) whose time has come;
    per destination only those before its first not yet due: order is kept, nothing goes
    ahead of a message that waits."""
    due: list[QueuedMessage] = []
    blocked: set[str] = set()
    for row in rows:
        if row[1] in blocked:
            continue
        if to_datetime(row[6]) > now:
            blocked.add(row[1])
            continue
        due.append(queued_message_from_row(row))
    return due


# The papers first sent to a destination in [start, end): (paper_pk, sent_at), oldest first.
SENT_BETWEEN = (
    "SELECT paper_pk, sent_at FROM sent_papers WHERE destination = ? AND sent_at >= ?"
    " AND sent_at < ? ORDER BY sent_at, paper_pk"
)


def settled_day(destination: str, run: tuple[str, date] | None) -> date | None:
    """The outbox row's `run_day`: the day of the digest run its delivery marks posted. A
    run kept under another key (a weekly recap's, `<destination>#recap`) is only marked
    queued when the message is: the destination's own digest run of that day is not its."""
    return run[1] if run is not None and run[0] == destination else None


# Each destination's first waiting message, and how many wait (no placeholder: the same
# SQL on both backends).
OUTBOX_HEADS = (
    "SELECT o.destination, n.waiting, o.state, o.attempts, o.next_attempt_at,"
    " o.last_error FROM outbox o JOIN (SELECT min(id) AS first, count(*) AS waiting"
    f" FROM outbox WHERE {WAITING} GROUP BY destination) n ON o.id = n.first"
    " ORDER BY o.destination"
)


def outbox_head_from_row(row: Sequence[Any]) -> OutboxHead:
    return OutboxHead(row[0], int(row[1]), row[2], int(row[3]), to_datetime(row[4]), row[5])


DESTINATION_COLUMNS = "destination, stopped_at, error, last_success_at, last_error_at"


def destination_state_from_row(row: Sequence[Any]) -> DestinationState:
    return DestinationState(
        row[0],
        stopped_at=as_datetime(row[1]),
        error=row[2],
        last_success_at=as_datetime(row[3]),
        last_error_at=as_datetime(row[4]),
    )


PROCESS_COLUMNS = "process, started_at, seen_at, leader, detail"


def process_beat_from_row(row: Sequence[Any]) -> ProcessBeat:
    return ProcessBeat(row[0], to_datetime(row[1]), to_datetime(row[2]), bool(row[3]), row[4])


TRENDING_ENTRY_COLUMNS = "paper_pk, day, source, rank, upvotes"


def papers_with_trending(
    rows: Iterable[Sequence[Any]], trending: Iterable[Sequence[Any]]
) -> dict[int, Paper]:
    """Papers by internal key from rows of `PAPER_COLUMNS`, each with its entries from rows
    of `TRENDING_ENTRY_COLUMNS` (in their order)."""
    entries: dict[int, list[TrendingEntry]] = {}
    for pk, day, source, rank, upvotes in trending:
        entries.setdefault(pk, []).append(TrendingEntry(to_date(day), source, rank, upvotes))
    return {
        row[0]: replace(paper_from_row(row), trending=tuple(entries.get(row[0], ())))
        for row in rows
    }


def index_row_from_row(row: Sequence[Any]) -> IndexRow:
    """An `IndexRow` from (pk, seq, title, abstract, authors, categories, published, the days
    it trended): the days as comma-separated text (SQLite) or an array (PostgreSQL)."""
    trended, published = row[7], row[6]
    if isinstance(trended, str):
        trended = trended.split(",")
    found = trended if trended else [published] if published else []
    return IndexRow(
        pk=row[0],
        seq=row[1],
        title=row[2],
        abstract=row[3],
        authors=tuple(from_json(row[4])),
        categories=tuple(from_json(row[5])),
        days=tuple(sorted(to_date(day) for day in found)),
    )


# A run's end, recorded over its claim; a run its message already settled as posted (the
# process owning the budget sent it first) is not set back to queued.
FINISH_UPSERT = (
    "ON CONFLICT (destination, run_day) DO UPDATE SET"
    " started_at = excluded.started_at, finished_at = excluded.finished_at,"
    " list_day = excluded.list_day, posted = excluded.posted,"
    " outcome = excluded.outcome, detail = excluded.detail"
    " WHERE NOT (digest_runs.outcome = 'posted' AND excluded.outcome = 'queued')"
)


# Who last changed a digest, forgotten with the user (`?`: SQLite's placeholder). The digest
# keeps its settings; its editor becomes "" (no one). The prefix is the user's workspace
# (`slack:T1:`), matched with substr so that `_` and `%` in it match only themselves.
FORGET_EDITOR = (
    "UPDATE channel_digests SET updated_by = '' WHERE updated_by = ?"
    " AND substr(destination, 1, ?) = ?"
)
