"""The Slack platform through slack-bolt: `/papers` commands, buttons, and posting digests.

Commands are acknowledged at once (Slack allows 3 s) and answered through `respond` when the
work is done, ephemeral unless shared. Every outgoing message, replies included, leaves
through the delivery service, which calls `send` here.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, ParamSpec

from aiohttp import ClientConnectorError, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.delivery.pacing import Bucket, Pacer, Places, retry_after
from bot.errors import UserError
from bot.models import Destination
from bot.platforms.connecting import OneLineErrors, Unreachable, describe
from bot.platforms.slack_errors import (
    NETWORK_ERRORS,
    REFUSED_TOKEN_ERRORS,
    IncompleteAnswer,
    network_error,
    slack_error,
)
from bot.platforms.slack_http import slack_web_app
from bot.platforms.slack_identity import SlackIdentity
from bot.platforms.slack_recovery import (
    READS_PER_MIN,
    ReadDeferred,
    ReadFailed,
    Recovery,
    marker,
    parts_found,
)
from bot.render.limits import SLACK_BUTTON_VALUE
from bot.render.neutral import Reply, SearchPage
from bot.render.slack import (
    ACTION_ABSTRACT,
    ACTION_NEXT,
    ACTION_SHARE,
    ACTION_SIMILAR,
    POST_OPTIONS,
    render_slack,
    render_slack_post,
)
from handlers import buttons
from handlers.buttons import Page, Press
from handlers.context import Context, Invocation
from handlers.router import apology, dispatch, needs_manager, press

_log = logging.getLogger(__name__)
P = ParamSpec("P")

COMMAND = "/papers"
EVENTS_PATH = "/slack/events"
# Errors Slack will keep giving for this destination: stop it rather than retry.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "missing_scope",
        "token_revoked",
        "user_not_found",
        "cannot_dm_bot",
    }
)
# The Socket Mode client tries a websocket again every SOCKET_PING_S; before its second try
# with the same URL, the next attempt asks for a new one.
SOCKET_PING_S = 10.0
SOCKET_OPEN_S = 8.0
MANAGER_CACHE_S = 600.0
# A lookup that failed is not tried again on every command meanwhile.
MANAGER_FAILURE_CACHE_S = 60.0
# A response URL takes posts for 30 minutes (and at most 5 of them).
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_TIMEOUT_S = 30
# An answer to a mention still makes sense this long after it was asked for.
MENTION_ANSWER_LIFETIME = timedelta(hours=1)
# chat.postMessage: about one message per second per channel (platform facts).
CHANNEL_POSTS_PER_S = 1.0
# conversations.open is a Tier 3 method: 50+ a minute.
OPENS_PER_S = 50 / 60
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class SlackConfig:
    """Read from the environment only; the secrets are kept out of `repr`."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = "https://slack.com/api/"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    managers: frozenset[str] = frozenset()  # user ids allowed besides admins and owners
    # Messages a second across the workspace. Slack publishes no number for this budget
    # ("a workspace-wide limit"); a 429 beyond it holds every sender for its Retry-After.
    posts_per_s: int = 5
    # Reads a minute of conversations.history (and of conversations.replies), to look for
    # what an earlier send posted: Slack allows one to apps outside its Marketplace created
    # since May 2025, 50 or more to the others.
    history_per_min: int = READS_PER_MIN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig | None:
        """None when no Slack token is set; a clear error when the setup is half done."""
        env = os.environ if env is None else env
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            return None
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip()
        if not secret and app_token is None:
            raise UserError(
                "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: HTTP mode needs the"
                " signing secret (Basic Information page), or set SLACK_APP_TOKEN for Socket Mode."
            )
        api_url = env.get("PAPERWIRE_SLACK_API_URL", "").strip() or cls.api_url
        port = env.get("PAPERWIRE_HTTP_PORT", "").strip() or "3000"
        if not port.isdigit() or int(port) > 65535:
            raise UserError(f"PAPERWIRE_HTTP_PORT must be a port number, not {port[:10]!r}")
        managers = frozenset(
            u.strip() for u in env.get("PAPERWIRE_SLACK_MANAGERS", "").split(",") if u.strip()
        )
        rate = env.get("PAPERWIRE_SLACK_RATE", "").strip() or str(cls.posts_per_s)
        if not rate.isdigit() or not 1 <= int(rate) <= 1000:
            raise UserError(
                f"PAPERWIRE_SLACK_RATE must be messages a second from 1 to 1000, not {rate[:10]!r}"
            )
        reads = env.get("PAPERWIRE_SLACK_HISTORY_RATE", "").strip() or str(cls.history_per_min)
        if not reads.isdigit() or not 1 <= int(reads) <= 1000:
            raise UserError(
                "PAPERWIRE_SLACK_HISTORY_RATE must be history reads a minute from 1 to 1000,"
                f" not {reads[:10]!r}"
            )
        return cls(
            bot_token=token,
            signing_secret=secret,
            app_token=app_token,
            api_url=api_url if api_url.endswith("/") else api_url + "/",  # urljoin needs it
            http_host=env.get("PAPERWIRE_HTTP_HOST", "").strip() or cls.http_host,
            http_port=int(port),
            managers=managers,
            posts_per_s=int(rate),
            history_per_min=int(reads),
        )


class SlackAdapter:
    """The bolt app and the transport that posts to Slack."""

    platform = "slack"

    def __init__(self, services: Services, config: SlackConfig, pacer: Pacer | None = None) -> None:
        self._services = services
        self._config = config
        self.pacer = pacer or Pacer(config.posts_per_s, per_channel=CHANNEL_POSTS_PER_S)
        self._opens = Bucket(OPENS_PER_S, burst=5)
        # Channel messages under way at once: about what the workspace budget posts in a
        # second, so that it is kept busy, and a crash leaves no more than that to check.
        self._under_way = Places(config.posts_per_s)
        self._dm_channels: dict[str, str] = {}  # user id -> the DM channel's id
        # The SDK logs a response URL (a credential) at INFO when it retries: warnings only.
        self._webhook_log = _library_log("webhook", logging.WARNING)
        # Retried inside the SDK: only what surely did not reach Slack (a refused
        # connection, a 429). A 5xx or a cut connection may have posted: the outbox
        # retries it after looking for the message's marker.
        self.client = AsyncWebClient(
            token=config.bot_token,
            base_url=config.api_url,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(
                    max_retry_count=2, error_types=[ClientConnectorError]
                ),
                _HoldOnRateLimit(self.pacer, max_retry_count=5),
            ],
        )
        # Lookups a command waits for (auth.test, users.info): one attempt each, as a
        # command is better answered "try again" at once than after a 429's Retry-After.
        self._lookups = AsyncWebClient(
            token=config.bot_token, base_url=config.api_url, retry_handlers=[]
        )
        self.identity = SlackIdentity(self._lookups, config.bot_token)
        # The reads that look for what arrived keep to their own pace, one attempt each: a
        # 429 there is answered by waiting in the outbox, not by the SDK's retries.
        self._recovery = Recovery(self._lookups, config.history_per_min)
        self.app = AsyncApp(
            # bolt's own client (for listeners' `client`, unused here) gets the token from
            # `authorize`, which answers at once: no request waits on auth.test.
            client=AsyncWebClient(base_url=config.api_url),
            authorize=self.identity,
            # Over HTTP, `web_app` checks each request's signature before bolt sees it
            # (bolt's own check logs what it refuses, whole); Socket Mode needs none.
            request_verification_enabled=False,
            logger=logging.getLogger("slack_bolt"),
        )
        # (team, user) -> (when looked up, admin or owner; None: the lookup failed)
        self._managers: dict[tuple[str, str], tuple[float, bool | None]] = {}
        # bolt runs each handler in a task nothing awaits: a stop must know of them.
        tracked = services.requests.tracked
        self.app.command(COMMAND)(tracked(self._hooked(self._on_command)))
        for action_id in ACTIONS:
            self.app.action(action_id)(tracked(self._hooked(self._on_press)))
        self.app.event("app_mention")(tracked(self._hooked(self._on_mention)))
        self.app.error(tracked(self._on_error))  # what bolt's own middleware raises

    def web_app(self, *, monotonic: Callable[[], float] = time.monotonic) -> web.Application:
        """The HTTP endpoint Slack posts to: signed requests only, then the bolt app."""
        return slack_web_app(
            self.app, self._config.signing_secret, EVENTS_PATH, monotonic=monotonic
        )

    # --- incoming -------------------------------------------------------------------------

    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()  # within Slack's 3 s; the answer follows through the response URL
        invocation = await self._with_manager(_from_command(body))
        reply = await dispatch(Context(invocation, self._services, self._services.clock()))
        await self._reply(invocation, reply, body)

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """`@paperwire search diffusion` in a channel: answered in a thread, for everyone."""
        invocation = await self._with_manager(_from_mention(event, body))
        reply = await dispatch(Context(invocation, self._services, self._services.clock()))
        # Answers to a mention are public, except what is for the asker alone (a refusal
        # for sending too many): that one is ephemeral, and spends no posting budget.
        answer = reply if reply.private else Reply(reply.content, ephemeral=False)
        await self._answer_mention(invocation, event, answer)

    async def _on_press(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        pressed = _press(body)
        invocation = _from_action(body)
        if buttons.needs_manager(pressed.action):
            invocation = replace(invocation, is_manager=await self._is_manager(invocation))
        reply = await press(Context(invocation, self._services, self._services.clock()), pressed)
        # A Next's page takes the place of the one it was pressed under; anything else
        # (a shared page, an abstract, a refusal) is a message of its own.
        in_place = pressed.action == buttons.NEXT and isinstance(reply.content, SearchPage)
        await self._reply(invocation, reply, body, replace_original=in_place)

    def _hooked(self, listener: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
        """`listener` with what it raises handed to `_on_error` here rather than to bolt:
        bolt's own path forgets the ack of a listener that fails within 10 ms of acking
        (Slack then gets a 404, and shows the person an error of its own). Its signature
        shows through: bolt picks the arguments it passes by their names."""

        @functools.wraps(listener)
        async def run(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                await listener(*args, **kwargs)
            except Exception as error:
                body = kwargs.get("body")
                await self._on_error(error, body if isinstance(body, dict) else {})

        return run

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """The one hook for whatever answering a request raised (a listener, or bolt's
        middleware): its traceback logged once, and an apology to the person who asked,
        where the request says how."""
        what = body.get("command") or body.get("type") or "request"
        _log.error("Slack: answering a %s failed", str(what)[:40], exc_info=error)
        sorry = apology()
        event = body.get("event")
        try:
            if body.get("response_url"):
                asker = _from_command(body) if "command" in body else _from_action(body)
                await self._reply(asker, sorry, body, replace_original=False)
            elif isinstance(event, dict) and event.get("type") == "app_mention":
                mention = _from_mention(event, body)
                await self._answer_mention(mention, event, sorry)  # ephemeral: the asker alone
        except Exception as exc:  # the apology's own way out failed: the log has the cause
            _log.warning("Slack: the apology could not be sent (%s)", describe(exc))

    async def _answer_mention(
        self, invocation: Invocation, event: Mapping[str, Any], reply: Reply
    ) -> None:
        """In the mention's thread, by way of the outbox: for everyone there, or (a private
        reply) for the asker alone."""
        channel = invocation.channel
        expires = self._services.clock() + MENTION_ANSWER_LIFETIME
        handle = {
            "channel": channel,
            "thread_ts": str(event.get("thread_ts") or event.get("ts") or ""),
            "user": invocation.user,
            "expires_at": expires.isoformat(),
        }
        where = Destination.reply_in("slack", invocation.workspace, channel)
        await self._services.delivery.deliver(OutgoingMessage(where, reply, handle=handle))

    async def _with_manager(self, invocation: Invocation) -> Invocation:
        """Whether the asker manages the channel is looked up only for a command that
        needs it (a request to Slack)."""
        if not needs_manager(invocation.text):
            return invocation
        return replace(invocation, is_manager=await self._is_manager(invocation))

    async def _reply(
        self,
        invocation: Invocation,
        reply: Reply,
        body: Mapping[str, Any],
        replace_original: bool | None = None,
    ) -> None:
        """Answer through the request's response URL, by way of the outbox."""
        url = str(body.get("response_url") or "")
        if not url:
            _log.warning("a Slack request without a response_url could not be answered")
            return
        where = Destination.reply_in("slack", invocation.workspace, invocation.channel)
        expires = self._services.clock() + RESPONSE_URL_LIFETIME
        handle = {
            "response_url": url,
            "replace_original": replace_original,
            "expires_at": expires.isoformat(),
        }
        await self._services.delivery.deliver(OutgoingMessage(where, reply, handle=handle))

    async def _is_manager(self, invocation: Invocation) -> bool | None:
        """Workspace admins and owners, or the configured allow-list (cached a while).
        None when Slack could not tell (that too is kept a minute, not asked per command)."""
        team, user = invocation.workspace, invocation.user
        if user in self._config.managers:
            return True
        cached = self._managers.get((team, user))
        if cached:
            at, allowed = cached
            keep = MANAGER_CACHE_S if allowed is not None else MANAGER_FAILURE_CACHE_S
            if time.monotonic() - at < keep:
                return allowed
        allowed = await self._look_up_manager(user)
        self._managers[(team, user)] = (time.monotonic(), allowed)
        return allowed

    async def _look_up_manager(self, user: str) -> bool | None:
        try:
            info = await self._lookups.users_info(user=user)
        except SlackApiError as exc:
            _log.warning("could not look up Slack user %s: %s", user, slack_error(exc))
            return None
        except NETWORK_ERRORS as exc:
            _log.warning("could not look up Slack user %s: %s", user, network_error(exc))
            return None
        profile = info.get("user") or {}
        return bool(profile.get("is_admin") or profile.get("is_owner"))

    # --- outgoing (the transport) ---------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> Receipt:
        destination = message.destination
        content = message.reply.content
        in_thread = destination.kind == "reply" and "thread_ts" in (message.handle or {})
        try:
            if in_thread:
                # Buttons answer only the person who pressed them: none in a thread.
                bodies = render_slack(content, interactive=False)
                if message.reply.ephemeral:
                    return await self._answer_asker(message, bodies)
                return await self._answer_in_thread(message, bodies)
            if destination.kind == "reply":
                return await self._respond(message, render_slack(content, interactive=True))
            channel = destination.channel
            if destination.kind == "dm":
                channel = await self._dm_channel(destination.channel)
            bodies, thread = render_slack_post(content)
            # From its first request to its last answer a message is uncertain: only so many
            # are under way at once (its thread replies wait behind those, not a fan-out),
            # and one that may have arrived before is settled first, so a crash never leaves
            # more to check than it found.
            async with self._under_way.taken(first=message.recovering):
                arrived = {}
                if message.recovering:  # an earlier send may have posted some of it
                    arrived = await self._recovery.in_channel(channel, message)
                ids = await self._post_parts(message, channel, bodies, thread, arrived)
            return Receipt(ok=True, platform_ids=tuple(ids))
        except ReadDeferred as deferred:
            return Receipt(ok=False, error=str(deferred), retry_in=deferred.wait_s)
        except ReadFailed as exc:  # the check's read, not the post: never permanent
            return Receipt(ok=False, error=str(exc))
        except SlackApiError as exc:
            code = slack_error(exc)
            return Receipt(ok=False, error=code, permanent=code in PERMANENT_ERRORS)
        except IncompleteAnswer as exc:
            return Receipt(ok=False, error=str(exc))
        except NETWORK_ERRORS as exc:  # it may have arrived: the retry looks first
            return Receipt(ok=False, error=network_error(exc))

    async def _dm_channel(self, user: str) -> str:
        """The DM channel with `user`, opened once per process."""
        channel = self._dm_channels.get(user)
        if channel is None:
            await self._opens.acquire()
            opened = await self.client.conversations_open(users=user)
            channel = str((opened.get("channel") or {}).get("id") or "")
            if not channel:
                raise IncompleteAnswer("Slack opened the direct message without naming it")
            self._dm_channels[user] = channel
        return channel

    async def _post_parts(
        self,
        message: OutgoingMessage,
        channel: str,
        bodies: list[dict[str, Any]],
        thread: list[dict[str, Any]],
        arrived: dict[int, str],
    ) -> list[str]:
        """The message's parts not yet `arrived`: its messages, then the thread replies
        under the first; their ts."""
        ids = []
        for number, body in enumerate(bodies):
            ids.append(arrived.get(number) or await self._post(message, channel, body, number))
        if ids:
            for number, body in enumerate(thread, len(bodies)):
                if number not in arrived:
                    await self._post(message, channel, {**body, "thread_ts": ids[0]}, number)
        return ids

    async def _post(
        self, message: OutgoingMessage, channel: str, body: dict[str, Any], part: int
    ) -> str:
        # Never `link_names` or `parse=full`: untrusted text must not become mentions.
        metadata = marker(message, part)
        extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
        await self.pacer.acquire(channel)
        await message.departs()  # its turn came: from now on it may arrive
        response = await self.client.chat_postMessage(
            channel=channel, **POST_OPTIONS, **body, **extra
        )
        return _posted_ts(response)

    async def _answer_in_thread(
        self, message: OutgoingMessage, bodies: list[dict[str, Any]]
    ) -> Receipt:
        """A mention's answer, posted in its thread (for everyone there)."""
        handle = message.handle or {}
        channel, thread = str(handle.get("channel") or ""), str(handle.get("thread_ts") or "")
        arrived = {}
        if message.recovering:
            found = await self._recovery.in_thread(channel, thread, message)
            arrived = parts_found(found, message)
        ids = []
        for number, body in enumerate(bodies):
            if number in arrived:
                ids.append(arrived[number])
                continue
            ids.append(await self._post(message, channel, {**body, "thread_ts": thread}, number))
        return Receipt(ok=True, platform_ids=tuple(ids))

    async def _answer_asker(
        self, message: OutgoingMessage, bodies: list[dict[str, Any]]
    ) -> Receipt:
        """A mention's answer for the asker alone: ephemeral, in the mention's thread."""
        handle = message.handle or {}
        for body in bodies:
            await message.departs()
            await self.client.chat_postEphemeral(
                channel=str(handle.get("channel") or ""),
                user=str(handle.get("user") or ""),
                thread_ts=str(handle.get("thread_ts") or ""),
                **body,
            )
        return Receipt(ok=True)

    async def _respond(self, message: OutgoingMessage, bodies: list[dict[str, Any]]) -> Receipt:
        handle = message.handle or {}
        url = handle.get("response_url")
        if not isinstance(url, str) or not url:
            return Receipt(ok=False, error="no response_url to answer through", permanent=True)
        webhook = AsyncWebhookClient(
            url,
            timeout=RESPONSE_TIMEOUT_S,
            # Retry only a connection that never opened: a post may have gone otherwise.
            retry_handlers=[AsyncConnectionErrorRetryHandler(error_types=[ClientConnectorError])],
            logger=self._webhook_log,
        )
        response_type = "ephemeral" if message.reply.ephemeral else "in_channel"
        # A response URL takes 5 posts: a long reply is cut to its first messages.
        for number, body in enumerate(bodies[:5]):
            await message.departs()
            result = await webhook.send(
                text=body["text"],
                blocks=body["blocks"],
                response_type=response_type,
                replace_original=handle.get("replace_original") if number == 0 else False,
            )
            status = result.status_code
            if status >= 400:
                # 429 and 5xx pass; any other refusal (an expired or used-up URL) stays.
                passing = status == 429 or status >= 500
                error = f"response_url answered {status}"
                return Receipt(ok=False, error=error, permanent=not passing)
        return Receipt(ok=True)


def _from_command(body: Mapping[str, Any]) -> Invocation:
    return Invocation(
        platform="slack",
        workspace=str(body.get("team_id") or ""),
        channel=str(body.get("channel_id") or ""),
        user=str(body.get("user_id") or ""),
        text=str(body.get("text") or ""),
        command=str(body.get("command") or COMMAND),
    )


def _from_mention(event: Mapping[str, Any], body: Mapping[str, Any]) -> Invocation:
    text = _MENTION.sub("", str(event.get("text") or "")).strip()
    return Invocation(
        platform="slack",
        workspace=str(body.get("team_id") or ""),
        channel=str(event.get("channel") or ""),
        user=str(event.get("user") or ""),
        text=re.sub(rf"^{COMMAND}\b", "", text, flags=re.IGNORECASE).strip(),
    )


def _from_action(body: Mapping[str, Any]) -> Invocation:
    return Invocation(
        platform="slack",
        workspace=str((body.get("team") or {}).get("id") or ""),
        channel=str((body.get("channel") or {}).get("id") or ""),
        user=str((body.get("user") or {}).get("id") or ""),
        text="",
    )


# The button's action id (bot.render.slack) -> the neutral action.
ACTIONS = {
    ACTION_NEXT: buttons.NEXT,
    ACTION_SHARE: buttons.SHARE,
    ACTION_ABSTRACT: buttons.ABSTRACT,
    ACTION_SIMILAR: buttons.SIMILAR,
}


def _press(body: Mapping[str, Any]) -> Press:
    """The pressed button: its action, and its value decoded (checked by the handler)."""
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    pressed = first if isinstance(first, dict) else {}
    action = ACTIONS.get(str(pressed.get("action_id") or ""), "")
    value = pressed.get("value")
    raw = value if isinstance(value, str) else ""
    if action in (buttons.NEXT, buttons.SHARE):
        return Press(action, _page(raw))
    return Press(action, raw)


def _page(raw: str) -> Page | None:
    """The page a search button carries, `{"q": "<query>", "o": <offset>}` within Slack's
    2,000 characters; None for any other value."""
    if len(raw) > SLACK_BUTTON_VALUE:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # a value nested a thousand deep is not ours
        return None
    if not isinstance(value, dict):
        return None
    query, offset = value.get("q"), value.get("o")
    if not isinstance(query, str) or not isinstance(offset, int):
        return None
    return Page(offset, query=query)


def _posted_ts(response: AsyncSlackResponse) -> str:
    """The `ts` of a post. An `ok` without one may or may not have posted: uncertain, so
    the retry looks for it (and no thread reply goes to `thread_ts: ""`)."""
    ts = response.get("ts")
    if not isinstance(ts, str) or not ts:
        raise IncompleteAnswer("Slack answered ok without the message's ts (it may have posted)")
    return ts


class _HoldOnRateLimit(AsyncRateLimitErrorRetryHandler):
    """The SDK's 429 handling (wait for Retry-After, then retry). A 429 on posting holds
    every poster in the workspace for as long (they would only meet the same 429), and the
    retry then takes its turn with them rather than going at once. Other methods have
    limits of their own: a 429 there holds only that call."""

    def __init__(self, pacer: Pacer, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._pacer = pacer

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is not None and request.url.endswith("/chat.postMessage"):
            self._pacer.hold(retry_after(response.headers))
            state.next_attempt_requested = True
            await self._pacer.acquire()  # after the hold, in order with the others
            state.increment_current_attempt()
            return
        await super().prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


class SlackServer:
    """Receives Slack's requests: HTTP (`POST /slack/events`) or, with an app-level
    token, Socket Mode (no public URL needed). As a platform of `paperwire run`, its start
    listens (over HTTP); each attempt to connect then asks Slack about the tokens
    (`auth.test`, and in Socket Mode `apps.connections.open`): a token Slack refuses stops
    paperwire; Slack out of reach is tried again (`bot.platforms.connecting`)."""

    name = "slack"

    def __init__(self, adapter: SlackAdapter, config: SlackConfig) -> None:
        self._adapter = adapter
        self._config = config
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        # The Socket Mode client logs each websocket that fails to open with a traceback,
        # and tries again by itself: one line is enough.
        self._socket_log = _library_log("socket")
        self._socket_log.addFilter(
            OneLineErrors("Failed to connect", "Failed to close the old session")
        )
        self.port: int | None = None
        # One request per attempt: the retrying is keep_connecting's, with its backoff.
        self._web = AsyncWebClient(
            token=config.bot_token, base_url=config.api_url, retry_handlers=[]
        )

    async def start(self) -> None:
        """Over HTTP, listen: Slack's requests can come in while the token's check is
        tried again."""
        if not self._config.app_token and self._runner is None:
            await self._listen()

    async def connect(self) -> None:
        # Its answer is kept for bolt, so that no request waits on auth.test.
        await _ask_slack(self._adapter.identity.check(), "SLACK_BOT_TOKEN")
        if self._config.app_token:
            await self._open_socket(self._config.app_token)

    async def serve(self) -> None:
        """aiohttp and the Socket Mode client run on their own: only the token is checked
        again now and then."""
        await self._adapter.identity.keep_checking()

    async def _open_socket(self, app_token: str) -> None:
        opened = await _ask_slack(
            self._web.apps_connections_open(app_token=app_token), "SLACK_APP_TOKEN"
        )
        if self._socket is None:
            self._socket = AsyncSocketModeHandler(
                self._adapter.app,
                app_token,
                logger=self._socket_log,
                web_client=self._web,
                ping_interval=SOCKET_PING_S,
            )
        client = self._socket.client
        client.wss_uri = str(opened.get("url") or "")
        try:
            async with asyncio.timeout(SOCKET_OPEN_S):
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
        except TimeoutError:
            raise Unreachable(
                f"the Socket Mode websocket did not open within {SOCKET_OPEN_S:.0f} s"
            ) from None
        _log.info("Slack: connected in Socket Mode")

    async def _listen(self) -> None:
        runner = web.AppRunner(self._adapter.web_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._config.http_host, self._config.http_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            where = f"{self._config.http_host}:{self._config.http_port}"
            raise UserError(
                f"cannot listen on {where} for Slack (PAPERWIRE_HTTP_HOST / PAPERWIRE_HTTP_PORT):"
                f" {exc.strerror or exc}"
            ) from None
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._config.http_port
        _log.info(
            "Slack: listening on http://%s:%s%s", self._config.http_host, self.port, EVENTS_PATH
        )

    async def stop(self) -> None:
        await self._adapter.identity.close()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _library_log(name: str, level: int = logging.NOTSET) -> logging.Logger:
    """A logger handed to a Slack SDK client, with a level or filters of its own. It is
    not registered with `logging` (so setting it up changes no logger anyone else can
    get): what it lets through goes on to this module's logger and its handlers."""
    logger = logging.Logger(f"{__name__}.{name}", level)
    logger.parent = _log
    return logger


async def _ask_slack(call: Awaitable[AsyncSlackResponse], variable: str) -> AsyncSlackResponse:
    """A Web API call made to connect: refused (a `UserError` naming the token's
    variable) or out of reach (`Unreachable`) in one line."""
    try:
        return await call
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in REFUSED_TOKEN_ERRORS:
            raise UserError(
                f"Slack refused {variable} ({code}): copy the token again from the app's"
                " settings at https://api.slack.com/apps"
            ) from None
        status = getattr(exc.response, "status_code", 0)
        said = f"{code}, HTTP {status}" if not code.startswith("HTTP ") else code
        raise Unreachable(f"Slack answered {said}") from None
    except NETWORK_ERRORS as exc:
        raise Unreachable(describe(exc)) from None
