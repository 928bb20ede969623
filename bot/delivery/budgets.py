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


class ClaimLost(Exception):
    """A send about to leave found its budget gone to another process: it must not go."""


class Claims:
    """One process's side of the budgets: which it sends for (given the live processes),
    and its claims on them in the database. A budget whose owner changes is let go only
    once this process's drains of it have ended; meanwhile no new send of it leaves (each
    checks `still_ours` right before its request), so the new owner never sends a message
    this process is still sending."""

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
        self._draining: dict[str, int] = {}  # drains under way, by key
        self._leaving: set[str] = set()  # budgets another process now owns: let go when idle
        self._budgets: set[str] = set()  # the keys claimed that are budgets (not replies)

    def sends_to(self, destination: Destination) -> bool:
        """Its replies always; the rest when it owns their budget (always, alone)."""
        if destination.kind == "reply":
            return True
        return self._owns(budget_of(destination))

    def _owns(self, budget: str) -> bool:
        return self._peers is None or owner_of(budget, self._peers) == self._process

    async def set_peers(self, processes: Sequence[str]) -> None:
        """The live processes (this one included): budgets it no longer owns are let go,
        for their new owner to take, once its drains of them have ended."""
        self._peers = tuple(sorted({*processes, self._process}))
        for budget in sorted(self._confirmed.keys() & self._budgets):
            if not self._owns(budget):
                self._leaving.add(budget)
                if not self._draining.get(budget):
                    await self._let_go(budget)

    async def begin(self, key: str, budget: bool) -> bool:
        """Claim `key` (a budget, or a reply's destination) for a drain; False when another
        process sends for it now (or owns the budget)."""
        if not await self.claim(key, budget):
            return False
        self._draining[key] = self._draining.get(key, 0) + 1
        return True

    async def end(self, key: str, budget: bool) -> None:
        """A drain of `key` ended: a reply's claim is let go, a budget's kept for the next
        drain unless another process owns it now."""
        left = self._draining.get(key, 1) - 1
        if left > 0:
            self._draining[key] = left
            return
        self._draining.pop(key, None)
        if not budget or key in self._leaving:
            await self._let_go(key)

    async def claim(self, key: str, budget: bool = True) -> bool:
        """Hold `key` for one more send (confirmed in the database at most CLAIM_CHECK
        apart): a budget only while this process owns it."""
        if budget and (key in self._leaving or not self._owns(key)):
            return False
        async with self._claiming:
            now = self._clock()
            confirmed = self._confirmed.get(key)
            if confirmed is not None and now - confirmed < CLAIM_CHECK:
                return True
            if await self._outbox.claim([key], self._process, now + self._lease, now):
                self._confirmed[key] = now
                if budget:
                    self._budgets.add(key)
                return True
            self._confirmed.pop(key, None)
            return False

    async def still_ours(self, key: str, budget: bool) -> None:
        """Right before a request leaves: raise `ClaimLost` if `key` is no longer this
        process's to send for."""
        if not await self.claim(key, budget):
            raise ClaimLost(key)

    async def _let_go(self, key: str) -> None:
        self._leaving.discard(key)
        self._confirmed.pop(key, None)
        await self._outbox.release_claim(key, self._process)
