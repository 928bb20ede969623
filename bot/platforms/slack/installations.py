"""slack-bolt's OAuth storage over paperwire's database: the `AsyncInstallationStore` the
install flow saves each workspace's installation through (and bolt's revocation
listeners delete it through), and the `AsyncOAuthStateStore` that issues the flow's
`state` and takes it back once, before it expires. Not bolt's file stores: several
processes share the database, and a workspace's installation belongs with its data.

What an install or an uninstall does beyond storing is `Workspaces`' (workspaces.py).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SlackInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.storage import Installations
from bot.storage.types import Installation

if TYPE_CHECKING:
    from bot.platforms.slack.workspaces import Workspaces

_log = logging.getLogger(__name__)

STATE_LIFETIME_S = 600  # an install started in the browser must finish within this


def from_slack(installation: SlackInstallation | Bot) -> Installation:
    """bolt's installation (or bot) as paperwire keeps it: the bot's part only (paperwire
    asks for no user scopes). An org-wide install is kept under the organisation's id."""
    expires = installation.bot_token_expires_at
    team = installation.team_id or installation.enterprise_id or ""
    return Installation(
        team_id=team,
        bot_token=installation.bot_token or "",
        bot_id=installation.bot_id or "",
        bot_user_id=installation.bot_user_id or "",
        installed_at=datetime.fromtimestamp(installation.installed_at, UTC),
        enterprise_id=installation.enterprise_id,
        team_name=installation.team_name,
        app_id=installation.app_id,
        scopes=",".join(installation.bot_scopes or ()),
        installer=getattr(installation, "user_id", None),
        refresh_token=installation.bot_refresh_token,
        token_expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
    )


def to_bot(installation: Installation) -> Bot:
    return to_slack(installation).to_bot()  # slack_sdk's own conversion


def to_slack(installation: Installation) -> SlackInstallation:
    expires = installation.token_expires_at
    return SlackInstallation(
        app_id=installation.app_id,
        enterprise_id=installation.enterprise_id,
        team_id=installation.team_id,
        team_name=installation.team_name,
        bot_token=installation.bot_token,
        bot_id=installation.bot_id,
        bot_user_id=installation.bot_user_id,
        bot_scopes=installation.scopes,
        bot_refresh_token=installation.refresh_token,
        bot_token_expires_at=int(expires.timestamp()) if expires else None,
        user_id=installation.installer or "",
        installed_at=installation.installed_at.timestamp(),
    )


class InstallationStore(AsyncInstallationStore):
    """bolt's installation store, through `Workspaces` (which keeps its cache of tokens
    in step, and resumes or stops the workspace's destinations)."""

    def __init__(self, workspaces: Workspaces) -> None:
        self._workspaces = workspaces

    @property
    def logger(self) -> logging.Logger:
        return _log

    async def async_save(self, installation: SlackInstallation) -> None:
        await self._workspaces.install(from_slack(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await self._workspaces.install(from_slack(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self._workspaces.installation(team_id or enterprise_id or "")
        return to_bot(found) if found is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SlackInstallation | None:
        if user_id is not None:  # paperwire keeps no user's own installation
            return None
        found = await self._workspaces.installation(team_id or enterprise_id or "")
        return to_slack(found) if found is not None else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._workspaces.uninstall(team_id or enterprise_id or "", "tokens_revoked")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self._workspaces.uninstall(team_id or enterprise_id or "", "tokens_revoked")

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._workspaces.uninstall(team_id or enterprise_id or "", "app_uninstalled")


class OAuthStateStore(AsyncOAuthStateStore):
    """The install flow's `state`: random, kept in the database (any process may get the
    browser back), good once, for `expiration_seconds`."""

    def __init__(
        self,
        installations: Installations,
        clock: Callable[[], datetime],
        expiration_seconds: int = STATE_LIFETIME_S,
    ) -> None:
        self._installations = installations
        self._clock = clock
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return _log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(24)
        expires = self._clock() + timedelta(seconds=self.expiration_seconds)
        await self._installations.issue_oauth_state(state, expires)
        return state

    async def async_consume(self, state: str) -> bool:
        if not state:
            return False
        return await self._installations.consume_oauth_state(state, self._clock())
