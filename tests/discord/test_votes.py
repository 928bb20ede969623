"""A channel's votes through the real discord.py client against the fake Discord: each digest
paper has a row of buttons with "More like" and "Not for us", a press records the presser's
vote for that channel (before and after a restart) and is acknowledged to them alone."""

from __future__ import annotations

from typing import Any

from bot.app import Services
from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord
from bot.storage.types import VoteCounts
from tests.discord.asking import CHANNEL, FOLLOW_UP, ask, custom_ids, text_of
from tests.discord.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_CHANNELS,
    FakeDiscord,
    component_interaction,
    running_client,
)
from tests.payload_checks import check_discord_message

ELSEWHERE = "401"


async def _digest_posts(fake: FakeDiscord, seeded: Services) -> list[dict[str, Any]]:
    client = PaperwireDiscord(seeded)
    seeded.delivery.register(client)
    async with running_client(client, fake):
        await ask(fake, "now", group="digest", permissions=str(MANAGE_CHANNELS))
    return [call.json for call in fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")]


async def _press(fake: FakeDiscord, custom_id: str, **kw: Any) -> dict[str, Any]:
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id, **kw))
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 1)
    reply: dict[str, Any] = calls[before].json
    return reply


async def _counts(seeded: Services, paper_id: str, channel: str = CHANNEL_ID) -> VoteCounts:
    pk = (await seeded.papers.pks_for_ids([paper_id]))[paper_id]
    return await seeded.votes.counts(Destination("discord", GUILD_ID, channel).key, pk)


async def test_every_digest_paper_has_its_row_with_the_vote_buttons(
    fake: FakeDiscord, seeded: Services
) -> None:
    posts = await _digest_posts(fake, seeded)
    liked: list[str] = []
    for post in posts:
        check_discord_message(post)
        rows = post.get("components") or []
        assert len(rows) == len(post["embeds"]) <= 5  # one row per paper, 5 rows a message
        for row in rows:
            ids = [c["custom_id"] for c in row["components"]]
            assert len(ids) <= 5
            [more] = [i for i in ids if i.startswith("pw:more:")]
            assert f"pw:notforus:{more.removeprefix('pw:more:')}" in ids
            liked.append(more)
    assert len(liked) == len(await seeded.outbox.sent_paper_ids(CHANNEL.key)) == 10


async def test_a_vote_is_recorded_and_acknowledged_privately_after_a_restart(
    fake: FakeDiscord, seeded: Services
) -> None:
    posts = await _digest_posts(fake, seeded)
    more_id = next(c for c in custom_ids(posts[0]) if c.startswith("pw:more:"))
    paper_id = more_id.removeprefix("pw:more:")
    restarted = PaperwireDiscord(seeded)  # a new process: nothing in memory
    seeded.delivery.register(restarted)
    async with running_client(restarted, fake):
        liked = await _press(fake, more_id)
        assert liked["flags"] & 64
        assert "Noted: more like this — 1 person here liked it." in text_of(liked)
        check_discord_message(liked)
        assert 0 < len(liked["embeds"]) <= 5  # papers like it
        assert await _counts(seeded, paper_id) == VoteCounts(1, 0)
        changed = await _press(fake, f"pw:notforus:{paper_id}")  # the same user changes it
        assert changed["flags"] & 64
        assert "Noted: not for us — 1 person here turned it down." in text_of(changed)
        assert await _counts(seeded, paper_id) == VoteCounts(0, 1)
        other = await _press(fake, more_id, channel_id=ELSEWHERE, user_id="501")
        assert "1 person here liked it" in text_of(other)
    assert await _counts(seeded, paper_id) == VoteCounts(0, 1)
    assert await _counts(seeded, paper_id, ELSEWHERE) == VoteCounts(1, 0)
