"""Slack's HTTP entry point (`POST /slack/events`): each request is checked here, on its raw
bytes, before slack-bolt parses it.

Slack signs every request: `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{body}`),
at most 5 minutes old. paperwire checks this itself rather than through bolt's middleware,
which logs the whole body and signature of each refused request at INFO (a genuine request
refused for clock skew carries a live `response_url` and the verification token), parses
the body before checking it (a forged malformed body was a 500), and turns a non-numeric
timestamp into a 500. Here a refusal is one short line, at most one a minute.

In OAuth mode the install pages are served beside it (`GET /slack/install`, `GET
/slack/oauth_redirect`): a browser's, not Slack's, so unsigned; bolt's flow checks the
redirect's `state` (issued by the install page, kept in the database, good once).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest

_log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"  # where Slack posts commands, button presses and events
INSTALL_PATH = "/slack/install"  # OAuth mode: the "Add to Slack" page (bolt's default path)
# Slack's payloads are small: a press of paperwire's largest message (a 30-paper digest
# part) is 16 KB. The largest Slack could send is a mention in a 40,000-character message,
# its text twice (as text and as rich-text blocks): under 500 KB even as escaped non-ASCII.
# A forged post over this is refused before it is read into memory (aiohttp allows 1 MB).
MAX_BODY_BYTES = 512 * 1024
MAX_AGE_S = 5 * 60  # Slack's own rule: an older timestamp is a replay
LOG_EVERY_S = 60.0  # at most one refusal line a minute, whatever the rate of forged posts

TOO_LARGE = f"body over {MAX_BODY_BYTES // 1024} KB"
NO_SIGNATURE = "no signature, or malformed signature headers"
STALE = "timestamp more than 5 minutes off (a replay, or this machine's clock is wrong)"
MISMATCH = "signature does not match (is SLACK_SIGNING_SECRET this app's?)"
UNREADABLE = "a signed body that is not a Slack payload"


def slack_web_app(
    app: AsyncApp,
    signing_secret: str,
    path: str,
    *,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> web.Application:
    """An aiohttp app that hands `app` only the requests Slack signed with `signing_secret`."""
    if not signing_secret:
        raise ValueError("serving Slack over HTTP needs the signing secret")
    secret = signing_secret.encode("utf-8")
    refusals = _Refusals(monotonic)

    async def handle(request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return refusals.refuse(413, TOO_LARGE)  # before reading any of it
        try:
            body = await request.read()  # stops past client_max_size (no Content-Length)
        except web.HTTPRequestEntityTooLarge:
            return refusals.refuse(413, TOO_LARGE)
        reason = signature_problem(secret, request.headers, body, clock())
        if reason is not None:
            return refusals.refuse(401, reason)
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"),
                query=request.query_string,
                headers=dict(request.headers),
            )
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return refusals.refuse(400, UNREADABLE)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_post(path, handle)
    if app.oauth_flow is not None:
        _add_install_pages(web_app, app.oauth_flow)
    return web_app


def _add_install_pages(web_app: web.Application, flow: AsyncOAuthFlow) -> None:
    """The "Add to Slack" page and the redirect Slack sends the installer back to."""

    def bolt_request(request: web.Request) -> AsyncBoltRequest:
        return AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))

    async def install(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_installation(bolt_request(request)))

    async def redirect(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_callback(bolt_request(request)))

    web_app.router.add_get(flow.install_path, install)
    web_app.router.add_get(flow.redirect_uri_path, redirect)


def signature_problem(
    secret: bytes, headers: Mapping[str, str], body: bytes, now: float
) -> str | None:
    """None when Slack signed `body`; otherwise why not, in words that quote nothing of the
    request."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and signature):
        return NO_SIGNATURE
    if abs(now - int(timestamp)) > MAX_AGE_S:
        return STALE
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = b"v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest().encode("ascii")
    # Compared as bytes: a header may hold any characters, which compare_digest refuses in str.
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        return MISMATCH
    return None


class _Refusals:
    """Answers refused requests and logs them: one line at most every `LOG_EVERY_S`, so
    that a flood of forged posts cannot fill the log; the next line counts those skipped."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._logged_at: float | None = None
        self._skipped = 0

    def refuse(self, status: int, reason: str) -> web.Response:
        now = self._monotonic()
        if self._logged_at is not None and now - self._logged_at < LOG_EVERY_S:
            self._skipped += 1
        else:
            more = f" ({self._skipped} more refused since the last such line)"
            _log.warning(
                "Slack: refused a request (%d): %s%s", status, reason, more if self._skipped else ""
            )
            self._logged_at, self._skipped = now, 0
        return web.json_response({"error": "invalid request"}, status=status)
