"""Building a day's digest from the store (the I/O around the pure selection)."""

from __future__ import annotations

from datetime import date, datetime

from bot.digests.selection import latest_day, select_trending
from bot.errors import UserError
from bot.render.neutral import Digest
from bot.search.query import parse
from bot.storage import Papers


async def build_digest(
    papers: Papers,
    *,
    now: datetime,
    day: date | None = None,
    limit: int = 10,
    topic: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Digest:
    """The digest of `day` (default: the latest list up to `now`). Raises `UserError` when
    there is no such list or the topic is not a valid query."""
    topic_query = parse(topic) if topic else None
    if topic_query is not None and topic_query.is_empty:
        raise UserError(f"The topic {topic!r} has no words to match.")
    days = await papers.trending_days()
    if not days:
        raise UserError("No papers yet. Ingest some first: `paperwire ingest seeds`.")
    if day is None:
        day = latest_day(days, now)
        if day is None:
            raise UserError("No trending list up to today yet.")
    elif day not in days:
        known = ", ".join(d.isoformat() for d in days[:5])
        raise UserError(f"No trending list for {day.isoformat()}. Latest lists: {known}.")
    chosen = select_trending(
        await papers.trending_list(day),
        day,
        now=now,
        limit=limit,
        topic=topic_query,
        exclude=exclude,
    )
    return Digest(day=day, papers=tuple(chosen), topic=topic)
