"""How a button press is handled: the buttons under paperwire's messages, pressed through
the fake Discord, before and after a restart (`bot/platforms/discord/buttons.py`)."""

from __future__ import annotations

import pytest

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.platforms.discord import PaperwireDiscord
from bot.search.service import MAX_OFFSET
from tests.conftest import offsets_reaching_the_index
from tests.discord.asking import FOLLOW_UP, ask, custom_ids, text_of
from tests.discord.fake_discord import (
    CHANNEL_ID,
    MANAGE_CHANNELS,
    FakeDiscord,
    component_interaction,
    running_client,
)
from tests.payload_checks import check_discord_message


async def test_buttons_keep_working_after_a_restart(fake: FakeDiscord, seeded: Services) -> None:
    first = PaperwireDiscord(seeded)
    seeded.delivery.register(first)
    async with running_client(first, fake):
        [page] = await ask(fake, "search", options={"query": "model"})
        await ask(fake, "now", group="digest", permissions=str(MANAGE_CHANNELS))
    next_id = next(c for c in custom_ids(page) if c.startswith("pw:next:"))
    digest_post = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")[0]
    abstract_id = next(c for c in custom_ids(digest_post.json) if c.startswith("pw:abstract:"))
    second = PaperwireDiscord(seeded)  # a new process: nothing in memory
    seeded.delivery.register(second)
    async with running_client(second, fake):
        before = len(fake.calls_to("POST", FOLLOW_UP))
        await fake.dispatch("INTERACTION_CREATE", component_interaction(next_id))
        await fake.dispatch("INTERACTION_CREATE", component_interaction(abstract_id))
        calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 2)
    texts = [text_of(call.json) for call in calls[before:]]
    assert any("Results 6" in text for text in texts)
    paper = await seeded.papers.paper_by_id(abstract_id.removeprefix("pw:abstract:"))
    assert paper is not None and any(paper.abstract[:30] in text for text in texts)


@pytest.mark.parametrize(
    "custom_id",
    [
        "pw:next:5000:{key}",  # past the deepest page
        "pw:next:10000000000:{key}",
        "pw:next:-5:{key}",
        "pw:next:5:{key}0",
        "pw:next:5:not-a-key",
        "pw:abstract:" + "2509.04664" * 9,  # longer than any paper id
        "pw:abstract:2509.04664 or 1=1",
        "pw:similar:",
        "pw:frobnicate:2509.04664",
    ],
)
async def test_a_button_id_paperwire_did_not_write_is_refused_in_one_line(
    fake: FakeDiscord, bot: PaperwireDiscord, monkeypatch: pytest.MonkeyPatch, custom_id: str
) -> None:
    key = await bot.services.saved_queries.save_query("model", bot.services.clock())
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id.format(key=key)))
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    check_discord_message(answer.json)
    assert STALE_BUTTON in text_of(answer.json) and "Results" not in text_of(answer.json)
    assert answer.json["flags"] & 64  # only to whoever pressed it
    assert offsets == []  # nothing reached the index


async def test_the_deepest_page_a_button_may_ask_for_is_answered(
    fake: FakeDiscord, bot: PaperwireDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await bot.services.saved_queries.save_query("model", bot.services.clock())
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    custom_id = f"pw:next:{MAX_OFFSET}:{key}"
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id))
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    assert STALE_BUTTON not in text_of(answer.json)
    assert offsets and max(offsets) == MAX_OFFSET
