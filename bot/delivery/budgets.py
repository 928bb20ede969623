"""Which process sends what, when several share one database. Messages count against a
platform budget: Discord's is the bot token's (its global limit), every other platform's
is the workspace's. Each budget has one owner among the live processes, chosen by
rendezvous hashing: every process computes the same owner from the same list, and when a
process comes or goes only its share of budgets moves. One pacer per budget then keeps the
platform's limits for all the processes together."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from bot.models import Destination

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
