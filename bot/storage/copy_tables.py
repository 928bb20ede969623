"""What `paperwire migrate-db` copies: every table of the SQLite schema (version 11) with
the kind of each column, and how a value SQLite stores becomes PostgreSQL's (version 1).
SQLite keeps times and dates as ISO text, JSON as text and booleans as 0/1; PostgreSQL has
timestamptz, date, jsonb and boolean."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.errors import UserError


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(value)
    # paperwire writes aware UTC times; one without an offset can only have been UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date(value: Any) -> date:
    return date.fromisoformat(value)


def _bool(value: Any) -> bool:
    if value not in (0, 1):
        raise ValueError("not 0 or 1")
    return bool(value)


def _json(value: Any) -> str:
    # The text goes to the server as it is (COPY's text format) and jsonb parses it there.
    if not isinstance(value, str):
        raise ValueError("not JSON text")
    return value


def _as_is(value: Any) -> Any:
    return value


# A column kind and how its SQLite value is made PostgreSQL's (NULL stays NULL).
KINDS: dict[str, Callable[[Any], Any]] = {
    "text": _as_is,
    "int": _as_is,
    "time": _time,
    "date": _date,
    "bool": _bool,
    "json": _json,
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, kind), in PostgreSQL's order
    identity: str | None = None  # the identity column, whose sequence must pass the copied ids

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """`row` (values in `names` order) as PostgreSQL takes it; a `UserError` naming the
        table, column and value that cannot be converted."""
        converted: list[Any] = []
        for (name, kind), value in zip(self.columns, row, strict=True):
            if value is None:
                converted.append(None)
                continue
            try:
                converted.append(KINDS[kind](value))
            except (TypeError, ValueError):
                raise UserError(
                    f"{self.name}.{name} holds {str(value)[:60]!r}, which is not a {kind}:"
                    " nothing was copied"
                ) from None
        return tuple(converted)


def _table(name: str, columns: str, identity: str | None = None) -> Table:
    return Table(name, tuple(_column(c) for c in columns.split()), identity)


def _column(spec: str) -> tuple[str, str]:
    name, _, kind = spec.partition(":")
    assert kind in KINDS, spec
    return name, kind


# Parents before the tables that refer to them (trending, sent_papers and pending_matches
# refer to papers).
TABLES: tuple[Table, ...] = (
    _table(
        "papers",
        "pk:int id:text arxiv_id:text title_hash:int title:text abstract:text authors:json"
        " published:date links:json code_links:json categories:json signals:json"
        " signals_at:text sources:json first_seen:time updated_at:time seq:int version:int"
        " affiliations:json doi:text journal_ref:text",
    ),
    _table("trending", "day:date source:text paper_pk:int rank:int upvotes:int"),
    _table("sent_papers", "destination:text paper_pk:int sent_at:time"),
    _table(
        "day_lists",
        "day:date source:text size:int grew_at:time fetched_at:time complete_at:time",
    ),
    _table(
        "channel_digests",
        "destination:text enabled:bool time:text timezone:text weekdays:text size:int"
        " topic:text format:text covers:text updated_at:time updated_by:text taste:bool"
        " recap_day:text recap_time:text recap_name:text",
    ),
    _table(
        "digest_runs",
        "destination:text run_day:date started_at:time finished_at:time list_day:date"
        " posted:int outcome:text detail:text",
    ),
    _table(
        "destinations",
        "destination:text stopped_at:time error:text last_success_at:time last_error_at:time",
    ),
    _table("saved_queries", "key:text query:text created_at:time"),
    _table(
        "subscriptions",
        "id:int owner:text topic:text created_at:time last_match_at:time last_match_title:text",
        identity="id",
    ),
    _table(
        "alert_settings",
        "owner:text time:text timezone:text paused_until:time updated_at:time",
    ),
    _table("pending_matches", "owner:text paper_pk:int subscription_id:int matched_at:time"),
    _table("matched_lists", "day:date source:text matched_at:time"),
    _table(
        "outbox",
        "id:int destination:text reply:text paper_ids:json created_at:time state:text"
        " attempts:int next_attempt_at:time last_error:text platform_ids:json sent_at:time"
        " run_day:date handle:text sends:int",
        identity="id",  # message ids are nonces on the platforms: never to be reused
    ),
    # (Not the OAuth flow's states: each lives 10 minutes, for one browser's install.)
    _table(
        "slack_installations",
        "team_id:text bot_token:text bot_id:text bot_user_id:text installed_at:time"
        " enterprise_id:text team_name:text app_id:text scopes:text installer:text"
        " refresh_token:text token_expires_at:time uninstalled_at:time",
    ),
    _table("votes", "destination:text paper_pk:int user_key:text value:int voted_at:time"),
    _table("saved_papers", "owner:text paper_pk:int saved_at:time tags:json"),
    _table("paper_changes", "id:int paper_pk:int kind:text value:text seen_at:time", identity="id"),
    _table("saved_notices", "owner:text change_id:int delivered_at:time"),
)
