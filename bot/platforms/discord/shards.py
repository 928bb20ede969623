"""Sharding: past 2,500 servers Discord requires the gateway split into shards, each server's
events on shard `(guild_id >> 22) % count`. With PAPERWIRE_DISCORD_SHARDS set, the client is
discord.py's `AutoShardedClient` running this process's slice of the shards (one gateway
connection each); unset, it is the plain `PaperwireDiscord`, one connection, as before.

What depends on one connection works per shard in discord.py's sharded client: each shard
IDENTIFYs with `shard: [id, count]`, reconnects and resumes on its own, `on_ready` comes
once every shard of the process is ready (`on_shard_ready` for each), `latency` is the mean
of the shards' (`latencies` has each). The rest (login, the commands, interactions, sending)
is the same HTTP client whatever the shards.
"""

from __future__ import annotations

import logging

import discord

from bot.app import Services
from bot.delivery.pacing import Pacer
from bot.platforms.discord.client import PaperwireDiscord
from bot.platforms.discord.config import Shards

_log = logging.getLogger(__name__)


class ShardedPaperwireDiscord(PaperwireDiscord, discord.AutoShardedClient):
    """The paperwire client on discord.py's sharded client: `shards.ids` of `shards.count`."""

    def __init__(self, services: Services, shards: Shards, pacer: Pacer | None = None) -> None:
        # shard_count given: discord.py asks no GET /gateway/bot and connects to the gateway
        # configured (PAPERWIRE_DISCORD_GATEWAY_URL or Discord's).
        super().__init__(
            services, pacer=pacer, shard_count=shards.count, shard_ids=list(shards.ids)
        )
        self.shard_plan = shards
        self.connected_shards: set[int] = set()  # the shards whose session is live
        self._login_tried = False

    async def on_shard_ready(self, shard_id: int) -> None:
        self.connected_shards.add(shard_id)
        _log.info("Discord: shard %d of %d connected", shard_id, self.shard_plan.count)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.connected_shards.add(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.connected_shards.discard(shard_id)

    async def on_ready(self) -> None:
        self.ready = True
        ids = ", ".join(map(str, self.shard_plan.ids))
        _log.info(
            "Discord: connected as %s, shards %s of %d", self.user, ids, self.shard_plan.count
        )

    async def login(self, token: str) -> None:
        self._login_tried = True
        await super().login(token)

    async def close(self) -> None:
        if not self._login_tried:
            # discord.py's sharded close needs a queue that a login makes (a stop that
            # comes before any login would raise); nothing is open yet but the HTTP client.
            await self.http.close()
            return
        await super().close()


def discord_client(
    services: Services, shards: Shards | None = None, pacer: Pacer | None = None
) -> PaperwireDiscord:
    """The bot's gateway client: sharded when `shards` is set (PAPERWIRE_DISCORD_SHARDS)."""
    if shards is None:
        return PaperwireDiscord(services, pacer=pacer)
    return ShardedPaperwireDiscord(services, shards, pacer=pacer)
