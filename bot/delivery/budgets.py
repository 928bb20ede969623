"""Which process sends what, when several share one database. Messages count against a
platform budget: Discord's is the bot token's (its global limit), every other platform's
is the workspace's. Each budget has one owner among the live processes, chosen by
rendezvous hashing: every process computes the same owner from the same list, and when a
process comes or goes only its share of budgets moves. One pacer per budget then keeps the
platform's limits for all the processes together."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from bot.models import Destination

# Platforms whose limit is one budget for the whole bot, whatever the server.
GLOBAL_BUDGETS = frozenset({"discord"})


def budget_of(destination: Destination) -> str:
    if destination.platform in GLOBAL_BUDGETS:
        return destination.platform
    return f"{destination.platform}:{destination.workspace}"


def owner_of(budget: str, processes: Sequence[str]) -> str:
    """The process that sends for `budget` (`processes` must not be empty)."""
    return max(processes, key=lambda process: _weight(process, budget))


def _weight(process: str, budget: str) -> bytes:
    return hashlib.blake2b(f"{process}\n{budget}".encode(), digest_size=8).digest()
