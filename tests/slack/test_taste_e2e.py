"""Issue 19 end to end on Slack, through the real bolt app against the fake Slack: a channel's
digest carries the vote buttons, a member's "More like this" is recorded and acknowledged to
them alone, and the channel's next digest puts the paper like it first, saying why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Services, build_services
from bot.config import Settings
from bot.delivery.pacing import Pacer
from bot.models import Destination
from bot.render.slack_buttons import ACTION_MORE_LIKE
from bot.storage.types import VoteCounts
from tests.conftest import Clock
from tests.payload_checks import check_slack_message
from tests.slack.served import Bot, texts_of
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

CHANNEL = Destination("slack", "T1", "C1")


@pytest.fixture
def pacer() -> Pacer:
    return Pacer(1000, per_channel=1000)  # two digests and their threads without waiting


@pytest.fixture
async def services(database: str) -> AsyncIterator[Services]:
    clock = Clock(FIRST_MORNING)
    async with build_services(Settings(db_path=database), clock=clock) as built:
        yield built


@pytest.fixture
async def seeded(services: Services) -> Services:
    """What the `bot` fixture serves: day one's papers (instead of the bundled seed)."""
    await ingest(services, day_one(services.clock()))
    return services


def _digest_posts(bot: Bot) -> list[dict[str, Any]]:
    """The digests posted in the channel (not their threads of abstracts)."""
    posts = [c.args for c in bot.fake.calls_to("chat.postMessage")]
    return [p for p in posts if p["channel"] == "C1" and "thread_ts" not in p]


def _sections(post: dict[str, Any]) -> list[str]:
    """The text of each paper's section, in order (they start with "*N. ")."""
    texts = [b["text"]["text"] for b in post["blocks"] if b["type"] == "section"]
    return [t for t in texts if t[:1] == "*" and t[1:2].isdigit()]


def _more_like_this(post: dict[str, Any]) -> list[str]:
    """The paper id of each "More like this" button, in order."""
    return [
        element["value"]
        for block in post["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ACTION_MORE_LIKE
    ]


async def test_a_vote_re_ranks_the_channels_next_digest(bot: Bot) -> None:
    services, clock = bot.services, bot.services.clock
    assert isinstance(clock, Clock)
    await post_digest(services, CHANNEL)
    [first] = _digest_posts(bot)
    check_slack_message(first)
    assert first["channel"] == "C1"
    assert ROBOT_ONE in _sections(first)[1]  # trending second, no taste yet
    robot = _more_like_this(first)[1]
    assert len(_more_like_this(first)) == 4  # every paper has its buttons

    reply = await bot.press(ACTION_MORE_LIKE, robot, user="U7")
    assert reply.args["response_type"] == "ephemeral"
    assert "Noted: more like this — 1 person here liked it." in texts_of(reply)
    pk = (await services.papers.pks_for_ids([robot]))[robot]
    assert await services.votes.counts(CHANNEL.key, pk) == VoteCounts(1, 0)

    clock.advance(days=1)
    await ingest(services, day_two(clock()))
    await post_digest(services, CHANNEL)
    [_, second] = _digest_posts(bot)
    check_slack_message(second)  # the why line and the untrusted title keep to Block Kit
    sections = _sections(second)
    assert len(sections) == 4
    lifted = sections[0]  # trending seventh of seven, first for this channel
    assert lifted.startswith("*1. <") and "Robot hands that feel" in lifted
    assert "<!here>" not in lifted and "&lt;!here&gt;" in lifted and "&amp;" in lifted
    assert f"\n_\u2191 {LIKED_ONE}_" in lifted
    assert [LIKED_ONE in s for s in sections] == [True, False, False, False]
    assert "Instruction tuning study 1" in sections[1]  # the day's pulse is kept
    assert ROBOT_TWO not in "\n".join(sections)
    assert _more_like_this(second)[0] == "2611.21007"  # its buttons follow it: day two's 7th
