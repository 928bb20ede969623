"""Row helpers the repositories share: papers to and from rows, key lookups."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from bot.models import Paper, Signals
from bot.storage.database import Database
from bot.storage.merge import Known, Pending

PAPER_COLUMNS = (
    "pk, id, arxiv_id, title, abstract, authors, published, links, code_links, "
    "categories, signals, signals_at, sources, version, affiliations, doi, journal_ref"
)
_CHUNK = 500  # SQLite's default limit on bound parameters is far above this.

# Outbox rows still to deliver ("sent" and "dropped" are done).
WAITING = "state IN ('pending', 'sending')"


async def pks_for_ids(db: Database, paper_ids: Sequence[str]) -> dict[str, int]:
    """Internal keys of the papers with these ids (unknown ids are left out)."""
    result: dict[str, int] = {}
    for chunk in chunks(list(paper_ids)):
        rows = await db.fetch(
            f"SELECT id, pk FROM papers WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        result.update({r[0]: r[1] for r in rows})
    return result


def title_hash(normalized_title: str) -> int:
    """A signed 64-bit key for a normalised title: a far smaller index than the text."""
    digest = hashlib.blake2b(normalized_title.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def paper_row(pending: Pending) -> tuple[Any, ...]:
    paper = pending.paper
    signals = {k: v for k, v in paper.signals.__dict__.items() if v not in (None, ())}
    return (
        paper.id,
        paper.arxiv_id,
        title_hash(pending.normalized_title),
        paper.title,
        paper.abstract,
        to_json(paper.authors),
        paper.published.isoformat() if paper.published else None,
        to_json(paper.links),
        to_json(paper.code_links),
        to_json(paper.categories),
        to_json(signals) if signals else "{}",
        pending.signals_at,
        to_json(paper.sources),
        paper.version,
        to_json(paper.affiliations),
        paper.doi,
        paper.journal_ref,
    )


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value else "[]"


def paper_from_row(row: Sequence[Any]) -> Paper:
    """A paper from `PAPER_COLUMNS`: JSON as text (SQLite) or decoded (PostgreSQL's jsonb),
    the publication date as ISO text or a date."""
    signals = dict(from_json(row[10]))
    if "ai_keywords" in signals:
        signals["ai_keywords"] = tuple(signals["ai_keywords"])
    return Paper(
        id=row[1],
        arxiv_id=row[2],
        title=row[3],
        abstract=row[4],
        authors=tuple(from_json(row[5])),
        published=as_date(row[6]),
        links=tuple(from_json(row[7])),
        code_links=tuple(from_json(row[8])),
        categories=tuple(from_json(row[9])),
        signals=Signals(**signals),
        sources=tuple(from_json(row[12])),
        version=row[13],
        affiliations=tuple(from_json(row[14])),
        doi=row[15],
        journal_ref=row[16],
    )


def known_papers(rows: Iterable[Sequence[Any]]) -> Known:
    """The stored papers a batch may match, from rows of `PAPER_COLUMNS`."""
    found = Known()
    for row in rows:
        found.add(row[0], paper_from_row(row), row[11])
    return found


def from_json(value: Any) -> Any:
    """A JSON column's value, whether the driver handed over text or decoded it."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def as_date(value: str | date | None) -> date | None:
    """A date column's value, as ISO text (SQLite) or a date (PostgreSQL); None if empty."""
    if value is None or value == "":
        return None
    return to_date(value)


def to_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def as_datetime(value: str | datetime | None) -> datetime | None:
    """A time column's value, as ISO text (SQLite) or a datetime (PostgreSQL); None if
    empty."""
    if value is None or value == "":
        return None
    return to_datetime(value)


def to_datetime(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
