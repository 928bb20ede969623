"""`SlackAdapter`, the Slack platform put together: the bolt app with its listeners
(listeners.py: what arrives), the transport the delivery service sends through
(transport.py: what leaves), and whose token speaks for which workspace (identity.py: the
one token's auth.test; workspaces.py: the tokens of the workspaces installed through
OAuth). What receives Slack's requests while paperwire runs is server.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.delivery.pacing import Pacer
from bot.platforms.slack.config import BOT_SCOPES, SlackConfig
from bot.platforms.slack.http_endpoint import EVENTS_PATH, slack_web_app
from bot.platforms.slack.identity import SlackIdentity
from bot.platforms.slack.installations import InstallationStore, OAuthStateStore
from bot.platforms.slack.listeners import Listeners
from bot.platforms.slack.managers import Managers
from bot.platforms.slack.transport import SlackTransport
from bot.platforms.slack.workspaces import BotTokens, InstalledAuthorize, OneToken, Workspaces


class SlackAdapter:
    """The bolt app and the transport that posts to Slack."""

    platform = "slack"

    def __init__(self, services: Services, config: SlackConfig, pacer: Pacer | None = None) -> None:
        self._config = config
        # Lookups a command waits for (auth.test, users.info): one attempt each, as a
        # command is better answered "try again" at once than after a 429's Retry-After.
        lookups = AsyncWebClient(
            token=config.bot_token or None, base_url=config.api_url, retry_handlers=[]
        )
        self.identity: SlackIdentity | None = None
        self.workspaces: Workspaces | None = None
        tokens: BotTokens
        authorize: AsyncAuthorize
        oauth: AsyncOAuthSettings | None = None
        if config.oauth:
            tokens = self.workspaces = _workspaces(services, config)
            authorize = InstalledAuthorize(self.workspaces)
            oauth = _oauth_settings(services, config, self.workspaces)
        else:
            tokens = OneToken(config.bot_token)
            authorize = self.identity = SlackIdentity(lookups, config.bot_token)
        self.transport = SlackTransport(config, tokens, pacer)
        self.app = AsyncApp(
            # bolt's own client: the OAuth flow's (oauth.v2.access, then auth.test). Its
            # listeners' `client` is unused here; the token comes from `authorize`, which
            # answers from what is known: no request waits on auth.test.
            client=AsyncWebClient(base_url=config.api_url),
            # (bolt's annotation leaves out the None an authorize may answer, as its own do)
            authorize=authorize,  # type: ignore[arg-type]
            oauth_settings=oauth,
            # Over HTTP, `web_app` checks each request's signature before bolt sees it
            # (bolt's own check logs what it refuses, whole); Socket Mode needs none.
            request_verification_enabled=False,
            logger=logging.getLogger("slack_bolt"),
        )
        managers = Managers(lookups, config.managers, tokens)
        Listeners(services, managers, self.workspaces).attach(self.app)

    def web_app(self, *, monotonic: Callable[[], float] = time.monotonic) -> web.Application:
        """The HTTP endpoint Slack posts to: signed requests only, then the bolt app (and,
        in OAuth mode, the install pages)."""
        return slack_web_app(
            self.app, self._config.signing_secret, EVENTS_PATH, monotonic=monotonic
        )

    async def send(self, message: OutgoingMessage) -> Receipt:
        """The delivery service's way out to Slack."""
        return await self.transport.send(message)


def _workspaces(services: Services, config: SlackConfig) -> Workspaces:
    assert config.client_id is not None and config.client_secret is not None
    rotator = AsyncTokenRotator(
        client_id=config.client_id,
        client_secret=config.client_secret,
        client=AsyncWebClient(base_url=config.api_url),
    )
    grace = timedelta(days=services.settings.slack_uninstall_grace_days)
    return Workspaces(services.installations, services.clock, rotator, grace=grace)


def _oauth_settings(
    services: Services, config: SlackConfig, workspaces: Workspaces
) -> AsyncOAuthSettings:
    """bolt's install flow (`/slack/install`, `/slack/oauth_redirect`) over paperwire's
    database: the manifest's scopes, a state good once for 10 minutes."""
    states = OAuthStateStore(services.installations, services.clock)
    return AsyncOAuthSettings(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=config.redirect_uri,
        installation_store=InstallationStore(workspaces),
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=states.expiration_seconds,
        logger=logging.getLogger("slack_bolt"),
    )
