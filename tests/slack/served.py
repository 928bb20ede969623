"""The Slack adapter as the tests drive it: served over HTTP on loopback (the `bot` fixture,
tests/slack/conftest.py), with signed requests shaped like Slack's, and what its answers
show."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.app import Services
from bot.platforms.slack import SlackAdapter
from tests.slack.fake_slack import FakeSlack, SlackCall
from tests.slack.signing import (
    block_actions_payload,
    interaction_body,
    signed_headers,
    slash_command_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test"


@dataclass
class Bot:
    fake: FakeSlack
    services: Services
    adapter: SlackAdapter
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: str, *, timestamp: int | None = None, secret: str = SECRET) -> int:
        headers = signed_headers(secret, body, timestamp)
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status

    async def command(self, text: str, user: str = "U1", channel: str = "C1") -> SlackCall:
        before = len(self.fake.calls_to("response_url"))
        body = slash_command_body(
            text, user_id=user, channel_id=channel, response_url=self.fake.response_url()
        )
        started = time.monotonic()
        assert await self.post(body) == 200
        assert time.monotonic() - started < 3  # acknowledged within Slack's 3 seconds
        calls = await self.fake.wait_for("response_url", count=before + 1)
        await self.services.delivery.wait_idle()  # the bot has recorded what it sent
        return calls[before]

    async def press(
        self, action_id: str, value: str, user: str = "U1", channel: str = "C1"
    ) -> SlackCall:
        before = len(self.fake.calls_to("response_url"))
        payload = block_actions_payload(
            action_id,
            value,
            response_url=self.fake.response_url("button"),
            user_id=user,
            channel_id=channel,
        )
        assert await self.post(interaction_body(payload)) == 200
        calls = await self.fake.wait_for("response_url", count=before + 1)
        await self.services.delivery.wait_idle()  # the bot has recorded what it sent
        return calls[before]


def texts_of(call: SlackCall) -> str:
    """Every text a person sees (button values are not shown), without the zero-width
    spaces that keep `_` and `*` from formatting."""
    seen = [str(call.args.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    seen.append(value)
                elif key != "value":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(call.args.get("blocks") or [])
    return "\n".join(seen).replace("\u200b", "")


def buttons_of(call: SlackCall) -> dict[str, str]:
    found = {}
    for block in call.args.get("blocks") or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        accessory = [block["accessory"]] if "accessory" in block else []
        for element in [*elements, *accessory]:
            found[element["action_id"]] = element["value"]
    return found


async def listening_url(stderr: asyncio.StreamReader) -> str:
    """The URL `paperwire run` says it listens on (it picks a free port)."""
    async with asyncio.timeout(30):
        while True:
            line = (await stderr.readline()).decode()
            assert line, "paperwire run ended before listening"
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                return match.group(1)


def mention_body(text: str = "<@UBOT> search diffusion") -> str:
    payload = {
        "token": "x",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": "Ev1",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": "U1",
            "text": text,
            "ts": "1700000000.000200",
            "channel": "C1",
            "event_ts": "1700000000.000200",
        },
    }
    return json.dumps(payload)


async def mention(bot: Bot, text: str = "<@UBOT> search diffusion") -> None:
    body = mention_body(text)
    headers = {**signed_headers(SECRET, body), "Content-Type": "application/json"}
    async with bot.http.post(bot.url, data=body.encode(), headers=headers) as response:
        assert response.status == 200


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What paperwire logged (not the fake's server, not the test client)."""
    return [r for r in caplog.records if r.name.startswith("bot")]


def no_none(caplog: pytest.LogCaptureFixture, *shown: str) -> None:
    lines = [r.getMessage() for r in ours(caplog)] + list(shown)
    assert not [line for line in lines if "None" in line]
