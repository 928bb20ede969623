"""How a message is sent to Discord: as the bot (a channel, a direct message, or the
follow-up of an interaction) or through a webhook URL when there is no bot.

Every outgoing message leaves through the delivery service, which calls `send` on one of
the two transports: `PaperwireDiscord.send` (which comes here, to `send_as_bot`) or
`WebhookTransport.send`. Every message goes with `allowed_mentions` none.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.errors import UserError
from bot.models import Destination
from bot.platforms.connecting import Unreachable, describe
from bot.platforms.discord.buttons import (
    choices_view,
    digest_views,
    list_pages_view,
    save_views,
    with_next,
)
from bot.platforms.discord.endpoints import discord_py_endpoints
from bot.platforms.discord.files import discord_files, size_limit, with_files
from bot.render.discord import render_discord
from bot.render.limits import DISCORD_FILE_BYTES
from bot.render.neutral import Attachment, Content, Digest, Notice, Reply, SearchPage, TopicAlert

if TYPE_CHECKING:
    from bot.app import Services
    from bot.platforms.discord.client import PaperwireDiscord

# Discord's JSON error codes that will not go away by retrying: stop the destination.
PERMANENT_CODES = frozenset(
    {
        10003,  # Unknown Channel
        10013,  # Unknown User
        50001,  # Missing Access
        50007,  # Cannot send messages to this user
        50013,  # Missing Permissions
    }
)
NO_MENTIONS = discord.AllowedMentions.none()
RATE_LIMITED_HOLD_S = 1.0
WEBHOOK_WORKSPACE = "webhook"
# A message meeting a client not yet logged in waits this long; a wait, not a failure, so
# the backoff of an outage at start does not delay the digests once Discord answers.
NOT_CONNECTED_WAIT_S = 30.0


# --- as the bot ------------------------------------------------------------------------------


async def send_as_bot(client: PaperwireDiscord, message: OutgoingMessage) -> Receipt:
    """One message, in as many parts as it renders to, each with its buttons; its files
    with the last part (files.py)."""
    if not client.logged_in:  # Discord not reached yet: the outbox tries again later
        return Receipt(
            ok=False, error="Discord has not been reached yet", retry_in=NOT_CONNECTED_WAIT_S
        )
    guild = client.get_guild(_guild_id(message.destination))
    limit = size_limit(message.handle, guild)
    ids: list[str] = []  # the parts sent so far
    send = functools.partial(_send_parts, client, message, ids=ids)
    try:
        await with_files(send, message.reply, limit, message.destination.key)
    except discord.HTTPException as exc:
        if exc.status == 429:  # still limited after discord.py's own retries: ease off
            client.pacer.hold(RATE_LIMITED_HOLD_S)
        return _failure(exc)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # tried again later
        return _unreachable(exc, str((message.handle or {}).get("token") or ""))
    except _NoInteraction:
        return Receipt(ok=False, error="no interaction to answer", permanent=True)
    if message.destination.kind == "reply":
        return Receipt(ok=True)
    return Receipt(ok=True, platform_ids=tuple(ids))


class _NoInteraction(Exception):
    """A reply whose interaction is not known (no token kept with it)."""


async def _send_parts(
    client: PaperwireDiscord,
    message: OutgoingMessage,
    reply: Reply,
    files: tuple[Attachment, ...],
    *,
    ids: list[str],
) -> None:
    """The parts of `reply` not sent yet (`ids` has those that were), `files` with the
    last; each sent part's id added to `ids`."""
    bodies = render_discord(reply.content)
    views = await _views(client.services, reply.content, bodies, message.destination)
    last = len(bodies) - 1
    if message.destination.kind == "reply":
        followup = _followup(client, message)
        if followup is None:
            raise _NoInteraction
        for number, (body, view) in enumerate(zip(bodies, views, strict=True)):
            if number < len(ids):
                continue
            await message.departs()
            attached = _attached(files if number == last else ())
            await followup.send(
                ephemeral=message.reply.ephemeral, **_kwargs(body, view), **attached
            )
            ids.append("")
        return
    target = await _messageable(client, message.destination)
    for number, (body, view) in enumerate(zip(bodies, views, strict=True)):
        if number < len(ids):
            continue
        # The nonce makes a retried send of the same part a no-op on Discord's side.
        nonce = _nonce(message, number)
        await client.pacer.acquire()
        await message.departs()  # its turn came: from now on it may arrive
        attached = _attached(files if number == last else ())
        sent = await target.send(nonce=nonce, **_kwargs(body, view), **attached)
        ids.append(str(sent.id))


def _attached(files: tuple[Attachment, ...]) -> dict[str, Any]:
    return {"files": discord_files(files)} if files else {}


def _guild_id(destination: Destination) -> int:
    return int(destination.workspace) if destination.workspace.isdigit() else 0


def _followup(client: PaperwireDiscord, message: OutgoingMessage) -> discord.Webhook | None:
    """The interaction's follow-up webhook (what `interaction.followup` builds), from
    the application id and token kept with the reply."""
    handle = message.handle or {}
    app, token = handle.get("application_id"), handle.get("token")
    if not (isinstance(app, str) and app.isdigit() and isinstance(token, str) and token):
        return None
    data: Any = {"id": int(app), "type": 3, "token": token}
    return discord.Webhook.from_state(data=data, state=client._connection)


async def _messageable(
    client: PaperwireDiscord, destination: Destination
) -> discord.abc.Messageable:
    if destination.kind == "dm":
        await client.pacer.acquire()  # opening the DM may be a request
        return await client.create_dm(discord.Object(id=int(destination.channel)))
    # A partial channel needs no lookup; a missing channel shows up as the send's error.
    return client.get_partial_messageable(int(destination.channel))


async def _views(
    services: Services, content: Content, bodies: list[dict[str, Any]], to: Destination
) -> list[discord.ui.View | None]:
    """Buttons for each message part: a row for each paper of a digest part (one embed per
    paper, in order), "Save" for each of a search's or an alert's papers, "Next" on the last
    part of a search with more, "Previous" / "Next" under a reading list's page, a
    question's choices under its last part."""
    views: list[discord.ui.View | None] = [None] * len(bodies)
    if isinstance(content, Digest):
        views = digest_views(content, bodies)
    elif isinstance(content, TopicAlert):
        # Numbered within their topic, as their embeds are; a press in a direct message
        # names no server: each Save names the alert's own.
        several = len(content.groups) > 1
        papers = [
            (f"{n} · {g.topic[:30]}" if several else str(n), p)
            for g in content.groups
            for n, p in enumerate(g.papers, start=1)
        ]
        views = save_views(papers, bodies, to.workspace if to.kind == "dm" else None)
    elif isinstance(content, SearchPage):
        hits = enumerate((h.paper for h in content.hits), content.offset + 1)
        views = save_views([(str(n), p) for n, p in hits], bodies)
        if content.has_more and bodies:
            key = await services.saved_queries.save_query(content.query, services.clock())
            views[-1] = with_next(views[-1], key, content.offset + len(content.hits))
    elif isinstance(content, Notice) and content.pages is not None and bodies:
        views[-1] = list_pages_view(content.pages)
    elif isinstance(content, Notice) and content.choices and bodies:
        views[-1] = choices_view(content.choices)
    return views


def digest_bodies(digest: Digest) -> list[dict[str, Any]]:
    """A digest's create-message bodies as the bot posts them, buttons included (what
    `paperwire digest --format discord --json` prints; discord.py adds the nonce)."""
    bodies = render_discord(digest)
    return [
        body | {"components": view.to_components()} if view is not None else body
        for body, view in zip(bodies, digest_views(digest, bodies), strict=True)
    ]


# --- through a webhook -----------------------------------------------------------------------


def webhook_destination(url: str) -> Destination:
    """A webhook's channel as paperwire names it: `discord:webhook:<webhook id>`."""
    match = re.search(r"/webhooks/(\d+)/", url)
    ident = match.group(1) if match else hashlib.sha1(url.encode()).hexdigest()[:12]
    return Destination("discord", WEBHOOK_WORKSPACE, ident)


class WebhookTransport:
    """Posts channel digests through a webhook URL: no bot, no commands. As a platform of
    `paperwire run`, connecting asks Discord about the webhook: one that is gone stops
    paperwire."""

    platform = "discord"
    name = "discord webhook"

    def __init__(
        self, url: str, session: aiohttp.ClientSession, *, api_url: str | None = None
    ) -> None:
        self._webhook = discord.Webhook.from_url(url, session=session)
        self._api_url = api_url
        self._started = contextlib.ExitStack()

    async def start(self) -> None:
        self._started.enter_context(discord_py_endpoints(self._api_url, None))

    async def connect(self) -> None:
        try:
            await self._webhook.fetch()
        except discord.HTTPException as exc:
            if exc.status not in (401, 403, 404):  # a bad token, no access, no such webhook
                raise Unreachable(describe(exc)) from None
            raise UserError(
                f"Discord refused DISCORD_WEBHOOK_URL ({exc.status} {exc.text}): the webhook"
                " was deleted or the URL is wrong; copy it again from the channel's settings"
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # The URL's last part is a secret: never in a log line.
            raise Unreachable(describe(exc).replace(self._webhook.token or "", "...")) from None

    async def serve(self) -> None:
        """Nothing to do: each message is a request of its own."""

    async def stop(self) -> None:
        """The session is the caller's: only the endpoint is put back."""
        self._started.close()

    async def send(self, message: OutgoingMessage) -> Receipt:
        if message.destination.workspace != WEBHOOK_WORKSPACE:
            return Receipt(ok=False, error="webhook mode posts only to its webhook's channel")
        ids: list[str] = []
        send = functools.partial(self._send_parts, message, ids=ids)
        try:
            await with_files(send, message.reply, DISCORD_FILE_BYTES, "its webhook")
        except discord.HTTPException as exc:
            return _failure(exc)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return _unreachable(exc, self._webhook.token or "")
        return Receipt(ok=True, platform_ids=tuple(ids))

    async def _send_parts(
        self,
        message: OutgoingMessage,
        reply: Reply,
        files: tuple[Attachment, ...],
        *,
        ids: list[str],
    ) -> None:
        bodies = render_discord(reply.content)
        for number, body in enumerate(bodies):
            if number < len(ids):
                continue
            await message.departs()
            attached = _attached(files if number == len(bodies) - 1 else ())
            sent = await self._webhook.send(wait=True, **_kwargs(body, None), **attached)
            ids.append(str(sent.id))


# --- shared by both --------------------------------------------------------------------------


def _kwargs(body: dict[str, Any], view: discord.ui.View | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "content": body.get("content") or None,
        "embeds": [discord.Embed.from_dict(e) for e in body.get("embeds", [])],
        "allowed_mentions": NO_MENTIONS,
    }
    if view is not None:
        kwargs["view"] = view
    return kwargs


def _nonce(message: OutgoingMessage, part: int) -> str:
    """The same message part always gets the same nonce (at most 25 characters): its outbox
    id when it has one, else a digest of what it is."""
    if message.outbox_id is not None:
        return f"pw{message.outbox_id}.{part}"[:25]
    ids = ",".join(message.paper_ids) or repr(message.reply.content)[:2000]
    seed = f"{message.destination.key}|{part}|{ids}"
    return hashlib.blake2b(seed.encode("utf-8"), digest_size=12).hexdigest()[:25]


def _unreachable(exc: BaseException, secret: str) -> Receipt:
    """Discord out of reach, or the connection lost, while sending (a stop closing the
    session under a send included): one line and a retry, not a transport bug. The URL's
    token is a secret: never in the error."""
    text = describe(exc).replace(secret, "...") if secret else describe(exc)
    return Receipt(ok=False, error=f"Discord could not be reached: {text}"[:200])


def _failure(exc: discord.HTTPException) -> Receipt:
    code = getattr(exc, "code", 0)
    permanent = code in PERMANENT_CODES or exc.status in (401, 403, 404)
    text = f"{exc.status} {exc.text or ''}".strip() + (f" (code {code})" if code else "")
    return Receipt(ok=False, error=text[:200], permanent=permanent)
