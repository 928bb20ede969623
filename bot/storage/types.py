"""Values the storage repositories take and give (whatever the backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.day_lists import ListState


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
    reply: str  # bot.delivery.codec JSON
    paper_ids: tuple[str, ...]
    state: str
    attempts: int  # sends that failed: the backoff follows them
    handle: str | None = None  # a command reply's address (JSON), see `enqueue`
    sends: int = 0  # sends begun (a request left): any may have posted some of it
    created_at: datetime | None = None  # when it was queued: nothing of it went before


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


# Processes record a heartbeat every few seconds (schedules/leader.py); one silent for
# longer is taken for dead: what it held (a destination's claim) is free.
PROCESS_GONE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class ProcessBeat:
    """A paperwire process sharing the database, as its last heartbeat left it."""

    process: str  # host:pid:nonce, unique while it runs
    started_at: datetime
    seen_at: datetime
    leader: bool  # it runs the schedule (digests, alerts, ingest)
    detail: str = ""  # version and platforms, for `paperwire status`


@dataclass(frozen=True)
class Installation:
    """A Slack workspace's installation of the app (OAuth): whose bot it is and its token;
    with token rotation, the refresh token and when the token expires. The tokens are
    secrets: never in `repr`, never logged. Uninstalled, it keeps no token (empty) and says
    when it went (its data is kept for a grace period, in case it comes back)."""

    team_id: str  # the workspace (for an org-wide install, the organisation's id)
    bot_token: str = field(repr=False)
    bot_id: str
    bot_user_id: str
    installed_at: datetime
    enterprise_id: str | None = None
    team_name: str | None = None
    app_id: str | None = None
    scopes: str = ""  # comma-separated, as Slack gives them
    installer: str | None = None  # the user who installed it
    refresh_token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    uninstalled_at: datetime | None = None

    @property
    def installed(self) -> bool:
        return self.uninstalled_at is None and bool(self.bot_token)


@dataclass(frozen=True)
class WorkspaceStop:
    """What stopping a workspace did: destinations stopped, waiting messages dropped."""

    destinations: int
    dropped: int


@dataclass(frozen=True)
class VoteCounts:
    """A paper's votes in one channel, as counts only (who voted is never shown)."""

    likes: int = 0  # "More like this"
    dislikes: int = 0  # "Not for us"


@dataclass(frozen=True)
class SavedPaper:
    """A paper on a user's reading list."""

    paper_pk: int
    paper_id: str
    saved_at: datetime
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaperChange:
    """A change an ingest saw to a saved paper: `kind` "version" (`value` the new version's
    number), "journal_ref" or "doi"."""

    id: int
    paper_pk: int
    kind: str
    value: str
    seen_at: datetime
