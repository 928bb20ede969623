"""Pacing requests to a platform's published rate limits, so a fan-out to thousands of
channels runs at the allowed rate instead of finding the limit by its 429s.

A `Bucket` lets requests through at `rate` per second, `burst` at once at most. Each
request reserves the next free slot (GCRA), so waiting requests go in arrival order and
nothing polls. When the server says "wait" anyway (a 429), `hold` keeps everyone back
until then, including requests that had already reserved an earlier slot.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

Clock = Callable[[], float]  # monotonic seconds
Sleep = Callable[[float], Awaitable[None]]


class Bucket:
    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval  # how far ahead a burst may run
        self._clock = clock
        self._sleep = sleep
        self._next = clock()  # when the next request may go, were there no burst
        self._held_until = 0.0

    async def acquire(self) -> None:
        """Wait for this request's turn."""
        while True:
            now = self._clock()
            start = max(now, self._next - self._tolerance, self._held_until)
            self._next = max(self._next, start) + self._interval
            if start > now:
                await self._sleep(start - now)
            if self._clock() >= self._held_until:
                return
            # A 429 arrived while this request waited: its slot is gone, take a new one.

    def delay(self) -> float:
        """How long a request asking now would wait for its turn (nothing is reserved)."""
        now = self._clock()
        return max(0.0, self._next - self._tolerance - now, self._held_until - now)

    def went(self) -> None:
        """A request just went (maybe later than its turn): the next one waits a full
        interval from now."""
        self._next = max(self._next, self._clock() + self._interval)

    def hold(self, seconds: float) -> None:
        """Nobody goes for `seconds` (the server's Retry-After)."""
        until = self._clock() + max(0.0, seconds)
        self._held_until = max(self._held_until, until)
        self._next = max(self._next, self._held_until)

    def idle_since(self, now: float) -> bool:
        """Whether the bucket has nothing reserved after `now` (it can be forgotten)."""
        return self._next <= now and self._held_until <= now


class Pacer:
    """One platform's limits: a shared bucket (Slack's workspace budget, Discord's global
    limit) and, optionally, one bucket per channel."""

    MAX_CHANNELS = 10_000  # channel buckets kept; past that, the idle ones are forgotten

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        per_channel: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.shared = Bucket(rate, burst, clock, sleep)
        self._per_channel = per_channel
        self._channels: dict[str, Bucket] = {}
        self._clock = clock
        self._sleep = sleep
        self.on_hold: Callable[[float], None] | None = None  # told of each 429 (the metrics)

    async def acquire(self, channel: str | None = None) -> None:
        """Wait until a request to `channel` is within every limit. The channel's turn
        comes first, so a slot in the shared budget is never held by a request that would
        still have to wait for its channel."""
        if channel is None or self._per_channel is None:
            await self.shared.acquire()
            return
        bucket = self._channel(channel)
        await bucket.acquire()
        await self.shared.acquire()
        bucket.went()  # the shared wait may have been long: space the channel from now

    def hold(self, seconds: float) -> None:
        """The platform answered 429: everyone waits `seconds`."""
        self.shared.hold(seconds)
        if self.on_hold is not None:
            self.on_hold(seconds)

    def _channel(self, channel: str) -> Bucket:
        bucket = self._channels.get(channel)
        if bucket is None:
            assert self._per_channel is not None
            if len(self._channels) >= self.MAX_CHANNELS:
                self._forget_idle()
            bucket = Bucket(self._per_channel, 1, self._clock, self._sleep)
            self._channels[channel] = bucket
        return bucket

    def _forget_idle(self) -> None:
        now = self._clock()
        for key in [k for k, b in self._channels.items() if b.idle_since(now)]:
            del self._channels[key]


class Places:
    """At most `count` holders at once, in arrival order, except that those asking `first`
    go before every other waiter."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError("places need a count of at least 1")
        self._free = count
        self._first: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def taken(self, first: bool = False) -> AsyncIterator[None]:
        await self._take(first)
        try:
            yield
        finally:
            self._give_back()

    async def _take(self, first: bool) -> None:
        if self._free and not (self._first or self._others):
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._first if first else self._others
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._give_back()  # handed a place just as it was cancelled: pass it on
            else:
                queue.remove(turn)
            raise

    def _give_back(self) -> None:
        for queue in (self._first, self._others):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._free += 1


def retry_after(headers: Mapping[str, Any], default: float = 1.0) -> float:
    """The seconds a 429's `Retry-After` header asks for (`default` when it has none)."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return default
