"""Per-user topic subscriptions as plain values, and what a valid topic is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.models import Destination, Paper
from bot.search.analysis import words
from bot.search.query import parse

MAX_TOPIC_CHARS = 200
DEFAULT_MAX_PER_USER = 20
DEFAULT_ALERT_TIME = time(9, 0)
DEFAULT_ALERT_CAP = 10
UNTIL_RESUMED = datetime(9999, 12, 31, tzinfo=UTC)  # `pause` with no number of days


@dataclass(frozen=True)
class Subscription:
    id: int
    owner: Destination  # the user's direct messages
    topic: str
    created_at: datetime
    last_match_at: datetime | None = None
    last_match_title: str | None = None


@dataclass(frozen=True)
class AlertSettings:
    """When a user gets their daily direct message, in their own time zone."""

    owner: Destination
    time: time = DEFAULT_ALERT_TIME
    timezone: str = "UTC"
    paused_until: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until


class AlertSchedule(Protocol):
    """The running scheduler, told when a user's alert settings change."""

    def update(self, settings: AlertSettings) -> None: ...


def clean_topic(text: str) -> str:
    """The topic as it will be stored; raises `UserError` saying what is wrong with it."""
    topic = " ".join(text.split())
    if not topic:
        raise UserError('Give a topic: words, "a phrase", prefix*, author:"Name" or cat:cs.CL.')
    if len(topic) > MAX_TOPIC_CHARS:
        raise UserError(f"That topic is {len(topic)} characters; keep it under {MAX_TOPIC_CHARS}.")
    if parse(topic).is_empty:
        raise UserError(
            "That topic has nothing to look for: give at least one word, phrase, prefix*,"
            ' author:"Name" or cat:cs.CL (an -exclusion alone matches nothing).'
        )
    return topic


def same_topic(a: str, b: str) -> bool:
    """Whether two cleaned topics are one (a user follows each topic once)."""
    return a.casefold() == b.casefold()


_STOPWORDS = frozenset(
    "a an and are as at based by for from in into is of on or the to towards via with without"
    " using toward through over under new large small".split()
)


def similar_topic(paper: Paper) -> str:
    """A topic for papers like `paper`: any of its AI keywords, else its two most distinctive
    title words (the longest ones that are not stop words)."""
    keywords = [k for k in (" ".join(k.split()) for k in paper.signals.ai_keywords) if k]
    if keywords:
        quoted = [f'"{k.replace(chr(34), "")}"' for k in keywords[:3]]
        return " OR ".join(quoted)[:MAX_TOPIC_CHARS]
    title_words = [w for w in words(paper.title) if w not in _STOPWORDS and len(w) > 2]
    chosen = sorted(dict.fromkeys(title_words), key=len, reverse=True)[:2]
    return " ".join(chosen) or " ".join(words(paper.title)[:2])
