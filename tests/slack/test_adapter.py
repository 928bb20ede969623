"""The Slack adapter end to end: the real slack-bolt `AsyncApp` in HTTP mode, served on
loopback, driven by signed requests shaped like Slack's, talking to a local fake Web API."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.digests.settings import DigestSettings
from bot.errors import UserError
from bot.models import Destination
from bot.platforms.connecting import Unreachable
from bot.platforms.slack import EVENTS_PATH, SlackAdapter, SlackConfig, SlackServer
from bot.render.slack import ACTION_ABSTRACT, ACTION_NEXT, ACTION_SHARE, ACTION_SIMILAR
from bot.search.service import MAX_OFFSET
from bot.storage import open_storage
from tests.conftest import drained_later, offsets_reaching_the_index, seed_observations
from tests.payload_checks import check_slack_message
from tests.processes import start_paperwire_run
from tests.slack.fake_slack import (
    FakeSlack,
    SlackCall,
    api_error,
    rate_limited,
    running_fake_slack,
    server_error,
)
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

    async def press(self, action_id: str, value: str) -> SlackCall:
        before = len(self.fake.calls_to("response_url"))
        payload = block_actions_payload(
            action_id, value, response_url=self.fake.response_url("button")
        )
        assert await self.post(interaction_body(payload)) == 200
        calls = await self.fake.wait_for("response_url", count=before + 1)
        await self.services.delivery.wait_idle()  # the bot has recorded what it sent
        return calls[before]


@pytest.fixture
async def bot(seeded: Services) -> AsyncIterator[Bot]:
    async with running_fake_slack(token=TOKEN) as fake:
        config = SlackConfig(bot_token=TOKEN, signing_secret=SECRET, api_url=fake.api_url)
        adapter = SlackAdapter(seeded, config)
        seeded.delivery.register(adapter)
        server = TestServer(adapter.web_app(), host="127.0.0.1")
        await server.start_server(access_log=None)  # as `paperwire run` serves it
        try:
            async with aiohttp.ClientSession() as http:
                yield Bot(fake, seeded, adapter, str(server.make_url(EVENTS_PATH)), http)
        finally:
            await server.close()


def _texts(call: SlackCall) -> str:
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


def _buttons(call: SlackCall) -> dict[str, str]:
    found = {}
    for block in call.args.get("blocks") or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        accessory = [block["accessory"]] if "accessory" in block else []
        for element in [*elements, *accessory]:
            found[element["action_id"]] = element["value"]
    return found


async def test_search_is_acknowledged_then_answered_ephemerally(bot: Bot) -> None:
    reply = await bot.command("search diffusion")
    check_slack_message(reply.args)
    assert reply.args["response_type"] == "ephemeral"
    assert "iffusion" in _texts(reply)
    buttons = _buttons(reply)
    assert set(buttons) == {ACTION_SHARE, ACTION_NEXT}


async def test_help_and_unknown_commands_answer_with_help(bot: Bot) -> None:
    reply = await bot.command("frobnicate")
    check_slack_message(reply.args)
    assert "Unknown command" in _texts(reply) and "/papers search" in _texts(reply)


async def test_forged_and_replayed_requests_get_401_and_do_nothing(bot: Bot) -> None:
    body = slash_command_body("help", response_url=bot.fake.response_url())
    assert await bot.post(body, secret="not-the-secret") == 401
    six_minutes_ago = int(time.time()) - 360
    assert await bot.post(body, timestamp=six_minutes_ago) == 401
    assert bot.fake.calls_to("response_url") == []
    assert bot.fake.calls_to("chat.postMessage") == []


MARKER = "zq-marker-7f3a"  # in the body of each refused request: must appear in no log


def _logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name != "aiohttp.access"]


@pytest.mark.parametrize("refusal", ["wrong secret", "clock skew"])
async def test_a_refused_request_is_logged_in_one_short_line_without_its_body(
    bot: Bot, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    caplog.set_level(logging.DEBUG)
    # A genuine request carries a live response URL and the verification token.
    url = bot.fake.response_url(MARKER)
    body = slash_command_body(f"search {MARKER}", response_url=url, token=MARKER)
    if refusal == "wrong secret":
        status = await bot.post(body, secret="not-the-secret")
    else:
        status = await bot.post(body, timestamp=int(time.time()) - 360)
    assert status == 401
    assert bot.fake.calls_to("response_url") == []
    assert MARKER not in caplog.text and "v0=" not in caplog.text
    [line] = _logged(caplog)
    assert line.levelno == logging.WARNING and len(line.getMessage()) < 160


async def test_a_burst_of_refusals_logs_one_line_a_minute(
    seeded: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    minute = 0.0
    config = SlackConfig(bot_token=TOKEN, signing_secret=SECRET, api_url="http://127.0.0.1:9/")
    app = SlackAdapter(seeded, config).web_app(monotonic=lambda: minute)
    body = slash_command_body(MARKER, response_url="http://127.0.0.1:9/r")
    huge = MARKER * (1024 * 1024 // len(MARKER))  # 1 MB: refused before it is read whole
    async with _served(app) as url, aiohttp.ClientSession() as http:

        async def forge(data: str, chunked: bool = False) -> int:
            headers = signed_headers("not-the-secret", data)

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length to refuse early
                yield data.encode()

            sent = chunks() if chunked else data.encode()
            async with http.post(url, data=sent, headers=headers) as response:
                return response.status

        statuses = [await forge(body) for _ in range(20)] + [await forge(huge) for _ in range(5)]
        statuses.append(await forge(huge, chunked=True))
        assert statuses == [401] * 20 + [413] * 6
        assert len(_logged(caplog)) == 1
        minute = 61.0
        assert await forge(body) == 401
    _, second = _logged(caplog)
    assert "25 more" in second.getMessage()  # the ones not logged are counted
    assert MARKER not in caplog.text


@asynccontextmanager
async def _served(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    try:
        yield str(server.make_url(EVENTS_PATH))
    finally:
        await server.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=é"},
        {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "{now}"},
        {"Content-Type": "text/plain; charset=bogus", "X-Slack-Request-Timestamp": "{now}"},
        {},
    ],
)
@pytest.mark.parametrize("body", [b"text=help", b"{not json", b"payload=%7Bnot", b"\xff\xfe"])
async def test_a_malformed_signature_or_body_is_a_401_not_a_500(
    bot: Bot, caplog: pytest.LogCaptureFixture, headers: dict[str, str], body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    sent = {name: value.format(now=int(time.time())) for name, value in headers.items()}
    async with bot.http.post(bot.url, data=body, headers=sent) as response:
        assert response.status == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_buttons_next_share_and_abstract(bot: Bot) -> None:
    first = await bot.command("search model")
    buttons = _buttons(first)
    following = await bot.press(ACTION_NEXT, buttons[ACTION_NEXT])
    check_slack_message(following.args)
    assert following.args["replace_original"] is True
    assert "Results 6" in _texts(following)
    shared = await bot.press(ACTION_SHARE, buttons[ACTION_SHARE])
    assert shared.args["response_type"] == "in_channel"
    assert shared.args["replace_original"] is False
    paper = (await bot.services.search.search("model", limit=1)).hits[0].paper
    abstract = await bot.press(ACTION_ABSTRACT, paper.id)
    check_slack_message(abstract.args)
    assert abstract.args["response_type"] == "ephemeral"
    assert paper.abstract[:40].replace("&", "&amp;") in _texts(abstract)


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        (ACTION_NEXT, '{"q":"model","o":10000000000}'),  # aborted the process (160 GB)
        (ACTION_NEXT, '{"q":"model","o":1001}'),
        (ACTION_NEXT, '{"q":"model","o":-5}'),
        (ACTION_NEXT, '{"q":"model","o":1e999}'),
        (ACTION_NEXT, '{"q":"model","o":"5"}'),
        (ACTION_NEXT, '{"q":"model","o":true}'),
        (ACTION_NEXT, '{"q":["model"],"o":5}'),
        (ACTION_NEXT, '["model",5]'),
        (ACTION_NEXT, "not json"),
        (ACTION_NEXT, "[" * 999 + "]" * 999),  # json.loads: RecursionError, not ValueError
        (ACTION_SHARE, '{"q":"model","o":10000000000}'),
        (ACTION_SHARE, '{"q":" ","o":0}'),
        (ACTION_ABSTRACT, "2509.04664" * 9),  # longer than any paper id
        (ACTION_ABSTRACT, "2509.04664 or 1=1"),
        (ACTION_SIMILAR, ""),
    ],
)
async def test_a_button_value_paperwire_did_not_write_is_refused_in_one_line(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, action_id: str, value: str
) -> None:
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    answer = await bot.press(action_id, value)
    check_slack_message(answer.args)
    assert STALE_BUTTON in _texts(answer) and "Results" not in _texts(answer)
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["replace_original"] is False  # the message with the button stays
    assert offsets == []  # nothing reached the index


async def test_the_deepest_page_a_button_may_ask_for_is_answered(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    answer = await bot.press(ACTION_NEXT, json.dumps({"q": "model", "o": MAX_OFFSET}))
    assert STALE_BUTTON not in _texts(answer) and answer.args["replace_original"] is True
    assert offsets and max(offsets) == MAX_OFFSET


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_bug_in_a_button_handler_is_an_apology_and_one_logged_traceback(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.services.search, "search", broken)
    answer = await bot.press(ACTION_NEXT, json.dumps({"q": "model", "o": 5}))
    check_slack_message(answer.args)
    assert _texts(answer).startswith("Sorry, something went wrong") and "boom" not in _texts(answer)
    assert answer.args["replace_original"] is False  # the results it was pressed under stay
    [error] = _errors(caplog)
    assert error.getMessage() == "button failed: next" and error.exc_info is not None


@pytest.mark.parametrize("where", ["command", "button"])
async def test_an_error_past_the_handlers_gets_an_apology_from_the_error_hook(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    """bolt's error hook: what the adapter itself raised is answered and logged once."""
    import bot.platforms.slack as slack

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack, "dispatch" if where == "command" else "press", broken)
    if where == "command":
        answer = await bot.command("help")
    else:
        answer = await bot.press(ACTION_ABSTRACT, "2509.04664")
    check_slack_message(answer.args)
    assert _texts(answer).startswith("Sorry, something went wrong") and "boom" not in _texts(answer)
    assert answer.args["response_type"] == "ephemeral"
    [error] = _errors(caplog)
    assert error.name == "bot.platforms.slack" and error.getMessage().startswith("Slack: answering")
    assert error.exc_info is not None and str(error.exc_info[1]) == "boom"


async def test_a_mention_that_fails_gets_an_apology_for_the_asker_alone(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.platforms.slack as slack

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack, "dispatch", broken)
    await _mention(bot)
    [private] = await bot.fake.wait_for("chat.postEphemeral")
    assert private.args["user"] == "U1" and private.args["thread_ts"] == "1700000000.000200"
    assert _texts(private).startswith("Sorry, something went wrong")
    assert bot.fake.calls_to("chat.postMessage") == []
    await bot.services.delivery.wait_idle()
    assert len(_errors(caplog)) == 1


async def test_digest_commands_are_for_managers_only(bot: Bot) -> None:
    bot.fake.users["U2"] = {"is_admin": False, "is_owner": False}
    refused = await bot.command("digest on 08:30 Europe/Paris", user="U2")
    assert "Only channel managers" in _texts(refused)
    assert await bot.services.digests.channel_digest("slack:T1:C1") is None
    bot.fake.users["U3"] = {"is_admin": True}
    accepted = await bot.command("digest on 08:30 Europe/Paris", user="U3")
    assert "On: 08:30 Europe/Paris" in _texts(accepted)
    assert await bot.services.digests.channel_digest("slack:T1:C1") is not None


async def test_digest_posts_to_the_channel_with_abstracts_in_a_thread(bot: Bot) -> None:
    bot.fake.users["U3"] = {"is_admin": True}
    reply = await bot.command("digest now", user="U3")
    assert "Posted 10 papers" in _texts(reply)
    posts = bot.fake.calls_to("chat.postMessage")
    assert len(posts) >= 2
    main, *thread = posts
    assert main.args["channel"] == "C1" and "thread_ts" not in main.args
    assert all(p.args["thread_ts"] for p in thread)
    for post in posts:
        check_slack_message(post.args)
        assert "link_names" not in post.args and "parse" not in post.args
        assert post.args["unfurl_links"] is False
    assert ACTION_ABSTRACT in _buttons(main)
    assert len(await bot.services.outbox.sent_paper_ids("slack:T1:C1")) == 10


async def test_rate_limited_and_failing_posts_are_retried(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", rate_limited(retry_after=0), server_error(500))
    settings = DigestSettings(Destination("slack", "T1", "C9"), size=2)
    await bot.services.digests.save_channel_digest(settings, "test", bot.services.clock())
    from bot.digests.runs import run_channel_digest

    run = await run_channel_digest(bot.services, settings, bot.services.clock())
    assert run is not None and run.posted == 2
    assert bot.fake.pending("chat.postMessage") == 0


async def test_channel_not_found_stops_the_destination_and_shows_in_status(bot: Bot) -> None:
    bot.fake.users["U3"] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", api_error("channel_not_found"))
    reply = await bot.command("digest now", user="U3")
    assert "channel_not_found" in _texts(reply)
    state = await bot.services.outbox.destination_state("slack:T1:C1")
    assert state.stopped and state.error == "channel_not_found"
    # Kept. (The command's own reply may still be marked sent: only the channel's queue.)
    assert (await bot.services.outbox.outbox_depths()).get("slack:T1:C1") == 1
    status = await bot.command("digest status", user="U3")
    assert "stopped" in _texts(status) and "channel_not_found" in _texts(status)
    # Turning it on again (after inviting the bot) resumes posting.
    await bot.command("digest on", user="U3")
    assert not (await bot.services.outbox.destination_state("slack:T1:C1")).stopped


async def test_hostile_query_is_escaped_in_the_reply(bot: Bot) -> None:
    reply = await bot.command("search <!channel> @everyone *bold*")
    check_slack_message(reply.args)
    assert "<!channel>" not in _texts(reply)
    assert "&lt;!channel&gt;" in _texts(reply)


def test_config_needs_the_signing_secret_or_an_app_token() -> None:
    from bot.errors import UserError

    assert SlackConfig.from_env({}) is None
    with pytest.raises(UserError, match="SLACK_SIGNING_SECRET"):
        SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    config = SlackConfig.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "PAPERWIRE_HTTP_PORT": "80"}
    )
    assert config is not None and config.http_port == 80
    assert "xoxb-1" not in repr(config) and "xapp-1" not in repr(config)


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
            url = await _listening_url(process.stderr)
            body = slash_command_body("search diffusion", response_url=fake.response_url())
            async with aiohttp.ClientSession() as http:
                headers = signed_headers(SECRET, body)
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    assert response.status == 200
            [reply] = await fake.wait_for("response_url", timeout=20)
            check_slack_message(reply.args)
            assert "iffusion" in _texts(reply)
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                code = await process.wait()
        logged = (await process.stderr.read()).decode()
        assert code == 0, logged
        assert TOKEN not in logged and SECRET not in logged


async def _listening_url(stderr: asyncio.StreamReader) -> str:
    """The URL `paperwire run` says it listens on (it picks a free port)."""
    async with asyncio.timeout(30):
        while True:
            line = (await stderr.readline()).decode()
            assert line, "paperwire run ended before listening"
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                return match.group(1)


def _mention_body(text: str = "<@UBOT> search diffusion") -> str:
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


async def _mention(bot: Bot, text: str = "<@UBOT> search diffusion") -> None:
    body = _mention_body(text)
    headers = {**signed_headers(SECRET, body), "Content-Type": "application/json"}
    async with bot.http.post(bot.url, data=body.encode(), headers=headers) as response:
        assert response.status == 200


async def test_a_mention_is_answered_in_a_thread(bot: Bot) -> None:
    await _mention(bot)
    [post] = await bot.fake.wait_for("chat.postMessage")
    check_slack_message(post.args)
    assert post.args["thread_ts"] == "1700000000.000200"
    assert "iffusion" in _texts(post)
    assert _buttons(post) == {}  # buttons answer one person: none in a public thread


async def test_a_mention_takes_the_command_name_in_any_case(bot: Bot) -> None:
    bot.fake.users["U1"] = {"is_admin": True}
    await _mention(bot, "<@UBOT> /PAPERS digest status")
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert "No daily digest here yet" in _texts(post)


async def test_a_mention_answer_that_failed_is_posted_once_later(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", server_error(500))
    await _mention(bot)
    await bot.fake.wait_for("chat.postMessage")
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    [thread] = bot.fake.threads.values()
    assert len(thread) == 1 and thread[0]["thread_ts"] == "1700000000.000200"
    assert bot.fake.calls_to("conversations.replies")  # it looked in the thread first


async def test_the_eleventh_command_in_a_minute_is_refused_and_the_digest_still_posts(
    bot: Bot,
) -> None:
    await _mention(bot)  # a mention counts: its answer is a public post
    await bot.fake.wait_for("chat.postMessage")
    for _ in range(9):
        assert "Slow down" not in _texts(await bot.command("help"))
    refused = await bot.command("search diffusion")
    assert _texts(refused).startswith("Slow down: you can send another command in 6 s.")
    assert refused.args["response_type"] == "ephemeral"
    # A mention over the budget is answered to the asker alone: no public post.
    await _mention(bot)
    [private] = await bot.fake.wait_for("chat.postEphemeral")
    check_slack_message(private.args)
    assert private.args["user"] == "U1" and private.args["thread_ts"] == "1700000000.000200"
    assert _texts(private).startswith("Slow down")
    assert len(bot.fake.calls_to("chat.postMessage")) == 1
    # The channel's digest is not held back by one person's commands.
    bot.fake.users["U3"] = {"is_admin": True}
    assert "Posted 10 papers" in _texts(await bot.command("digest now", user="U3"))
    assert len(await bot.services.outbox.sent_paper_ids("slack:T1:C1")) == 10


def test_the_manifest_asks_for_what_the_bot_uses() -> None:
    manifest = (Path(__file__).parents[2] / "slack-app-manifest.yml").read_text()
    for needed in (
        "command: /papers",
        "/slack/events",
        "- commands",
        "- chat:write",
        "- im:write",
        "- users:read",
        "- app_mention",
        "is_enabled: true",
    ):
        assert needed in manifest


async def test_subscriptions_on_slack_end_in_a_direct_message(bot: Bot) -> None:
    from bot.alerts.send import match_new_lists, send_alert
    from bot.alerts.topics import AlertSettings

    reply = await bot.command("subscribe diffusion", user="U7")
    assert "Subscribed to “diffusion”" in _texts(reply)
    paper = (await bot.services.search.search("graph", limit=1)).hits[0].paper
    similar = await bot.press(ACTION_SIMILAR, paper.id)
    assert "Subscribed to" in _texts(similar)
    assert (
        len(await bot.services.subscriptions.subscriptions(Destination("slack", "T1", "U1", "dm")))
        == 1
    )
    assert await match_new_lists(bot.services) > 0
    owner = Destination("slack", "T1", "U7", kind="dm")
    run = await send_alert(bot.services, AlertSettings(owner), bot.services.clock())
    assert run is not None and run.posted > 0
    [opened] = bot.fake.calls_to("conversations.open")
    assert opened.args["users"] == "U7"
    [dm] = bot.fake.calls_to("chat.postMessage")
    assert dm.args["channel"] == "DU7"
    check_slack_message(dm.args)
    assert "for your topics" in _texts(dm)


async def test_a_recovering_send_skips_the_parts_that_arrived(bot: Bot) -> None:
    from bot.delivery.outbox import OutgoingMessage
    from bot.render.neutral import Digest, Reply

    day = (await bot.services.papers.trending_days())[0]
    papers = tuple((await bot.services.papers.trending_list(day))[:2])
    message = OutgoingMessage(
        Destination("slack", "T1", "C1"), Reply(Digest(day=day, papers=papers)), outbox_id=7
    )
    # Before the crash, the main message went out (it carries its outbox marker).
    bot.fake.history["C1"] = [
        {
            "ts": "1699999999.000100",
            "text": "digest",
            "metadata": {"event_type": "paperwire_outbox", "event_payload": {"id": 7, "part": 0}},
        }
    ]
    receipt = await bot.adapter.send(replace(message, recovering=True))
    assert receipt.ok and receipt.platform_ids == ("1699999999.000100",)
    posts = bot.fake.calls_to("chat.postMessage")
    assert posts and all(p.args.get("thread_ts") == "1699999999.000100" for p in posts)
    assert all(p.args["metadata"]["event_payload"]["id"] == 7 for p in posts)
    assert bot.fake.calls_to("conversations.history")[0].args["include_all_metadata"] in (
        True,
        "true",
        "1",
        1,
    )


async def test_a_reply_kept_in_the_outbox_is_sent_after_a_restart(bot: Bot) -> None:
    bot.fake.fail("response_url", server_error(503))
    body = slash_command_body("search diffusion", response_url=bot.fake.response_url())
    assert await bot.post(body) == 200
    await bot.fake.wait_for("response_url")
    await bot.services.delivery.wait_idle()
    [(key, depth)] = (await bot.services.outbox.outbox_depths()).items()
    assert key.startswith("slack:T1:C1!") and depth == 1  # a queue of its own
    assert not (await bot.services.outbox.destination_state("slack:T1:C1")).stopped
    # A new process, a minute later: the reply goes through the same response URL.
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    first, second = bot.fake.calls_to("response_url")
    assert second.args["blocks"] == first.args["blocks"]
    assert second.args["response_type"] == "ephemeral"
    assert await bot.services.outbox.outbox_depths() == {}


async def test_a_reply_past_its_response_url_lifetime_is_dropped(bot: Bot) -> None:
    bot.fake.fail("response_url", server_error(500))
    body = slash_command_body("help", response_url=bot.fake.response_url())
    assert await bot.post(body) == 200
    await bot.fake.wait_for("response_url")
    await bot.services.delivery.wait_idle()
    receipt = await drained_later(bot.services, bot.adapter, minutes=31)
    assert not receipt.ok and receipt.error == "expired"
    assert len(bot.fake.calls_to("response_url")) == 1  # not tried again
    assert await bot.services.outbox.outbox_depths() == {}
    assert await bot.services.outbox.destination_states() == []  # nothing stopped


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
                ACTION_NEXT, _buttons(reply)[ACTION_NEXT], response_url=fake.response_url()
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
    assert reply.args["response_type"] == "ephemeral" and "iffusion" in _texts(reply)
    assert page_two.args["replace_original"] is True and "Results 6" in _texts(page_two)


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
