"""Asking the bot through the fake Discord, and reading what it answered: a slash command's
follow-ups, a message's text and button ids, the errors logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.models import Destination
from tests.discord.fake_discord import (
    APPLICATION_ID,
    CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    slash_interaction,
)

FOLLOW_UP = rf"/webhooks/{APPLICATION_ID}/[^/]+"
CHANNEL = Destination("discord", GUILD_ID, CHANNEL_ID)


async def ask(fake: FakeDiscord, subcommand: str, count: int = 1, **kw: Any) -> list[Any]:
    """Dispatch `/papers <subcommand>`; the follow-up bodies it gets."""
    group = kw.pop("group", None)
    before = len(fake.calls_to("POST", FOLLOW_UP))
    await fake.dispatch(
        "INTERACTION_CREATE", slash_interaction(subcommand=subcommand, group=group, **kw)
    )
    calls = await fake.wait_for("POST", FOLLOW_UP, count=before + count)
    return [call.json for call in calls[before:]]


def discord_env(fake: FakeDiscord, token: str) -> dict[str, str]:
    """The environment that points `paperwire run` at the fake as a bot."""
    return {
        "DISCORD_BOT_TOKEN": token,
        "PAPERWIRE_DISCORD_API_URL": fake.api_base,
        "PAPERWIRE_DISCORD_GATEWAY_URL": fake.gateway_url,
    }


def text_of(body: dict[str, Any]) -> str:
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
    return "\n".join(parts)


def custom_ids(body: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in body.get("components") or [] for c in row["components"]]


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def is_apology(body: dict[str, Any]) -> bool:
    return "Sorry, something went wrong" in text_of(body) and bool(body["flags"] & 64)
