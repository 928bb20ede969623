"""Checks a handler runs before it acts, the same for commands and buttons."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.errors import UserError
from bot.render.neutral import Reply
from handlers.context import Context

UNCHECKED = (
    "Could not check your permissions with the platform just now (it did not answer); try"
    " again in a minute."
)
REFUSAL = (
    "Only channel managers can change this channel's digest (Slack: workspace admins and"
    " owners, or the configured allow-list; Discord: the Manage Channels permission)."
)

A = TypeVar("A")  # what the handler takes besides the context: a command's text, a press


def require_manager(ctx: Context) -> None:
    """Refuse (a `UserError`) unless the asker manages the channel; say so when the platform
    could not tell."""
    if ctx.invocation.is_manager is None:
        raise UserError(UNCHECKED)
    if not ctx.invocation.is_manager:
        raise UserError(REFUSAL)


class ManagersOnly(Generic[A]):
    """A handler only channel managers may use: anyone else is refused before it runs.
    Marked so, an adapter that pays a request to learn who manages a channel (Slack asks
    `users.info`) asks only for such handlers (`needs_manager`)."""

    def __init__(self, handler: Callable[[Context, A], Awaitable[Reply]]) -> None:
        self._handler = handler
        functools.update_wrapper(self, handler)

    async def __call__(self, ctx: Context, argument: A) -> Reply:
        require_manager(ctx)
        return await self._handler(ctx, argument)


def needs_manager(handler: object) -> bool:
    return isinstance(handler, ManagersOnly)
