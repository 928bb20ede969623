"""How a slash command arrives (`bot/platforms/discord/commands.py`): the `/papers` commands
through the real discord.py client, over a real websocket and REST, against a local fake
Discord."""

from __future__ import annotations

from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord
from tests.conftest import make_observation
from tests.discord.asking import CHANNEL, FOLLOW_UP, ask, custom_ids, text_of
from tests.discord.fake_discord import GUILD_ID, MANAGE_CHANNELS, FakeDiscord, component_interaction
from tests.payload_checks import check_discord_message


async def test_search_is_deferred_then_followed_up_ephemerally(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    [body] = await ask(fake, "search", options={"query": "diffusion"})
    [deferred] = fake.interaction_responses()
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64  # deferred, ephemeral
    check_discord_message(body)
    assert body["flags"] & 64
    assert "iffusion" in text_of(body)
    assert any(cid.startswith("pw:next:5:") for cid in custom_ids(body))


async def test_trending_and_help(fake: FakeDiscord, bot: PaperwireDiscord) -> None:
    bodies = await ask(fake, "trending", options={"date": "2026-03-12"})
    for body in bodies:
        check_discord_message(body)
    assert "Todyformer" in text_of(bodies[0]) + "".join(text_of(b) for b in bodies)
    [help_body] = await ask(fake, "help")
    assert "/papers search" in text_of(help_body)


async def test_digest_commands_need_manage_channels(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    [refused] = await ask(fake, "on", group="digest", permissions="0")
    assert "Only channel managers" in text_of(refused)
    [accepted] = await ask(
        fake,
        "on",
        group="digest",
        options={"time": "08:30", "zone": "Europe/Paris"},
        permissions=str(MANAGE_CHANNELS),
    )
    assert "On: 08:30 Europe/Paris" in text_of(accepted)


async def test_subscriptions_on_discord_end_in_a_direct_message(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from bot.alerts.send import match_new_lists, send_alert
    from bot.alerts.topics import AlertSettings

    [reply] = await ask(fake, "subscribe", options={"topic": "diffusion"})
    assert "Subscribed to “diffusion”" in text_of(reply)
    paper = (await bot.services.search.search("graph", limit=1)).hits[0].paper
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch("INTERACTION_CREATE", component_interaction(f"pw:similar:{paper.id}"))
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + 1)
    assert "Subscribed to" in text_of(calls[-1].json)
    assert await match_new_lists(bot.services) > 0
    owner = Destination("discord", GUILD_ID, "500", kind="dm")
    run = await send_alert(bot.services, AlertSettings(owner), bot.services.clock())
    assert run is not None and run.posted > 0
    assert fake.calls_to("POST", "/users/@me/channels")
    [dm] = fake.messages_in(str(fake.dm_channel_id("500")))
    assert "for your topics" in dm["content"]


async def test_unsubscribe_offers_only_the_callers_own_topics(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from tests.discord.fake_discord import autocomplete_interaction

    await ask(fake, "subscribe", options={"topic": "diffusion models"})
    await ask(fake, "subscribe", options={"topic": "graph neural"}, user_id="501")
    await fake.dispatch(
        "INTERACTION_CREATE",
        autocomplete_interaction(
            subcommand="unsubscribe", options={"topic": "di"}, focused="topic"
        ),
    )
    await fake.wait_for("POST", r"/interactions/[^/]+/[^/]+/callback", count=3)
    answer = fake.interaction_responses()[-1]
    assert answer["type"] == 8
    assert answer["data"]["choices"] == [{"name": "1. diffusion models", "value": "1"}]


async def test_unsubscribe_takes_back_a_long_topic_it_offered(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    from tests.discord.fake_discord import autocomplete_interaction

    long_topic = "diffusion " * 19 + "generative"
    assert len(long_topic) == 200  # the longest topic allowed
    await ask(fake, "subscribe", options={"topic": "graph neural"})
    await ask(fake, "subscribe", options={"topic": long_topic})
    await fake.dispatch(
        "INTERACTION_CREATE",
        autocomplete_interaction(
            subcommand="unsubscribe", options={"topic": "diffusion diff"}, focused="topic"
        ),
    )
    await fake.wait_for("POST", r"/interactions/[^/]+/[^/]+/callback", count=3)
    [choice] = fake.interaction_responses()[-1]["data"]["choices"]
    assert choice["value"] == "2"  # its number: the topic itself is longer than a value may be
    assert choice["name"].startswith("2. diffusion") and len(choice["name"]) <= 100
    [reply] = await ask(fake, "unsubscribe", options={"topic": choice["value"]})
    assert f"Unsubscribed from “{long_topic}”" in text_of(reply)
    owner = Destination("discord", GUILD_ID, "500", kind="dm")
    assert [s.topic for s in await bot.services.subscriptions.subscriptions(owner)] == [
        "graph neural"
    ]


async def test_a_reading_list_on_discord_is_ephemeral(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    await bot.services.papers.ingest(
        [make_observation(arxiv_id="2611.00001", title="R&D *bold* ```fence```")]
    )
    [saved] = await ask(fake, "save", options={"paper": "arxiv.org/abs/2611.00001"})
    check_discord_message(saved)
    assert saved["flags"] & 64 and "Saved “R&D \\*bold\\*" in text_of(saved)
    [tagged] = await ask(fake, "tag", group="saved", options={"number": 1, "tag": "to-read"})
    assert "Tagged 2611.00001" in text_of(tagged)
    [listed] = await ask(fake, "list", group="saved", options={"tag": "to-read"})
    assert "1\\. R&D \\*bold\\*" in text_of(listed)  # escaped: "1." would start a list
    [exported] = await ask(fake, "export", group="saved", options={"format": "ris"})
    check_discord_message(exported)
    assert exported["flags"] & 64
    assert "paperwire-saved.ris: 1 entry (RIS, " in text_of(exported)  # the file: test_uploads
    [message] = [m for m in fake.messages if m["attachments"]]
    [(name, data)] = fake.files_of(message)
    assert name == "paperwire-saved.ris" and b"TI  - R&D *bold* ```fence```\n" in data


async def test_a_manager_sets_the_weekly_recap_named_after_the_channel(
    fake: FakeDiscord, bot: PaperwireDiscord
) -> None:
    [answer] = await ask(
        fake,
        "set",
        group="digest",
        options={"setting": "recap", "value": "fri 16:00"},
        permissions=str(MANAGE_CHANNELS),
    )
    assert "Weekly recap: Fridays at 16:00 UTC." in text_of(answer)
    settings = await bot.services.digests.channel_digest(CHANNEL.key)
    assert settings is not None and settings.recap_day == "fri"
    assert settings.recap_name is not None and settings.recap_name.startswith("channel-")
