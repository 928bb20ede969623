"""The discord.py gateway client: logs in, registers the `/papers` command tree and the
buttons, and answers every interaction.

An interaction (a slash command from `commands.py`, a button press from `buttons.py`) is
deferred at once (Discord allows 3 s), answered through the shared handlers, and followed
up by way of the outbox when the work is done; anything unexpected gets an apology. The
client is also the bot's transport: `send` is in `transport.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import discord

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.delivery.pacing import Pacer
from bot.models import Destination
from bot.platforms.connecting import describe
from bot.platforms.discord.buttons import DYNAMIC_BUTTONS
from bot.platforms.discord.commands import command_tree, invocation
from bot.platforms.discord.config import DiscordConfig
from bot.platforms.discord.transport import NO_MENTIONS, send_as_bot
from bot.render.neutral import Reply
from handlers.buttons import Press
from handlers.context import Context, Invocation
from handlers.router import apology, dispatch, press

_log = logging.getLogger(__name__)

# An interaction's token takes follow-ups for 15 minutes.
INTERACTION_LIFETIME = timedelta(minutes=15)


class PaperwireDiscord(discord.Client):
    """The gateway client with the `/papers` command tree; also the bot's transport."""

    platform = "discord"

    def __init__(
        self,
        services: Services,
        sync_guild: int | None = None,
        pacer: Pacer | None = None,
        **shards: Any,  # `shard_count`, `shard_ids`: from `ShardedPaperwireDiscord` only
    ) -> None:
        super().__init__(
            intents=discord.Intents.none(),  # interactions need no privileged intent
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=0.5,
            **shards,
        )
        self.services = services
        # Discord's global limit; discord.py itself keeps to each route's bucket (it reads
        # the X-RateLimit headers) and waits out a 429.
        self.pacer = pacer or Pacer(DiscordConfig.requests_per_s)
        self.tree = command_tree(self)
        self._sync_guild = sync_guild
        self.ready = False
        self.logged_in = False
        self.gateway_up = False  # a gateway session is open now (GET /readyz)

    async def setup_hook(self) -> None:
        """The last step of a login that worked."""
        self.add_dynamic_items(*DYNAMIC_BUTTONS)
        self.logged_in = True

    async def forget_session(self) -> None:
        """After a login that failed: close the HTTP session it opened, with its connector
        (the next login makes both again; without this each attempt leaks a session)."""
        await self.http.close()
        self.http.connector = discord.utils.MISSING

    async def sync_commands(self, guild: int | None = None) -> int:
        """Register the commands: everywhere (takes up to an hour) or in one guild (now)."""
        target = discord.Object(id=guild) if guild else None
        if target is not None:
            self.tree.copy_global_to(guild=target)
        synced = await self.tree.sync(guild=target)
        return len(synced)

    async def on_ready(self) -> None:
        self.ready = True
        _log.info("Discord: connected as %s", self.user)

    # discord.py reconnects by itself: these say whether a session is open meanwhile.
    async def on_connect(self) -> None:
        self.gateway_up = True

    async def on_resumed(self) -> None:
        self.gateway_up = True

    async def on_disconnect(self) -> None:
        self.gateway_up = False

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        """Defer, answer through the shared handlers, follow up."""
        await self._handle(interaction, dispatch, text)

    async def press(
        self, interaction: discord.Interaction, pressed: Press, guild: str | None = None
    ) -> None:
        """A button: the same, through the buttons' handlers. `guild`: the server a button
        in a direct message acts for (an alert's Save)."""
        await self._handle(interaction, lambda ctx: press(ctx, pressed), guild=guild)

    async def _handle(
        self,
        interaction: discord.Interaction,
        handler: Callable[[Context], Awaitable[Reply]],
        text: str = "",
        guild: str | None = None,
    ) -> None:
        with self.services.requests.answering():  # in a task discord.py does not await
            try:
                await interaction.response.defer(ephemeral=True, thinking=True)
                asked = invocation(interaction, text)
                if guild and interaction.guild_id is None and await self._alerted(guild, asked):
                    asked = replace(asked, workspace=guild)
                context = Context(asked, self.services, self.services.clock())
                await self.answer(interaction, await handler(context))
            except Exception as error:
                # discord.py would log a button's error and leave "thinking..." unanswered.
                await self.on_interaction_error(interaction, error)

    async def _alerted(self, guild: str, asked: Invocation) -> bool:
        """Whether `guild` is a server the presser takes alerts from (so a button in their
        direct messages may name it): a forged one is not taken."""
        owner = Destination("discord", guild, asked.user, kind="dm")
        return await self.services.subscriptions.alert_settings(owner) is not None

    async def on_interaction_error(
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        """Anything unexpected while answering an interaction (here, or past the command
        tree: its `on_error` comes here too): its traceback logged once, and an apology to
        the person, so that Discord's "thinking..." is answered."""
        _log.error("Discord: answering an interaction failed", exc_info=error)
        try:
            if not interaction.response.is_done():
                await interaction.response.defer(ephemeral=True, thinking=True)
            await self.answer(interaction, apology())
        except Exception as exc:  # the apology's own way out failed: the log has the cause
            _log.warning("Discord: the apology could not be sent (%s)", describe(exc))

    async def answer(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Follow up a deferred interaction, by way of the outbox."""
        where = Destination.reply_in(
            "discord", str(interaction.guild_id or "dm"), str(interaction.channel_id or "")
        )
        expires = self.services.clock() + INTERACTION_LIFETIME
        handle = {
            "application_id": str(interaction.application_id),
            "token": interaction.token,
            "expires_at": expires.isoformat(),
            # What a file may weigh in this interaction's answer (the server's boosts).
            "attachment_size_limit": interaction.filesize_limit,
        }
        await self.services.delivery.deliver(OutgoingMessage(where, reply, handle=handle))

    async def send(self, message: OutgoingMessage) -> Receipt:
        """The bot as a transport of the delivery service."""
        return await send_as_bot(self, message)
