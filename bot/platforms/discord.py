"""The Discord platform through discord.py: `/papers` app commands, persistent buttons, and
posting digests (as the bot, or through a webhook when only a webhook URL is set).

Interactions are deferred at once (Discord allows 3 s) and answered with a follow-up when
the work is done. Every outgoing message leaves through the delivery service, which calls a
transport here; every message goes with `allowed_mentions` none.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import aiohttp
import discord
import yarl
from discord import app_commands

from bot import buttons
from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.delivery.pacing import Pacer
from bot.errors import PaperwireError, UserError
from bot.models import Destination
from bot.platforms.connecting import OneLineErrors, Unreachable, describe
from bot.render.discord import render_discord
from bot.render.limits import shorten
from bot.render.neutral import Content, Digest, Reply, SearchPage
from handlers.buttons import NEXT, Page, Press
from handlers.context import Context, Invocation
from handlers.router import apology, dispatch, press

_log = logging.getLogger(__name__)

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
# An interaction's token takes follow-ups for 15 minutes.
INTERACTION_LIFETIME = timedelta(minutes=15)
WEBHOOK_WORKSPACE = "webhook"
# A message meeting a client not yet logged in waits this long; a wait, not a failure, so
# the backoff of an outage at start does not delay the digests once Discord answers.
NOT_CONNECTED_WAIT_S = 30.0
CHOICE_NAME = 100  # an autocomplete choice's name (and value) at most
_NEXT_ID = r"pw:next:(?P<offset>\d{1,4}):(?P<key>[0-9a-f]{18})"
_PAPER_ID = rf"pw:(?P<action>abstract|similar):(?P<paper>{buttons.PAPER_ID})"
# What discord.Webhook.from_url accepts (its own pattern), from the start of an https URL.
WEBHOOK_URL = re.compile(
    r"https://(?:[a-z]+\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9.\-_]{60,}"
)


@dataclass(frozen=True)
class DiscordConfig:
    """Read from the environment only; the secrets are kept out of `repr`."""

    bot_token: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    api_url: str | None = None
    gateway_url: str | None = None
    webhook_digest: str = ""  # webhook mode: when its channel's digest goes, "08:30 Europe/Paris"
    # Requests a second: Discord's global limit per bot (large bots can be granted more).
    requests_per_s: int = 50

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DiscordConfig | None:
        """None when neither a bot token nor a webhook URL is set."""
        env = os.environ if env is None else env
        token = env.get("DISCORD_BOT_TOKEN", "").strip() or None
        webhook = env.get("DISCORD_WEBHOOK_URL", "").strip() or None
        if token is None and webhook is None:
            return None
        if webhook and not WEBHOOK_URL.match(webhook):
            # Not echoed: the URL's last part is the webhook's secret.
            raise UserError(
                "DISCORD_WEBHOOK_URL is not a Discord webhook URL: copy it again from the"
                " channel's Integrations > Webhooks (https://discord.com/api/webhooks/<id>/<token>)"
            )
        rate = env.get("PAPERWIRE_DISCORD_RATE", "").strip() or str(cls.requests_per_s)
        if not rate.isdigit() or not 1 <= int(rate) <= 10_000:
            raise UserError(
                "PAPERWIRE_DISCORD_RATE must be requests a second from 1 to 10000,"
                f" not {rate[:10]!r}"
            )
        return cls(
            bot_token=token,
            webhook_url=webhook,
            api_url=env.get("PAPERWIRE_DISCORD_API_URL", "").strip() or None,
            gateway_url=env.get("PAPERWIRE_DISCORD_GATEWAY_URL", "").strip() or None,
            webhook_digest=env.get("PAPERWIRE_WEBHOOK_DIGEST", "").strip(),
            requests_per_s=int(rate),
        )

    def endpoints(self) -> contextlib.AbstractContextManager[None]:
        """discord.py pointed at this configuration's endpoints, while in the block."""
        return discord_py_endpoints(self.api_url, self.gateway_url)


@contextlib.contextmanager
def discord_py_endpoints(api_url: str | None, gateway_url: str | None) -> Iterator[None]:
    """discord.py's REST and gateway traffic sent to other endpoints (a proxy, tests) while
    in this block, then put back. discord.py has no per-client setting: its endpoints are
    class attributes that every client and webhook in the process reads, so they are
    changed only while a platform runs (from its start to its stop), never at import."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def webhook_destination(url: str) -> Destination:
    """A webhook's channel as paperwire names it: `discord:webhook:<webhook id>`."""
    match = re.search(r"/webhooks/(\d+)/", url)
    ident = match.group(1) if match else hashlib.sha1(url.encode()).hexdigest()[:12]
    return Destination("discord", WEBHOOK_WORKSPACE, ident)


# --- buttons that keep working after a restart (their state is in the custom id) --------
# Each only translates: its custom id becomes a neutral press, answered by handlers.buttons.


class PaperButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_PAPER_ID,
):
    """A digest paper's "Abstract" (shown only to whoever asks) or "Subscribe to similar"."""

    def __init__(self, action: str, paper_id: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.secondary,
                custom_id=f"pw:{action}:{paper_id}",
            )
        )
        self.action = action  # also the neutral action's name (ABSTRACT, SIMILAR)
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PaperButton:
        return cls(match["action"], match["paper"], "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _bot(interaction).press(interaction, Press(self.action, self.paper_id))


class NextButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_NEXT_ID,
):
    def __init__(self, key: str, offset: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Next", style=discord.ButtonStyle.primary, custom_id=f"pw:next:{offset}:{key}"
            )
        )
        self.key = key
        self.offset = offset

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NextButton:
        return cls(match["key"], int(match["offset"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        page = Page(self.offset, saved_as=self.key)
        await _bot(interaction).press(interaction, Press(NEXT, page))


class StaleButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Any other paperwire id: one of another version, or one paperwire never wrote.
    template=rf"(?s)(?!(?:{_NEXT_ID}|{_PAPER_ID})\Z)pw:.*",
):
    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(label="?", custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StaleButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _bot(interaction).press(interaction, Press("", None))  # no action: out of date


def _invocation(interaction: discord.Interaction, text: str = "") -> Invocation:
    """Who asked what, where; channel managers are those with Manage Channels there."""
    permissions = interaction.permissions
    return Invocation(
        platform="discord",
        workspace=str(interaction.guild_id or "dm"),
        channel=str(interaction.channel_id or ""),
        user=str(interaction.user.id),
        text=text,
        is_manager=bool(permissions and permissions.manage_channels),
    )


def _bot(interaction: discord.Interaction) -> PaperwireDiscord:
    client = interaction.client
    assert isinstance(client, PaperwireDiscord)
    return client


# --- the bot -------------------------------------------------------------------------------


class PaperwireDiscord(discord.Client):
    """The gateway client with the `/papers` command tree; also the bot's transport."""

    platform = "discord"

    def __init__(
        self, services: Services, sync_guild: int | None = None, pacer: Pacer | None = None
    ) -> None:
        super().__init__(
            intents=discord.Intents.none(),  # interactions need no privileged intent
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=0.5,
        )
        self.services = services
        # Discord's global limit; discord.py itself keeps to each route's bucket (it reads
        # the X-RateLimit headers) and waits out a 429.
        self.pacer = pacer or Pacer(DiscordConfig.requests_per_s)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(papers_commands(self))
        self.tree.error(self._on_app_command_error)
        self._sync_guild = sync_guild
        self.ready = False
        self.logged_in = False

    async def setup_hook(self) -> None:
        """The last step of a login that worked."""
        self.add_dynamic_items(PaperButton, NextButton, StaleButton)
        self.logged_in = True

    async def forget_session(self) -> None:
        """After a login that failed: close the HTTP session it opened, with its connector
        (the next login makes both again; without this each attempt leaks a session)."""
        await self.http.close()
        self.http.connector = discord.utils.MISSING

    async def sync_commands(self, guild: int | None = None) -> int:
        """Register the commands: everywhere (takes up to an hour) or in one guild (now)."""
        target = discord.Object(id=guild) if guild else None
        if target is not None:
            self.tree.copy_global_to(guild=target)
        synced = await self.tree.sync(guild=target)
        return len(synced)

    async def on_ready(self) -> None:
        self.ready = True
        _log.info("Discord: connected as %s", self.user)

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        """Defer, answer through the shared handlers, follow up."""
        await self._handle(interaction, dispatch, text)

    async def press(self, interaction: discord.Interaction, pressed: Press) -> None:
        """A button: the same, through the buttons' handlers."""
        await self._handle(interaction, lambda ctx: press(ctx, pressed))

    async def _handle(
        self,
        interaction: discord.Interaction,
        handler: Callable[[Context], Awaitable[Reply]],
        text: str = "",
    ) -> None:
        with self.services.requests.answering():  # in a task discord.py does not await
            try:
                await interaction.response.defer(ephemeral=True, thinking=True)
                context = Context(
                    _invocation(interaction, text), self.services, self.services.clock()
                )
                await self.answer(interaction, await handler(context))
            except Exception as error:
                # discord.py would log a button's error and leave "thinking..." unanswered.
                await self.on_interaction_error(interaction, error)

    async def _on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """The command tree's hook: what failed outside `_handle` (a command the tree does
        not know, an argument it could not convert)."""
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original  # type: ignore[assignment]
        await self.on_interaction_error(interaction, error)

    async def on_interaction_error(
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        """Anything unexpected while answering an interaction: its traceback logged once,
        and an apology to the person, so that Discord's "thinking..." is answered."""
        _log.error("Discord: answering an interaction failed", exc_info=error)
        try:
            if not interaction.response.is_done():
                await interaction.response.defer(ephemeral=True, thinking=True)
            await self.answer(interaction, apology())
        except Exception as exc:  # the apology's own way out failed: the log has the cause
            _log.warning("Discord: the apology could not be sent (%s)", describe(exc))

    async def answer(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Follow up a deferred interaction, by way of the outbox."""
        where = Destination.reply_in(
            "discord", str(interaction.guild_id or "dm"), str(interaction.channel_id or "")
        )
        expires = self.services.clock() + INTERACTION_LIFETIME
        handle = {
            "application_id": str(interaction.application_id),
            "token": interaction.token,
            "expires_at": expires.isoformat(),
        }
        await self.services.delivery.deliver(OutgoingMessage(where, reply, handle=handle))

    # --- the transport ---------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> Receipt:
        if not self.logged_in:  # Discord not reached yet: the outbox tries again later
            return Receipt(
                ok=False, error="Discord has not been reached yet", retry_in=NOT_CONNECTED_WAIT_S
            )
        content = message.reply.content
        bodies = render_discord(content)
        views = await self._views(content, bodies)
        try:
            if message.destination.kind == "reply":
                followup = self._followup(message)
                if followup is None:
                    return Receipt(ok=False, error="no interaction to answer", permanent=True)
                for body, view in zip(bodies, views, strict=True):
                    await message.departs()
                    await followup.send(ephemeral=message.reply.ephemeral, **_kwargs(body, view))
                return Receipt(ok=True)
            target = await self._messageable(message.destination)
            ids = []
            for number, (body, view) in enumerate(zip(bodies, views, strict=True)):
                # The nonce makes a retried send of the same part a no-op on Discord's side.
                nonce = _nonce(message, number)
                await self.pacer.acquire()
                await message.departs()  # its turn came: from now on it may arrive
                sent = await target.send(nonce=nonce, **_kwargs(body, view))
                ids.append(str(sent.id))
            return Receipt(ok=True, platform_ids=tuple(ids))
        except discord.HTTPException as exc:
            if exc.status == 429:  # still limited after discord.py's own retries: ease off
                self.pacer.hold(RATE_LIMITED_HOLD_S)
            return _failure(exc)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # tried again later
            return _unreachable(exc, str((message.handle or {}).get("token") or ""))

    def _followup(self, message: OutgoingMessage) -> discord.Webhook | None:
        """The interaction's follow-up webhook (what `interaction.followup` builds), from
        the application id and token kept with the reply."""
        handle = message.handle or {}
        app, token = handle.get("application_id"), handle.get("token")
        if not (isinstance(app, str) and app.isdigit() and isinstance(token, str) and token):
            return None
        data: Any = {"id": int(app), "type": 3, "token": token}
        return discord.Webhook.from_state(data=data, state=self._connection)

    async def _messageable(self, destination: Destination) -> discord.abc.Messageable:
        if destination.kind == "dm":
            await self.pacer.acquire()  # opening the DM may be a request
            return await self.create_dm(discord.Object(id=int(destination.channel)))
        # A partial channel needs no lookup; a missing channel shows up as the send's error.
        return self.get_partial_messageable(int(destination.channel))

    async def _views(
        self, content: Content, bodies: list[dict[str, Any]]
    ) -> list[discord.ui.View | None]:
        """Buttons for each message part: "Abstract" for each paper of a digest part (one
        embed per paper, in order), "Next" on the last part of a search with more."""
        views: list[discord.ui.View | None] = [None] * len(bodies)
        if isinstance(content, Digest):
            views = digest_views(content, bodies)
        elif isinstance(content, SearchPage) and content.has_more and bodies:
            key = await self.services.saved_queries.save_query(content.query, self.services.clock())
            view = discord.ui.View(timeout=None)
            view.add_item(NextButton(key, content.offset + len(content.hits)))
            views[-1] = view
        return views


def digest_views(digest: Digest, bodies: list[dict[str, Any]]) -> list[discord.ui.View | None]:
    """The buttons of each part of a digest (one embed per paper, in order): "Abstract"
    and "Similar to" for each paper."""
    views: list[discord.ui.View | None] = []
    number = 0
    for body in bodies:
        view = discord.ui.View(timeout=None)
        for paper in digest.papers[number : number + len(body.get("embeds", []))]:
            number += 1
            if buttons.paper_id(paper.id) is None or len(view.children) > 23:
                continue
            if paper.abstract:
                view.add_item(PaperButton("abstract", paper.id, f"Abstract {number}"))
            view.add_item(PaperButton("similar", paper.id, f"Similar to {number}"))
        views.append(view if view.children else None)
    return views


def digest_bodies(digest: Digest) -> list[dict[str, Any]]:
    """A digest's create-message bodies as the bot posts them, buttons included (what
    `paperwire digest --format discord --json` prints; discord.py adds the nonce)."""
    bodies = render_discord(digest)
    return [
        body | {"components": view.to_components()} if view is not None else body
        for body, view in zip(bodies, digest_views(digest, bodies), strict=True)
    ]


class DiscordBot:
    """The bot as a platform of `paperwire run`. Its start points discord.py at the
    configured endpoints (its stop puts them back); each attempt to connect logs in and
    registers the commands: a token Discord refuses stops paperwire, Discord out of reach is
    tried again (`bot.platforms.connecting`). Then discord.py keeps the gateway connected,
    reconnecting by itself with its own backoff."""

    name = "discord"

    def __init__(
        self,
        client: PaperwireDiscord,
        token: str,
        *,
        api_url: str | None = None,
        gateway_url: str | None = None,
    ) -> None:
        self.client = client
        self._token = token
        self._endpoints = (api_url, gateway_url)
        self._started = contextlib.ExitStack()

    async def start(self) -> None:
        self._started.enter_context(discord_py_endpoints(*self._endpoints))
        # discord.py logs each failed gateway connection with a traceback: one line will do.
        self._started.enter_context(
            _filtered(logging.getLogger("discord.client"), OneLineErrors("Attempting a reconnect"))
        )

    async def connect(self) -> None:
        client = self.client
        try:
            if not client.logged_in:
                await client.login(self._token)
            synced = await client.sync_commands()
        except discord.LoginFailure:
            raise UserError(
                "Discord refused DISCORD_BOT_TOKEN: copy the bot's token again"
                " (Developer Portal > your app > Bot > Reset Token)"
            ) from None
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            if not client.logged_in:
                await client.forget_session()
            raise Unreachable(describe(exc)) from None
        _log.info("Discord: %d commands synced globally (they can take an hour to show)", synced)

    async def serve(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:  # authentication failed
                raise UserError("Discord refused DISCORD_BOT_TOKEN on the gateway") from None
            raise PaperwireError(f"Discord closed the gateway for good ({describe(exc)})") from None
        except discord.DiscordException as exc:  # e.g. privileged intents not enabled
            raise PaperwireError(f"Discord: {describe(exc)}") from None

    async def stop(self) -> None:
        try:
            await self.client.close()
        finally:
            self._started.close()


@contextlib.contextmanager
def _filtered(logger: logging.Logger, log_filter: logging.Filter) -> Iterator[None]:
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


def papers_commands(bot: PaperwireDiscord) -> app_commands.Group:
    """`/papers …` as typed app commands, each mapped onto the shared text handlers."""
    papers = app_commands.Group(name="papers", description="Trending research papers")
    digest = app_commands.Group(
        name="digest", description="This channel's daily digest (Manage Channels)", parent=papers
    )

    @papers.command(name="search", description="Search the papers, best matches first")
    @app_commands.describe(query='Words, "a phrase", prefix*, -exclude, author:"Name"')
    async def search(
        interaction: discord.Interaction, query: app_commands.Range[str, 1, 500]
    ) -> None:
        await bot.run_command(interaction, f"search {query}")

    @papers.command(name="trending", description="A day's trending papers (latest by default)")
    @app_commands.describe(date="YYYY-MM-DD")
    async def trending(interaction: discord.Interaction, date: str | None = None) -> None:
        await bot.run_command(interaction, f"trending {date or ''}".strip())

    @papers.command(name="help", description="What paperwire can do")
    async def help_(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "help")

    @digest.command(name="on", description="Post the day's papers here every day")
    @app_commands.describe(time="HH:MM, e.g. 08:30", zone="Time zone, e.g. Europe/Paris")
    async def on(
        interaction: discord.Interaction, time: str | None = None, zone: str | None = None
    ) -> None:
        await bot.run_command(interaction, " ".join(["digest on", time or "", zone or ""]).strip())

    @digest.command(name="off", description="Stop the daily digest here")
    async def off(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "digest off")

    @digest.command(name="status", description="Settings, next run, last post")
    async def status(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "digest status")

    @digest.command(name="now", description="Post today's digest now")
    async def now(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "digest now")

    @digest.command(name="set", description="Change one setting")
    @app_commands.describe(setting="What to change", value="e.g. 10, agents -survey, mon-fri")
    async def set_(
        interaction: discord.Interaction,
        setting: Literal["size", "topic", "days", "format", "covers"],
        value: app_commands.Range[str, 1, 200],
    ) -> None:
        await bot.run_command(interaction, f"digest set {setting} {value}")

    @papers.command(name="subscribe", description="A direct message with new papers on a topic")
    @app_commands.describe(topic='Words, "a phrase", prefix*, author:"Name", cat:cs.CL')
    async def subscribe(
        interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200]
    ) -> None:
        await bot.run_command(interaction, f"subscribe {topic}")

    @papers.command(name="unsubscribe", description="Stop following a topic")
    @app_commands.describe(topic="One of your topics, its number, or all")
    async def unsubscribe(interaction: discord.Interaction, topic: str) -> None:
        await bot.run_command(interaction, f"unsubscribe {topic}")

    @unsubscribe.autocomplete("topic")
    async def your_topics(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Only the caller's own topics are offered. Each goes by its number, which
        `unsubscribe` takes back whole: a topic may be 200 characters, a choice's value 100."""
        owner = Destination(
            "discord", str(interaction.guild_id or "dm"), str(interaction.user.id), kind="dm"
        )
        with bot.services.requests.answering():
            topics = [s.topic for s in await bot.services.subscriptions.subscriptions(owner)]
        wanted = current.strip().casefold()
        choices = [
            app_commands.Choice(name=shorten(f"{number}. {topic}", CHOICE_NAME), value=str(number))
            for number, topic in enumerate(topics, 1)
            if wanted in topic.casefold() or wanted.lstrip("#") == str(number)
        ]
        if wanted in "all":
            choices.append(app_commands.Choice(name="all", value="all"))
        return choices[:25]

    @papers.command(name="subscriptions", description="Your topics, each with its last match")
    async def subscriptions(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "subscriptions")

    @papers.command(name="pause", description="Pause your alerts (for some days)")
    async def pause(
        interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] | None = None
    ) -> None:
        await bot.run_command(interaction, f"pause {days or ''}".strip())

    @papers.command(name="resume", description="Start your alerts again")
    async def resume(interaction: discord.Interaction) -> None:
        await bot.run_command(interaction, "resume")

    @papers.command(name="alerts", description="When your daily alert comes")
    @app_commands.describe(time="HH:MM", zone="Time zone, e.g. Europe/Paris")
    async def alerts(interaction: discord.Interaction, time: str, zone: str | None = None) -> None:
        await bot.run_command(interaction, f"alerts {time} {zone or ''}".strip())

    return papers


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
        ids = []
        try:
            for body in render_discord(message.reply.content):
                await message.departs()
                sent = await self._webhook.send(wait=True, **_kwargs(body, None))
                ids.append(str(sent.id))
        except discord.HTTPException as exc:
            return _failure(exc)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return _unreachable(exc, self._webhook.token or "")
        return Receipt(ok=True, platform_ids=tuple(ids))


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
