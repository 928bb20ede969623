"""How many commands one person may send, so that a script or a bored user cannot spend
the bot's work, nor the workspace's posting budget the digests need (a mention's answer is
a public post).

`bot.delivery.pacing` makes a send wait for its turn; a budget refuses at once instead and says how
long until the next one is allowed. Each `Rate` is a token bucket kept as one time per key
(GCRA): `count` at once, then one every `per / count`. Budgets live in memory: a restart
forgives everyone, which is fine for limits measured in minutes.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.models import Destination

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# The console is the local operator's own terminal (`paperwire shell`, or a script piped
# into it): there is no one to protect them from, and a throttled script would only fail.
UNLIMITED_PLATFORMS = frozenset({"console"})


@dataclass(frozen=True)
class Rate:
    count: int  # 0: no limit
    per: timedelta

    @property
    def interval(self) -> timedelta:
        return self.per / self.count

    def since(self, full_at: datetime, now: datetime) -> datetime:
        """When a bucket last seen full again at `full_at` is full again, seen from `now`.
        It is never more than `per` ahead unless the clock went back: start afresh then."""
        return now if full_at < now or full_at - now > self.per else full_at

    def wait(self, full_at: datetime, now: datetime) -> timedelta:
        """How long until the bucket has room for one (zero or less: it has now)."""
        return full_at - now - (self.per - self.interval)


class Budget:
    """Every `rate` at once, for each key separately."""

    MAX_KEYS = 50_000  # past this, the least recently seen keys are forgotten

    def __init__(self, *rates: Rate, max_keys: int = MAX_KEYS) -> None:
        self._rates = tuple(r for r in rates if r.count > 0)
        self._max_keys = max_keys
        # key -> per rate, when its bucket is full again; in order of last use.
        self._full_at: dict[Hashable, tuple[datetime, ...]] = {}

    def take(self, key: Hashable, now: datetime) -> timedelta | None:
        """Spend one for `key` if every rate allows it and return None; otherwise spend
        nothing and return how long until one would be allowed."""
        seen = self._full_at.pop(key, None) or (now,) * len(self._rates)
        pairs = [(rate, rate.since(at, now)) for rate, at in zip(self._rates, seen, strict=True)]
        wait = max((rate.wait(at, now) for rate, at in pairs), default=timedelta(0))
        allowed = wait <= timedelta(0)
        if allowed:
            pairs = [(rate, at + rate.interval) for rate, at in pairs]
        self._full_at[key] = tuple(at for _, at in pairs)  # at the end: the latest used
        self._forget(now)
        return None if allowed else wait

    def __len__(self) -> int:
        return len(self._full_at)

    def _forget(self, now: datetime) -> None:
        """Drop keys whose buckets are full again (as if never seen), oldest use first,
        and past `max_keys` the least recently used even if not full: memory stays
        bounded whatever the number of users."""
        while self._full_at:
            oldest = next(iter(self._full_at))
            if len(self._full_at) > self._max_keys or all(
                at <= now for at in self._full_at[oldest]
            ):
                del self._full_at[oldest]
            else:
                break


class Budgets:
    """The budgets of one running bot: commands per user, `digest now` per channel."""

    def __init__(self, commands_per_minute: int = 10, commands_per_hour: int = 60) -> None:
        self.commands = Budget(Rate(commands_per_minute, MINUTE), Rate(commands_per_hour, HOUR))
        self.digest_now = Budget(Rate(1, MINUTE))

    def command(self, platform: str, workspace: str, user: str, now: datetime) -> timedelta | None:
        """None when `user` may send a command now; else how long until they may."""
        if platform in UNLIMITED_PLATFORMS:
            return None
        return self.commands.take((platform, workspace, user), now)

    def digest(self, channel: Destination, now: datetime) -> timedelta | None:
        """None when `digest now` may run in `channel` now; else how long until it may."""
        if channel.platform in UNLIMITED_PLATFORMS:
            return None
        return self.digest_now.take(channel.key, now)


def in_words(wait: timedelta) -> str:
    """`40 s`, `3 min`: a wait as a person would say it (rounded up)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    return f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"
