"""Which trending papers a digest shows: a pure function of its inputs and `now`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from bot.models import Paper
from bot.search.matcher import matches
from bot.search.query import Query


def trending_order(paper: Paper, day: date) -> tuple[int, int, int, int]:
    """Sort key for `day`'s list: upvotes where a source gives them (papers without come
    after), then comments, GitHub stars, and the best rank the paper had in a list."""
    entries = [e for e in paper.trending if e.day == day]
    votes = [e.upvotes for e in entries if e.upvotes is not None]
    upvotes = max(votes) if votes else paper.signals.upvotes
    rank = min((e.rank for e in entries), default=1_000_000)
    return (
        -(upvotes if upvotes is not None else -1),
        -(paper.signals.comments or 0),
        -(paper.signals.github_stars or 0),
        rank,
    )


def select_trending(
    papers: Iterable[Paper],
    day: date,
    *,
    now: datetime,
    limit: int = 10,
    topic: Query | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Paper]:
    """The top `limit` papers of `day`'s list that match `topic` (when given) and are not in
    `exclude` (ids already sent to the destination). A day after `now` has no list yet."""
    if day > now.date() or limit <= 0:
        return []
    on_day = [p for p in papers if any(e.day == day for e in p.trending)]
    chosen = [p for p in on_day if p.id not in exclude and (topic is None or matches(topic, p))]
    chosen.sort(key=lambda p: trending_order(p, day))
    return chosen[:limit]


def latest_day(days: Sequence[date], now: datetime) -> date | None:
    """The most recent day with a list that is not after `now`."""
    return max((d for d in days if d <= now.date()), default=None)
