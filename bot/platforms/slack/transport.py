"""Sending to Slack: every message paperwire posts leaves through `SlackTransport.send`,
called by the delivery service (bot/delivery/outbox.py) with what to send and where.

Channel posts and DMs go through `chat.postMessage`, paced to Slack's limits (about one a
second per channel, `PAPERWIRE_SLACK_RATE` across the workspace; a 429 holds every poster in
that workspace, and no other: each workspace has its `_Lane`, with its own bot token);
a reply to a command or a button goes through its response URL; an answer to a mention is
posted in its thread. A message whose earlier send may have posted is first looked for
(recovery.py). Each send ends in a `Receipt`: sent, to retry, or stopped for good. Files
sent with a message are uploaded as uploads.py says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aiohttp import ClientConnectorError
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

from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.delivery.pacing import Bucket, Pacer, Places, retry_after
from bot.platforms.slack.config import SlackConfig
from bot.platforms.slack.errors import NETWORK_ERRORS, IncompleteAnswer, network_error, slack_error
from bot.platforms.slack.library_logs import library_log
from bot.platforms.slack.recovery import ReadDeferred, ReadFailed, Recovery, marker, parts_found
from bot.platforms.slack.uploads import UPLOAD_ERRORS, names, refused, upload, why_not
from bot.platforms.slack.workspaces import BotTokens
from bot.render.neutral import Reply, with_line
from bot.render.slack import POST_OPTIONS, render_slack, render_slack_post

_log = logging.getLogger(__name__)

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
RESPONSE_TIMEOUT_S = 30
# chat.postMessage: about one message per second per channel (platform facts).
CHANNEL_POSTS_PER_S = 1.0
# conversations.open is a Tier 3 method: 50+ a minute.
OPENS_PER_S = 50 / 60
# Slack's answers that the token no longer speaks for the workspace.
TOKEN_GONE = frozenset({"invalid_auth", "account_inactive", "token_revoked", "not_authed"})


class _Lane:
    """One workspace's share of Slack: its posting budget (a 429 holds this workspace's
    posters only), its messages under way, its DM channels, its history reads, and the
    clients that carry its bot token."""

    def __init__(self, config: SlackConfig, pacer: Pacer, timeout: int) -> None:
        self.pacer = pacer
        self.opens = Bucket(OPENS_PER_S, burst=5)
        # Channel messages under way at once: about what the workspace budget posts in a
        # second, so that it is kept busy, and a crash leaves no more than that to check.
        self.under_way = Places(config.posts_per_s)
        self.dm_channels: dict[str, str] = {}  # user id -> the DM channel's id
        # Retried inside the SDK: only what surely did not reach Slack (a refused
        # connection, a 429). A 5xx or a cut connection may have posted: the outbox
        # retries it after looking for the message's marker.
        self.client = AsyncWebClient(
            base_url=config.api_url,
            timeout=timeout,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(
                    max_retry_count=2, error_types=[ClientConnectorError]
                ),
                _HoldOnRateLimit(pacer, max_retry_count=5),
            ],
        )
        # The reads that look for what arrived keep to their own pace, one attempt each: a
        # 429 there is answered by waiting in the outbox, not by the SDK's retries.
        self.reads = AsyncWebClient(base_url=config.api_url, timeout=timeout, retry_handlers=[])
        self.recovery = Recovery(self.reads, config.history_per_min)

    def use(self, token: str) -> None:
        """The workspace's token as it is now (a rotation replaces it)."""
        self.client.token = self.reads.token = token


class SlackTransport:
    """Posts to Slack: `send` one outgoing message, whatever its destination, with the bot
    token of the workspace it belongs to."""

    platform = "slack"

    def __init__(
        self,
        config: SlackConfig,
        tokens: BotTokens,
        pacer: Pacer | None = None,
        timeout: int = 30,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._shared_pacer = pacer  # tests pace every workspace with one (virtual) clock
        self.timeout = timeout  # the Web API clients' own request timeout (s), for new lanes
        self._lanes: dict[str, _Lane] = {}
        self.on_hold: Callable[[float], None] | None = None  # told of each 429's wait (metrics)
        # The SDK logs a response URL (a credential) at INFO when it retries: warnings only.
        self._webhook_log = library_log("webhook", logging.WARNING)

    def lane(self, team_id: str) -> _Lane:
        """The workspace's lane, made on its first message."""
        lane = self._lanes.get(team_id)
        if lane is None:
            pacer = self._shared_pacer or Pacer(
                self._config.posts_per_s, per_channel=CHANNEL_POSTS_PER_S
            )
            pacer.on_hold = self.on_hold
            lane = self._lanes[team_id] = _Lane(self._config, pacer, self.timeout)
        return lane

    async def send(self, message: OutgoingMessage) -> Receipt:
        team = message.destination.workspace
        token = await self._tokens.bot_token(team)
        if token is None:  # never sent with another workspace's token
            return _not_installed(team)
        lane = self.lane(team)
        lane.use(token)
        receipt = await self._send(message, lane)
        if receipt.error in TOKEN_GONE:
            self._tokens.forget(team)  # read again: an uninstall may have just been stored
            if await self._tokens.bot_token(team) is None:
                return _not_installed(team)
        return receipt

    async def _send(self, message: OutgoingMessage, lane: _Lane) -> Receipt:
        destination = message.destination
        in_thread = destination.kind == "reply" and "thread_ts" in (message.handle or {})
        try:
            if destination.kind == "reply" and message.reply.files:
                message = replace(message, reply=await self._files_first(message, lane))
            content = message.reply.content
            if in_thread:
                # Buttons answer only the person who pressed them: none in a thread.
                bodies = render_slack(content, interactive=False)
                if message.reply.ephemeral:
                    return await self._answer_asker(message, bodies, lane)
                return await self._answer_in_thread(message, bodies, lane)
            if destination.kind == "reply":
                return await self._respond(message, render_slack(content, interactive=True))
            channel = destination.channel
            if destination.kind == "dm":
                channel = await self._dm_channel(destination.channel, lane)
            bodies, thread = render_slack_post(content)
            # From its first request to its last answer a message is uncertain: only so many
            # are under way at once (its thread replies wait behind those, not a fan-out),
            # and one that may have arrived before is settled first, so a crash never leaves
            # more to check than it found.
            files_part = len(bodies) + len(thread)  # the files come after every message
            async with lane.under_way.taken(first=message.recovering):
                arrived = {}
                if message.recovering:  # an earlier send may have posted some of it
                    arrived = await lane.recovery.in_channel(channel, message, files_part)
                ids = await self._post_parts(message, lane, channel, bodies, thread, arrived)
                if message.reply.files and ids and files_part not in arrived:
                    await self._files_after(message, lane, channel)
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

    async def _files_first(self, message: OutgoingMessage, lane: _Lane) -> Reply:
        """A reply's files, uploaded before its text: for the asker alone, to their DM;
        otherwise where the reply shows. The reply to send then, saying where they went
        (or why not)."""
        reply, handle = message.reply, message.handle or {}
        thread: str | None = None
        try:
            await message.departs()
            if reply.ephemeral:
                user = str(handle.get("user") or "")
                if not user:
                    raise IncompleteAnswer("no user to send the file to")
                channel = await self._dm_channel(user, lane)
            else:
                channel = str(handle.get("channel") or message.destination.channel)
                thread = str(handle.get("thread_ts") or "") or None
            # A retry (its text failed after the files went) finds them rather than
            # sharing them twice.
            if not (
                message.recovering and await lane.recovery.files_shared(channel, thread, message)
            ):
                await upload(lane.client, reply.files, channel, thread)
        except UPLOAD_ERRORS as exc:
            _log.warning("Slack: %s could not be uploaded: %s", names(reply.files), why_not(exc))
            line = f"The file could not be uploaded: {why_not(exc)}."
            return with_line(replace(reply, files=()), line)
        sent = replace(reply, files=())
        if not reply.ephemeral:
            return sent
        return with_line(sent, f"Sent {names(reply.files)} to your DMs.")

    async def _files_after(self, message: OutgoingMessage, lane: _Lane, channel: str) -> None:
        """A channel post's files, after its messages. A refusal leaves the post as it is,
        without them; a failure on the way is retried (what arrived is looked for first)."""
        await message.departs()
        try:
            await upload(lane.client, message.reply.files, channel)
        except SlackApiError as exc:
            code = refused(exc)
            if code is None:
                raise
            _log.warning(
                "Slack refused the files of a message to %s (%s): it went without them",
                channel,
                code,
            )

    async def _dm_channel(self, user: str, lane: _Lane) -> str:
        """The DM channel with `user`, opened once per process."""
        channel = lane.dm_channels.get(user)
        if channel is None:
            await lane.opens.acquire()
            opened = await lane.client.conversations_open(users=user)
            channel = str((opened.get("channel") or {}).get("id") or "")
            if not channel:
                raise IncompleteAnswer("Slack opened the direct message without naming it")
            lane.dm_channels[user] = channel
        return channel

    async def _post_parts(
        self,
        message: OutgoingMessage,
        lane: _Lane,
        channel: str,
        bodies: list[dict[str, Any]],
        thread: list[dict[str, Any]],
        arrived: dict[int, str],
    ) -> list[str]:
        """The message's parts not yet `arrived`: its messages, then the thread replies
        under the first; their ts."""
        ids = []
        for number, body in enumerate(bodies):
            ids.append(
                arrived.get(number) or await self._post(message, lane, channel, body, number)
            )
        if ids:
            for number, body in enumerate(thread, len(bodies)):
                if number not in arrived:
                    reply = {**body, "thread_ts": ids[0]}
                    await self._post(message, lane, channel, reply, number)
        return ids

    async def _post(
        self, message: OutgoingMessage, lane: _Lane, channel: str, body: dict[str, Any], part: int
    ) -> str:
        # Never `link_names` or `parse=full`: untrusted text must not become mentions.
        metadata = marker(message, part)
        extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
        await lane.pacer.acquire(channel)
        await message.departs()  # its turn came: from now on it may arrive
        response = await lane.client.chat_postMessage(
            channel=channel, **POST_OPTIONS, **body, **extra
        )
        return _posted_ts(response)

    async def _answer_in_thread(
        self, message: OutgoingMessage, bodies: list[dict[str, Any]], lane: _Lane
    ) -> Receipt:
        """A mention's answer, posted in its thread (for everyone there)."""
        handle = message.handle or {}
        channel, thread = str(handle.get("channel") or ""), str(handle.get("thread_ts") or "")
        arrived = {}
        if message.recovering:
            found = await lane.recovery.in_thread(channel, thread, message)
            arrived = parts_found(found, message)
        ids = []
        for number, body in enumerate(bodies):
            if number in arrived:
                ids.append(arrived[number])
                continue
            answer = {**body, "thread_ts": thread}
            ids.append(await self._post(message, lane, channel, answer, number))
        return Receipt(ok=True, platform_ids=tuple(ids))

    async def _answer_asker(
        self, message: OutgoingMessage, bodies: list[dict[str, Any]], lane: _Lane
    ) -> Receipt:
        """A mention's answer for the asker alone: ephemeral, in the mention's thread."""
        handle = message.handle or {}
        for body in bodies:
            await message.departs()
            await lane.client.chat_postEphemeral(
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


def _not_installed(team: str) -> Receipt:
    return Receipt(ok=False, error=f"paperwire is not installed in workspace {team}", dropped=True)


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
