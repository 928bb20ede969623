"""Who manages a channel on Slack, for the commands and buttons that change its digest:
workspace admins and owners (`users.info`), and the allow-list `PAPERWIRE_SLACK_MANAGERS`."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.errors import NETWORK_ERRORS, network_error, slack_error
from bot.platforms.slack.workspaces import BotTokens
from handlers.context import Invocation

_log = logging.getLogger(__name__)

MANAGER_CACHE_S = 600.0
# A lookup that failed is not tried again on every command meanwhile.
MANAGER_FAILURE_CACHE_S = 60.0


class Managers:
    """Answers whether the asker manages the channel, looking it up in Slack (cached)."""

    def __init__(self, lookups: AsyncWebClient, allowed: frozenset[str], tokens: BotTokens) -> None:
        self._lookups = lookups  # one attempt a call: a command is better answered at once
        self._allowed = allowed
        self._tokens = tokens  # asked with the token of the asker's workspace
        # (team, user) -> (when looked up, admin or owner; None: the lookup failed)
        self._cache: dict[tuple[str, str], tuple[float, bool | None]] = {}

    async def is_manager(self, invocation: Invocation) -> bool | None:
        """Workspace admins and owners, or the configured allow-list (cached a while).
        None when Slack could not tell (that too is kept a minute, not asked per command)."""
        team, user = invocation.workspace, invocation.user
        if user in self._allowed:
            return True
        cached = self._cache.get((team, user))
        if cached:
            at, allowed = cached
            keep = MANAGER_CACHE_S if allowed is not None else MANAGER_FAILURE_CACHE_S
            if time.monotonic() - at < keep:
                return allowed
        allowed = await self._look_up(team, user)
        self._cache[(team, user)] = (time.monotonic(), allowed)
        return allowed

    async def _look_up(self, team: str, user: str) -> bool | None:
        token = await self._tokens.bot_token(team)
        if token is None:
            return None
        try:
            info = await self._lookups.users_info(user=user, token=token)
        except SlackApiError as exc:
            _log.warning("could not look up Slack user %s: %s", user, slack_error(exc))
            return None
        except NETWORK_ERRORS as exc:
            _log.warning("could not look up Slack user %s: %s", user, network_error(exc))
            return None
        profile = info.get("user") or {}
        return bool(profile.get("is_admin") or profile.get("is_owner"))
