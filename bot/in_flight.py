"""Requests being answered, so that a stop can end them before the database closes.

The platform libraries run each handler in a task of their own that nothing awaits
(slack-bolt answers Slack once the handler acks, then lets it run on; discord.py starts a
task per interaction). Closing a platform stops new requests, not those: left running,
they would meet a closed database. A stop gives them `GRACE_S` to finish before the
platforms close (most take milliseconds), and cancels the rest once they are closed; a
reply already in the outbox goes out on the next start. From then on, a request that still
arrives (a platform's receiver may dispatch while its close waits) ends at once, cancelled.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

_log = logging.getLogger(__name__)

GRACE_S = 0.5

P = ParamSpec("P")
T = TypeVar("T")


class InFlight:
    """The tasks answering requests right now."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False  # set by `cancel`: the database is about to close

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count the current task as answering a request while in this block. After
        `cancel`, raise CancelledError instead: ended as the requests it cancelled were."""
        if self._closed:
            _log.info("stopping: a request arriving meanwhile was not answered")
            raise asyncio.CancelledError
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing a stop could cancel
            yield
            return
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    def tracked(self, handler: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        """`handler`, counted while it runs. Its signature shows through (`functools.wraps`):
        slack-bolt picks the arguments it passes by their names."""

        @functools.wraps(handler)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            with self.answering():
                return await handler(*args, **kwargs)

        return run

    async def finish(self, grace_s: float = GRACE_S) -> None:
        """Wait up to `grace_s` for the requests being answered (while the platforms are
        still up, so that their replies can go out)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_s)

    async def cancel(self, wait_s: float = GRACE_S) -> None:
        """Cancel the requests still being answered, and those starting from now on, and
        wait up to `wait_s` for them to end."""
        self._closed = True
        if not self._tasks:
            return
        running = set(self._tasks)
        _log.info("stopping: %d request(s) still being answered were cancelled", len(running))
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=wait_s)
