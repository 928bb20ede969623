"""A local fake Discord that discord.py points at, and the paperwire client logged in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Services
from bot.platforms.discord import PaperwireDiscord
from tests.discord.fake_discord import (
    FakeDiscord,
    point_discord_py_at,
    running_client,
    running_fake_discord,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as running:
        with point_discord_py_at(running):
            yield running


@pytest.fixture
async def bot(fake: FakeDiscord, seeded: Services) -> AsyncIterator[PaperwireDiscord]:
    client = PaperwireDiscord(seeded)
    seeded.delivery.register(client)
    async with running_client(client, fake):
        yield client
