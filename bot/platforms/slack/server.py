"""Receiving Slack's requests while `paperwire run` runs: `SlackServer`, the Slack platform
of bot/platforms/connecting.py. Over HTTP it listens for Slack's signed posts (the endpoint
and its signature check: http_endpoint.py); with an app-level token it opens a Socket Mode
websocket instead. What the requests then do: listeners.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import UserError
from bot.platforms.connecting import OneLineErrors, Unreachable, describe, listen_http
from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.config import SlackConfig
from bot.platforms.slack.errors import NETWORK_ERRORS, REFUSED_TOKEN_ERRORS, slack_error
from bot.platforms.slack.http_endpoint import EVENTS_PATH, INSTALL_PATH
from bot.platforms.slack.library_logs import library_log

_log = logging.getLogger(__name__)

# The Socket Mode client tries a websocket again every SOCKET_PING_S; before its second try
# with the same URL, the next attempt asks for a new one.
SOCKET_PING_S = 10.0
SOCKET_OPEN_S = 8.0


class SlackServer:
    """Receives Slack's requests: HTTP (`POST /slack/events`) or, with an app-level
    token, Socket Mode (no public URL needed). As a platform of `paperwire run`, its start
    listens (over HTTP); each attempt to connect then asks Slack about the tokens
    (`auth.test`, and in Socket Mode `apps.connections.open`): a token Slack refuses stops
    paperwire; Slack out of reach is tried again (`bot.platforms.connecting`)."""

    name = "slack"

    def __init__(
        self,
        adapter: SlackAdapter,
        config: SlackConfig,
        more_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self._adapter = adapter
        self._config = config
        self._more_routes = more_routes  # served on the same port (the ops endpoints)
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        # The Socket Mode client logs each websocket that fails to open with a traceback,
        # and tries again by itself: one line is enough.
        self._socket_log = library_log("socket")
        self._socket_log.addFilter(
            OneLineErrors("Failed to connect", "Failed to close the old session")
        )
        self.port: int | None = None
        # One request per attempt: the retrying is keep_connecting's, with its backoff.
        self._web = AsyncWebClient(
            token=config.bot_token, base_url=config.api_url, retry_handlers=[]
        )

    async def start(self) -> None:
        """Over HTTP, listen: Slack's requests can come in while the token's check is
        tried again."""
        if not self._config.app_token and self._runner is None:
            await self._listen()

    async def connect(self) -> None:
        identity = self._adapter.identity
        if identity is None:  # OAuth mode: each workspace's token came with its install
            return
        # Its answer is kept for bolt, so that no request waits on auth.test.
        await _ask_slack(identity.check(), "SLACK_BOT_TOKEN")
        if self._config.app_token:
            await self._open_socket(self._config.app_token)

    async def serve(self) -> None:
        """aiohttp and the Socket Mode client run on their own: only the token is checked
        again now and then (OAuth mode: the tokens are checked as they are used)."""
        if self._adapter.identity is not None:
            await self._adapter.identity.keep_checking()

    def live(self) -> bool:
        """Over HTTP, always (Slack posts to us); in Socket Mode, while the websocket is
        open (the Socket Mode client reopens it by itself)."""
        if not self._config.app_token:
            return True
        session = self._socket.client.current_session if self._socket is not None else None
        return session is not None and not session.closed

    async def _open_socket(self, app_token: str) -> None:
        opened = await _ask_slack(
            self._web.apps_connections_open(app_token=app_token), "SLACK_APP_TOKEN"
        )
        if self._socket is None:
            self._socket = AsyncSocketModeHandler(
                self._adapter.app,
                app_token,
                logger=self._socket_log,
                web_client=self._web,
                ping_interval=SOCKET_PING_S,
            )
        client = self._socket.client
        client.wss_uri = str(opened.get("url") or "")
        try:
            async with asyncio.timeout(SOCKET_OPEN_S):
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
        except TimeoutError:
            raise Unreachable(
                f"the Socket Mode websocket did not open within {SOCKET_OPEN_S:.0f} s"
            ) from None
        _log.info("Slack: connected in Socket Mode")

    async def _listen(self) -> None:
        app = self._adapter.web_app()
        if self._more_routes is not None:
            self._more_routes(app)
        self._runner, self.port = await listen_http(
            app, self._config.http_host, self._config.http_port, " for Slack"
        )
        _log.info(
            "Slack: listening on http://%s:%s%s", self._config.http_host, self.port, EVENTS_PATH
        )
        if self._config.oauth:
            _log.info(
                "Slack: workspaces install paperwire at http://%s:%s%s",
                self._config.http_host,
                self.port,
                INSTALL_PATH,
            )

    async def stop(self) -> None:
        if self._adapter.identity is not None:
            await self._adapter.identity.close()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _ask_slack(call: Awaitable[AsyncSlackResponse], variable: str) -> AsyncSlackResponse:
    """A Web API call made to connect: refused (a `UserError` naming the token's
    variable) or out of reach (`Unreachable`) in one line."""
    try:
        return await call
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in REFUSED_TOKEN_ERRORS:
            raise UserError(
                f"Slack refused {variable} ({code}): copy the token again from the app's"
                " settings at https://api.slack.com/apps"
            ) from None
        status = getattr(exc.response, "status_code", 0)
        said = f"{code}, HTTP {status}" if not code.startswith("HTTP ") else code
        raise Unreachable(f"Slack answered {said}") from None
    except NETWORK_ERRORS as exc:
        raise Unreachable(describe(exc)) from None
