"""The Discord bot as a platform of `paperwire run`: started, connected (login and the
commands registered), served (the gateway kept connected) and stopped. The webhook mode's
platform is `transport.WebhookTransport`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import aiohttp
import discord

from bot.errors import PaperwireError, UserError
from bot.platforms.connecting import OneLineErrors, Unreachable, describe
from bot.platforms.discord.client import PaperwireDiscord
from bot.platforms.discord.endpoints import discord_py_endpoints

_log = logging.getLogger(__name__)


class DiscordBot:
    """The bot as a platform of `paperwire run`. Its start points discord.py at the
    configured endpoints (its stop puts them back); each attempt to connect logs in and
    registers the commands: a token Discord refuses stops paperwire, Discord out of reach is
    tried again (`bot.platforms.connecting`). Then discord.py keeps the gateway connected,
    reconnecting by itself with its own backoff."""

    name = "discord"

    def __init__(
        self,
        client: PaperwireDiscord,
        token: str,
        *,
        api_url: str | None = None,
        gateway_url: str | None = None,
    ) -> None:
        self.client = client
        self._token = token
        self._endpoints = (api_url, gateway_url)
        self._started = contextlib.ExitStack()

    async def start(self) -> None:
        self._started.enter_context(discord_py_endpoints(*self._endpoints))
        # discord.py logs each failed gateway connection with a traceback: one line will do.
        self._started.enter_context(
            _filtered(logging.getLogger("discord.client"), OneLineErrors("Attempting a reconnect"))
        )
        # The sharded client's, for each shard.
        self._started.enter_context(
            _filtered(
                logging.getLogger("discord.shard"),
                OneLineErrors("Attempting a reconnect", "Failed to connect"),
            )
        )

    async def connect(self) -> None:
        client = self.client
        try:
            if not client.logged_in:
                await client.login(self._token)
            synced = await client.sync_commands()
        except discord.LoginFailure:
            raise UserError(
                "Discord refused DISCORD_BOT_TOKEN: copy the bot's token again"
                " (Developer Portal > your app > Bot > Reset Token)"
            ) from None
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            if not client.logged_in:
                await client.forget_session()
            raise Unreachable(describe(exc)) from None
        _log.info("Discord: %d commands synced globally (they can take an hour to show)", synced)

    async def serve(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:  # authentication failed
                raise UserError("Discord refused DISCORD_BOT_TOKEN on the gateway") from None
            raise PaperwireError(f"Discord closed the gateway for good ({describe(exc)})") from None
        except discord.DiscordException as exc:  # e.g. privileged intents not enabled
            raise PaperwireError(f"Discord: {describe(exc)}") from None

    def live(self) -> bool:
        """Whether the gateway is connected now (discord.py reconnects it by itself)."""
        return self.client.gateway_up

    async def stop(self) -> None:
        try:
            await self.client.close()
        finally:
            self._started.close()


@contextlib.contextmanager
def _filtered(logger: logging.Logger, log_filter: logging.Filter) -> Iterator[None]:
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)
