"""The reading list from Discord's buttons, through the real discord.py client against the
fake Discord: "Save" on each paper of a digest, a search page and an alert (a direct
message) saves it for the presser alone and says so to them alone (flag 64); "Previous" /
"Next" under a page of the list show the page beside it."""

from __future__ import annotations

from typing import Any

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord
from handlers.reading import NOT_SAVED
from tests.discord.asking import FOLLOW_UP, ask, custom_ids, text_of
from tests.discord.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_CHANNELS,
    USER_ID,
    FakeDiscord,
    component_interaction,
    running_client,
)
from tests.payload_checks import check_discord_message

OTHER_USER = "501"


def _list_of(user: str, guild: str = GUILD_ID) -> Destination:
    return Destination("discord", guild, user, kind="dm")


async def _saved(services: Services, user: str = USER_ID, guild: str = GUILD_ID) -> list[str]:
    return [s.paper_id for s in await services.saved_papers.saved_papers(_list_of(user, guild))]


async def _press(fake: FakeDiscord, custom_id: str, **kw: Any) -> dict[str, Any]:
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", component_interaction(custom_id, **kw))
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 1)
    reply: dict[str, Any] = calls[before].json
    check_discord_message(reply)
    assert reply["flags"] & 64  # for the presser alone
    return reply


def _saves(body: dict[str, Any]) -> list[str]:
    return [i for i in custom_ids(body) if i.startswith("pw:save:")]


async def test_save_on_a_digest_paper_keeps_it_for_the_presser_alone(
    fake: FakeDiscord, seeded: Services
) -> None:
    client = PaperwireDiscord(seeded)
    seeded.delivery.register(client)
    async with running_client(client, fake):
        await ask(fake, "now", group="digest", permissions=str(MANAGE_CHANNELS))
        posts = [c.json for c in fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")]
        saves = []
        for post in posts:
            check_discord_message(post)  # at most 5 rows of 5 buttons, ids within 100
            assert len(post["embeds"]) <= 5 and len(post["components"]) == len(post["embeds"])
            saves += _saves(post)
        assert len(saves) == 10  # one for every paper of the digest
        paper_id = saves[6].removeprefix("pw:save:")
        saved = await _press(fake, saves[6])
        assert "Saved — 1 paper in your list." in text_of(saved)
        again = await _press(fake, saves[6])
        assert "Already in your list (1 paper)." in text_of(again)
    assert await _saved(seeded) == [paper_id]
    assert await _saved(seeded, OTHER_USER) == []
    # Nothing went to the channel but the digest itself.
    assert len(fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")) == len(posts)


async def test_save_on_a_search_result_after_a_restart(fake: FakeDiscord, seeded: Services) -> None:
    first = PaperwireDiscord(seeded)
    seeded.delivery.register(first)
    async with running_client(first, fake):
        [page] = await ask(fake, "search", options={"query": "model"})
    check_discord_message(page)
    saves = _saves(page)
    assert len(saves) == 5 and any(i.startswith("pw:next:") for i in custom_ids(page))
    restarted = PaperwireDiscord(seeded)  # a new process: nothing in memory
    seeded.delivery.register(restarted)
    async with running_client(restarted, fake):
        saved = await _press(fake, saves[0], user_id=OTHER_USER)
    assert "Saved — 1 paper in your list." in text_of(saved)
    assert await _saved(seeded, OTHER_USER) == [saves[0].removeprefix("pw:save:")]
    assert await _saved(seeded) == []


async def test_save_on_an_alert_in_a_direct_message_saves_to_the_servers_list(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from bot.alerts.send import match_new_lists, send_alert
    from bot.alerts.topics import AlertSettings

    await ask(fake, "subscribe", options={"topic": "diffusion"})
    assert await match_new_lists(bot.services) > 0
    run = await send_alert(bot.services, AlertSettings(_list_of(USER_ID)), bot.services.clock())
    assert run is not None and run.posted > 0
    dm_channel = fake.dm_channel_id(USER_ID)
    [dm] = [c.json for c in fake.calls_to("POST", rf"/channels/{dm_channel}/messages")]
    check_discord_message(dm)
    saves = _saves(dm)
    assert saves and len(saves) == len(dm["embeds"])
    assert all(i.endswith(f":{GUILD_ID}") for i in saves)  # the server the alert is for
    in_dm = {"guild_id": None, "channel_id": dm_channel}
    saved = await _press(fake, saves[0], **in_dm)
    assert "Saved — 1 paper in your list." in text_of(saved)
    paper_id = saves[0].removeprefix("pw:save:").removesuffix(f":{GUILD_ID}")
    assert await _saved(bot.services) == [paper_id]
    [listed] = await ask(fake, "list", group="saved")  # in the server: the same list
    assert paper_id in text_of(listed)
    # A server the presser takes no alerts from is not taken from a forged id.
    await _press(fake, f"pw:save:{paper_id}:999", **in_dm)
    assert await _saved(bot.services, guild="999") == []


async def test_a_forged_save_saves_nothing_and_says_so_privately(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    for custom_id, answer in (
        ("pw:save:2101.99999", NOT_SAVED),
        ("pw:save:2101.99999 or 1=1", STALE_BUTTON),
        ("pw:save:" + "2509.04664" * 9, STALE_BUTTON),  # longer than any paper id
        ("pw:save:", STALE_BUTTON),
        ("pw:saved:0", STALE_BUTTON),
        ("pw:saved:2:<@&1>", STALE_BUTTON),
    ):
        reply = await _press(fake, custom_id)
        assert answer in text_of(reply), custom_id
    assert await _saved(bot.services) == []


async def test_previous_and_next_page_through_the_list(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    hits = (await bot.services.search.search("model", limit=12)).hits
    for hit in hits:
        await _press(fake, f"pw:save:{hit.paper.id}")
    for entry in await bot.services.saved_papers.saved_papers(_list_of(USER_ID)):
        await bot.services.saved_papers.tag_saved(_list_of(USER_ID), entry.paper_pk, "to-read")
    [first] = await ask(fake, "list", group="saved")
    check_discord_message(first)
    assert "12 papers, newest first (page 1 of 2)" in text_of(first)
    assert custom_ids(first) == ["pw:saved:2"]
    second = await _press(fake, "pw:saved:2")
    assert "(page 2 of 2)" in text_of(second) and "\n12\\. " in text_of(second)
    assert custom_ids(second) == ["pw:saved:1"]
    [tagged] = await ask(fake, "list", group="saved", options={"tag": "to-read"})
    assert custom_ids(tagged) == ["pw:saved:2:to-read"]
    other = await _press(fake, "pw:saved:2:to-read")
    assert "tagged “to-read”" in text_of(other) and "(page 2 of 2)" in text_of(other)
    theirs = await _press(fake, "pw:saved:2", user_id=OTHER_USER)
    assert "Your list is empty" in text_of(theirs)
