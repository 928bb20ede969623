"""Which bot token speaks for which Slack workspace.

With `SLACK_BOT_TOKEN` (one workspace) it is that token, whatever the workspace
(`OneToken`). With OAuth (many workspaces) each workspace has the token its install gave
(`Workspaces`): read from the database through a short cache, refreshed before it expires
when the app rotates tokens, and gone once the workspace uninstalls. An install, a
reinstall and an uninstall also resume or stop the workspace's destinations; its data is
forgotten after the grace period (`forget_uninstalled`, a job of the leader's schedule).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bot.platforms.slack.errors import slack_error
from bot.platforms.slack.installations import to_bot
from bot.storage import Installations
from bot.storage.types import Installation
from bot.wording import plural

_log = logging.getLogger(__name__)

CACHE_S = 60.0  # how long a workspace's installation is used before it is read again
ROTATE_BEFORE_MIN = 120  # a rotating token is refreshed this long before it expires
# Why a workspace's destinations stopped: what a reinstall resumes.
UNINSTALLED = ("app_uninstalled", "tokens_revoked")


class BotTokens(Protocol):
    """The bot token for a workspace, for the transport and the lookups."""

    async def bot_token(self, team_id: str) -> str | None:
        """None: paperwire is not (or no longer) installed there."""
        ...

    def forget(self, team_id: str) -> None:
        """Slack refused the token: read it again before the next use."""
        ...


class OneToken:
    """`SLACK_BOT_TOKEN`: the one workspace's token."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, team_id: str) -> str | None:
        return self._token

    def forget(self, team_id: str) -> None:
        pass


class Workspaces:
    """The workspaces that installed paperwire through OAuth, and their tokens."""

    def __init__(
        self,
        installations: Installations,
        clock: Callable[[], datetime],
        rotator: AsyncTokenRotator | None = None,
        rotate_before_min: int = ROTATE_BEFORE_MIN,
        grace: timedelta = timedelta(days=30),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._installations = installations
        self._clock = clock
        self._rotator = rotator
        self._rotate_before = timedelta(minutes=rotate_before_min)
        self._grace = grace
        self._monotonic = monotonic
        # team -> (when read, its installation; None: not installed there)
        self._cache: dict[str, tuple[float, Installation | None]] = {}
        self._rotating: dict[str, asyncio.Lock] = {}

    async def bot_token(self, team_id: str) -> str | None:
        found = await self.installation(team_id)
        return found.bot_token if found is not None else None

    def forget(self, team_id: str) -> None:
        self._cache.pop(team_id, None)

    async def installation(self, team_id: str) -> Installation | None:
        """The workspace's installation while it is installed, its token refreshed first
        when it is about to expire."""
        cached = self._cache.get(team_id)
        if cached is not None and self._monotonic() - cached[0] < CACHE_S:
            found = cached[1]
        else:
            stored = await self._installations.installation(team_id)
            found = stored if stored is not None and stored.installed else None
            self._cache[team_id] = (self._monotonic(), found)
        if found is not None and self._expiring(found):
            found = await self._rotate(team_id)
        return found

    def _expiring(self, installation: Installation) -> bool:
        expires = installation.token_expires_at
        # Slack dates a token's expiry by the real clock (and bolt's rotator reads it).
        return (
            installation.refresh_token is not None
            and expires is not None
            and expires - self._rotate_before <= datetime.now(UTC)
        )

    async def _rotate(self, team_id: str) -> Installation | None:
        """A new token for the workspace (oauth.v2.access, grant_type=refresh_token), kept;
        one refresh at a time per workspace, and none if another process did it."""
        lock = self._rotating.setdefault(team_id, asyncio.Lock())
        async with lock:
            stored = await self._installations.installation(team_id)
            current = stored if stored is not None and stored.installed else None
            if current is None or not self._expiring(current) or self._rotator is None:
                self._cache[team_id] = (self._monotonic(), current)
                return current
            try:
                bot = await self._rotator.perform_bot_token_rotation(
                    bot=to_bot(current),
                    minutes_before_expiration=int(self._rotate_before.total_seconds() // 60),
                )
            except SlackTokenRotationError as exc:
                # Slack said why; the token as it is may still work until it expires.
                _log.error(
                    "Slack: refreshing workspace %s's bot token failed (%s)",
                    team_id,
                    slack_error(exc.api_error),
                )
                return current
            if bot is None or bot.bot_token_expires_at is None:
                return current
            refreshed = replace(
                current,
                bot_token=bot.bot_token,
                refresh_token=bot.bot_refresh_token,
                token_expires_at=datetime.fromtimestamp(bot.bot_token_expires_at, UTC),
            )
            kept = current.refresh_token is not None and await self._installations.replace_tokens(
                team_id,
                current.refresh_token,
                refreshed.bot_token,
                refreshed.refresh_token,
                refreshed.token_expires_at,
            )
            if not kept:  # uninstalled meanwhile, or refreshed by another process: read again
                self._cache.pop(team_id, None)
                _log.info("Slack: workspace %s changed while its token was refreshed", team_id)
                return (
                    None
                    if (after := await self._installations.installation(team_id)) is None
                    or not after.installed
                    else after
                )
            self._cache[team_id] = (self._monotonic(), refreshed)
            _log.info("Slack: refreshed workspace %s's bot token (token rotation)", team_id)
            return refreshed

    async def install(self, installation: Installation) -> None:
        """Keep a workspace's installation (an install, a reinstall or a refreshed token);
        back within its grace period, its destinations take messages again."""
        team = installation.team_id
        before = await self._installations.installation(team)
        await self._installations.save_installation(installation)
        self._cache[team] = (self._monotonic(), installation)
        name = installation.team_name or team
        if before is not None and before.uninstalled_at is not None:
            resumed = dropped = 0
            for reason in UNINSTALLED:
                back = await self._installations.resume_workspace(team, reason, self._clock())
                resumed, dropped = resumed + back.destinations, dropped + back.dropped
            _log.info(
                "Slack: workspace %s (%s) installed paperwire again: its settings were kept,"
                " %s resumed (%s queued while it was away dropped)",
                team,
                name,
                plural(resumed, "destination"),
                plural(dropped, "message"),
            )
        elif before is None:
            _log.info("Slack: workspace %s (%s) installed paperwire", team, name)

    async def uninstall(self, team_id: str, reason: str) -> None:
        """The workspace uninstalled paperwire (or revoked its token): its token is
        forgotten, its destinations stop and what waits for them is dropped; its settings
        stay for the grace period."""
        now = self._clock()
        self._cache[team_id] = (self._monotonic(), None)
        if not team_id or not await self._installations.uninstall(team_id, now):
            return
        stop = await self._installations.stop_workspace(team_id, reason, now)
        _log.info(
            "Slack: workspace %s uninstalled paperwire (%s): %s stopped, %s dropped; its"
            " settings are kept until %s (PAPERWIRE_SLACK_UNINSTALL_GRACE_DAYS)",
            team_id,
            reason,
            plural(stop.destinations, "destination"),
            plural(stop.dropped, "waiting message"),
            (now + self._grace).date().isoformat(),
        )


class InstalledAuthorize(AsyncAuthorize):
    """bolt's authorize step in OAuth mode: the installation of the workspace a request
    comes from, as stored (no `auth.test` per request). None (bolt then answers that the
    app is not installed) for a workspace that has none."""

    def __init__(self, workspaces: Workspaces) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._workspaces = workspaces

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        found = await self._workspaces.installation(team_id or enterprise_id or "")
        if found is None:
            return None
        return AuthorizeResult(
            enterprise_id=found.enterprise_id or enterprise_id,
            team_id=team_id or found.team_id,
            team=found.team_name,
            bot_user_id=found.bot_user_id,
            bot_id=found.bot_id,
            bot_token=found.bot_token,
            bot_scopes=found.scopes,
            user_id=user_id,
        )


async def forget_uninstalled(installations: Installations, now: datetime, grace_days: int) -> int:
    """Forget the data of the workspaces uninstalled more than `grace_days` ago (a job of
    the leader's schedule); how many were forgotten."""
    teams = await installations.uninstalled_before(now - timedelta(days=grace_days))
    for team in teams:
        rows = await installations.forget_workspace(team)
        _log.info(
            "Slack: workspace %s was uninstalled over %d days ago: its data is forgotten (%s)",
            team,
            grace_days,
            plural(rows, "row"),
        )
    return len(teams)
