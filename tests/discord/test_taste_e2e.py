"""Issue 19 end to end on Discord, through the real discord.py client against the fake
Discord: a channel's digest carries the vote buttons, a member's "More like" is recorded and
acknowledged to them alone, and the channel's next digest puts the paper like it first,
saying why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Services, build_services
from bot.config import Settings
from bot.platforms.discord import PaperwireDiscord
from bot.storage.types import VoteCounts
from tests.conftest import Clock
from tests.discord.asking import CHANNEL, FOLLOW_UP, custom_ids, text_of
from tests.discord.fake_discord import CHANNEL_ID, FakeDiscord, component_interaction
from tests.payload_checks import check_discord_message
from tests.taste_days import (
    FIRST_MORNING,
    LIKED_ONE,
    ROBOT_ONE,
    ROBOT_TWO,
    day_one,
    day_two,
    ingest,
    post_digest,
)

POSTS = rf"/channels/{CHANNEL_ID}/messages"


@pytest.fixture
async def services(database: str) -> AsyncIterator[Services]:
    clock = Clock(FIRST_MORNING)
    async with build_services(Settings(db_path=database), clock=clock) as built:
        yield built


@pytest.fixture
async def seeded(services: Services) -> Services:
    """What the `bot` fixture runs on: day one's papers (instead of the bundled seed)."""
    await ingest(services, day_one(services.clock()))
    return services


async def _press(fake: FakeDiscord, custom_id: str) -> dict[str, Any]:
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id, user_id="507"))
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 1)
    reply: dict[str, Any] = calls[before].json
    return reply


async def test_a_vote_re_ranks_the_channels_next_digest(
    fake: FakeDiscord, bot: PaperwireDiscord, seeded: Services
) -> None:
    clock = seeded.clock
    assert isinstance(clock, Clock)
    await post_digest(seeded, CHANNEL)
    [first] = [call.json for call in fake.calls_to("POST", POSTS)]
    check_discord_message(first)
    assert first["embeds"][1]["title"] == f"2. {ROBOT_ONE}"  # trending second, no taste yet
    more = [i for i in custom_ids(first) if i.startswith("pw:more:")]
    assert len(more) == 4  # every paper has its buttons
    robot = more[1].removeprefix("pw:more:")

    reply = await _press(fake, more[1])
    assert reply["flags"] & 64  # to the presser alone
    assert "Noted: more like this — 1 person here liked it." in text_of(reply)
    pk = (await seeded.papers.pks_for_ids([robot]))[robot]
    assert await seeded.votes.counts(CHANNEL.key, pk) == VoteCounts(1, 0)

    clock.advance(days=1)
    await ingest(seeded, day_two(clock()))
    await post_digest(seeded, CHANNEL)
    second = fake.calls_to("POST", POSTS)[-1].json
    check_discord_message(second)  # the why line and the untrusted title keep to the limits
    embeds = second["embeds"]
    assert len(embeds) == 4
    lifted = embeds[0]  # trending seventh of seven, first for this channel
    assert lifted["title"] == "1. Robot hands that feel \\<!here> & \\*grip\\*"  # escaped
    assert ROBOT_TWO not in lifted["title"]
    assert lifted["description"].startswith(f"*\u2191 {LIKED_ONE}*\n")
    assert [LIKED_ONE in e.get("description", "") for e in embeds] == [True, False, False, False]
    assert embeds[1]["title"] == "2. Instruction tuning study 1"  # the day's pulse is kept
    more = [i for i in custom_ids(second) if i.startswith("pw:more:")]
    assert more[0] == "pw:more:2611.21007"  # its buttons follow it: day two's seventh
