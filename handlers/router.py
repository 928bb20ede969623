"""`/papers <subcommand> ...` and button presses: finds the handler, and turns every failure
into a reply."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.budget import in_words
from bot.errors import UserError
from bot.render.neutral import Notice, Reply
from handlers import buttons
from handlers.buttons import Press
from handlers.context import MAX_ARGUMENT_CHARS, Context
from handlers.digest import digest
from handlers.forget import forget
from handlers.guards import needs_manager as guarded
from handlers.help import help_reply, show_help
from handlers.reading import save, saved
from handlers.search import search
from handlers.subscriptions import (
    alerts,
    pause,
    resume,
    subscribe,
    subscriptions,
    unsubscribe,
)
from handlers.trending import trending

_log = logging.getLogger(__name__)

Handler = Callable[[Context, str], Awaitable[Reply]]

SUBCOMMANDS: dict[str, Handler] = {
    "search": search,
    "trending": trending,
    "digest": digest,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "subscriptions": subscriptions,
    "pause": pause,
    "resume": resume,
    "alerts": alerts,
    "save": save,
    "saved": saved,
    "forget": forget,
    "help": show_help,
}
ALIASES = {
    "s": "search",
    "find": "search",
    "t": "trending",
    "today": "trending",
    "follow": "subscribe",
    "unfollow": "unsubscribe",
    "topics": "subscriptions",
    "?": "help",
}

APOLOGY = "Sorry, something went wrong on our side. It has been logged."
# Names are case-insensitive, the command's own included.
COMMAND_NAMES = frozenset({"/papers", "papers"})


async def dispatch(ctx: Context) -> Reply:
    """Answer one invocation. Never raises: mistakes get help, bugs get an apology."""
    started = time.perf_counter()
    family, reply = await _dispatch(ctx)
    ctx.services.metrics.command(family, time.perf_counter() - started)
    return reply


async def _dispatch(ctx: Context) -> tuple[str, Reply]:
    """The reply, and the command's family for the metrics (never what was typed)."""
    inv = ctx.invocation
    wait = ctx.services.budgets.command(inv.platform, inv.workspace, inv.user, ctx.now)
    if wait is not None:
        return "refused", slow_down(wait)
    text = inv.text.strip()
    if len(text) > MAX_ARGUMENT_CHARS:
        return "refused", _error(
            f"That is {len(text):,} characters; commands take at most {MAX_ARGUMENT_CHARS:,}."
        )
    name, args = _parse(text)
    if not name:
        return "help", help_reply()
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        return "unknown", help_reply(error=f"Unknown command `{name[:40]}`.")
    return name, await _answer(handler(ctx, args), f"command failed: {inv.command} {name}")


async def press(ctx: Context, pressed: Press) -> Reply:
    """Answer one button press. Never raises, like `dispatch`. Presses spend no command
    budget: each answers the one person who pressed, about a message already sent."""
    started = time.perf_counter()
    handler = buttons.handler_for(pressed.action)
    reply = await _answer(handler(ctx, pressed), f"button failed: {pressed.action[:40]}")
    ctx.services.metrics.command("button", time.perf_counter() - started)
    return reply


def needs_manager(text: str) -> bool:
    """Whether the command in `text` is for channel managers only: the platforms where
    knowing it takes a request (Slack) ask only then."""
    return guarded(SUBCOMMANDS.get(_parse(text)[0]))


def _parse(text: str) -> tuple[str, str]:
    """The subcommand's name (aliases resolved, lower case) and its arguments."""
    name, _, args = text.strip().partition(" ")
    if name.lower() in COMMAND_NAMES:  # the command itself typed again (`/PAPERS help`)
        name, _, args = args.strip().partition(" ")
    return ALIASES.get(name.lower(), name.lower()), args.strip()


async def _answer(answering: Awaitable[Reply], failed: str) -> Reply:
    """The handler's reply; a `UserError` as its one-line message; anything else (a bug)
    as an apology, and its traceback logged once."""
    try:
        return await answering
    except UserError as exc:
        return _error(str(exc))
    except Exception:
        _log.exception("%s", failed)
        return apology()


def slow_down(wait: timedelta) -> Reply:
    """Over the command budget: said to the asker alone, even for a public mention."""
    text = f"Slow down: you can send another command in {in_words(wait)}."
    return Reply(Notice(text), private=True)


def apology() -> Reply:
    """What the asker gets for a bug: no detail (it is in the log)."""
    return _error(APOLOGY)


def _error(text: str) -> Reply:
    return Reply(Notice(text, is_error=True))
