"""`/papers forget me` and `/papers digest taste reset` through the real discord.py client
against the fake Discord: each asks first, privately (flag 64), with a red button and a
Cancel under it; a press acts for whoever pressed it (a manager, for the channel's votes),
and keeps working after a restart."""

from __future__ import annotations

from typing import Any

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord
from handlers.guards import REFUSAL
from tests.conftest import NOW
from tests.discord.asking import CHANNEL, FOLLOW_UP, ask, custom_ids, text_of
from tests.discord.fake_discord import (
    GUILD_ID,
    MANAGE_CHANNELS,
    USER_ID,
    FakeDiscord,
    component_interaction,
    running_client,
)
from tests.payload_checks import check_discord_message

ME = Destination("discord", GUILD_ID, USER_ID, kind="dm")
OTHER_USER = Destination("discord", GUILD_ID, "501", kind="dm")


async def _press(fake: FakeDiscord, custom_id: str, **kw: Any) -> dict[str, Any]:
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id, **kw))
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 1)
    reply: dict[str, Any] = calls[before].json
    return reply


async def _votes_and_follows(seeded: Services) -> int:
    paper_id = (await seeded.search.search("graph", limit=1)).hits[0].paper.id
    pk = (await seeded.papers.pks_for_ids([paper_id]))[paper_id]
    await seeded.votes.vote(CHANNEL.key, pk, ME.key, 1, NOW)
    await seeded.votes.vote(CHANNEL.key, pk, OTHER_USER.key, 1, NOW)
    await seeded.subscriptions.add_subscription(ME, "diffusion", NOW, 10)
    await seeded.saved_papers.save_paper(ME, pk, NOW)
    return pk


async def test_forget_me_asks_with_buttons_and_the_press_forgets_after_a_restart(
    fake: FakeDiscord, seeded: Services
) -> None:
    pk = await _votes_and_follows(seeded)
    client = PaperwireDiscord(seeded)
    seeded.delivery.register(client)
    async with running_client(client, fake):
        [question] = await ask(fake, "forget", options={"who": "me"})
    check_discord_message(question)
    assert question["flags"] & 64 and "votes in every channel" in text_of(question)
    assert custom_ids(question) == ["pw:choice:forgetme", "pw:choice:cancel"]
    [row] = question["components"]
    assert [c["style"] for c in row["components"]] == [4, 2]  # danger, secondary

    restarted = PaperwireDiscord(seeded)  # a new process: nothing in memory
    seeded.delivery.register(restarted)
    async with running_client(restarted, fake):
        cancelled = await _press(fake, "pw:choice:cancel")
        assert cancelled["flags"] & 64
        assert "Cancelled: nothing was removed." in text_of(cancelled)
        assert await seeded.votes.vote_of(CHANNEL.key, pk, ME.key) == 1
        assert len(await seeded.subscriptions.subscriptions(ME)) == 1
        stale = await _press(fake, "pw:choice:forgetyou")  # not a choice paperwire writes
        assert STALE_BUTTON in text_of(stale)
        assert len(await seeded.subscriptions.subscriptions(ME)) == 1
        done = await _press(fake, "pw:choice:forgetme")
    assert done["flags"] & 64
    assert "removed 1 vote, 1 topic with your alert settings, and 1 saved paper" in (text_of(done))
    assert await seeded.votes.vote_of(CHANNEL.key, pk, ME.key) is None
    assert await seeded.votes.vote_of(CHANNEL.key, pk, OTHER_USER.key) == 1
    assert await seeded.subscriptions.subscriptions(ME) == []
    assert await seeded.saved_papers.saved_papers(ME) == []


async def test_taste_reset_needs_manage_channels_to_ask_and_to_press(
    fake: FakeDiscord, seeded: Services
) -> None:
    await _votes_and_follows(seeded)
    client = PaperwireDiscord(seeded)
    seeded.delivery.register(client)
    manager = str(MANAGE_CHANNELS)
    async with running_client(client, fake):
        [refused] = await ask(fake, "taste", group="digest", options={"action": "reset"})
        assert refused["flags"] & 64 and REFUSAL in text_of(refused)
        [question] = await ask(
            fake, "taste", group="digest", options={"action": "reset"}, permissions=manager
        )
        assert "clears all 2 votes" in text_of(question)
        assert custom_ids(question) == ["pw:choice:tastereset", "pw:choice:cancel"]
        pressed = await _press(fake, "pw:choice:tastereset", user_id="501")
        assert REFUSAL in text_of(pressed)
        assert len(await seeded.votes.channel_counts(CHANNEL.key)) == 1
        cleared = await _press(fake, "pw:choice:tastereset", permissions=manager)
        assert "Cleared 2 votes" in text_of(cleared)
        [shown] = await ask(fake, "taste", group="digest", options={}, permissions=manager)
    assert await seeded.votes.channel_counts(CHANNEL.key) == {}
    assert "Taste: on, no votes yet" in text_of(shown)
