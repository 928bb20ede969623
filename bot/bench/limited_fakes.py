"""Local stand-ins for Slack's and Discord's posting APIs that enforce their rate limits
and answer 429 past them, as the platforms do. `bench deliver` measures paperwire against
them; they also count every message they keep, so nothing lost or doubled goes unseen.

Only what a fan-out needs is served: Slack's `auth.test` and `chat.postMessage`, Discord's
login calls and create-message (with `nonce` / `enforce_nonce`)."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


class Allowance:
    """A token bucket as a server keeps it: `rate` a second, at most `capacity` saved."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._at = time.monotonic()

    def take(self) -> float:
        """0 when the request may go (a token is taken), else the seconds until it may."""
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass
class Tally:
    """What a fake saw: requests, 429s, and each kept message by its key."""

    requests: int = 0
    rate_limited: int = 0
    kept: Counter[tuple[str, str]] = field(default_factory=Counter)
    first_at: float | None = None
    last_at: float | None = None

    def keep(self, key: tuple[str, str]) -> None:
        self.kept[key] += 1
        now = time.monotonic()
        self.first_at = self.first_at if self.first_at is not None else now
        self.last_at = now

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.kept.values() if n > 1)


class LimitedSlack:
    """chat.postMessage at about 1 a second per channel (short bursts of 2) within a
    workspace budget of `workspace_rate` a second; past either, 429 with `Retry-After`.
    Each bot token is a workspace of its own (as a Slack app installed in several has one
    token per workspace): every one gets the whole budget, kept apart from the others'."""

    CHANNEL_RATE = 1.0
    CHANNEL_BURST = 2

    def __init__(self, workspace_rate: float) -> None:
        self.allowed_per_s = workspace_rate
        self.tally = Tally()
        self._workspaces: dict[str, Allowance] = {}  # bot token -> its workspace's budget
        self._channels: dict[tuple[str, str], Allowance] = {}  # (token, channel)
        self._ts = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        return app

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": "T1", "user_id": "U0", "bot_id": "B0"})
        if method != "chat.postMessage":
            return web.json_response({"ok": False, "error": "unknown_method"})
        self.tally.requests += 1
        body = await _body(request)
        channel = str(body.get("channel") or "")
        token = _bearer(request)
        allowance = self._channels.setdefault(
            (token, channel), Allowance(self.CHANNEL_RATE, self.CHANNEL_BURST)
        )
        workspace = self._workspaces.setdefault(
            token, Allowance(self.allowed_per_s, self.allowed_per_s)
        )
        wait = max(allowance.take(), workspace.take())
        if wait > 0:
            self.tally.rate_limited += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        payload = (body.get("metadata") or {}).get("event_payload") or {}
        self.tally.keep((channel, f"{payload.get('id')}.{payload.get('part')}"))
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        return web.json_response({"ok": True, "channel": channel, "ts": ts})


class LimitedDiscord:
    """Create-message within Discord's global limit of `global_rate` requests a second and
    each channel's route bucket (5 per 5 s, told in the X-RateLimit headers discord.py
    reads); past either, 429 with `retry_after`. A repeated `nonce` with `enforce_nonce`
    returns the message already made, as Discord does."""

    ROUTE_LIMIT = 5
    ROUTE_WINDOW_S = 5.0

    def __init__(self, global_rate: float) -> None:
        self.allowed_per_s = global_rate
        self.tally = Tally()
        self._global = Allowance(global_rate, global_rate)
        self._windows: dict[str, tuple[float, int]] = {}  # channel -> (window start, used)
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(10**17)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_post("/api/v10/channels/{channel}/messages", self._create_message)
        return app

    async def _me(self, request: web.Request) -> web.Response:
        return _discord_json(_USER)

    async def _application(self, request: web.Request) -> web.Response:
        return _discord_json(
            {"id": "9", "name": "paperwire", "description": "", "icon": None,
             "bot_public": False, "bot_require_code_grant": False, "owner": _USER,
             "verify_key": "0" * 64, "flags": 0, "bot": _USER, "redirect_uris": [], "tags": []}
        )  # fmt: skip

    async def _create_message(self, request: web.Request) -> web.Response:
        self.tally.requests += 1
        channel = request.match_info["channel"]
        start, used = self._windows.get(channel, (0.0, 0))
        now = time.monotonic()
        if now - start >= self.ROUTE_WINDOW_S:
            start, used = now, 0
        reset_after = self.ROUTE_WINDOW_S - (now - start)
        if used >= self.ROUTE_LIMIT:
            return self._limited(reset_after, global_=False)
        wait = self._global.take()
        if wait > 0:
            return self._limited(wait, global_=True)
        self._windows[channel] = (start, used + 1)
        headers = {
            "X-RateLimit-Limit": str(self.ROUTE_LIMIT),
            "X-RateLimit-Remaining": str(self.ROUTE_LIMIT - used - 1),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Bucket": f"messages-{channel}",
        }
        body = await request.json()
        nonce = str(body.get("nonce"))
        if body.get("enforce_nonce") and (channel, nonce) in self._nonces:
            return _discord_json(self._nonces[(channel, nonce)], headers=headers)
        message = {
            "id": str(next(self._ids)), "type": 0, "channel_id": channel,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [],
            "attachments": [], "components": [], "author": _USER, "timestamp":
            "2026-11-22T09:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "pinned": False,
            "nonce": body.get("nonce"),
        }  # fmt: skip
        if body.get("enforce_nonce"):
            self._nonces[(channel, nonce)] = message
        self.tally.keep((channel, nonce))
        return _discord_json(message, headers=headers)

    def _limited(self, retry_after: float, global_: bool) -> web.Response:
        self.tally.rate_limited += 1
        headers = {
            "Via": "1.1 google",  # without it discord.py takes a 429 for a Cloudflare ban
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": "global" if global_ else "user",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after,
                "global": global_}  # fmt: skip
        return _discord_json(body, status=429, headers=headers)


_USER = {"id": "8", "username": "paperwire", "discriminator": "0", "global_name": None,
         "avatar": None, "public_flags": 0, "bot": True}  # fmt: skip


def _discord_json(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # discord.py compares the content type exactly: no charset.
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _bearer(request: web.Request) -> str:
    """The request's bot token (slack-sdk sends it as a bearer token)."""
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    form = await request.post()
    return {k: _maybe_json(str(v)) for k, v in form.items()}


def _maybe_json(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
