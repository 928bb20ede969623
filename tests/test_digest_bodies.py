"""`paperwire digest --format slack|discord --json` prints what the adapters really post:
the same bodies, buttons and the thread of abstracts included."""

from __future__ import annotations

import json
from typing import Any

import discord

from bot.app import Services
from bot.commands import request_bodies
from bot.delivery.outbox import OutgoingMessage
from bot.digests.build import build_digest
from bot.models import Destination
from bot.platforms.discord import PaperwireDiscord
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.render.neutral import Digest, Reply
from tests.discord.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    point_discord_py_at,
    running_client,
    running_fake_discord,
)
from tests.slack.fake_slack import running_fake_slack


async def _digest(services: Services) -> Digest:
    day = (await services.papers.trending_days())[0]
    return await build_digest(services.papers, now=services.clock(), day=day, limit=12)


def _filled(body: dict[str, Any], **values: str) -> dict[str, Any]:
    """A printed body with its `{placeholders}` replaced."""
    text = json.dumps(body)
    for name, value in values.items():
        text = text.replace(json.dumps("{" + name + "}"), json.dumps(value))
    filled: dict[str, Any] = json.loads(text)
    return filled


async def test_slack_bodies_printed_are_those_posted(seeded: Services) -> None:
    digest = await _digest(seeded)
    printed = request_bodies(digest, "slack")
    async with running_fake_slack(token="xoxb-test") as fake:
        config = SlackConfig(bot_token="xoxb-test", signing_secret="s", api_url=fake.api_url)
        adapter = SlackAdapter(seeded, config)
        receipt = await adapter.send(
            OutgoingMessage(Destination("slack", "T1", "C1"), Reply(digest))
        )
    assert receipt.ok
    posted = [call.args for call in fake.calls_to("chat.postMessage")]
    assert posted == [_filled(b, channel="C1", ts=receipt.platform_ids[0]) for b in printed]
    # What the printed bodies had been missing: the buttons and the thread reply.
    assert any(block["type"] == "actions" for block in printed[0]["blocks"])
    assert printed[-1]["thread_ts"] == "{ts}" and "thread_ts" not in printed[0]


async def test_discord_bodies_printed_are_those_posted(seeded: Services) -> None:
    digest = await _digest(seeded)
    printed = request_bodies(digest, "discord")
    async with running_fake_discord() as fake:
        with point_discord_py_at(fake):
            client = PaperwireDiscord(seeded)
            async with running_client(client, fake):
                where = Destination("discord", GUILD_ID, CHANNEL_ID)
                receipt = await client.send(OutgoingMessage(where, Reply(digest)))
    assert receipt.ok
    posted = [call.json for call in fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")]
    assert len(posted) == len(printed) >= 2
    for sent, shown in zip(posted, printed, strict=True):
        # discord.py adds the nonce (per send) and `tts`; it writes embeds its own way.
        assert {k: v for k, v in sent.items() if k not in ("nonce", "enforce_nonce", "tts")} == {
            **shown,
            "content": shown["content"] or None,  # a middle part's empty text goes as null
            "embeds": [discord.Embed.from_dict(e).to_dict() for e in shown["embeds"]],
        }
        assert shown["components"]  # each part's papers have their buttons
