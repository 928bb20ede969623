"""The `bot` fixture: the real slack-bolt `AsyncApp` in HTTP mode, served on loopback as
`paperwire run` serves it, talking to a local fake Web API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Services
from bot.delivery.pacing import Pacer
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.platforms.slack.http_endpoint import EVENTS_PATH
from tests.slack.fake_slack import running_fake_slack
from tests.slack.served import SECRET, TOKEN, Bot


@pytest.fixture
def pacer() -> Pacer | None:
    """The `bot`'s pacing: Slack's own (None); a module overrides it to post without waiting."""
    return None


@pytest.fixture
async def bot(seeded: Services, pacer: Pacer | None) -> AsyncIterator[Bot]:
    async with running_fake_slack(token=TOKEN) as fake:
        config = SlackConfig(bot_token=TOKEN, signing_secret=SECRET, api_url=fake.api_url)
        adapter = SlackAdapter(seeded, config, pacer)
        seeded.delivery.register(adapter)
        server = TestServer(adapter.web_app(), host="127.0.0.1")
        await server.start_server(access_log=None)  # as `paperwire run` serves it
        try:
            async with aiohttp.ClientSession() as http:
                yield Bot(fake, seeded, adapter, str(server.make_url(EVENTS_PATH)), http)
        finally:
            await server.close()
