"""What savers of a paper hear about it: the changes ingests saw (a new version, a journal
reference, a DOI), recorded once each in the ingest's own transaction, and which of them
each saver was told. The same SQL on both backends but for the placeholders (`?` here;
PostgreSQL's `%s` through `pg`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.storage.ingest_plan import Change

# A change of a paper someone saved, once: a paper no one saved changes in silence.
RECORD_CHANGE = (
    "INSERT INTO paper_changes (paper_pk, kind, value, seen_at)"
    " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM saved_papers WHERE paper_pk = ?)"
    " ON CONFLICT (paper_pk, kind, value) DO NOTHING"
)

# Told to its saver: in the alert queued for them (the outbox's transaction).
NOTICE_DELIVERED = (
    "INSERT INTO saved_notices (owner, change_id, delivered_at) VALUES (?, ?, ?)"
    " ON CONFLICT (owner, change_id) DO NOTHING"
)

# The changes a saver was not told yet, of the papers on their list, seen since they saved
# each one (what came before they saved it is no news to them).
_UNTOLD = (
    "FROM paper_changes c JOIN saved_papers s ON s.paper_pk = c.paper_pk"
    " WHERE c.seen_at >= s.saved_at AND NOT EXISTS (SELECT 1 FROM saved_notices n"
    " WHERE n.owner = s.owner AND n.change_id = c.id)"
)
PENDING_CHANGES = (
    f"SELECT c.id, c.paper_pk, c.kind, c.value, c.seen_at {_UNTOLD} AND s.owner = ? ORDER BY c.id"
)
OWNERS_WITH_CHANGES = f"SELECT DISTINCT s.owner {_UNTOLD} ORDER BY s.owner"


def pg(sql: str) -> str:
    return sql.replace("?", "%s")


def change_rows(changes: Sequence[Change], at: Any) -> list[tuple[Any, ...]]:
    """`RECORD_CHANGE`'s parameters for each change, `at` as the backend stores times."""
    return [(pk, kind, value, at, pk) for pk, kind, value in changes]


def notice_rows(owner: str, change_ids: Sequence[int], at: datetime | str) -> list[tuple[Any, ...]]:
    return [(owner, change_id, at) for change_id in change_ids]
