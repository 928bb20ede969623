"""`SlackAdapter`, the Slack platform put together: the bolt app with its listeners
(listeners.py: what arrives), the transport the delivery service sends through
(transport.py: what leaves), and who paperwire is on Slack (identity.py). What receives
Slack's requests while paperwire runs is server.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.delivery.pacing import Pacer
from bot.platforms.slack.config import SlackConfig
from bot.platforms.slack.http_endpoint import EVENTS_PATH, slack_web_app
from bot.platforms.slack.identity import SlackIdentity
from bot.platforms.slack.listeners import Listeners
from bot.platforms.slack.managers import Managers
from bot.platforms.slack.recovery import Recovery
from bot.platforms.slack.transport import SlackTransport


class SlackAdapter:
    """The bolt app and the transport that posts to Slack."""

    platform = "slack"

    def __init__(self, services: Services, config: SlackConfig, pacer: Pacer | None = None) -> None:
        self._config = config
        # Lookups a command waits for (auth.test, users.info): one attempt each, as a
        # command is better answered "try again" at once than after a 429's Retry-After.
        lookups = AsyncWebClient(token=config.bot_token, base_url=config.api_url, retry_handlers=[])
        self.identity = SlackIdentity(lookups, config.bot_token)
        # The reads that look for what arrived keep to their own pace, one attempt each: a
        # 429 there is answered by waiting in the outbox, not by the SDK's retries.
        self.transport = SlackTransport(config, Recovery(lookups, config.history_per_min), pacer)
        self.pacer = self.transport.pacer
        self.client = self.transport.client
        self.app = AsyncApp(
            # bolt's own client (for listeners' `client`, unused here) gets the token from
            # `authorize`, which answers at once: no request waits on auth.test.
            client=AsyncWebClient(base_url=config.api_url),
            authorize=self.identity,
            # Over HTTP, `web_app` checks each request's signature before bolt sees it
            # (bolt's own check logs what it refuses, whole); Socket Mode needs none.
            request_verification_enabled=False,
            logger=logging.getLogger("slack_bolt"),
        )
        Listeners(services, Managers(lookups, config.managers)).attach(self.app)

    def web_app(self, *, monotonic: Callable[[], float] = time.monotonic) -> web.Application:
        """The HTTP endpoint Slack posts to: signed requests only, then the bolt app."""
        return slack_web_app(
            self.app, self._config.signing_secret, EVENTS_PATH, monotonic=monotonic
        )

    async def send(self, message: OutgoingMessage) -> Receipt:
        """The delivery service's way out to Slack."""
        return await self.transport.send(message)
