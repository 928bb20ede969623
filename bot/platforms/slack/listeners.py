"""What arrives from Slack: the bolt listeners for the `/papers` command, the buttons and
`app_mention` events. Each turns Slack's payload into a neutral `Invocation` (or a `Press`)
for the handlers, and hands their `Reply` to the delivery service (the way out:
transport.py).

Commands and presses are acknowledged at once (Slack allows 3 s) and answered through their
response URL when the work is done, ephemeral unless shared; a mention is answered in its
thread. What fails on the way is answered with an apology (`_on_error`).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, ParamSpec

from slack_bolt.async_app import AsyncApp

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.models import Destination
from bot.platforms.connecting import describe
from bot.platforms.slack.managers import Managers
from bot.platforms.slack.workspaces import Workspaces
from bot.render.limits import SLACK_BUTTON_VALUE
from bot.render.neutral import Notice, Reply, SearchPage
from bot.render.slack_buttons import (
    ACTION_ABSTRACT,
    ACTION_MORE_LIKE,
    ACTION_NEXT,
    ACTION_NOT_FOR_US,
    ACTION_SAVE,
    ACTION_SAVED_PAGE,
    ACTION_SHARE,
    ACTION_SIMILAR,
    choice_action_id,
)
from handlers import buttons
from handlers.buttons import ListPage, Page, Press
from handlers.context import Context, Invocation
from handlers.router import apology, dispatch, needs_manager, press

_log = logging.getLogger(__name__)
P = ParamSpec("P")

COMMAND = "/papers"
# A response URL takes posts for 30 minutes (and at most 5 of them).
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
# An answer to a mention still makes sense this long after it was asked for.
MENTION_ANSWER_LIFETIME = timedelta(hours=1)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class Listeners:
    """bolt's listeners: each request handed to the handlers, its answer to the outbox."""

    def __init__(
        self, services: Services, managers: Managers, workspaces: Workspaces | None = None
    ) -> None:
        self._services = services
        self._managers = managers
        self._workspaces = workspaces  # OAuth mode: the installed workspaces

    def attach(self, app: AsyncApp) -> None:
        # bolt runs each handler in a task nothing awaits: a stop must know of them.
        tracked = self._services.requests.tracked
        app.command(COMMAND)(tracked(self._hooked(self._on_command)))
        for action_id in ACTIONS:
            app.action(action_id)(tracked(self._hooked(self._on_press)))
        app.event("app_mention")(tracked(self._hooked(self._on_mention)))
        app.event("app_uninstalled")(tracked(self._hooked(self._on_uninstalled)))
        app.event("tokens_revoked")(tracked(self._hooked(self._on_uninstalled)))
        app.error(tracked(self._on_error))  # what bolt's own middleware raises

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
        answer = reply if reply.private else replace(reply, ephemeral=False)
        await self._answer_mention(invocation, event, answer)

    async def _on_uninstalled(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A workspace uninstalled paperwire, or revoked its bot token: it is stopped (its
        settings kept for the grace period). A revoked user token alone changes nothing:
        paperwire keeps none."""
        kind = str(event.get("type") or "")
        tokens = event.get("tokens")
        if kind == "tokens_revoked" and not (isinstance(tokens, dict) and tokens.get("bot")):
            return
        assert self._workspaces is not None
        team = body.get("team_id") or body.get("enterprise_id")  # an org-wide install: the org
        await self._workspaces.uninstall(str(team or ""), kind)

    async def _on_press(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        pressed = _press(body)
        invocation = _from_action(body)
        if buttons.needs_manager(pressed.action):
            invocation = replace(invocation, is_manager=await self._managers.is_manager(invocation))
        reply = await press(Context(invocation, self._services, self._services.clock()), pressed)
        # A Next's page takes the place of the one it was pressed under (a search's, or a
        # reading list's: ephemeral, which its response URL still replaces), and a choice's
        # answer that of the question (its buttons go with it); anything else (a shared
        # page, an abstract, a refusal) is a message of its own.
        next_page = (pressed.action == buttons.NEXT and isinstance(reply.content, SearchPage)) or (
            pressed.action == buttons.SAVED_PAGE
            and isinstance(reply.content, Notice)
            and reply.content.pages is not None
        )
        in_place = next_page or pressed.action in buttons.CHOICES
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
        return replace(invocation, is_manager=await self._managers.is_manager(invocation))

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
            "user": invocation.user,  # whose DM a file for them alone goes to
        }
        await self._services.delivery.deliver(OutgoingMessage(where, reply, handle=handle))


def _from_command(body: Mapping[str, Any]) -> Invocation:
    return Invocation(
        platform="slack",
        workspace=str(body.get("team_id") or ""),
        channel=str(body.get("channel_id") or ""),
        user=str(body.get("user_id") or ""),
        text=str(body.get("text") or ""),
        command=str(body.get("command") or COMMAND),
        channel_name=_channel_name(body.get("channel_name")),
    )


def _channel_name(name: object) -> str:
    """A slash command's channel name; none for Slack's placeholders of DMs and groups."""
    text = str(name or "")
    return "" if text in ("directmessage", "privategroup", "mpdm") else text


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
    ACTION_MORE_LIKE: buttons.MORE_LIKE,
    ACTION_NOT_FOR_US: buttons.NOT_FOR_US,
    ACTION_SAVE: buttons.SAVE,
    ACTION_SAVED_PAGE: buttons.SAVED_PAGE,
    **{choice_action_id(action): action for action in buttons.CHOICES},
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
    if action == buttons.SAVED_PAGE:
        return Press(action, _list_page(raw))
    return Press(action, raw)


def _json_object(raw: str) -> dict[str, Any] | None:
    """A button's JSON value, an object within Slack's 2,000 characters; None otherwise."""
    if len(raw) > SLACK_BUTTON_VALUE:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # a value nested a thousand deep is not ours
        return None
    return value if isinstance(value, dict) else None


def _list_page(raw: str) -> ListPage | None:
    """The reading list's page a Previous/Next carries, `{"p": <page>, "t": <tag|null>}`
    (checked by the handler)."""
    value = _json_object(raw)
    if value is None:
        return None
    page, tag = value.get("p"), value.get("t")
    if not isinstance(page, int) or not (tag is None or isinstance(tag, str)):
        return None
    return ListPage(page, tag)


def _page(raw: str) -> Page | None:
    """The page a search button carries, `{"q": "<query>", "o": <offset>}`; None for any
    other value."""
    value = _json_object(raw)
    if value is None:
        return None
    query, offset = value.get("q"), value.get("o")
    if not isinstance(query, str) or not isinstance(offset, int):
        return None
    return Page(offset, query=query)
