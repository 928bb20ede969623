"""Receiving Slack's requests (server.py): `paperwire run` over HTTP, Socket Mode, checking
the token when connecting, and a port in use."""

from __future__ import annotations

import asyncio
import signal
import socket
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest

from bot.app import Services
from bot.errors import UserError
from bot.platforms.connecting import Unreachable
from bot.platforms.slack import SlackAdapter, SlackConfig, SlackServer
from bot.render.slack_buttons import ACTION_NEXT
from bot.storage import open_storage
from tests.conftest import seed_observations
from tests.payload_checks import check_slack_message
from tests.processes import start_paperwire_run
from tests.slack.fake_slack import running_fake_slack, server_error
from tests.slack.served import SECRET, TOKEN, buttons_of, listening_url, texts_of
from tests.slack.signing import block_actions_payload, signed_headers, slash_command_body


async def test_paperwire_run_answers_a_signed_slash_command_over_http(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
    async with running_fake_slack(token=TOKEN) as fake:
        process = await start_paperwire_run(
            db,
            **fake.http_mode_env(SECRET),
        )
        assert process.stderr is not None
        try:
            url = await listening_url(process.stderr)
            body = slash_command_body("search diffusion", response_url=fake.response_url())
            async with aiohttp.ClientSession() as http:
                headers = signed_headers(SECRET, body)
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    assert response.status == 200
            [reply] = await fake.wait_for("response_url", timeout=20)
            check_slack_message(reply.args)
            assert "iffusion" in texts_of(reply)
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                code = await process.wait()
        logged = (await process.stderr.read()).decode()
        assert code == 0, logged
        assert TOKEN not in logged and SECRET not in logged


async def test_socket_mode_acknowledges_a_command_and_answers_it(seeded: Services) -> None:
    async with running_fake_slack(token=TOKEN) as fake:
        config = SlackConfig(
            bot_token=TOKEN, signing_secret="", app_token=fake.app_token, api_url=fake.api_url
        )
        adapter = SlackAdapter(seeded, config)
        seeded.delivery.register(adapter)
        server = SlackServer(adapter, config)
        await server.start()  # Socket Mode: nothing to listen on
        await server.connect()  # asks apps.connections.open for the socket, with the app token
        try:
            await fake.wait_for_socket()
            body = slash_command_body("search diffusion", response_url=fake.response_url())
            ack = await fake.send_envelope("slash_commands", dict(parse_qsl(body)))
            [reply] = await fake.wait_for("response_url")
            # A button press arrives on the socket too.
            press = block_actions_payload(
                ACTION_NEXT, buttons_of(reply)[ACTION_NEXT], response_url=fake.response_url()
            )
            await fake.send_envelope("interactive", press)
            _, page_two = await fake.wait_for("response_url", count=2)
        finally:
            await server.stop()
    assert server.port is None
    [opened] = fake.calls_to("apps.connections.open")
    assert opened.token == fake.app_token  # not the bot token
    assert ack["envelope_id"].startswith("env-")
    check_slack_message(reply.args)
    assert reply.args["response_type"] == "ephemeral" and "iffusion" in texts_of(reply)
    assert page_two.args["replace_original"] is True and "Results 6" in texts_of(page_two)


async def test_connecting_checks_the_token_and_tries_again_after_a_server_error(
    seeded: Services,
) -> None:
    async with running_fake_slack(token=TOKEN) as fake:
        config = SlackConfig(
            bot_token=TOKEN,
            signing_secret=SECRET,
            api_url=fake.api_url,
            http_host="127.0.0.1",
            http_port=0,
        )
        server = SlackServer(SlackAdapter(seeded, config), config)
        fake.fail("auth.test", server_error(503))
        try:
            await server.start()
            port = server.port  # listening before the first attempt: Slack's requests come in
            assert port
            with pytest.raises(Unreachable, match=r"^Slack answered HTTP 503 \(HTML page\)$"):
                await server.connect()
            await server.connect()
            assert server.port == port  # the same listener, not a second one
        finally:
            await server.stop()
        assert len(fake.calls_to("auth.test")) == 2  # once per attempt: no retries inside
        wrong = replace(config, bot_token="xoxb-no")
        refused = SlackServer(SlackAdapter(seeded, wrong), wrong)
        try:
            with pytest.raises(UserError, match=r"^Slack refused SLACK_BOT_TOKEN \(invalid_auth\)"):
                await refused.connect()
        finally:
            await refused.stop()


async def test_a_port_in_use_is_one_clear_error(seeded: Services) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = SlackConfig(TOKEN, SECRET, http_host="127.0.0.1", http_port=port)
        server = SlackServer(SlackAdapter(seeded, config), config)
        with pytest.raises(UserError) as refused:
            await server.start()
        await server.stop()
    assert str(refused.value).startswith(
        f"cannot listen on 127.0.0.1:{port} for Slack (PAPERWIRE_HTTP_HOST / PAPERWIRE_HTTP_PORT)"
    )
