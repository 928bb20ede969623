"""Which process sends what, when several share one database. Messages count against a
platform budget: Discord's is the bot token's (its global limit), every other platform's
is the workspace's. Each budget has one owner among the live processes, chosen by
rendezvous hashing: every process computes the same owner from the same list, and when a
process comes or goes only its share of budgets moves. One pacer per budget then keeps the
platform's limits for all the processes together."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from bot.models import Destination
from bot.storage import Outbox

# Platforms whose limit is one budget for the whole bot, whatever the server.
GLOBAL_BUDGETS = frozenset({"discord"})


def budget_of(destination: Destination) -> str:
    if destination.platform in GLOBAL_BUDGETS:
        return destination.platform
    return f"{destination.platform}:{destination.workspace}"


def interleaved(destinations: Sequence[str]) -> list[str]:
    """`destinations` (keys) taken in turn from each budget, each budget's own in the order
    given: a fan-out's drain places then go to every budget at once, rather than to the
    channels of the first few workspaces, each waiting for its own budget, while the other
    budgets stay idle."""
    queues: dict[str, list[str]] = {}
    for key in destinations:
        queues.setdefault(budget_of(Destination.from_key(key)), []).append(key)
    turns = [iter(queue) for queue in queues.values()]
    ordered: list[str] = []
    while turns:
        turns = [turn for turn in turns if _take(turn, ordered)]
    return ordered


def _take(turn: Iterator[str], into: list[str]) -> bool:
    for key in turn:
        into.append(key)
        return True
    return False


def owner_of(budget: str, processes: Sequence[str]) -> str:
    """The process that sends for `budget` (`processes` must not be empty)."""
    return max(processes, key=lambda process: _weight(process, budget))


def _weight(process: str, budget: str) -> bytes:
    return hashlib.blake2b(f"{process}\n{budget}".encode(), digest_size=8).digest()


# A claim lasts the longest send, and this much more: past it, a process that died while
# sending is taken over (sooner once its heartbeat is PROCESS_GONE_AFTER old).
CLAIM_MARGIN = timedelta(seconds=60)
# The drains of one budget share its claim, confirmed in the database at most this apart:
# a claim another process took over (this one looked dead) is noticed within it.
CLAIM_CHECK = timedelta(seconds=2)


class Claims:
    """One process's side of the budgets: which it sends for (given the live processes),
    and its claims on them in the database."""

    def __init__(
        self,
        outbox: Outbox,
        process: str,
        clock: Callable[[], datetime],
        longest_send: timedelta,
    ) -> None:
        self._outbox = outbox
        self._process = process
        self._clock = clock
        self._lease = longest_send + CLAIM_MARGIN
        self._peers: tuple[str, ...] | None = None  # None: this process alone
        self._confirmed: dict[str, datetime] = {}  # keys claimed, and when last confirmed
        self._claiming = asyncio.Lock()  # one claim request at a time from this process

    def sends_to(self, destination: Destination) -> bool:
        """Its replies always; the rest when it owns their budget (always, alone)."""
        if destination.kind == "reply" or self._peers is None:
            return True
        return owner_of(budget_of(destination), self._peers) == self._process

    async def set_peers(self, processes: Sequence[str]) -> None:
        """The live processes (this one included): budgets it no longer owns are let go,
        for their new owner to take."""
        self._peers = tuple(sorted({*processes, self._process}))
        for budget in sorted(self._confirmed):
            if owner_of(budget, self._peers) != self._process:
                await self.release(budget)

    async def claim(self, key: str) -> bool:
        """Hold `key` (a budget, or a reply's destination) for one more send."""
        async with self._claiming:
            now = self._clock()
            confirmed = self._confirmed.get(key)
            if confirmed is not None and now - confirmed < CLAIM_CHECK:
                return True
            if await self._outbox.claim([key], self._process, now + self._lease, now):
                self._confirmed[key] = now
                return True
            self._confirmed.pop(key, None)
            return False

    async def release(self, key: str) -> None:
        self._confirmed.pop(key, None)
        await self._outbox.release_claim(key, self._process)
