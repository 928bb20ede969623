"""The repositories of what workspaces, channels and people keep beyond papers and
deliveries: Slack installations, a channel's votes (its taste) and a person's reading list.
Beside `protocols.py`, which gathers every repository into `Storage`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.models import Destination
from bot.storage.types import (
    Installation,
    PaperChange,
    SavedPaper,
    VoteCounts,
    WorkspaceStop,
)


class Installations(Protocol):
    """Slack workspaces that installed the app (OAuth), the install flow's states, and
    what an uninstall does to a workspace's data."""

    async def save_installation(self, installation: Installation) -> None:
        """Keep `installation` as its workspace's (a reinstall, or new tokens, replace
        the last)."""
        ...

    async def replace_tokens(
        self,
        team_id: str,
        old_refresh_token: str,
        bot_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> bool:
        """Refreshed tokens (token rotation), kept only if the workspace is still installed
        and still has `old_refresh_token`: a refresh never undoes an uninstall, nor one
        another process made."""
        ...

    async def installation(self, team_id: str) -> Installation | None:
        """The workspace's installation, uninstalled ones included (without tokens)."""
        ...

    async def installations(self) -> list[Installation]: ...

    async def uninstall(self, team_id: str, at: datetime) -> bool:
        """Forget the workspace's tokens and date its uninstall; False if it was not
        installed."""
        ...

    async def uninstalled_before(self, before: datetime) -> list[str]:
        """Workspaces uninstalled before `before` (their grace period is over)."""
        ...

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None: ...

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        """Whether `state` was issued and has not expired; it can be used once only."""
        ...

    async def stop_workspace(self, team_id: str, error: str, at: datetime) -> WorkspaceStop:
        """Stop every destination of the workspace (with `error`), and drop what waits to be
        sent there, in one transaction."""
        ...

    async def resume_workspace(self, team_id: str, error: str, at: datetime) -> WorkspaceStop:
        """Resume the destinations `stop_workspace` stopped with `error`, dropping what was
        queued for them meanwhile."""
        ...

    async def forget_workspace(self, team_id: str) -> int:
        """Delete the workspace's data (subscriptions, alert and digest settings, runs,
        what was sent where) and its installation; the rows deleted."""
        ...


class Votes(Protocol):
    """A channel's votes on its digests' papers: +1 "More like this", -1 "Not for us". One
    per user and paper in each channel (a new one replaces it); only counts are shown."""

    async def vote(
        self, destination: str, paper_pk: int, user: str, value: int, at: datetime
    ) -> VoteCounts:
        """Record (or change) `user`'s vote on the paper in `destination`; the paper's
        counts there after it."""
        ...

    async def remove_vote(self, destination: str, paper_pk: int, user: str) -> bool: ...

    async def vote_of(self, destination: str, paper_pk: int, user: str) -> int | None:
        """`user`'s own vote on the paper there, None if none."""
        ...

    async def counts(self, destination: str, paper_pk: int) -> VoteCounts: ...

    async def channel_counts(
        self, destination: str, paper_pks: Sequence[int] | None = None
    ) -> dict[int, VoteCounts]:
        """The counts of each paper voted on in `destination` (of `paper_pks` only, if
        given); other channels' votes never count here."""
        ...

    async def forget_user(self, user: str) -> int:
        """Remove every vote of `user` (their key, `slack:T1:@U1`), in every channel."""
        ...

    async def forget_channel(self, destination: str) -> int:
        """Remove every vote cast in `destination` (its taste starts again); how many."""
        ...


class SavedPapers(Protocol):
    """Users' reading lists: the papers each user saved (private to them), with tags.
    `owner` is the user's direct messages (`Destination(..., kind="dm")`)."""

    async def save_paper(self, owner: Destination, paper_pk: int, at: datetime) -> bool:
        """Put the paper on `owner`'s list; False (and nothing changed) when it is there."""
        ...

    async def saved_papers(
        self,
        owner: Destination,
        tag: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[SavedPaper]:
        """`owner`'s saved papers (only those tagged `tag`, when given), newest first."""
        ...

    async def remove_saved(self, owner: Destination, paper_pk: int) -> bool: ...

    async def tag_saved(self, owner: Destination, paper_pk: int, tag: str) -> bool:
        """Add `tag` to a saved paper's tags (once); False when it is not on the list."""
        ...

    async def forget_user(self, owner: Destination) -> int:
        """Empty `owner`'s reading list; how many papers were on it."""
        ...

    async def pending_changes(self, owner: Destination) -> list[PaperChange]:
        """Changes to the papers on `owner`'s list, seen since they saved each, that no
        alert queued for them told of yet; oldest first."""
        ...

    async def owners_with_changes(self) -> list[Destination]:
        """The savers that `pending_changes` has something for."""
        ...

    async def saver_counts(self, paper_pks: Sequence[int], owners: str) -> dict[int, int]:
        """How many users saved each paper (those saved by anyone), counting the owners
        whose key starts with `owners` (a workspace's: `slack:T1:@`)."""
        ...
