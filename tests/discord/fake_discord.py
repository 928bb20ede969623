"""A local fake of Discord's REST API and gateway, for the real discord.py client.

`async with running_fake_discord() as fake:` starts one aiohttp server on 127.0.0.1 (port 0)
serving REST under `fake.api_base` (`http://127.0.0.1:PORT/api/v10`) and the gateway
websocket at `fake.gateway_url` (`ws://127.0.0.1:PORT/gw/`). `with point_discord_py_at(fake):`
patches `discord.http.Route.BASE` (used by the bot client *and* by webhooks / interaction
responses, which share that Route class) and `DiscordWebSocket.DEFAULT_GATEWAY`, restoring
both afterwards. `async with running_client(client, fake):` logs a client in, connects it
(`reconnect=False`), waits for `on_ready` and closes it cleanly at the end.

How discord.py 2.7 talks to a server (what this fake answers, checked in its source):

- `Client.login`: `GET /users/@me` (401 -> `LoginFailure`), then `GET /oauth2/applications/@me`
  (AppInfo needs `id name description icon bot_public bot_require_code_grant owner
  verify_key`; a non-null `interactions_endpoint_url` makes it warn that no interactions will
  arrive). A plain `Client` never asks `GET /gateway[/bot]`: it connects straight to
  `DEFAULT_GATEWAY` with `?v=10&encoding=json&compress=zlib-stream` (or `zstd-stream` if
  zstandard is installed). `AutoShardedClient` calls `GET /gateway/bot` only without a
  `shard_count`: it then runs the `shards` that answer recommends, on the `url` it gives;
  with a `shard_count` it asks nothing and connects to `DEFAULT_GATEWAY`, one websocket per
  shard of `shard_ids` (all when None), in order.
- Sharding: each shard's IDENTIFY carries `shard: [id, count]`, and every IDENTIFY but the
  process's first waits `Client.before_identify_hook` (5 s: override it in tests). READY must
  echo `shard` (the sharded client reads `data["shard"][0]`). The fake gives a shard only the
  guilds of `fake.guilds` with `(guild_id >> 22) % count == id` (READY's unavailable guilds,
  then a GUILD_CREATE each when the GUILDS intent is on), and `dispatch` sends an event with a
  `guild_id` only to that guild's shard, one without (a DM) to shard 0, as Discord does; an
  unsharded session gets everything. A shard outside `0..count-1` is closed with 4010.
- Bodies are read as JSON only when `Content-Type` is exactly `application/json`; aiohttp's
  `web.json_response` adds `; charset=utf-8`, which discord.py then treats as text. Every JSON
  answer here sets the header by hand.
- Gateway: only binary frames are decompressed, so JSON text frames work whatever `compress`
  says. On HELLO the client sends a heartbeat at once (`d: null`), then IDENTIFY (`token,
  properties, compress: true, large_threshold: 250, intents`); the heartbeat loop is a
  daemon *thread* sleeping `heartbeat_interval`. READY's `resume_gateway_url` becomes the URL
  of every later RESUME (op 6: `token, session_id, seq`). Op 7 (RECONNECT), a server close
  with any code but 4004 and 4010-4014 (even 1000) and op 9 `d: true` all reconnect at once,
  *even with `connect(reconnect=False)`*, and RESUME; op 9 `d: false` re-IDENTIFYs, but
  only after `Client.before_identify_hook`, which sleeps 5 s by default on every IDENTIFY but
  the first (override it in tests). `Client.close()` means to close with 1000, yet on the wire
  the code is 4000: aiohttp's `close()` first wakes the reader, and discord.py's reader then
  closes with 4000 itself (connect() still returns cleanly). Close 4014 (privileged intents)
  raises `PrivilegedIntentsRequired` only with `reconnect=True`; with `reconnect=False` it is
  a plain `ConnectionClosed(code=4014)`.
- `interaction.response.*` POSTs `/interactions/{id}/{token}/callback?with_response=1` and
  parses the 200 body (`{"interaction": {...}, "resource": {"type", "message"}}`): a bare 204
  (Discord's answer *without* `with_response`) would crash discord.py, so the fake only
  answers 204 when `with_response` is absent. Follow-ups are `POST /webhooks/{app}/{token}
  ?wait=1&with_components=0` (`wait` is `0`/`1`, not `true`).
- Rate limits: a 429 is handled as one only with a `Via` header and a JSON body; discord.py
  sleeps `retry_after` from the body and retries (5 tries in all). 500/502/504/524 are retried
  after a wall-clock `asyncio.sleep(1 + 2 * try)`: `server_error(500)` costs a test >= 1 s,
  `server_error(503)` raises `DiscordServerError` at once.
- `Messageable.send(nonce=...)` always adds `enforce_nonce: true`; there is no
  `enforce_nonce` argument. Channel, DM and message ids go through `int()`: they must be
  numeric (a DM channel here is `DM_CHANNEL_BASE + user_id`). `Webhook.from_url` only accepts
  `https://discord.com/api/webhooks/<17-20 digits>/<60+ chars>`, but then posts to
  `Route.BASE`: `fake.add_webhook()` returns such a URL.
- INTERACTION_CREATE: discord.py requires `id, type, token, version, application_id,
  attachment_size_limit`; `member` needs `user, roles, flags`; users need `id, username,
  discriminator, avatar`; `interaction.channel_id` comes from the `channel` *object* (not the
  `channel_id` field), and a guild text channel there needs `name` and `position`. The docs'
  example payloads lack several of these; the builders below fill them in.

Recording and scripting: every REST request becomes a `DiscordCall` in `fake.calls` (path
relative to `api_base`). `fake.fail(method, path_regex, *answers)` queues canned answers
(`rate_limited`, `http_error`, `server_error`, `reply`, `slow`) used one per matching call
before the defaults; `path_regex` must match the whole path (`re.fullmatch`), `"*"` matches
any method. `await fake.wait_for(method, path_regex, count)` waits without sleeping.
`await fake.dispatch("INTERACTION_CREATE", slash_interaction(...))` sends an event.
Files: a message with files comes as multipart/form-data (`payload_json` and `files[n]`,
on a channel message, a follow-up or a webhook alike); the fake parses it from the raw
body, answers the message's `attachments` as Discord does (descriptions from
`payload_json`), keeps the bytes (`fake.files_of(message)`, `fake.attachments`), and
answers a file over `fake.file_size_limit` (the interaction's `attachment_size_limit` by
default) with 413 / 40005, as Discord does.
`fake.identified_shards()` lists each IDENTIFY's `(id, count)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import itertools
import json
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy

from tests.canned import Canned, DefaultAnswer

DEFAULT_TOKEN = "fake-bot-token"
BOT_USER_ID = "100"
BOT_USERNAME = "paperwire"
APPLICATION_ID = "200"
GUILD_ID = "300"
CHANNEL_ID = "400"
USER_ID = "500"
DM_CHANNEL_BASE = 9_000_000  # DM channel with user N is DM_CHANNEL_BASE + N
HEARTBEAT_INTERVAL_MS = 45_000
MESSAGE_ID_START = 1001
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024

# Permission bits (sent as decimal strings).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
DEFAULT_APP_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS

GUILDS_INTENT = 1 << 0
# Gateway intents Discord refuses (close 4014) unless enabled in the developer portal.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message_content

EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Message limits Discord enforces with 400 / 50035 (discord.py checks none but the 10 embeds).
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256

# Discord's JSON error codes used here.
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
INVALID_SHARD = 4010  # a gateway close code
NOT_AUTHORIZED_FOR_APPLICATION = 20012
MISSING_ACCESS = 50001
CANNOT_SEND_EMPTY_MESSAGE = 50006
CANNOT_MESSAGE_USER = 50007
INVALID_FORM_BODY = 50035
ALREADY_ACKNOWLEDGED = 40060
REQUEST_ENTITY_TOO_LARGE = 40005

# Interaction callback types.
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """JSON with `Content-Type: application/json` exactly (discord.py compares the header)."""
    return web.Response(
        status=status,
        body=_json_bytes(body),
        headers={**dict(headers or {}), "Content-Type": "application/json"},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def _error(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=status)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


# -- recorded traffic --------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordCall:
    """One REST request the fake received."""

    method: str  # "GET", "POST", ...
    path: str  # relative to api_base: "/channels/400/messages"
    json: Any  # the decoded JSON body (`payload_json` of a multipart body), or None
    headers: Mapping[str, str]  # case-insensitive
    query: Mapping[str, str] = field(default_factory=dict)
    raw_body: bytes = b""
    files: tuple[tuple[str, bytes], ...] = ()  # (filename, content) of multipart uploads

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bot ") if auth.startswith("Bot ") else None

    def __repr__(self) -> str:
        return f"DiscordCall({self.method} {self.path} json={self.json!r})"


@dataclass
class GatewaySession:
    session_id: str
    identify: dict[str, Any]
    seq: int = 0
    resumable: bool = True
    log: list[dict[str, Any]] = field(default_factory=list)  # dispatched frames, for RESUME

    @property
    def shard(self) -> tuple[int, int] | None:
        """(id, count) from its IDENTIFY; None when not sharded."""
        shard = self.identify.get("shard")
        return (int(shard[0]), int(shard[1])) if shard else None

    def gets(self, guild_id: str | None) -> bool:
        """Whether an event of this guild (None: not a guild's, a DM) comes on this session."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (shard_of(guild_id, count) if guild_id is not None else 0) == shard_id


@dataclass
class GatewayConnection:
    """One websocket a client opened on `/gw/`."""

    ws: web.WebSocketResponse
    query: Mapping[str, str]
    session: GatewaySession | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0
    closed_by_server: bool = False
    close_code: int | None = None  # the client's code, or ours when we closed first

    @property
    def identified(self) -> bool:
        return self.session is not None


# -- canned answers ----------------------------------------------------------------------------


class _Reply(Canned):
    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers)

    async def answer(self, call: DiscordCall, default: DefaultAnswer) -> web.StreamResponse:
        return web.Response(status=self.status, body=self.body, headers=self.headers)


def reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Canned:
    """Any answer: `None` is an empty body, a `str` text/html, anything else JSON."""
    if body is None:
        return _Reply(status, b"", dict(headers or {}))
    if isinstance(body, str):
        return _Reply(status, body.encode(), {"Content-Type": "text/html", **dict(headers or {})})
    return _Reply(
        status, _json_bytes(body), {**dict(headers or {}), "Content-Type": "application/json"}
    )


def rate_limited(
    retry_after: float = 0.01, global_: bool = False, *, bucket: str = "fakebucket"
) -> Canned:
    """A 429 as Discord sends it: JSON `{message, retry_after, global}`, `Via` (without it
    discord.py takes the 429 for a Cloudflare ban and raises) and the X-RateLimit headers."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Scope": "global" if global_ else "user",
    }
    if global_:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers["X-RateLimit-Bucket"] = bucket
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": global_}
    return reply(body, status=429, headers=headers)


def http_error(status: int, code: int = 0, message: str = "", errors: Any = None) -> Canned:
    """Discord's JSON error `{message, code[, errors]}`: `http_error(403, code=50001,
    message="Missing Access")` (discord.Forbidden), `http_error(404, code=10003,
    message="Unknown Channel")` (discord.NotFound), `http_error(403, code=50007,
    message="Cannot send messages to this user")`, `http_error(401)` (LoginFailure at login)."""
    text = message or {401: "401: Unauthorized", 404: "404: Not Found"}.get(status, "Error")
    body: dict[str, Any] = {"message": text, "code": code}
    if errors is not None:
        body["errors"] = errors
    return reply(body, status=status)


def server_error(status: int = 500, *, html: bool = False) -> Canned:
    """A 5xx. discord.py retries 500/502/504/524 after a real `sleep(1 + 2 * try)` (up to 5
    tries, then `DiscordServerError`); any other 5xx raises `DiscordServerError` at once. With
    `html`, the body is a proxy's HTML page instead of Discord's JSON."""
    if html:
        return reply(f"<html><body><h1>{status} Bad Gateway</h1></body></html>", status=status)
    return reply({"message": f"{status}: Internal Server Error", "code": 0}, status=status)


# -- message checks ----------------------------------------------------------------------------


def _too_long(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def message_errors(body: Mapping[str, Any]) -> dict[str, Any]:
    """The `errors` tree Discord answers (400, code 50035) for a message over its limits."""
    errors: dict[str, Any] = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors["content"] = _too_long(MAX_CONTENT)
    embeds = body.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        errors["embeds"] = {
            "_errors": [
                {
                    "code": "BASE_TYPE_MAX_LENGTH",
                    "message": f"Must be {MAX_EMBEDS} or fewer in length.",
                }
            ]
        }
        return errors
    total = 0
    embed_errors: dict[str, Any] = {}
    for i, embed in enumerate(embeds):
        errs: dict[str, Any] = {}
        title = str(embed.get("title") or "")
        description = str(embed.get("description") or "")
        footer = str((embed.get("footer") or {}).get("text") or "")
        author = str((embed.get("author") or {}).get("name") or "")
        total += len(title) + len(description) + len(footer) + len(author)
        for key, text, limit in (
            ("title", title, MAX_EMBED_TITLE),
            ("description", description, MAX_EMBED_DESCRIPTION),
        ):
            if len(text) > limit:
                errs[key] = _too_long(limit)
        if len(footer) > MAX_FOOTER:
            errs["footer"] = {"text": _too_long(MAX_FOOTER)}
        if len(author) > MAX_AUTHOR:
            errs["author"] = {"name": _too_long(MAX_AUTHOR)}
        fields = embed.get("fields") or []
        if len(fields) > MAX_EMBED_FIELDS:
            errs["fields"] = _too_long(MAX_EMBED_FIELDS)
        field_errors: dict[str, Any] = {}
        for j, item in enumerate(fields):
            name, value = str(item.get("name") or ""), str(item.get("value") or "")
            total += len(name) + len(value)
            ferrs: dict[str, Any] = {}
            if len(name) > MAX_FIELD_NAME:
                ferrs["name"] = _too_long(MAX_FIELD_NAME)
            if len(value) > MAX_FIELD_VALUE:
                ferrs["value"] = _too_long(MAX_FIELD_VALUE)
            if ferrs:
                field_errors[str(j)] = ferrs
        if field_errors:
            errs.setdefault("fields", {}).update(field_errors)
        if errs:
            embed_errors[str(i)] = errs
    if embed_errors:
        errors["embeds"] = embed_errors
    if total > MAX_EMBED_TOTAL:
        errors.setdefault("embeds", {})["_errors"] = [
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": "Embed size exceeds maximum size of 6000",
            }
        ]
    return errors


def _multipart(content_type: str, raw: bytes) -> tuple[Any, list[tuple[str, bytes]]]:
    """A multipart/form-data body (what discord.py sends with files): its `payload_json`
    decoded, and its files (`files[n]`) in order, as (filename, bytes)."""
    parsed = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    body: Any = None
    files: list[tuple[str, bytes]] = []
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        if name == "payload_json":
            body = json.loads(data)
        elif part.get_filename() is not None:
            files.append((str(part.get_filename()), data))
    return body, files


def _is_empty_message(body: Mapping[str, Any]) -> bool:
    return not any(
        body.get(key) for key in ("content", "embeds", "components", "sticker_ids", "poll")
    ) and not body.get("attachments")


# -- interaction payload builders ------------------------------------------------------------

_interaction_counter = itertools.count(1)


def _snowflake_now() -> str:
    """A time-based snowflake, so `interaction.created_at` / `is_expired()` behave."""
    ms = int(time.time() * 1000) - 1_420_070_400_000
    return str((ms << 22) + next(_interaction_counter))


def user_object(
    user_id: str = USER_ID, username: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username or f"user{user_id}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "public_flags": 0,
        **extra,
    }


def shard_of(guild_id: str, count: int) -> int:
    """The shard a guild's events come on, out of `count` (Discord's formula)."""
    return (int(guild_id) >> 22) % count


def guild_on_shard(shard_id: int, count: int, n: int = 0) -> str:
    """A guild id whose events come on `shard_id` of `count` (`n` tells several apart)."""
    return str(((n * count + shard_id) << 22) + int(GUILD_ID))


def guild_object(guild_id: str) -> dict[str, Any]:
    """A GUILD_CREATE payload: the guild with one text channel, no members."""
    return {
        "id": guild_id,
        "name": f"guild-{guild_id}",
        "unavailable": False,
        "owner_id": "1",
        "member_count": 1,
        "large": False,
        "roles": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": [text_channel_object(str(int(guild_id) + 1), guild_id)],
        "threads": [],
        "members": [],
        "presences": [],
        "voice_states": [],
        "preferred_locale": "en-US",
        "joined_at": "2024-01-01T00:00:00+00:00",
    }


def text_channel_object(
    channel_id: str = CHANNEL_ID, guild_id: str = GUILD_ID, name: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": name or f"channel-{channel_id}",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        **extra,
    }


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _options(values: Mapping[str, Any], focused: str | None) -> list[dict[str, Any]]:
    options = []
    for name, value in values.items():
        option: dict[str, Any] = {"type": _option_type(value), "name": name, "value": value}
        if name == focused:
            option["focused"] = True
        options.append(option)
    return options


def _base_interaction(
    kind: int,
    data: dict[str, Any],
    *,
    guild_id: str | None,
    channel_id: str,
    user_id: str,
    permissions: str | int,
    app_permissions: str | int,
    interaction_id: str | None,
    token: str | None,
    application_id: str,
    locale: str,
    username: str | None,
) -> dict[str, Any]:
    interaction_id = interaction_id or _snowflake_now()
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": application_id,
        "type": kind,
        "data": data,
        "token": token or f"itoken-{interaction_id}",
        "version": 1,
        "locale": locale,
        "app_permissions": str(app_permissions),
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "channel_id": channel_id,
    }
    user = user_object(user_id, username)
    if guild_id is not None:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": guild_id, "locale": "en-US", "features": []}
        payload["context"] = 0
        payload["authorizing_integration_owners"] = {"0": guild_id}
        payload["channel"] = text_channel_object(channel_id, guild_id, permissions=str(permissions))
        payload["member"] = {
            "user": user,
            "roles": [],
            "permissions": str(permissions),
            "flags": 0,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "nick": None,
            "avatar": None,
            "pending": False,
            "deaf": False,
            "mute": False,
        }
    else:
        payload["context"] = 1
        payload["authorizing_integration_owners"] = {"0": "0"}
        payload["channel"] = {"id": channel_id, "type": 1, "recipients": [user], "flags": 0}
        payload["user"] = user
    return payload


def slash_interaction(
    name: str = "papers",
    subcommand: str | None = "search",
    options: Mapping[str, Any] | None = None,
    *,
    group: str | None = None,
    guild_id: str | None = GUILD_ID,
    channel_id: str = CHANNEL_ID,
    user_id: str = USER_ID,
    username: str | None = None,
    permissions: str | int = "0",
    app_permissions: str | int = DEFAULT_APP_PERMISSIONS,
    interaction_id: str | None = None,
    token: str | None = None,
    application_id: str = APPLICATION_ID,
    command_id: str = "600",
    command_guild_id: str | None = None,
    locale: str = "en-US",
    focused: str | None = None,
    _kind: int = 2,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload for `/name [group] [subcommand] options...` (type 2).

    Option types follow the Python values (str 3, int 4, bool 5, float 10). `guild_id=None`
    makes it a DM (`user` instead of `member`, a type-1 channel). `permissions` is the
    member's resolved permission bitfield (`str(MANAGE_CHANNELS)`). `command_guild_id` marks
    a guild-registered command (discord.py looks those up in the tree's guild commands)."""
    values = dict(options if options is not None else {"query": "diffusion"})
    inner = _options(values, focused)
    if subcommand is not None:
        inner = [{"type": 1, "name": subcommand, "options": inner}]
    if group is not None:
        inner = [{"type": 2, "name": group, "options": inner}]
    data: dict[str, Any] = {"id": command_id, "name": name, "type": 1, "options": inner}
    if command_guild_id is not None:
        data["guild_id"] = command_guild_id
    return _base_interaction(
        _kind,
        data,
        guild_id=guild_id,
        channel_id=channel_id,
        user_id=user_id,
        permissions=permissions,
        app_permissions=app_permissions,
        interaction_id=interaction_id,
        token=token,
        application_id=application_id,
        locale=locale,
        username=username,
    )


def autocomplete_interaction(
    name: str = "papers",
    subcommand: str | None = "search",
    options: Mapping[str, Any] | None = None,
    *,
    focused: str = "query",
    **kwargs: Any,
) -> dict[str, Any]:
    """An autocomplete INTERACTION_CREATE (type 4): like `slash_interaction`, with the option
    named `focused` marked `focused: true` (its value is what the user typed so far).
    Answered by a callback of type 8 with `data.choices`."""
    values = options if options is not None else {"query": "diffu"}
    return slash_interaction(name, subcommand, values, focused=focused, _kind=4, **kwargs)


def component_interaction(
    custom_id: str,
    *,
    component_type: int = 2,
    values: list[str] | None = None,
    message_id: str = "1000",
    message: Mapping[str, Any] | None = None,
    guild_id: str | None = GUILD_ID,
    channel_id: str = CHANNEL_ID,
    user_id: str = USER_ID,
    username: str | None = None,
    permissions: str | int = "0",
    app_permissions: str | int = DEFAULT_APP_PERMISSIONS,
    interaction_id: str | None = None,
    token: str | None = None,
    application_id: str = APPLICATION_ID,
    locale: str = "en-US",
) -> dict[str, Any]:
    """A message-component INTERACTION_CREATE (type 3): a button (component_type 2) by
    default, or a select menu (3) with `values`. `message` is the message carrying the
    component (a bot message `message_id` in `channel_id` by default)."""
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = list(values)
    payload = _base_interaction(
        3,
        data,
        guild_id=guild_id,
        channel_id=channel_id,
        user_id=user_id,
        permissions=permissions,
        app_permissions=app_permissions,
        interaction_id=interaction_id,
        token=token,
        application_id=application_id,
        locale=locale,
        username=username,
    )
    payload["message"] = (
        dict(message)
        if message is not None
        else {
            "id": message_id,
            "type": 0,
            "channel_id": channel_id,
            "content": "",
            "embeds": [],
            "attachments": [],
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "custom_id": custom_id, "label": "…"}],
                }
            ],
            "author": user_object(BOT_USER_ID, BOT_USERNAME, bot=True),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": 0,
        }
    )
    return payload


# -- the fake ----------------------------------------------------------------------------------


@dataclass
class _Interaction:
    payload: dict[str, Any]
    acknowledged: bool = False
    expired: bool = False
    original: dict[str, Any] | None = None


Handler = Callable[[DiscordCall, re.Match[str]], Awaitable[web.StreamResponse]]


@dataclass
class FakeDiscord:
    token: str = DEFAULT_TOKEN
    url: str = ""  # http://127.0.0.1:PORT
    application_id: str = APPLICATION_ID
    application_flags: int = 0
    guild_id: str = GUILD_ID  # the guild GET /channels/{id} puts channels in
    heartbeat_interval: int = HEARTBEAT_INTERVAL_MS
    privileged_intents_allowed: int = 0  # bits of PRIVILEGED_INTENTS enabled "in the portal"
    check_limits: bool = True  # answer messages over Discord's limits with 400 / 50035
    guilds: list[str] = field(default_factory=list)  # the bot's guilds, sent on their shards
    recommended_shards: int = 1  # GET /gateway/bot's `shards`
    gateway_down: bool = False  # the gateway refuses new websockets (503), as in an outage
    bot_user: dict[str, Any] = field(
        default_factory=lambda: user_object(BOT_USER_ID, BOT_USERNAME, bot=True, verified=True)
    )
    calls: list[DiscordCall] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # every message created
    # The bytes of every attachment received, by attachment id (a message's `attachments`
    # name them: `fake.files_of(message)`); a file over `file_size_limit` is a 413.
    attachments: dict[str, bytes] = field(default_factory=dict)
    file_size_limit: int = ATTACHMENT_SIZE_LIMIT
    channels: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # None: deleted
    blocked_dms: set[str] = field(default_factory=set)  # users whose DMs answer 50007
    dm_channels: dict[str, str] = field(default_factory=dict)  # opened: channel id -> user id
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    global_commands: list[dict[str, Any]] = field(default_factory=list)
    guild_commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    interactions: dict[str, _Interaction] = field(default_factory=dict)  # by id
    connections: list[GatewayConnection] = field(default_factory=list)  # open websockets
    sessions: dict[str, GatewaySession] = field(default_factory=dict)
    identifies: list[dict[str, Any]] = field(default_factory=list)  # IDENTIFY `d` payloads
    resumes: list[dict[str, Any]] = field(default_factory=list)  # RESUME `d` payloads
    ready_count: int = 0
    resumed_count: int = 0
    close_codes: list[int | None] = field(default_factory=list)  # of websockets that closed
    _queues: list[tuple[str, re.Pattern[str], list[Canned]]] = field(default_factory=list)
    _all_canned: list[Canned] = field(default_factory=list)
    _nonces: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _message_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(MESSAGE_ID_START)
    )
    _command_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(601))
    _session_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # -- addresses ------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"{self.url.replace('http://', 'ws://', 1)}/gw/"

    def dm_channel_id(self, user_id: str) -> str:
        return str(DM_CHANNEL_BASE + int(user_id))

    def add_webhook(
        self,
        webhook_id: str = "123456789012345678",
        token: str = "T" * 68,
        channel_id: str = CHANNEL_ID,
    ) -> str:
        """Registers a channel webhook; returns its URL as Discord shows it
        (`discord.Webhook.from_url` accepts only discord.com URLs, then posts to Route.BASE)."""
        self.webhooks[webhook_id] = {"token": token, "channel_id": channel_id}
        return f"https://discord.com/api/webhooks/{webhook_id}/{token}"

    # -- scripting ------------------------------------------------------------------------

    def fail(self, method: str, path_regex: str, *answers: Canned) -> None:
        """Queue canned answers, used one per matching call before the defaults."""
        self._queues.append((method.upper(), re.compile(path_regex), list(answers)))
        self._all_canned.extend(answers)

    def pending(self) -> int:
        """Canned answers not used yet."""
        return sum(len(answers) for _, _, answers in self._queues)

    def release_all(self) -> None:
        for canned in self._all_canned:
            canned.release()

    def expire_interaction(self, interaction_id: str) -> None:
        """The 3 s / 15 min token ran out: later callbacks answer 404 Unknown interaction."""
        self.interactions[interaction_id].expired = True

    # -- inspecting -----------------------------------------------------------------------

    def calls_to(self, method: str, path_regex: str) -> list[DiscordCall]:
        pattern = re.compile(path_regex)
        return [call for call in self.calls if self._matches(call, method.upper(), pattern)]

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["channel_id"] == channel_id]

    def identified_shards(self) -> list[tuple[int, int]]:
        """Each IDENTIFY's `shard` as (id, count), in order; unsharded ones left out."""
        return [(int(d["shard"][0]), int(d["shard"][1])) for d in self.identifies if "shard" in d]

    def interaction_responses(self, interaction_id: str | None = None) -> list[Any]:
        """The JSON bodies of interaction callbacks (of one interaction, or all)."""
        path = rf"/interactions/{interaction_id or '[^/]+'}/[^/]+/callback"
        return [call.json for call in self.calls_to("POST", path)]

    @staticmethod
    def _matches(call: DiscordCall, method: str, pattern: re.Pattern[str]) -> bool:
        return method in ("*", call.method) and pattern.fullmatch(call.path) is not None

    async def wait_for(
        self,
        method: str,
        path_regex: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 (a test helper: failing in time is its point)
    ) -> list[DiscordCall]:
        """All calls matching once at least `count` were recorded."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(
                    lambda: len(self.calls_to(method, path_regex)) >= count
                )
        except TimeoutError:
            seen = [f"{call.method} {call.path}" for call in self.calls]
            raise AssertionError(
                f"fake Discord: expected {count} call(s) to {method} {path_regex} within "
                f"{timeout}s, got {len(self.calls_to(method, path_regex))}; "
                f"all calls so far: {seen}"
            ) from None
        return self.calls_to(method, path_regex)

    async def _wait_until(self, what: str, predicate: Callable[[], bool], within: float) -> None:
        timeout = within
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(
                f"fake Discord: {what} not seen within {timeout}s; identifies="
                f"{len(self.identifies)} ready={self.ready_count} resumed={self.resumed_count} "
                f"open connections={len(self.connections)} close codes={self.close_codes}; "
                f"REST calls: {[f'{c.method} {c.path}' for c in self.calls]}"
            ) from None

    async def wait_ready(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until READY was sent `count` times in all."""
        await self._wait_until(f"READY x{count}", lambda: self.ready_count >= count, timeout)

    async def wait_resumed(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self._wait_until(f"RESUMED x{count}", lambda: self.resumed_count >= count, timeout)

    async def wait_disconnected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until no websocket is open."""
        await self._wait_until("all websockets closed", lambda: not self.connections, timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- gateway: server side -------------------------------------------------------------

    async def dispatch(self, event: str, data: Mapping[str, Any]) -> int:
        """Sends an op 0 event (`s` incremented per session) to every identified connection
        that gets it (a sharded one only its guilds' events, and DMs on shard 0); returns how
        many got it. Sessions that dropped but can RESUME get it on RESUME."""
        payload = dict(data)
        if event == "INTERACTION_CREATE":
            self.interactions[str(payload["id"])] = _Interaction(payload)
        guild = str(payload["guild_id"]) if payload.get("guild_id") else None
        live = {
            id(conn.session): conn
            for conn in self.connections
            if conn.session is not None and conn.session.gets(guild)
        }
        waiting = [
            s
            for s in self.sessions.values()
            if s.resumable
            and id(s) not in live
            and s.gets(guild)
            and not any(c.session is s for c in self.connections)
        ]
        if not live and not waiting:
            raise AssertionError(f"fake Discord: no client connected to dispatch {event} to")
        for session in [conn.session for conn in live.values()] + waiting:
            assert session is not None
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": payload}
            session.log.append(frame)
            conn = live.get(id(session))
            if conn is not None:
                await conn.ws.send_str(json.dumps(frame))
        return len(live)

    async def send_op(self, op: int, d: Any = None) -> None:
        """Sends a raw non-dispatch opcode to every open connection (1: ask for a heartbeat,
        7: RECONNECT, 9: INVALID_SESSION with `d` = resumable)."""
        for conn in list(self.connections):
            await conn.ws.send_str(json.dumps({"op": op, "d": d, "s": None, "t": None}))

    async def request_reconnect(self) -> None:
        """Op 7: discord.py closes (4000) and RESUMEs on `resume_gateway_url`."""
        await self.send_op(7)

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Op 9: with `resumable=False` the client starts over with IDENTIFY."""
        if not resumable:
            for conn in self.connections:
                if conn.session is not None:
                    conn.session.resumable = False
        await self.send_op(9, resumable)

    async def drop_connections(self, code: int = 4000) -> None:
        """Closes every websocket from the server side, like a gateway restart."""
        for conn in list(self.connections):
            await self._close(conn, code, "fake discord closed the connection")

    async def _close(self, conn: GatewayConnection, code: int, reason: str) -> None:
        conn.closed_by_server = True
        conn.close_code = code
        await conn.ws.close(code=code, message=reason.encode())

    async def _send(self, conn: GatewayConnection, frame: Mapping[str, Any]) -> None:
        await conn.ws.send_str(json.dumps(frame))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        if self.gateway_down:
            raise web.HTTPServiceUnavailable()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = GatewayConnection(ws=ws, query=dict(request.query))
        self.connections.append(conn)
        try:
            await self._send(
                conn,
                {
                    "op": 10,
                    "d": {"heartbeat_interval": self.heartbeat_interval},
                    "s": None,
                    "t": None,
                },
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await self._close(conn, 4002, "Error while decoding payload.")
        finally:
            self.connections.remove(conn)
            if not conn.closed_by_server:  # otherwise aiohttp reports 1000 whatever was sent
                conn.close_code = ws.close_code
                # Discord invalidates a session the client closed with 1000 / 1001.
                if conn.session is not None and ws.close_code in (1000, 1001):
                    conn.session.resumable = False
            self.close_codes.append(conn.close_code)
            await self._notify()
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        conn.received.append(frame)
        op, d = frame.get("op"), frame.get("d")
        if op == 1:
            conn.heartbeats += 1
            await self._send(conn, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, d if isinstance(d, dict) else {})
        elif op == 6:
            await self._resume(conn, d if isinstance(d, dict) else {})
        await self._notify()

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        self.identifies.append(d)
        if conn.identified:
            await self._close(conn, 4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await self._close(conn, 4004, "Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents_allowed:
            await self._close(conn, 4014, "Disallowed intent(s).")
            return
        shard = d.get("shard")
        if shard is not None and not (
            isinstance(shard, list) and len(shard) == 2 and 0 <= int(shard[0]) < int(shard[1])
        ):
            await self._close(conn, INVALID_SHARD, "Invalid shard.")
            return
        session = GatewaySession(session_id=f"fake-session-{next(self._session_ids)}", identify=d)
        self.sessions[session.session_id] = session
        conn.session = session
        session.seq += 1
        guilds = [g for g in self.guilds if session.gets(g)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": g, "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": self.application_id, "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["fake-discord"],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]
        await self._send(conn, {"op": 0, "t": "READY", "s": session.seq, "d": ready})
        self.ready_count += 1
        if intents & GUILDS_INTENT:
            for guild in guilds:
                session.seq += 1
                frame = {"op": 0, "t": "GUILD_CREATE", "s": session.seq, "d": guild_object(guild)}
                await self._send(conn, frame)

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        self.resumes.append(d)
        session = self.sessions.get(str(d.get("session_id")))
        if session is None or not session.resumable or d.get("token") != self.token:
            await self._send(conn, {"op": 9, "d": False, "s": None, "t": None})
            return
        conn.session = session
        seq = d.get("seq") or 0
        for frame in session.log:
            if frame["s"] > seq:
                await self._send(conn, frame)
        session.seq += 1
        await self._send(conn, {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        self.resumed_count += 1

    # -- REST -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/gw/", self._gateway)
        app.router.add_get("/gw", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        return app

    def _routes(self) -> list[tuple[str, str, Handler, bool]]:
        """(method, path regex, handler, needs the bot token)."""
        return [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", r"/applications/(?P<app>\d+)/commands", self._get_commands, True),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands, True),
            (
                "GET",
                r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands",
                self._get_commands,
                True,
            ),
            (
                "PUT",
                r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands",
                self._put_commands,
                True,
            ),
            ("POST", r"/users/@me/channels", self._open_dm, True),
            ("GET", r"/channels/(?P<channel>\d+)", self._get_channel, True),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self._create_message, True),
            (
                "PATCH",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
                self._edit_message,
                True,
            ),
            (
                "DELETE",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
                self._delete_message,
                True,
            ),
            (
                "POST",
                r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback",
                self._callback,
                False,
            ),
            ("POST", r"/webhooks/(?P<hook>\d+)/(?P<token>[^/]+)", self._execute_webhook, False),
            ("GET", r"/webhooks/(?P<hook>\d+)/(?P<token>[^/]+)", self._get_webhook, False),
            (
                "GET|PATCH|DELETE",
                r"/webhooks/(?P<hook>\d+)/(?P<token>[^/]+)/messages/(?P<message>@original|\d+)",
                self._webhook_message,
                False,
            ),
        ]

    async def _record(self, request: web.Request) -> DiscordCall:
        raw = await request.read()
        body: Any = None
        files: list[tuple[str, bytes]] = []
        content_type = request.content_type
        if raw and content_type == "application/json":
            body = json.loads(raw)
        elif raw and content_type == "multipart/form-data":
            body, files = _multipart(request.headers["Content-Type"], raw)
        path = request.path.removeprefix("/api/v10") or "/"
        call = DiscordCall(
            method=request.method,
            path=path,
            json=body,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            query=dict(request.query),
            raw_body=raw,
            files=tuple(files),
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return call

    def _take(self, call: DiscordCall) -> Canned | None:
        for method, pattern, answers in self._queues:
            if answers and self._matches(call, method, pattern):
                return answers.pop(0)
        return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        call = await self._record(request)
        route = next(
            (
                (handler, match, needs_token)
                for methods, regex, handler, needs_token in self._routes()
                if call.method in methods.split("|")
                and (match := re.fullmatch(regex, call.path)) is not None
            ),
            None,
        )
        if route is None:
            canned = self._take(call)
            return await canned.answer(call, _not_found) if canned else await _not_found()
        handler, match, needs_token = route
        if needs_token and call.token != self.token:
            return _error(401, 0, "401: Unauthorized")

        async def default() -> web.StreamResponse:
            return await handler(call, match)

        canned = self._take(call)
        return await canned.answer(call, default) if canned else await default()

    # -- REST handlers --------------------------------------------------------------------

    async def _get_me(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        return json_response(self.bot_user)

    async def _get_application(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        return json_response(
            {
                "id": self.application_id,
                "name": BOT_USERNAME,
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user_object("1", "owner"),
                "verify_key": "0" * 64,
                "flags": self.application_flags,
                "bot": self.bot_user,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
            }
        )

    async def _get_gateway(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    def _command_list(self, guild: str | None) -> list[dict[str, Any]]:
        return self.global_commands if guild is None else self.guild_commands.setdefault(guild, [])

    async def _get_commands(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        if match["app"] != self.application_id:
            return _error(403, NOT_AUTHORIZED_FOR_APPLICATION, "Not authorized for application")
        return json_response(self._command_list(match.groupdict().get("guild")))

    async def _put_commands(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        if match["app"] != self.application_id:
            return _error(
                403,
                NOT_AUTHORIZED_FOR_APPLICATION,
                "You are not authorized to perform this action on this application",
            )
        guild = match.groupdict().get("guild")
        old_ids = {c["name"]: c["id"] for c in self._command_list(guild)}
        commands = []
        for sent in call.json or []:
            command = {
                "type": 1,
                "default_member_permissions": None,
                "nsfw": False,
                "options": [],
                **sent,
                "id": old_ids.get(sent["name"]) or str(next(self._command_ids)),
                "application_id": self.application_id,
                "version": str(next(self._command_ids)),
            }
            if guild is not None:
                command["guild_id"] = guild
            commands.append(command)
        if guild is None:
            self.global_commands = commands
        else:
            self.guild_commands[guild] = commands
        return json_response(commands)

    def _dm_recipient(self, channel_id: str) -> str | None:
        return self.dm_channels.get(channel_id)

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        if channel_id in self.channels:
            return self.channels[channel_id]
        recipient = self._dm_recipient(channel_id)
        if recipient is not None:
            return {
                "id": channel_id,
                "type": 1,
                "recipients": [user_object(recipient)],
                "last_message_id": None,
                "flags": 0,
            }
        return text_channel_object(channel_id, self.guild_id)

    async def _open_dm(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        recipient = str((call.json or {}).get("recipient_id", ""))
        if not recipient.isdigit():
            errors = {"recipient_id": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "?"}]}}
            return _error(400, INVALID_FORM_BODY, "Invalid Form Body", errors)
        channel_id = self.dm_channel_id(recipient)
        self.dm_channels[channel_id] = recipient
        return json_response(self._channel(channel_id))

    async def _get_channel(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        channel = self._channel(match["channel"])
        if channel is None:
            return _error(404, UNKNOWN_CHANNEL, "Unknown Channel")
        return json_response(channel)

    def _new_message(
        self,
        channel_id: str,
        body: Mapping[str, Any],
        *,
        author: dict[str, Any] | None = None,
        files: tuple[tuple[str, bytes], ...] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": str(next(self._message_ids)),
            "type": 0,
            "channel_id": channel_id,
            "content": body.get("content") or "",
            "embeds": list(body.get("embeds") or []),
            "attachments": self._attach(body, files),
            "components": list(body.get("components") or []),
            "author": author or self.bot_user,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": int(body.get("flags") or 0),
            **extra,
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        if "allowed_mentions" in body:  # not part of Discord's answer; kept for assertions
            message["_allowed_mentions"] = body["allowed_mentions"]
        channel = self._channel(channel_id)
        if channel is not None and channel.get("guild_id"):
            message["guild_id"] = channel["guild_id"]
        self.messages.append(message)
        return message

    def _attach(
        self, body: Mapping[str, Any], files: tuple[tuple[str, bytes], ...]
    ) -> list[dict[str, Any]]:
        """The message's `attachments` as Discord answers them, their bytes kept."""
        described = {
            str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)
        }
        attached = []
        for number, (filename, data) in enumerate(files):
            ident = str(next(self._message_ids))
            self.attachments[ident] = data
            attached.append(
                {
                    "id": ident,
                    "filename": filename,
                    "size": len(data),
                    "url": f"{self.url}/attachments/{ident}/{filename}",
                    "proxy_url": f"{self.url}/attachments/{ident}/{filename}",
                    "description": described.get(str(number), {}).get("description"),
                }
            )
        return attached

    def files_of(self, message: Mapping[str, Any]) -> list[tuple[str, bytes]]:
        """A created message's attachments: (filename, the bytes received)."""
        return [(a["filename"], self.attachments[a["id"]]) for a in message["attachments"]]

    def _check_message(
        self, body: Mapping[str, Any], files: tuple[tuple[str, bytes], ...] = ()
    ) -> web.Response | None:
        if any(len(data) > self.file_size_limit for _, data in files):
            return _error(413, REQUEST_ENTITY_TOO_LARGE, "Request entity too large")
        if not self.check_limits:
            return None
        errors = message_errors(body)
        if errors:
            return _error(400, INVALID_FORM_BODY, "Invalid Form Body", errors)
        if _is_empty_message(body):
            return _error(400, CANNOT_SEND_EMPTY_MESSAGE, "Cannot send an empty message")
        return None

    async def _create_message(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        channel_id = match["channel"]
        if self._channel(channel_id) is None:
            return _error(404, UNKNOWN_CHANNEL, "Unknown Channel")
        if self._dm_recipient(channel_id) in self.blocked_dms:
            return _error(403, CANNOT_MESSAGE_USER, "Cannot send messages to this user")
        body = call.json or {}
        invalid = self._check_message(body, call.files)
        if invalid is not None:
            return invalid
        nonce = body.get("nonce")
        key = (channel_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce") and key in self._nonces:
            return json_response(self._nonces[key])  # Discord's answer to a duplicate
        message = self._new_message(channel_id, body, files=call.files)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[key] = message
        return json_response(message)

    def _find_message(self, message_id: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["id"] == message_id), None)

    def _apply_edit(self, message: dict[str, Any], body: Mapping[str, Any]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in body and body["flags"] is not None:
            message["flags"] = int(body["flags"])
        message["flags"] = message.get("flags", 0) & ~LOADING
        message["edited_timestamp"] = _now_iso()

    async def _edit_message(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        message = self._find_message(match["message"])
        if message is None or message["channel_id"] != match["channel"]:
            return _error(404, UNKNOWN_MESSAGE, "Unknown Message")
        body = call.json or {}
        invalid = self._check_message({**message, **body}) if self.check_limits else None
        if invalid is not None:
            return invalid
        self._apply_edit(message, body)
        return json_response(message)

    async def _delete_message(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        message = self._find_message(match["message"])
        if message is None or message["channel_id"] != match["channel"]:
            return _error(404, UNKNOWN_MESSAGE, "Unknown Message")
        self.messages.remove(message)
        return no_content()

    # -- interactions and webhooks ------------------------------------------------------------

    def _interaction_by_token(self, app: str, token: str) -> _Interaction | None:
        if app != self.application_id:
            return None
        return next((i for i in self.interactions.values() if i.payload["token"] == token), None)

    def _interaction_message(
        self,
        interaction: _Interaction,
        body: Mapping[str, Any],
        flags: int = 0,
        files: tuple[tuple[str, bytes], ...] = (),
    ) -> dict[str, Any]:
        payload = interaction.payload
        channel_id = str(payload.get("channel_id") or payload.get("channel", {}).get("id"))
        body = {**body, "flags": int(body.get("flags") or 0) | flags}
        return self._new_message(
            channel_id,
            body,
            webhook_id=self.application_id,
            application_id=self.application_id,
            files=files,
        )

    async def _callback(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        interaction = self.interactions.get(match["interaction"])
        if (
            interaction is None
            or interaction.expired
            or interaction.payload["token"] != match["token"]
        ):
            return _error(404, UNKNOWN_INTERACTION, "Unknown interaction")
        if interaction.acknowledged:
            return _error(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        body = call.json or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        message: dict[str, Any] | None = None
        if kind == CHANNEL_MESSAGE:
            invalid = self._check_message(data)
            if invalid is not None:
                return invalid
            message = self._interaction_message(interaction, data)
            interaction.original = message
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            message = self._interaction_message(interaction, {"flags": data.get("flags")}, LOADING)
            interaction.original = message
        elif kind == UPDATE_MESSAGE:
            target = dict(interaction.payload.get("message") or {})
            found = self._find_message(str(target.get("id")))
            message = found if found is not None else target
            self._apply_edit(message, data)
            message["edited_timestamp"] = _now_iso()
        elif kind not in (PONG, DEFERRED_UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL):
            errors = {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": "?"}]}}
            return _error(400, INVALID_FORM_BODY, "Invalid Form Body", errors)
        interaction.acknowledged = True
        if not _truthy(call.query.get("with_response")):
            return no_content()
        answer: dict[str, Any] = {
            "interaction": {
                "id": match["interaction"],
                "type": interaction.payload["type"],
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(
                    message and int(message.get("flags") or 0) & EPHEMERAL
                ),
            }
        }
        if message is not None:
            answer["resource"] = {"type": kind, "message": message}
        return json_response(answer)

    async def _execute_webhook(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        body = call.json or {}
        interaction = self._interaction_by_token(match["hook"], match["token"])
        if interaction is not None:
            if not interaction.acknowledged or interaction.expired:
                return _error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
            invalid = self._check_message(body, call.files)
            if invalid is not None:
                return invalid
            message = self._interaction_message(interaction, body, files=call.files)
        else:
            hook = self.webhooks.get(match["hook"])
            if hook is None or hook["token"] != match["token"]:
                return _error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
            invalid = self._check_message(body, call.files)
            if invalid is not None:
                return invalid
            author = user_object(
                match["hook"], body.get("username") or "Paperwire", bot=True, avatar=None
            )
            message = self._new_message(
                hook["channel_id"], body, author=author, webhook_id=match["hook"], files=call.files
            )
        if _truthy(call.query.get("wait")):
            return json_response(message)
        return no_content()

    async def _get_webhook(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        hook = self.webhooks.get(match["hook"])
        if hook is None or hook["token"] != match["token"]:
            return _error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        return json_response(
            {
                "id": match["hook"],
                "type": 1,
                "channel_id": hook["channel_id"],
                "guild_id": self.guild_id,
                "name": "Paperwire",
                "avatar": None,
                "token": hook["token"],
                "application_id": None,
            }
        )

    async def _webhook_message(self, call: DiscordCall, match: re.Match[str]) -> web.StreamResponse:
        interaction = self._interaction_by_token(match["hook"], match["token"])
        message: dict[str, Any] | None = None
        if match["message"] == "@original":
            message = interaction.original if interaction is not None else None
        else:
            found = self._find_message(match["message"])
            if found is not None and found.get("webhook_id") == match["hook"]:
                message = found
        if interaction is None and match["hook"] not in self.webhooks:
            return _error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        if message is None:
            return _error(404, UNKNOWN_MESSAGE, "Unknown Message")
        if call.method == "DELETE":
            with suppress(ValueError):
                self.messages.remove(message)
            return no_content()
        if call.method == "PATCH":
            body = call.json or {}
            invalid = self._check_message({**message, **body}) if self.check_limits else None
            if invalid is not None:
                return invalid
            self._apply_edit(message, body)
        return json_response(message)


async def _not_found() -> web.StreamResponse:
    return _error(404, 0, "404: Not Found")


# -- running it ------------------------------------------------------------------------------


@asynccontextmanager
async def running_fake_discord(token: str = DEFAULT_TOKEN) -> AsyncIterator[FakeDiscord]:
    """The fake, listening on 127.0.0.1 with a free port. On the way out held answers are
    released and open websockets closed (1001) before the server stops."""
    fake = FakeDiscord(token=token)
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        fake.release_all()
        for conn in list(fake.connections):
            with suppress(Exception):
                await fake._close(conn, 1001, "fake discord shutting down")
        await server.close()


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[None]:
    """Points discord.py's REST base (bot, webhooks, interaction responses) and gateway at the
    fake; restores both afterwards. Routes built inside keep the fake's address."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@asynccontextmanager
async def running_client(
    client: discord.Client,
    fake: FakeDiscord,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> AsyncIterator[asyncio.Task[None]]:
    """Logs `client` in against `fake` (already pointed at with `point_discord_py_at`),
    connects it with `reconnect=False`, waits for on_ready and yields the connect task; on
    the way out closes the client and waits for the task to finish. Build the client with
    `guild_ready_timeout=0.01` or on_ready waits 2 s for guilds that never come."""
    await client.login(fake.token)
    task = asyncio.create_task(client.connect(reconnect=False), name="discord-connect")
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()  # raises what connect() raised
            raise AssertionError("discord.py connect() returned before on_ready")
        if ready not in done:
            raise AssertionError(f"discord.py not ready within {timeout}s (fake saw {fake.calls})")
        yield task
    finally:
        ready.cancel()
        await client.close()
        with suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout)
