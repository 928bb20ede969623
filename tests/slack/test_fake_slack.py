"""The Slack test infrastructure, checked against Slack's own example and the real SDKs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.canned import slow
from tests.conftest import NOW
from tests.fixture_files import SLACK
from tests.slack.fake_slack import (
    FakeSlack,
    api_error,
    rate_limited,
    reply,
    running_fake_slack,
    server_error,
)
from tests.slack.signing import (
    block_actions_payload,
    interaction_body,
    sign,
    signed_headers,
    slash_command_body,
)

SLACK_FIXTURES = SLACK
EXAMPLE = json.loads((SLACK_FIXTURES / "signing_example.json").read_text(encoding="utf-8"))
EXAMPLE_BODY = (SLACK_FIXTURES / "signing_example_slash_command.body").read_text(encoding="utf-8")
SECRET = "test-signing-secret"
RESPONSE_URL = "https://hooks.slack.com/commands/T1/1/abc"


class FrozenClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as running:
        yield running


def client_for(fake: FakeSlack, token: str | None = None, **options: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token or fake.token, base_url=fake.api_url, **options)


# -- signing ----------------------------------------------------------------------------------


def test_sign_reproduces_slacks_worked_example() -> None:
    assert EXAMPLE["body"] == EXAMPLE_BODY  # the .body file has no trailing newline
    stamp = int(EXAMPLE["timestamp"])
    assert f"v0:{stamp}:{EXAMPLE_BODY}" == EXAMPLE["basestring"]
    assert sign(EXAMPLE["signing_secret"], stamp, EXAMPLE_BODY) == EXAMPLE["expected_signature"]
    headers = signed_headers(EXAMPLE["signing_secret"], EXAMPLE_BODY, timestamp=stamp)
    assert headers == EXAMPLE["headers"]


def test_sdk_verifier_accepts_the_example_only_with_a_frozen_clock() -> None:
    stamp = int(EXAMPLE["timestamp"])
    stamp_s = str(stamp)
    signature = EXAMPLE["expected_signature"]
    frozen = SignatureVerifier(EXAMPLE["signing_secret"], clock=FrozenClock(stamp + 60))
    assert frozen.is_valid(EXAMPLE_BODY, stamp_s, signature)
    headers = signed_headers(EXAMPLE["signing_secret"], EXAMPLE_BODY, timestamp=stamp)
    assert frozen.is_valid_request(EXAMPLE_BODY, headers)

    # Past Slack's five-minute replay window: refused, with either clock.
    assert not SignatureVerifier(
        EXAMPLE["signing_secret"], clock=FrozenClock(stamp + 301)
    ).is_valid(EXAMPLE_BODY, stamp_s, signature)
    assert not SignatureVerifier(EXAMPLE["signing_secret"]).is_valid(
        EXAMPLE_BODY, stamp_s, signature
    )

    # One byte changed: refused.
    tampered = EXAMPLE_BODY.replace("text=&", "text=x&")
    assert tampered != EXAMPLE_BODY
    assert not frozen.is_valid(tampered, stamp_s, signature)
    assert not frozen.is_valid(EXAMPLE_BODY, stamp_s, signature[:-1] + "4")
    assert not frozen.is_valid(EXAMPLE_BODY, str(stamp + 1), signature)


def test_signed_headers_default_to_now_and_verify() -> None:
    body = slash_command_body("diffusion", response_url=RESPONSE_URL)
    headers = signed_headers(SECRET, body)
    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 5
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_slash_command_body_has_slacks_fields_in_slacks_order() -> None:
    docs = (SLACK_FIXTURES / "slash_command_docs_example.body").read_text(encoding="utf-8")
    docs_keys = [key for key, _ in parse_qsl(docs.strip(), keep_blank_values=True)]
    body = slash_command_body(
        "94070 now", response_url=RESPONSE_URL, enterprise_id="E0001", enterprise_name="Globular"
    )
    assert [key for key, _ in parse_qsl(body, keep_blank_values=True)] == docs_keys
    fields = dict(parse_qsl(body, keep_blank_values=True))
    assert fields["text"] == "94070 now"
    assert fields["command"] == "/papers"
    # Percent-encoded as in Slack's real (signed) example.
    assert "command=%2Fpapers" in body
    assert "response_url=https%3A%2F%2Fhooks.slack.com%2F" in body
    # The plain call leaves the enterprise fields out.
    plain = dict(
        parse_qsl(slash_command_body("", response_url=RESPONSE_URL), keep_blank_values=True)
    )
    assert "enterprise_id" not in plain
    assert plain["text"] == ""


def test_interaction_body_is_a_form_encoded_payload() -> None:
    payload = block_actions_payload("more", "2607.00001", response_url=RESPONSE_URL)
    [(key, value)] = parse_qsl(interaction_body(payload))
    assert key == "payload"
    assert json.loads(value) == payload


# -- the Web API, through the real AsyncWebClient -------------------------------------------------


async def test_auth_test(fake: FakeSlack) -> None:
    response = await client_for(fake).auth_test()
    assert response["team_id"] == "T1"
    assert response["user_id"] == "UBOT"
    assert response["bot_id"] == "B1"
    [call] = fake.calls_to("auth.test")
    assert call.path == "/api/auth.test"
    assert call.verb == "POST"
    assert call.headers["authorization"] == "Bearer xoxb-test"  # case-insensitive
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.raw_body == b""  # slack_sdk sends params=... in the query string
    assert "chat:write" in response.headers["x-oauth-scopes"]


async def test_post_message_with_blocks_is_sent_as_json(fake: FakeSlack) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Today's papers"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*A Study* &lt;x&gt;"}},
    ]
    client = client_for(fake)
    first = await client.chat_postMessage(channel="C1", text="Today's papers", blocks=blocks)
    second = await client.chat_postMessage(channel="C1", text="again")
    assert first["ts"] == f"{NOW.timestamp():.6f}"  # the fake's clock, 100 µs a post on
    assert float(second["ts"]) == pytest.approx(float(first["ts"]) + 0.0001)
    assert first["channel"] == "C1"
    assert first["message"]["text"] == "Today's papers"
    assert first["message"]["ts"] == first["ts"]

    call = fake.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/json;charset=utf-8"
    assert call.args == {"channel": "C1", "text": "Today's papers", "blocks": blocks}


async def test_form_encoded_json_fields_are_decoded(fake: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    await client_for(fake).api_call(
        "chat.postMessage", data={"channel": "C1", "blocks": json.dumps(blocks)}
    )
    [call] = fake.calls_to("chat.postMessage")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.args["blocks"] == blocks


async def test_post_message_errors_like_slack(fake: FakeSlack) -> None:
    client = client_for(fake)
    with pytest.raises(SlackApiError) as no_text, pytest.warns(UserWarning, match="`text`"):
        await client.chat_postMessage(channel="C1")
    assert no_text.value.response["error"] == "no_text"
    too_many = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError) as invalid:
        await client.chat_postMessage(channel="C1", text="x", blocks=too_many)
    assert invalid.value.response["error"] == "invalid_blocks"
    assert invalid.value.response["errors"] == ["must be less than 51 items [json-pointer:/blocks]"]
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel="C1", text="x", blocks=long_section)


async def test_ephemeral_open_users_and_history(fake: FakeSlack) -> None:
    client = client_for(fake)
    fake.users["U2"] = {"is_admin": True, "tz": "Europe/Berlin"}
    fake.history["C1"] = [{"type": "message", "ts": "1700000000.000100", "text": "old"}]

    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert ephemeral["message_ts"]
    opened = await client.conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1"
    plain = await client.users_info(user="U1")
    assert plain["user"]["is_admin"] is False
    assert plain["user"]["tz"] == "America/Los_Angeles"
    admin = await client.users_info(user="U2")
    assert admin["user"]["is_admin"] is True
    assert admin["user"]["tz"] == "Europe/Berlin"
    assert admin["user"]["tz_offset"] in (3600, 7200)
    history = await client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["old"]
    assert (await client.conversations_history(channel="C9"))["messages"] == []

    # users.info and conversations.history are GETs with a query string.
    [info] = fake.calls_to("users.info")[:1]
    assert (info.verb, info.args) == ("GET", {"user": "U1"})
    assert fake.calls_to("conversations.history")[0].verb == "GET"
    assert fake.calls_to("conversations.open")[0].args == {"users": "U1"}
    assert fake.calls_to("chat.postEphemeral")[0].content_type.startswith("application/json")


async def test_a_thread_parent_shows_its_replies_in_the_history(fake: FakeSlack) -> None:
    client = client_for(fake)
    parent = await client.chat_postMessage(channel="C1", text="digest")
    alone = await client.chat_postMessage(channel="C1", text="no thread")
    reply = await client.chat_postMessage(channel="C1", text="abstracts", thread_ts=parent["ts"])
    history = (await client.conversations_history(channel="C1"))["messages"]
    by_ts = {m["ts"]: m for m in history}
    shown = by_ts[parent["ts"]]
    assert (shown["thread_ts"], shown["reply_count"], shown["latest_reply"]) == (
        parent["ts"],
        1,
        reply["ts"],
    )
    assert "reply_count" not in by_ts[alone["ts"]] and "thread_ts" not in by_ts[alone["ts"]]
    replies = await client.conversations_replies(channel="C1", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["digest", "abstracts"]


async def test_wrong_token_gets_invalid_auth(fake: FakeSlack) -> None:
    fake.fail("auth.test", api_error("should_not_be_used"))
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake, token="xoxb-wrong").auth_test()
    assert raised.value.response["error"] == "invalid_auth"
    assert fake.calls_to("auth.test")[0].token == "xoxb-wrong"
    assert fake.pending("auth.test") == 1  # a refused call leaves the script alone


async def test_api_error(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", api_error("channel_not_found"))
    client = client_for(fake)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C404", text="hi")
    assert raised.value.response["error"] == "channel_not_found"
    assert raised.value.response.status_code == 200
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True


async def test_rate_limit_is_retried_by_the_sdk_handler(fake: FakeSlack) -> None:
    # The handler sleeps int(Retry-After) + random() in [0, 1): 0 keeps the test under 1 s.
    fake.fail("chat.postMessage", rate_limited(retry_after=0))
    client = client_for(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    response = await client.chat_postMessage(channel="C1", text="hi")
    assert response["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_rate_limit_without_a_handler_raises(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", rate_limited(retry_after=7))
    with pytest.raises(SlackApiError) as raised:
        await client_for(fake).chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


async def test_server_error(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", server_error(503), server_error(500, error="internal_error"))
    client = client_for(fake)
    with pytest.raises(SlackApiError) as html:
        await client.chat_postMessage(channel="C1", text="hi")
    assert html.value.response.status_code == 503
    assert html.value.response.data == {}  # an HTML page: nothing to read
    with pytest.raises(SlackApiError) as as_json:
        await client.chat_postMessage(channel="C1", text="hi")
    assert as_json.value.response["error"] == "internal_error"


async def test_slow_answers_once_released(fake: FakeSlack) -> None:
    gate = slow()
    fake.fail("chat.postMessage", gate)
    task = asyncio.create_task(client_for(fake).chat_postMessage(channel="C1", text="hi"))
    await asyncio.wait_for(gate.arrived.wait(), 2)
    await asyncio.sleep(0)
    assert not task.done()
    gate.release()
    assert (await asyncio.wait_for(task, 2))["ok"] is True


async def test_slow_with_seconds_times_out_a_client(fake: FakeSlack) -> None:
    fake.fail("auth.test", slow(seconds=0.5))
    with pytest.raises(TimeoutError):
        await client_for(fake, timeout=0.05).auth_test()


async def test_wait_for_returns_promptly_and_times_out_clearly(fake: FakeSlack) -> None:
    client = client_for(fake)
    waiter = asyncio.create_task(fake.wait_for("chat.postMessage", count=2, timeout=2))
    await client.chat_postMessage(channel="C1", text="one")
    await asyncio.sleep(0)
    assert not waiter.done()
    await client.chat_postMessage(channel="C1", text="two")
    calls = await asyncio.wait_for(waiter, 1)
    assert [c.args["text"] for c in calls] == ["one", "two"]

    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"expected 1 call\(s\) to users.info within 0.05s"):
        await fake.wait_for("users.info", timeout=0.05)
    assert time.monotonic() - started < 1


async def test_canned_reply(fake: FakeSlack) -> None:
    fake.fail("team.info", reply({"ok": True, "team": {"id": "T1", "name": "Acme"}}))
    assert (await client_for(fake).team_info())["team"]["name"] == "Acme"
    assert (await client_for(fake).team_info()).data == {"ok": True}


# -- bolt, end to end ---------------------------------------------------------------------------


def bolt_request(body: str, headers: Mapping[str, str]) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body, headers=dict[str, str | Sequence[str]](headers))


def bolt_app(fake: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=client_for(fake),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.command("/papers")
    async def papers(
        ack: AsyncAck, respond: AsyncRespond, say: AsyncSay, command: dict[str, Any]
    ) -> None:
        await ack(f"searching {command['text']}")
        await respond(text="found 1 paper", response_type="ephemeral")
        await say(text="a paper", blocks=[{"type": "divider"}])

    @app.action("more")
    async def more(ack: AsyncAck, respond: AsyncRespond, body: dict[str, Any]) -> None:
        await ack()
        await respond(text=f"more on {body['actions'][0]['value']}", replace_original=False)

    return app


async def test_bolt_slash_command_through_dispatch(fake: FakeSlack) -> None:
    app = bolt_app(fake)
    body = slash_command_body("diffusion", response_url=fake.response_url("cmd1"))
    response = await app.async_dispatch(bolt_request(body, signed_headers(SECRET, body)))
    assert response.status == 200
    assert response.body == "searching diffusion"
    # auth.test first (lazily, on the first request), then the listener's calls.
    assert [c.method for c in fake.calls] == ["auth.test", "response_url", "chat.postMessage"]
    [responded] = fake.calls_to("response_url")
    assert responded.path == "/response/cmd1"
    assert responded.args == {"text": "found 1 paper", "response_type": "ephemeral"}
    assert "Authorization" not in responded.headers
    [posted] = fake.calls_to("chat.postMessage")
    assert posted.args["channel"] == "C1"


async def test_bolt_rejects_a_bad_signature(fake: FakeSlack) -> None:
    app = bolt_app(fake)
    body = slash_command_body("diffusion", response_url=fake.response_url())
    headers = signed_headers("another-secret", body)
    response = await app.async_dispatch(bolt_request(body, headers))
    assert response.status == 401
    assert fake.calls == []


async def test_bolt_http_mode_with_a_button_click(fake: FakeSlack) -> None:
    app = bolt_app(fake)
    server = TestServer(app.web_app(path="/slack/events"), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        payload = block_actions_payload("more", "2607.00001", response_url=fake.response_url("act"))
        body = interaction_body(payload)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                server.make_url("/slack/events"), data=body, headers=signed_headers(SECRET, body)
            ) as answer,
        ):
            assert answer.status == 200
        [call] = await fake.wait_for("response_url")
        assert call.args == {"text": "more on 2607.00001", "replace_original": False}
    finally:
        await server.close()


async def test_respond_works_with_a_json_reply_too(fake: FakeSlack) -> None:
    fake.fail("response_url", reply({"ok": True}))
    respond = AsyncRespond(response_url=fake.response_url("x"))
    answer = await respond(text="hi")
    assert (answer.status_code, answer.body) == (200, '{"ok": true}')
    answer = await respond(text="again")
    assert (answer.status_code, answer.body) == (200, "ok")


async def test_reads_honour_oldest_limit_cap_and_cursor(fake: FakeSlack) -> None:
    client = client_for(fake)
    posted = [(await client.chat_postMessage(channel="C1", text=str(n)))["ts"] for n in range(40)]
    fake.read_cap = 15  # what Slack answers apps outside its Marketplace created since May 2025
    pages, cursor = [], ""
    while True:
        page = await client.conversations_history(
            channel="C1", oldest=posted[4], limit=100, cursor=cursor or None
        )
        pages.append([m["text"] for m in page["messages"]])
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert [len(p) for p in pages] == [15, 15, 5]  # newest first, after `oldest` only
    assert [text for page in pages for text in page] == [str(n) for n in range(39, 4, -1)]
    parent = posted[0]
    for n in range(20):
        await client.chat_postMessage(channel="C1", text=f"r{n}", thread_ts=parent)
    replies = await client.conversations_replies(channel="C1", ts=parent, limit=5)
    assert [m["text"] for m in replies["messages"]] == ["0", "r0", "r1", "r2", "r3"]
    more = await client.conversations_replies(
        channel="C1", ts=parent, cursor=replies["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in more["messages"]][:2] == ["r4", "r5"]


async def test_reads_where_the_bot_is_no_member_are_refused(fake: FakeSlack) -> None:
    client = client_for(fake)
    fake.not_member.add("CPUBLIC")
    posted = await client.chat_postMessage(channel="CPUBLIC", text="x")  # chat:write.public
    for read in (
        client.conversations_history(channel="CPUBLIC"),
        client.conversations_replies(channel="CPUBLIC", ts=posted["ts"]),
    ):
        with pytest.raises(SlackApiError, match="not_in_channel"):
            await read
