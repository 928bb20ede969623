"""Who paperwire is on Slack (`auth.test`), for bolt's `authorize` step, which runs before
any listener can acknowledge a request.

Left to itself, bolt calls `auth.test` on the first request it receives, and again on the
first after a call that failed: with `auth.test` rate-limited or slow, commands were
acknowledged after Slack's 3 s, or answered with bolt's "reinstall this app". Here the
answer comes from what is already known: the `auth.test` made when paperwire connected
(`SlackServer` hands it over through `check`), or, until one has answered, the token alone
while a check runs in the background. No request waits on Slack before its acknowledgement;
`keep_checking` asks again now and then, in case the token was revoked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.platforms.slack.errors import (
    NETWORK_ERRORS,
    REFUSED_TOKEN_ERRORS,
    network_error,
    slack_error,
)

_log = logging.getLogger(__name__)

RECHECK_S = 3600.0  # auth.test again in the background this often
RECHECK_FAILED_S = 60.0  # sooner after a check that got no answer


class SlackIdentity(AsyncAuthorize):
    """The bot token's `auth.test` answer, kept; called, bolt's authorize step."""

    def __init__(self, client: AsyncWebClient, token: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._client = client  # one attempt a call: a failure is tried again later
        self._token = token
        self._known: dict[str, Any] | None = None  # the last auth.test that answered ok
        self._scopes: str | None = None
        self._checking: asyncio.Task[bool] | None = None
        self._failed_at: float | None = None  # loop time of the last lazy check that failed

    async def check(self) -> AsyncSlackResponse:
        """Ask Slack who the token is, and keep the answer. Raises what the call raises."""
        answer = await self._client.auth_test()
        self._known = dict(answer.data) if isinstance(answer.data, dict) else {}
        self._scopes = answer.headers.get("x-oauth-scopes")
        return answer

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
    ) -> AuthorizeResult:
        """bolt's authorize step: at once, from what is known. Never None, which would make
        bolt answer "reinstall this app" (a command's reply goes through its response URL,
        which needs no token anyway)."""
        known = self._known
        if known is None:
            self._check_soon()
            known = {}
        return AuthorizeResult(
            enterprise_id=known.get("enterprise_id") or enterprise_id,
            team_id=known.get("team_id") or team_id,
            team=known.get("team"),
            url=known.get("url"),
            bot_user_id=known.get("user_id"),
            bot_id=known.get("bot_id"),
            bot_token=self._token,
            bot_scopes=self._scopes,
            user_id=user_id,
        )

    def _check_soon(self) -> None:
        """A check in the background, unless one is under way or failed less than
        RECHECK_FAILED_S ago (Slack is not asked once per request while it refuses)."""
        now = asyncio.get_running_loop().time()
        if self._checking is not None and not self._checking.done():
            return
        if self._failed_at is not None and now - self._failed_at < RECHECK_FAILED_S:
            return
        self._checking = asyncio.create_task(self._check_lazily(), name="slack auth.test")

    async def _check_lazily(self) -> bool:
        answered = await self._check_quietly()
        self._failed_at = None if answered else asyncio.get_running_loop().time()
        return answered

    async def _check_quietly(self) -> bool:
        """`check`, its failure logged in a line; whether it answered."""
        try:
            await self.check()
        except SlackApiError as exc:
            code = slack_error(exc)
            if code in REFUSED_TOKEN_ERRORS:
                _log.error(
                    "Slack refuses SLACK_BOT_TOKEN now (%s): nothing can be posted until the"
                    " app is reinstalled or the token replaced",
                    code,
                )
            else:
                _log.warning("Slack: checking the bot token failed (%s)", code)
            return False
        except NETWORK_ERRORS as exc:
            _log.warning("Slack: checking the bot token failed (%s)", network_error(exc))
            return False
        except Exception:  # a bug, not Slack: logged whole; it must not end the run
            _log.exception("Slack: checking the bot token failed")
            return False
        return True

    async def keep_checking(
        self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        """Until cancelled: `auth.test` every RECHECK_S (RECHECK_FAILED_S after a failure).
        The last answer that came stays in use meanwhile."""
        answered = True
        while True:
            await sleep(RECHECK_S if answered else RECHECK_FAILED_S)
            answered = await self._check_quietly()

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
