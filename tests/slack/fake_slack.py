"""A local fake of Slack's Web API and response_url endpoint, for the real SDKs.

`async with running_fake_slack() as fake:` starts an aiohttp server on 127.0.0.1 (port 0).
Point the real client at it with `AsyncWebClient(token=fake.token, base_url=fake.api_url)`
(`api_url` ends with a slash: slack_sdk urljoins the method name onto it) and give bolt
`response_url`s made by `fake.response_url("name")`.

What it answers:

- `GET|POST /api/<method>`: every call is recorded as a `SlackCall` whose `args` merge the
  query string and the body (form-encoded or JSON). slack_sdk sends JSON bodies for
  `chat.postMessage` / `chat.postEphemeral` (and other methods taking blocks), an *empty*
  form-encoded POST with the arguments in the query string for `auth.test` /
  `conversations.open`, and GET with a query string for `users.info` /
  `conversations.history`. Form fields that hold JSON (`blocks`, `attachments`, ...) are
  decoded. The token comes from `Authorization: Bearer <token>` (or a `token` argument); a
  token other than `fake.token` gets `{"ok": false, "error": "invalid_auth"}`, none at all
  gets `not_authed` (the call is still recorded; queued failures are not used up).
  Defaults: `auth.test`, `chat.postMessage` (incrementing `ts`; a missing channel, no text
  or blocks, or blocks over Slack's limits get Slack's errors), `chat.postEphemeral`,
  `conversations.open` (`D` + users), `users.info` (`fake.users[user_id]` overrides),
  `conversations.history` (`fake.history[channel]`; a message with thread replies has
  `thread_ts`, `reply_count` and `latest_reply`, as on Slack), `conversations.replies`,
  anything else `{"ok": true}`. A posted message's `ts` is `fake.clock()` (Unix seconds;
  by default `tests.conftest.NOW`, then 100 µs later for each post: set it to the app's
  clock, or `time.time` for a real process). The reads honour `oldest` (exclusive),
  `limit` (default 100; `fake.read_cap = 15` models the apps Slack limits to 15 a call)
  and `cursor` (`response_metadata.next_cursor`, `has_more`); a channel in
  `fake.not_member` (the bot never joined it, and posts there with `chat:write.public`)
  answers them `not_in_channel`, as Slack does. By default the bot is in every channel.
- `POST /response/<anything>`: a response_url; the JSON body is recorded with method
  `"response_url"` (the path kept in `SlackCall.path`). Slack answers these with a plain
  `ok` (text/plain), which is what `fake.response_url_body` sends by default.

Scripting: `fake.fail(method, *answers)` queues canned answers returned, one per call, before
the defaults: `rate_limited(retry_after=1)` (`None`: no `Retry-After`), `server_error(500)`,
`html_page(404)` (no `error` field), `api_error("not_in_channel")`, `reply({...}, status=200)`,
`slow()` / `slow(seconds)` (answers normally once released), `cut()` / `cut(after=True)` (the
connection closed with no answer, before or after the fake did what was asked),
`without("ts")` (the fake's own answer less some fields).

Many workspaces (OAuth): `fake.add_workspace("T2")` makes a workspace with a token of its
own (`FakeWorkspace`), which `oauth.v2.access` hands out for its `code` (once; with
`rotating=True` with a refresh token and `expires_in`, and `grant_type=refresh_token` then
gives a new token). Every workspace's token is accepted, `auth.test` answers who it is,
and `fake.revoke("T2")` makes its tokens `token_revoked`. Each call records its time
(`SlackCall.at`, monotonic) and its token (`SlackCall.token`, from `Authorization`).

File uploads (`files_upload_v2`: files.getUploadURLExternal, a POST of the bytes to the
upload URL, files.completeUploadExternal) are answered by fake_slack_files.py, which keeps
the bytes: `fake.uploads[file_id].data`, `fake.shared(channel)`.

Waiting: `await fake.wait_for("chat.postMessage", count=2)` returns the calls once that many
were recorded, or fails the test with what was recorded instead. `fake.calls_to(method)`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy

from tests.canned import Canned, DefaultAnswer
from tests.conftest import NOW
from tests.slack.fake_slack_files import UPLOAD_METHOD, FakeFiles, FakeUpload

DEFAULT_TOKEN = "xoxb-test"
DEFAULT_APP_TOKEN = "xapp-test"
TEAM_ID = "T1"
BOT_USER_ID = "UBOT"
BOT_ID = "B1"
RESPONSE_URL_METHOD = "response_url"
DEFAULT_SCOPES = (
    "channels:history,chat:write,commands,files:write,groups:history,im:write,users:read"
)

# Form fields slack_sdk (or a hand-written client) sends as JSON text.
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "metadata", "view", "unfurls", "user_auth_blocks"}
)

# Slack's Block Kit limits that chat.postMessage enforces with `invalid_blocks`.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MESSAGE_TEXT = 40_000


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received."""

    method: str  # "chat.postMessage", or "response_url"
    headers: Mapping[str, str]  # case-insensitive
    args: dict[str, Any]  # query string and body merged; JSON fields decoded
    path: str = ""
    verb: str = "POST"
    content_type: str = ""
    raw_body: bytes = b""
    at: float = field(default_factory=time.monotonic)  # when the fake received it

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):  # oauth.v2.access: the app's client id and secret
            return None
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ")
        token = self.args.get("token")
        return str(token) if token is not None else None


class _Reply(Canned):
    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str]):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers

    async def answer(self, call: SlackCall, default: DefaultAnswer) -> web.Response:
        headers = {"Content-Type": self.content_type, **self.headers}
        return web.Response(status=self.status, body=self.body, headers=headers)


def reply(
    body: Mapping[str, Any] | str, status: int = 200, headers: Mapping[str, str] | None = None
) -> Canned:
    """Any answer: a dict is sent as JSON, a string as text/plain."""
    if isinstance(body, str):
        return _Reply(status, body.encode(), "text/plain; charset=utf-8", dict(headers or {}))
    return _Reply(status, json.dumps(body).encode(), "application/json", dict(headers or {}))


def rate_limited(retry_after: int | None = 1) -> Canned:
    """HTTP 429 with `Retry-After` (whole seconds; None: without it), as Slack rate-limits
    a method."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return reply({"ok": False, "error": "ratelimited"}, status=429, headers=headers)


def server_error(status: int = 500, *, error: str | None = None) -> Canned:
    """A 5xx. Without `error` the body is an HTML error page (what a load balancer sends:
    slack_sdk then has no `error` to show); with it, `{"ok": false, "error": error}`."""
    if error is not None:
        return reply({"ok": False, "error": error}, status=status)
    return html_page(status)


def html_page(status: int) -> Canned:
    """An HTML error page with `status` (Slack's own 5xx and 404 pages): no `error` field."""
    page = f"<html><body><h1>{status}</h1><p>Slack is having trouble.</p></body></html>"
    return _Reply(status, page.encode(), "text/html; charset=utf-8", {})


class ConnectionCut(Exception):
    """Raised by a canned answer: the fake closes the connection instead of answering."""


class _Cut(Canned):
    def __init__(self, after: bool) -> None:
        self.after = after

    async def answer(self, call: SlackCall, default: DefaultAnswer) -> web.Response:
        if self.after:
            await default()  # done (posted), but the answer never leaves
        raise ConnectionCut


def cut(*, after: bool = False) -> Canned:
    """The connection closed with no answer; with `after`, once the fake did what was asked
    (a post that arrived though its sender saw only the cut)."""
    return _Cut(after)


class _Without(Canned):
    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields

    async def answer(self, call: SlackCall, default: DefaultAnswer) -> web.Response:
        answer: web.Response = await default()
        assert answer.body is not None
        body = json.loads(bytes(answer.body))  # type: ignore[arg-type]
        trimmed = {k: v for k, v in body.items() if k not in self.fields}
        return web.json_response(trimmed, status=answer.status)


def without(*fields: str) -> Canned:
    """The fake's own answer (it does act: a post is posted) less `fields`, e.g. an `ok`
    answer to chat.postMessage without its `ts`."""
    return _Without(fields)


def api_error(error: str, status: int = 200, **extra: Any) -> Canned:
    """Slack's usual failure: HTTP 200 (by default) with `{"ok": false, "error": error}`."""
    return reply({"ok": False, "error": error, **extra}, status=status)


def _ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _seconds(ts: Any) -> float:
    try:
        return float(ts)
    except (TypeError, ValueError):
        return 0.0


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: str) -> str | None:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError:
        return None
    return decoded.removeprefix("next_ts:") if decoded.startswith("next_ts:") else None


def _tz_offset(tz: str) -> int:
    offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        text = obj.get("text", "")
        return text if isinstance(text, str) else ""
    return ""


def block_errors(blocks: Any) -> list[str]:
    """The `errors` Slack lists for blocks over its limits (a subset of its checks)."""
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"must be less than {MAX_BLOCKS + 1} items [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            errors.append(f"missing required field: type [json-pointer:/blocks/{i}]")
            continue
        kind = block["type"]
        if kind == "section":
            if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
                errors.append(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters "
                    f"[json-pointer:/blocks/{i}/text/text]"
                )
            fields = block.get("fields") or []
            if len(fields) > MAX_SECTION_FIELDS:
                errors.append(
                    f"must be less than {MAX_SECTION_FIELDS + 1} items "
                    f"[json-pointer:/blocks/{i}/fields]"
                )
            for j, item in enumerate(fields):
                if len(_text_of(item)) > MAX_FIELD_TEXT:
                    errors.append(
                        f"must be less than {MAX_FIELD_TEXT + 1} characters "
                        f"[json-pointer:/blocks/{i}/fields/{j}/text]"
                    )
        elif kind == "header" and len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
            errors.append(
                f"must be less than {MAX_HEADER_TEXT + 1} characters "
                f"[json-pointer:/blocks/{i}/text/text]"
            )
    return errors


@dataclass
class FakeWorkspace:
    """A workspace that installs the app: its `code` is good once at `oauth.v2.access`."""

    team_id: str
    token: str
    code: str
    rotating: bool = False  # token rotation: a refresh token, and tokens that expire
    expires_in: int = 43200
    refresh_token: str = ""
    revoked: bool = False
    refreshes: int = 0

    @property
    def bot_user_id(self) -> str:
        return f"U{self.team_id}BOT"

    @property
    def bot_id(self) -> str:
        return f"B{self.team_id}"


def _ok(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(dict(body), headers=dict(headers or {}))


@dataclass
class FakeSlack:
    token: str = DEFAULT_TOKEN
    url: str = ""  # base URL, no trailing slash
    calls: list[SlackCall] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What each channel holds, newest first, as conversations.history lists it; posted
    # messages are added (with their metadata) and thread replies kept by parent.
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    auth_test: dict[str, Any] = field(
        default_factory=lambda: {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "paperwire",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
    )
    app_token: str = DEFAULT_APP_TOKEN  # what `apps.connections.open` accepts (Socket Mode)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)  # envelopes acknowledged
    scopes: str = DEFAULT_SCOPES  # sent as `x-oauth-scopes`, as Slack does
    check_blocks: bool = True  # answer blocks over Slack's limits with invalid_blocks
    response_url_body: str = "ok"
    # Unix seconds a post's `ts` is taken from (kept rising by 100 µs a post at least).
    clock: Callable[[], float] = field(default_factory=lambda: NOW.timestamp)
    read_cap: int | None = None  # the most messages a history/replies read answers
    not_member: set[str] = field(default_factory=set)  # channels the bot never joined
    workspaces: dict[str, FakeWorkspace] = field(default_factory=dict)  # by team id
    files: FakeFiles = field(default_factory=FakeFiles)  # uploads, their bytes kept
    client_id: str = "111.222"
    client_secret: str = "client-secret"
    _tokens: dict[str, FakeWorkspace] = field(default_factory=dict)  # every token handed out
    _used_codes: set[str] = field(default_factory=set)
    _last_micros: int = 0
    _queues: dict[str, list[Canned]] = field(default_factory=dict)
    _all_canned: list[Canned] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _envelope_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def http_mode_env(self, signing_secret: str) -> dict[str, str]:
        """The environment that runs `paperwire run` in HTTP mode against this fake, its
        listener on a free loopback port (logged as "Slack: listening on ...")."""
        return {
            "SLACK_BOT_TOKEN": self.token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "PAPERWIRE_SLACK_API_URL": self.api_url,
            "PAPERWIRE_HTTP_HOST": "127.0.0.1",
            "PAPERWIRE_HTTP_PORT": "0",
        }

    def add_workspace(self, team_id: str, rotating: bool = False) -> FakeWorkspace:
        workspace = FakeWorkspace(
            team_id, f"xoxb-{team_id}-token", f"code-{team_id}", rotating=rotating
        )
        if rotating:
            workspace.refresh_token = f"xoxe-1-{team_id}-refresh"
        self.workspaces[team_id] = workspace
        self._tokens[workspace.token] = workspace
        return workspace

    def revoke(self, team_id: str) -> None:
        self.workspaces[team_id].revoked = True

    def team_of(self, call: SlackCall) -> str | None:
        """The workspace whose token the call carried."""
        found = self._tokens.get(call.token or "")
        return found.team_id if found is not None else None

    @property
    def uploads(self) -> dict[str, FakeUpload]:
        return self.files.uploads

    def shared(self, channel: str | None = None) -> list[FakeUpload]:
        """The files shared (in `channel`), in the order they were uploaded."""
        return self.files.shared(channel)

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    # -- scripting ------------------------------------------------------------------------

    def fail(self, method: str, *answers: Canned, channel: str | None = None) -> None:
        """Queue canned answers, used one per call to `method` (with `channel`: only calls
        naming that channel) before the defaults."""
        key = f"{method}#{channel}" if channel else method
        self._queues.setdefault(key, []).extend(answers)
        self._all_canned.extend(answers)

    def pending(self, method: str) -> int:
        return len(self._queues.get(method, []))

    def release_all(self) -> None:
        for canned in self._all_canned:
            canned.release()

    # -- inspecting -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 (a test helper: failing in time is its point)
    ) -> None:
        """Once `predicate` holds, checked after each call the fake records."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(f"fake Slack: not so within {timeout}s") from None

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 (a test helper: failing in time is its point)
    ) -> list[SlackCall]:
        """All calls to `method` once at least `count` were recorded."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        except TimeoutError:
            seen = [call.method for call in self.calls]
            raise AssertionError(
                f"fake Slack: expected {count} call(s) to {method} within {timeout}s, "
                f"got {len(self.calls_to(method))}; all calls so far: {seen}"
            ) from None
        return self.calls_to(method)

    # -- serving --------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{tail:.*}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket-mode", self._socket_mode)
        return app

    # -- Socket Mode: `apps.connections.open` hands out this websocket; Slack says hello,
    # then sends envelopes the app must acknowledge with their `envelope_id`.

    async def wait_for_socket(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: bool(self._sockets))

    async def send_envelope(
        self,
        kind: str,
        payload: Mapping[str, Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Send an envelope (`slash_commands`, `interactive`, `events_api`) on the open
        socket; the app's acknowledgement of it."""
        envelope_id = f"env-{next(self._envelope_ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self._sockets[-1].send_json(envelope)
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(
                lambda: any(a.get("envelope_id") == envelope_id for a in self.socket_acks)
            )
        return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            }
        )
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                async with self._changed:
                    self.socket_acks.append(json.loads(frame.data))
                    self._changed.notify_all()
        self._sockets.remove(socket)
        return socket

    async def _record(self, request: web.Request, method: str) -> SlackCall:
        raw = await request.read()
        args: dict[str, Any] = {key: request.query[key] for key in request.query}
        content_type = request.content_type
        if raw and content_type == "application/json":
            body = json.loads(raw)
            if isinstance(body, dict):
                args.update(body)
            else:
                args["_json"] = body
        elif raw and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key in form:
                value = form[key]
                args[key] = _maybe_json(key, value) if isinstance(value, str) else value
        call = SlackCall(
            method=method,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            args=args,
            path=request.path,
            verb=request.method,
            content_type=request.headers.get("Content-Type", ""),
            raw_body=raw,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return call

    def _take(self, method: str, channel: str = "") -> Canned | None:
        queue = self._queues.get(f"{method}#{channel}") or self._queues.get(method)
        return queue.pop(0) if queue else None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = await self._record(request, method)
        if method == "oauth.v2.access":
            return self._oauth_access(call)
        token = call.token
        if not token:
            return _ok({"ok": False, "error": "not_authed"})
        workspace = self._tokens.get(token)
        if workspace is not None:
            return await self._workspace_api(request, call, workspace)
        if method == "apps.connections.open":
            if token != self.app_token:
                return _ok({"ok": False, "error": "invalid_auth"})
            url = self.url.replace("http://", "ws://", 1) + "/socket-mode"
            return _ok({"ok": True, "url": url})
        if token != self.token:
            return _ok({"ok": False, "error": "invalid_auth"})

        async def default() -> web.Response:
            return self._default(call)

        canned = self._take(method, str(call.args.get("channel") or ""))
        if canned is not None:
            return await _answer(request, canned, call, default)
        return await default()

    async def _workspace_api(
        self, request: web.Request, call: SlackCall, workspace: FakeWorkspace
    ) -> web.StreamResponse:
        """A call with one of the installed workspaces' tokens."""
        if workspace.revoked:
            return _ok({"ok": False, "error": "token_revoked"})
        if call.method == "auth.test":
            who = {
                **self.auth_test,
                "team_id": workspace.team_id,
                "team": f"Team {workspace.team_id}",
                "user_id": workspace.bot_user_id,
                "bot_id": workspace.bot_id,
            }
            return _ok(who, {"x-oauth-scopes": self.scopes})

        async def default() -> web.Response:
            return self._default(call)

        canned = self._take(call.method, str(call.args.get("channel") or ""))
        if canned is not None:
            return await _answer(request, canned, call, default)
        return await default()

    def _oauth_access(self, call: SlackCall) -> web.Response:
        """oauth.v2.access: a code (once) for its workspace's bot token, or (token
        rotation) a refresh token for a new one."""
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if call.headers.get("Authorization") != f"Basic {expected}":
            return _ok({"ok": False, "error": "invalid_client_id"})
        if call.args.get("grant_type") == "refresh_token":
            refresh = str(call.args.get("refresh_token") or "")
            found = [w for w in self.workspaces.values() if w.refresh_token == refresh]
            if not refresh or not found:
                return _ok({"ok": False, "error": "invalid_refresh_token"})
            workspace = found[0]
            workspace.refreshes += 1
            workspace.token = f"xoxb-{workspace.team_id}-token-{workspace.refreshes}"
            self._tokens[workspace.token] = workspace
            return _ok(
                {
                    "ok": True,
                    "access_token": workspace.token,
                    "token_type": "bot",
                    "refresh_token": workspace.refresh_token,
                    "expires_in": workspace.expires_in,
                    "team": {"id": workspace.team_id},
                }
            )
        code = str(call.args.get("code") or "")
        found = [w for w in self.workspaces.values() if w.code == code]
        if not found or code in self._used_codes:
            return _ok({"ok": False, "error": "invalid_code"})
        self._used_codes.add(code)
        workspace = found[0]
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UINSTALLER"},
            "scope": self.scopes,
            "token_type": "bot",
            "access_token": workspace.token,
            "bot_user_id": workspace.bot_user_id,
            "team": {"id": workspace.team_id, "name": f"Team {workspace.team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if workspace.rotating:
            answer |= {"refresh_token": workspace.refresh_token, "expires_in": workspace.expires_in}
        return _ok(answer)

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        call = await self._record(request, RESPONSE_URL_METHOD)

        async def default() -> web.Response:
            return web.Response(text=self.response_url_body, content_type="text/plain")

        canned = self._take(RESPONSE_URL_METHOD)
        if canned is not None:
            return await _answer(request, canned, call, default)
        return await default()

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """Step 2 of an upload: the bytes, POSTed to the URL step 1 handed out."""
        call = await self._record(request, UPLOAD_METHOD)

        async def default() -> web.Response:
            return self.files.receive(request.match_info["file_id"], call.raw_body)

        canned = self._take(UPLOAD_METHOD)
        if canned is not None:
            return await _answer(request, canned, call, default)
        return await default()

    def _share_files(self, args: dict[str, Any]) -> web.Response:
        """files.completeUploadExternal: the files shared, each shown in the channel (or
        the thread) as a message carrying it."""
        answer = self.files.complete(args, self.not_member)
        channel = str(args.get("channel_id") or "")
        if answer["ok"] and channel:
            ts = self._next_ts()
            message: dict[str, Any] = {
                "type": "message",
                "user": self.auth_test.get("user_id", BOT_USER_ID),
                "text": str(args.get("initial_comment") or ""),
                "files": answer["files"],
                "upload": True,
                "ts": ts,
            }
            thread = str(args.get("thread_ts") or "")
            if thread:
                message["thread_ts"] = thread
                self.threads.setdefault((channel, thread), []).append(message)
                self._count_reply(channel, thread, ts)
            else:
                self.history.setdefault(channel, []).insert(0, message)
        return _ok(answer)

    def _default(self, call: SlackCall) -> web.Response:
        args = call.args
        match call.method:
            case "auth.test":
                return _ok(self.auth_test, {"x-oauth-scopes": self.scopes})
            case "files.getUploadURLExternal":
                return _ok(self.files.upload_url(args, self.url, self.scopes))
            case "files.completeUploadExternal":
                return self._share_files(args)
            case "chat.postMessage":
                return self._post_message(args)
            case "chat.postEphemeral":
                if not args.get("channel"):
                    return _ok({"ok": False, "error": "channel_not_found"})
                if not args.get("user"):
                    return _ok({"ok": False, "error": "user_not_in_channel"})
                return _ok({"ok": True, "message_ts": self._next_ts()})
            case "conversations.open":
                users = str(args.get("users", ""))
                if not users and not args.get("channel"):
                    return _ok({"ok": False, "error": "users_list_not_supplied"})
                channel_id = args.get("channel") or "D" + users.replace(",", "")
                return _ok({"ok": True, "channel": {"id": channel_id}})
            case "users.info":
                return self._user_info(str(args.get("user", "")))
            case "conversations.history" | "conversations.replies":
                return self._read(call)
            case _:
                return _ok({"ok": True})

    def _post_message(self, args: Mapping[str, Any]) -> web.Response:
        channel = args.get("channel")
        if not channel:
            return _ok({"ok": False, "error": "channel_not_found"})
        text = args.get("text")
        blocks = args.get("blocks")
        if not text and not blocks and not args.get("attachments"):
            return _ok({"ok": False, "error": "no_text"})
        if blocks is not None and self.check_blocks:
            errors = block_errors(blocks)
            if errors:
                return _ok({"ok": False, "error": "invalid_blocks", "errors": errors})
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": self.auth_test.get("user_id", BOT_USER_ID),
            "bot_id": self.auth_test.get("bot_id", BOT_ID),
            "text": (text or "")[:MAX_MESSAGE_TEXT],  # Slack truncates, it does not refuse
            "ts": ts,
        }
        if blocks is not None:
            message["blocks"] = blocks
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
            self.threads.setdefault((channel, str(args["thread_ts"])), []).append(message)
            self._count_reply(str(channel), str(args["thread_ts"]), ts)
        else:
            self.history.setdefault(str(channel), []).insert(0, message)
        return _ok({"ok": True, "channel": channel, "ts": ts, "message": message})

    def _next_ts(self) -> str:
        self._last_micros = max(round(self.clock() * 1_000_000), self._last_micros + 100)
        return _ts(self._last_micros)

    def _read(self, call: SlackCall) -> web.Response:
        """conversations.history (newest first) or .replies (the parent, then its replies,
        oldest first): one page after `oldest`, from `cursor` on."""
        args = call.args
        channel = str(args.get("channel", ""))
        if channel in self.not_member:
            return _ok({"ok": False, "error": "not_in_channel"})
        messages = list(self.history.get(channel, []))
        if call.method == "conversations.replies":
            ts = str(args.get("ts", ""))
            parent = [m for m in messages if m.get("ts") == ts]
            messages = parent + self.threads.get((channel, ts), [])
        if not _truthy(args.get("include_all_metadata")):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        if "oldest" in args:
            oldest = _seconds(args["oldest"])
            messages = [m for m in messages if _seconds(m.get("ts")) > oldest]
        if args.get("cursor"):
            start = _cursor_ts(str(args["cursor"]))
            at = [i for i, m in enumerate(messages) if m.get("ts") == start]
            if start is None or not at:
                return _ok({"ok": False, "error": "invalid_cursor"})
            messages = messages[at[0] :]
        limit = int(args.get("limit") or 100)
        if self.read_cap is not None:
            limit = min(limit, self.read_cap)
        page, rest = messages[:limit], messages[limit:]
        return _ok(
            {
                "ok": True,
                "messages": page,
                "has_more": bool(rest),
                "response_metadata": {"next_cursor": _cursor(str(rest[0]["ts"])) if rest else ""},
            }
        )

    def _count_reply(self, channel: str, parent_ts: str, ts: str) -> None:
        """As Slack shows a thread's parent in the history: its replies counted."""
        for parent in self.history.get(channel, []):
            if parent.get("ts") == parent_ts:
                parent["thread_ts"] = parent_ts
                parent["reply_count"] = int(parent.get("reply_count") or 0) + 1
                parent["latest_reply"] = ts

    def _user_info(self, user_id: str) -> web.Response:
        if not user_id:
            return _ok({"ok": False, "error": "user_not_found"})
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.auth_test.get("team_id", TEAM_ID),
            "name": user_id.lower(),
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "tz": "America/Los_Angeles",
        }
        user.update(self.users.get(user_id, {}))
        if "tz_offset" not in user and isinstance(user.get("tz"), str):
            user["tz_offset"] = _tz_offset(user["tz"])
        return _ok({"ok": True, "user": user})


async def _answer(
    request: web.Request, canned: Canned, call: SlackCall, default: DefaultAnswer
) -> web.StreamResponse:
    try:
        return await canned.answer(call, default)
    except ConnectionCut:
        assert request.transport is not None
        request.transport.abort()  # no answer at all: the client sees the connection drop
        return web.Response(status=204)  # written nowhere


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _maybe_json(key: str, value: str) -> Any:
    if key in _JSON_FIELDS and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


@asynccontextmanager
async def running_fake_slack(token: str = DEFAULT_TOKEN) -> AsyncIterator[FakeSlack]:
    """The fake, listening on 127.0.0.1 with a free port; held answers are released before
    it shuts down."""
    fake = FakeSlack(token=token)
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        fake.release_all()
        await server.close()
