"""The fake Discord, exercised by the real discord.py client (nothing in discord.py mocked)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.canned import slow
from tests.discord.fake_discord import (
    APPLICATION_ID,
    CHANNEL_ID,
    MANAGE_CHANNELS,
    FakeDiscord,
    autocomplete_interaction,
    component_interaction,
    http_error,
    point_discord_py_at,
    rate_limited,
    reply,
    running_client,
    running_fake_discord,
    server_error,
    slash_interaction,
)

CALLBACK = r"/interactions/\d+/[^/]+/callback"


@dataclass
class Bot:
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    seen: list[discord.Interaction[discord.Client]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, result: Any) -> None:
        """What a command got back from discord.py (the fake answered before it parsed)."""
        async with self.changed:
            self.results.append(result)
            self.changed.notify_all()

    async def wait_results(self, count: int) -> list[Any]:
        async with asyncio.timeout(5), self.changed:
            await self.changed.wait_for(lambda: len(self.results) >= count)
        return self.results


class MoreView(discord.ui.View):
    def __init__(self, bot: Bot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="More", custom_id="papers:more")
    async def more(
        self, interaction: discord.Interaction[discord.Client], button: discord.ui.Button[Any]
    ) -> None:
        self.bot.seen.append(interaction)
        await interaction.response.edit_message(content="page 2")


def make_bot() -> Bot:
    client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.01)
    tree = app_commands.CommandTree(client)
    bot = Bot(client, tree)

    @tree.command(name="ping", description="Replies pong")
    async def ping(interaction: discord.Interaction[discord.Client]) -> None:
        bot.seen.append(interaction)
        await bot.record(await interaction.response.send_message("pong"))

    papers = app_commands.Group(name="papers", description="Papers")

    @papers.command(name="search", description="Search papers")
    async def search(interaction: discord.Interaction[discord.Client], query: str) -> None:
        bot.seen.append(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await bot.record(await interaction.followup.send(f"results for {query}", wait=True))
        await bot.record(await interaction.edit_original_response(content="done"))

    @search.autocomplete("query")
    async def suggest(
        interaction: discord.Interaction[discord.Client], current: str
    ) -> list[app_commands.Choice[str]]:
        bot.seen.append(interaction)
        return [app_commands.Choice(name=f"{current}sion", value=f"{current}sion")]

    tree.add_command(papers)
    client.add_view(MoreView(bot))
    return bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with running_fake_discord() as fake:
        with point_discord_py_at(fake):
            yield fake


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    bot = make_bot()
    async with running_client(bot.client, fake):
        yield bot


async def test_login_identify_and_ready(fake: FakeDiscord, bot: Bot) -> None:
    paths = [(call.method, call.path) for call in fake.calls]
    assert paths == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert fake.calls[0].headers["Authorization"] == f"Bot {fake.token}"
    assert bot.client.user is not None and bot.client.user.id == 100
    assert bot.client.application_id == int(APPLICATION_ID)
    [identify] = fake.identifies
    assert identify["token"] == fake.token
    assert identify["intents"] == 0
    [conn] = fake.connections
    assert conn.query["v"] == "10" and conn.query["encoding"] == "json"
    assert conn.heartbeats >= 1  # sent straight after HELLO, before IDENTIFY
    assert conn.received[0]["op"] == 1 and conn.received[1]["op"] == 2


async def test_slash_command_answers_through_the_callback(fake: FakeDiscord, bot: Bot) -> None:
    payload = slash_interaction("ping", subcommand=None, options={})
    assert await fake.dispatch("INTERACTION_CREATE", payload) == 1

    [call] = await fake.wait_for("POST", CALLBACK)
    assert call.path == f"/interactions/{payload['id']}/{payload['token']}/callback"
    assert call.query["with_response"] == "1"
    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "pong"
    assert call.token is None  # interaction responses carry no bot token

    [interaction] = bot.seen
    assert interaction.channel_id == int(CHANNEL_ID)
    assert interaction.guild_id == 300
    assert interaction.user.id == 500
    [message] = fake.messages
    assert message["content"] == "pong" and message["channel_id"] == CHANNEL_ID
    [response] = await bot.wait_results(1)
    assert response.message_id == int(message["id"])


async def test_subcommand_defer_followup_and_edit(fake: FakeDiscord, bot: Bot) -> None:
    payload = slash_interaction(options={"query": "diffusion"}, permissions=str(MANAGE_CHANNELS))
    await fake.dispatch("INTERACTION_CREATE", payload)

    await fake.wait_for("PATCH", r"/webhooks/200/[^/]+/messages/@original")
    [defer] = fake.interaction_responses(payload["id"])
    assert defer == {"type": 5, "data": {"flags": 64}}
    [followup] = fake.calls_to("POST", r"/webhooks/200/[^/]+")
    assert followup.json["content"] == "results for diffusion"
    assert followup.query["wait"] == "1"

    interaction = bot.seen[0]
    assert interaction.permissions.manage_channels
    assert not interaction.permissions.administrator
    sent, edited = await bot.wait_results(2)
    assert isinstance(sent, discord.WebhookMessage) and sent.content == "results for diffusion"
    assert edited.content == "done"
    original = fake.messages[0]
    assert original["content"] == "done" and original["flags"] == 64  # loading flag cleared


async def test_autocomplete_and_button(fake: FakeDiscord, bot: Bot) -> None:
    await fake.dispatch("INTERACTION_CREATE", autocomplete_interaction(options={"query": "diffu"}))
    [call] = await fake.wait_for("POST", CALLBACK)
    assert call.json == {
        "type": 8,
        "data": {"choices": [{"name": "diffusion", "value": "diffusion"}]},
    }

    await fake.dispatch("INTERACTION_CREATE", component_interaction("papers:more"))
    calls = await fake.wait_for("POST", CALLBACK, count=2)
    assert calls[1].json["type"] == 7
    assert calls[1].json["data"]["content"] == "page 2"


async def test_second_acknowledgement_is_refused(fake: FakeDiscord, bot: Bot) -> None:
    payload = slash_interaction("ping", subcommand=None, options={})
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for("POST", CALLBACK)
    url = f"{fake.api_base}/interactions/{payload['id']}/{payload['token']}/callback"
    async with aiohttp.ClientSession() as session:
        again = await session.post(url, json={"type": 4, "data": {"content": "again"}})
        assert again.status == 400
        assert again.headers["Content-Type"] == "application/json"
        assert (await again.json())["code"] == 40060
        fake.expire_interaction(payload["id"])
        late = await session.post(url, json={"type": 4, "data": {"content": "late"}})
        assert (await late.json())["code"] == 10062


async def test_send_with_nonce_twice_creates_one_message(fake: FakeDiscord, bot: Bot) -> None:
    channel = await bot.client.fetch_channel(int(CHANNEL_ID))
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("digest", nonce="digest-2026-11-22")
    second = await channel.send("digest", nonce="digest-2026-11-22")

    assert first.id == second.id
    calls = fake.calls_to("POST", r"/channels/400/messages")
    assert len(calls) == 2
    assert calls[0].json["enforce_nonce"] is True  # discord.py adds it to every nonce
    assert len(fake.messages_in(CHANNEL_ID)) == 1


@pytest.mark.parametrize("global_", [False, True])
async def test_rate_limit_is_slept_off_and_retried(
    fake: FakeDiscord, bot: Bot, global_: bool
) -> None:
    fake.fail("POST", r"/channels/\d+/messages", rate_limited(retry_after=0.01, global_=global_))
    channel = await bot.client.fetch_channel(int(CHANNEL_ID))
    assert isinstance(channel, discord.TextChannel)

    message = await channel.send("hello")

    assert message.content == "hello"
    assert len(fake.calls_to("POST", r"/channels/400/messages")) == 2
    assert fake.pending() == 0


async def test_scripted_errors_raise_discord_exceptions(fake: FakeDiscord, bot: Bot) -> None:
    channel = bot.client.get_partial_messageable(int(CHANNEL_ID))
    fake.fail("POST", r"/channels/400/messages", http_error(403, 50001, "Missing Access"))
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("hello")
    assert forbidden.value.code == 50001 and forbidden.value.status == 403

    fake.fail("POST", r"/channels/400/messages", http_error(404, 10003, "Unknown Channel"))
    with pytest.raises(discord.NotFound) as missing:
        await channel.send("hello")
    assert missing.value.code == 10003

    fake.fail("POST", r"/channels/400/messages", server_error(503))  # not retried
    with pytest.raises(discord.DiscordServerError):
        await channel.send("hello")

    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    assert fake.messages == []


async def test_429_without_via_is_not_retried(fake: FakeDiscord, bot: Bot) -> None:
    fake.fail("POST", r"/channels/400/messages", reply({"retry_after": 0.01}, status=429))
    with pytest.raises(discord.HTTPException) as banned:
        await bot.client.get_partial_messageable(int(CHANNEL_ID)).send("hello")
    assert banned.value.status == 429


async def test_direct_messages(fake: FakeDiscord, bot: Bot) -> None:
    dm = await bot.client.create_dm(discord.Object(500))
    await dm.send("your digest")
    assert fake.calls_to("POST", r"/users/@me/channels")[0].json == {"recipient_id": 500}
    assert fake.messages_in(fake.dm_channel_id("500"))[0]["content"] == "your digest"

    fake.blocked_dms.add("500")
    with pytest.raises(discord.Forbidden) as closed:
        await dm.send("again")
    assert closed.value.code == 50007


async def test_tree_sync_puts_global_commands(fake: FakeDiscord, bot: Bot) -> None:
    synced = await bot.tree.sync()

    [call] = fake.calls_to("PUT", r"/applications/200/commands")
    assert sorted(command["name"] for command in call.json) == ["papers", "ping"]
    assert sorted(command.name for command in synced) == ["papers", "ping"]
    assert all(command.id for command in synced)

    await bot.tree.sync(guild=discord.Object(300))
    assert fake.calls_to("PUT", r"/applications/200/guilds/300/commands")[0].json == []


async def test_webhook_mode(fake: FakeDiscord) -> None:
    url = fake.add_webhook()
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.from_url(url, session=session)
        message = await webhook.send("digest", wait=True)
        await webhook.send("no wait")
    assert message.content == "digest"
    assert [m["content"] for m in fake.messages_in(CHANNEL_ID)] == ["digest", "no wait"]
    [first, _] = fake.calls_to("POST", r"/webhooks/\d+/[^/]+")
    assert first.token is None


async def test_reconnect_resumes_and_replays(fake: FakeDiscord, bot: Bot) -> None:
    await fake.drop_connections(code=4000)
    await fake.wait_resumed()
    [resume] = fake.resumes
    assert resume["session_id"] == "fake-session-1" and resume["seq"] == 1

    await fake.request_reconnect()
    await fake.wait_resumed(count=2)
    assert len(fake.identifies) == 1

    await fake.dispatch("INTERACTION_CREATE", slash_interaction("ping", None, {}))
    [call] = await fake.wait_for("POST", CALLBACK)
    assert call.json["data"]["content"] == "pong"


async def test_slow_answer_holds_the_call(fake: FakeDiscord, bot: Bot) -> None:
    gate = slow()
    fake.fail("POST", r"/channels/400/messages", gate)
    sending = asyncio.create_task(bot.client.get_partial_messageable(400).send("hi"))
    await gate.arrived.wait()
    assert not sending.done()
    gate.release()
    assert (await sending).content == "hi"


async def test_close_is_clean(fake: FakeDiscord) -> None:
    bot = make_bot()
    async with running_client(bot.client, fake) as connect_task:
        pass
    assert connect_task.done() and connect_task.exception() is None
    await fake.wait_disconnected()
    # Client.close() asks for 1000, but discord.py's reader closes first with 4000.
    assert fake.close_codes == [4000]


async def test_bad_token_fails_login(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong")
    await client.close()


@pytest.mark.parametrize("reconnect", [True, False])
async def test_privileged_intents_are_refused(fake: FakeDiscord, reconnect: bool) -> None:
    intents = discord.Intents.none()
    intents.message_content = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.01)
    await client.login(fake.token)
    expected = discord.PrivilegedIntentsRequired if reconnect else discord.ConnectionClosed
    with pytest.raises(expected):  # only the reconnecting path names the problem
        await client.connect(reconnect=reconnect)
    await client.close()
    assert fake.close_codes == [4014]


class QuickIdentifyClient(discord.Client):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """The default sleeps 5 s before every IDENTIFY but the first."""


async def test_invalid_session_identifies_again(fake: FakeDiscord) -> None:
    client = QuickIdentifyClient(intents=discord.Intents.none(), guild_ready_timeout=0.01)
    async with running_client(client, fake):
        await fake.invalidate_session(resumable=False)
        await fake.wait_ready(count=2)
        assert len(fake.identifies) == 2 and fake.resumes == []
