"""Sharding (`bot/platforms/discord/shards.py`): PAPERWIRE_DISCORD_SHARDS and
PAPERWIRE_DISCORD_SHARD_IDS make the real discord.py sharded client run a slice of the
shards against the fake gateway; unset, the client is the plain one as before."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import discord
import pytest

from bot.app import Services
from bot.platforms.discord import (
    DiscordBot,
    DiscordConfig,
    PaperwireDiscord,
    ShardedPaperwireDiscord,
    Shards,
    discord_client,
)
from bot.storage import open_storage
from tests.conftest import seed_observations
from tests.discord.asking import FOLLOW_UP, ask, discord_env, text_of
from tests.discord.fake_discord import (
    FakeDiscord,
    guild_on_shard,
    running_client,
    shard_of,
    slash_interaction,
)
from tests.payload_checks import check_discord_message
from tests.processes import start_paperwire_run

SHARDS = 4


def sharded(fake: FakeDiscord, services: Services, shard_ids: str) -> PaperwireDiscord:
    """The client `paperwire run` makes with SHARDS=4 and these SHARD_IDS; discord.py's
    5 s between one process's IDENTIFYs (Discord's limit) is left out."""
    env = discord_env(fake, fake.token) | {
        "PAPERWIRE_DISCORD_SHARDS": str(SHARDS),
        "PAPERWIRE_DISCORD_SHARD_IDS": shard_ids,
    }
    config = DiscordConfig.from_env(env)
    assert config is not None
    client = discord_client(services, config.shards)
    client.before_identify_hook = _no_identify_wait  # type: ignore[method-assign]
    return client


async def _no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
    return None


@asynccontextmanager
async def serving(bot: DiscordBot) -> AsyncIterator[asyncio.Task[None]]:
    """The bot as `paperwire run` runs it: started, connected, served; stopped after."""
    await bot.start()
    await bot.connect()
    task = asyncio.create_task(bot.serve())
    try:
        yield task
    finally:
        await bot.stop()
        async with asyncio.timeout(5):
            await task


@pytest.fixture
def guilds(fake: FakeDiscord) -> list[str]:
    """Two guilds on each of the 4 shards."""
    fake.guilds = [guild_on_shard(shard, SHARDS, n) for shard in range(SHARDS) for n in (0, 1)]
    return fake.guilds


async def test_a_slice_of_the_shards_is_identified_and_answers_on_its_shard(
    fake: FakeDiscord, seeded: Services, guilds: list[str]
) -> None:
    client = sharded(fake, seeded, "0,1")
    assert isinstance(client, discord.AutoShardedClient)
    seeded.delivery.register(client)
    async with serving(DiscordBot(client, fake.token)):
        await fake.wait_ready(2)
        await client.wait_until_ready()
        assert fake.identified_shards() == [(0, SHARDS), (1, SHARDS)]
        assert not fake.calls_to("GET", "/gateway/bot")  # the count is given: not asked
        assert sorted(client.shards) == [0, 1] and client.shard_count == SHARDS
        mine = sorted(int(g) for g in guilds if shard_of(g, SHARDS) in (0, 1))
        assert sorted(g.id for g in client.guilds) == mine
        [body] = await ask(fake, "help", guild_id=guild_on_shard(1, SHARDS))
        check_discord_message(body)
        assert "/papers search" in text_of(body)
        [deferred] = fake.interaction_responses()
        assert deferred["type"] == 5  # answered once: only shard 1 got it
        # (the ready handlers, run as tasks, have run by the time the answer went)
        assert isinstance(client, ShardedPaperwireDiscord)
        assert client.ready and client.connected_shards == {0, 1}


async def test_another_process_runs_the_other_shards(
    fake: FakeDiscord, seeded: Services, guilds: list[str]
) -> None:
    client = sharded(fake, seeded, "2-3")
    seeded.delivery.register(client)
    async with running_client(client, fake):
        assert fake.identified_shards() == [(2, SHARDS), (3, SHARDS)]
        [body] = await ask(fake, "help", guild_id=guild_on_shard(3, SHARDS, 1))
        assert "/papers search" in text_of(body)
        with pytest.raises(AssertionError, match="no client connected"):
            # shard 0's guild (and DMs, which come on shard 0): another process's
            await fake.dispatch("INTERACTION_CREATE", slash_interaction(guild_id=guilds[0]))


async def test_without_the_variables_the_client_is_the_plain_one(
    fake: FakeDiscord, seeded: Services
) -> None:
    config = DiscordConfig.from_env(discord_env(fake, fake.token))
    assert config is not None and config.shards is None
    client = discord_client(seeded, config.shards)
    assert type(client) is PaperwireDiscord
    seeded.delivery.register(client)
    async with running_client(client, fake):
        [identify] = fake.identifies
        assert "shard" not in identify
        assert not fake.calls_to("GET", "/gateway/bot")
        [body] = await ask(fake, "help")
        assert "/papers search" in text_of(body)


@pytest.mark.parametrize("shards", [None, Shards(2, (0, 1))])
async def test_a_client_stopped_before_any_login_stops(
    seeded: Services, shards: Shards | None
) -> None:
    """A stop while paperwire starts: discord.py's sharded close alone would raise."""
    bot = DiscordBot(discord_client(seeded, shards), "token")
    await bot.start()
    await bot.stop()


async def test_paperwire_run_with_a_shard_answers_on_it(fake: FakeDiscord, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
    env = discord_env(fake, fake.token)
    env |= {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "3"}
    process = await start_paperwire_run(db, **env)
    assert process.stderr is not None
    try:
        await fake.wait_ready(timeout=30)
        assert fake.identified_shards() == [(3, 4)]
        interaction = slash_interaction(options={"query": "graph"}, guild_id=guild_on_shard(3, 4))
        await fake.dispatch("INTERACTION_CREATE", interaction)
        [follow_up] = await fake.wait_for("POST", FOLLOW_UP, timeout=30)
        check_discord_message(follow_up.json)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    logged = (await process.stderr.read()).decode()
    assert code == 0, logged


async def test_the_fake_gateway_shards_as_discord_does(fake: FakeDiscord) -> None:
    """With no count, discord.py's sharded client asks GET /gateway/bot and runs the count it
    recommends; each shard gets only its guilds (READY, then GUILD_CREATE)."""
    fake.recommended_shards = 2
    fake.guilds = [guild_on_shard(shard, 2, n) for shard in (0, 1) for n in range(3)]
    client = discord.AutoShardedClient(
        intents=discord.Intents(guilds=True), guild_ready_timeout=0.05
    )
    client.before_identify_hook = _no_identify_wait  # type: ignore[method-assign]
    async with running_client(client, fake):
        assert len(fake.calls_to("GET", "/gateway/bot")) == 1
        assert fake.identified_shards() == [(0, 2), (1, 2)]
        got = {str(g.id): g.shard_id for g in client.guilds if not g.unavailable}
        assert got == {g: shard_of(g, 2) for g in fake.guilds}
