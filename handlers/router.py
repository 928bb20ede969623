"""`/papers <subcommand> ...`: finds the handler, and turns every failure into a reply."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.budget import in_words
from bot.errors import UserError
from bot.render.neutral import Notice, Reply
from handlers.context import MAX_ARGUMENT_CHARS, Context
from handlers.digest import digest
from handlers.help import help_reply, show_help
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

# Names are case-insensitive, the command's own included.
COMMAND_NAMES = frozenset({"/papers", "papers"})


async def dispatch(ctx: Context) -> Reply:
    """Answer one invocation. Never raises: mistakes get help, bugs get an apology."""
    inv = ctx.invocation
    wait = ctx.services.budgets.command(inv.platform, inv.workspace, inv.user, ctx.now)
    if wait is not None:
        return slow_down(wait)
    text = inv.text.strip()
    if len(text) > MAX_ARGUMENT_CHARS:
        return _error(
            f"That is {len(text):,} characters; commands take at most {MAX_ARGUMENT_CHARS:,}."
        )
    name, _, args = text.partition(" ")
    if name.lower() in COMMAND_NAMES:  # the command itself typed again (`/PAPERS help`)
        name, _, args = args.strip().partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    if not name:
        return help_reply()
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        return help_reply(error=f"Unknown command `{name[:40]}`.")
    try:
        return await handler(ctx, args.strip())
    except UserError as exc:
        return _error(str(exc))
    except Exception:
        _log.exception("command failed: %s %s", ctx.invocation.command, name)
        return _error("Sorry, something went wrong on our side. It has been logged.")


def slow_down(wait: timedelta) -> Reply:
    """Over the command budget: said to the asker alone, even for a public mention."""
    text = f"Slow down: you can send another command in {in_words(wait)}."
    return Reply(Notice(text), private=True)


def _error(text: str) -> Reply:
    return Reply(Notice(text, is_error=True))
