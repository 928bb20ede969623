"""The one way out: every outgoing message goes through `DeliveryService`, which adapters'
transports only execute.

Messages go through a persistent outbox: written (with the papers they show, recorded as
sent) in one transaction, then drained per destination in order, destinations side by
side. A failed send stays queued and is retried with backoff (by its failures: waiting
for a turn is no failure); a destination a platform refuses for good stops, keeping its
messages, until resumed. A message is marked sending only when a request of it leaves: the
transport calls `departs()` after the request's pacing turn, right before it. So a crash
leaves uncertain only what was really out; a message a request of which did leave is sent
again with `recovering` set: the transport looks for what arrived, so nothing is posted
twice.

A command's reply is kept with its `handle` (the platform's response URL or interaction
token) in a queue of its own, so it waits behind nothing and outlives a restart; once the
platform no longer takes it (Slack: 30 minutes, Discord: 15) it is dropped. Only a reply
with no such handle (the console's) is sent directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bot.delivery import codec
from bot.delivery.budgets import ClaimLost, Claims, budget_of, interleaved
from bot.errors import PaperwireError
from bot.models import Destination
from bot.render.neutral import Reply
from bot.storage import Outbox, QueuedMessage

_log = logging.getLogger(__name__)

Departing = Callable[[], Awaitable[None]]
# Told of each send attempt: the platform, "sent", "failed" (given up) or "retried" (failed,
# kept for another try), and its seconds (the metrics).
Observer = Callable[[str, str, float], None]


@dataclass(frozen=True)
class OutgoingMessage:
    destination: Destination
    reply: Reply
    paper_ids: tuple[str, ...] = ()  # papers this message shows, recorded as sent
    reply_to: object | None = field(default=None, compare=False)  # a live handle (console)
    # Where a command's reply goes, kept in the outbox: a response URL or an interaction
    # token, with "expires_at" (ISO time) after which the platform refuses it.
    handle: Mapping[str, Any] | None = field(default=None, compare=False)
    outbox_id: int | None = None  # its place in the outbox (a stable id for idempotency)
    recovering: bool = False  # an earlier attempt may have arrived: check before sending
    # When the outbox took it: nothing of it went before (bookkeeping, like `handle`).
    enqueued_at: datetime | None = field(default=None, compare=False)
    # The digest run (destination key, local day) this message settles: the run is marked
    # queued in the outbox's own transaction, so a crash cannot separate the two.
    run: tuple[str, date] | None = None
    # The reading-list changes it tells of (ids of `paper_changes`): told to its
    # destination in the outbox's own transaction too, so never twice and never lost.
    notices: tuple[int, ...] = ()
    # The outbox's hook, see `departs`.
    departing: Departing | None = field(default=None, compare=False, repr=False)

    async def departs(self) -> None:
        """A transport calls this right before each request that may post some of the
        message, once the request had its pacing turn: from then on, until the outcome is
        kept, a crash leaves the message uncertain (checked before it is sent again)."""
        if self.departing is not None:
            await self.departing()


@dataclass(frozen=True)
class Receipt:
    ok: bool
    platform_ids: tuple[str, ...] = ()
    error: str | None = None
    permanent: bool = False  # the platform will keep refusing: stop this destination
    queued: bool = False  # not sent yet, kept in the outbox for a retry
    # Not tried now, and no failure: try again this many seconds from now (`error` says
    # why, e.g. the check for what arrived waits for the platform to allow a read).
    retry_in: float | None = None
    # Never to be sent (its workspace uninstalled the app): this message is dropped, and
    # its destination goes on with the next.
    dropped: bool = False


# Waits before the next try of a failed send: seconds, by attempts so far (each with up to
# a fifth more, at random, so destinations that failed together do not retry together).
BACKOFF_S = (5, 30, 120, 600, 1800, 3600)
# Destinations drained at once. Each sends its own messages in order; the transports pace
# the requests to the platform's limits, so this only needs to keep them busy.
CONCURRENT_DESTINATIONS = 200
# The longest one send may take, waits for its turn and for a 429's Retry-After included:
# a request that hangs would otherwise hold its destination (and a place) for good.
SEND_TIMEOUT_S = 300.0


class Transport(Protocol):
    """What a platform adapter implements to execute a delivery."""

    platform: str

    async def send(self, message: OutgoingMessage) -> Receipt: ...


class DeliveryService:
    def __init__(
        self,
        outbox: Outbox,
        clock: Callable[[], datetime],
        send_timeout_s: float = SEND_TIMEOUT_S,
        process: str = "paperwire",
        observe: Observer | None = None,
    ) -> None:
        self._outbox = outbox
        self._clock = clock
        self._send_timeout_s = send_timeout_s
        self._observe = observe or _unobserved
        # Which budgets this process sends for, among those sharing the database.
        self._claims = Claims(outbox, process, clock, timedelta(seconds=send_timeout_s))
        self._closed = False  # the database is closing: nothing more is sent
        self._transports: dict[str, Transport] = {}
        # One sender per destination at a time keeps its messages in order. (Weak: a lock
        # nobody waits on is forgotten.)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._slots = asyncio.Semaphore(CONCURRENT_DESTINATIONS)
        self._busy = 0  # destinations being drained now
        self._idle = asyncio.Event()
        self._idle.set()
        # Told of each failed send that will be retried (its destination, when it is due):
        # `paperwire run` drains the destination then (schedules/outbox.py).
        self.wake_at: Callable[[str, datetime], None] | None = None

    def register(self, transport: Transport) -> None:
        self._transports[transport.platform] = transport

    @property
    def platforms(self) -> Sequence[str]:
        return list(self._transports)

    async def deliver(self, message: OutgoingMessage) -> Receipt:
        """Send one message. A channel message or DM is kept in the outbox first and
        drained at once; the receipt says whether it went, or why it waits."""
        destination = message.destination
        transport = self._transports.get(destination.platform)
        if transport is None:
            raise PaperwireError(f"no transport for platform {destination.platform!r}")
        if destination.kind == "reply" and message.handle is None:
            started = time.perf_counter()
            receipt = await transport.send(message)
            outcome = "sent" if receipt.ok else "failed"
            self._observe(transport.platform, outcome, time.perf_counter() - started)
            return receipt
        outbox_id = await self._outbox.enqueue(
            destination.key,
            codec.dumps(message.reply),
            message.paper_ids,
            self._clock(),
            run=message.run,
            handle=json.dumps(message.handle) if message.handle is not None else None,
            notices=message.notices,
        )
        if not self.sends_to(destination):
            return Receipt(
                ok=False, error="queued: another paperwire process sends it", queued=True
            )
        results = await self.drain(destination.key)
        if outbox_id in results:
            return results[outbox_id]
        if await self._outbox.outbox_state(outbox_id) == "sent":
            return Receipt(ok=True)  # another drain (the periodic one) sent it first
        state = await self._outbox.destination_state(destination.key)
        if state.stopped:
            return Receipt(ok=False, error=f"stopped after {state.error}", permanent=True)
        return Receipt(ok=False, error="queued behind earlier messages", queued=True)

    async def retry_now(self, destination: str) -> dict[int, Receipt]:
        """Try `destination`'s waiting messages now (a manager asked: it may be fixed)."""
        await self._outbox.resume_destination(destination, self._clock())
        return await self.drain(destination)

    async def drain(self, destination: str | None = None) -> dict[int, Receipt]:
        """Send what is due in the outbox (for one destination, or all): destinations side
        by side, each one's messages in order, stopping at its first failure so that the
        rest keep their order."""
        if destination:
            keys = [destination]
        else:  # the drain places go to every budget in turn
            keys = interleaved(await self._outbox.due_destinations(self._clock()))
        results: dict[int, Receipt] = {}
        outcomes = await asyncio.gather(
            *(self._drain_one(key, results) for key in keys), return_exceptions=True
        )
        for key, outcome in zip(keys, outcomes, strict=True):
            if isinstance(outcome, BaseException):  # one destination's trouble stays its own
                _log.error("draining %s failed", key, exc_info=outcome)
        return results

    def close(self) -> None:
        """No drain starts sending any more (one waiting for a destination's turn, say, at
        a stop): what waits stays in the outbox for the next start."""
        self._closed = True

    async def wait_idle(self) -> None:
        """Until no drain is under way: every send that started has been recorded."""
        await self._idle.wait()

    async def _drain_one(self, destination: str, results: dict[int, Receipt]) -> None:
        self._busy += 1
        self._idle.clear()
        try:
            await self._drain_destination(destination, results)
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def _drain_destination(self, destination: str, results: dict[int, Receipt]) -> None:
        target = Destination.from_key(destination)
        transport = self._transports.get(target.platform)
        if transport is None:  # its platform is not configured in this process
            return
        if not self.sends_to(target):  # another process owns its budget
            return
        lock = self._locks.setdefault(destination, asyncio.Lock())
        # Replies take no place: they must not wait behind a fan-out (and are not paced).
        slot = self._slots if target.kind != "reply" else _NO_SLOT
        # The lock first: a drain waiting for another on the same destination holds no place.
        async with lock, slot:
            if self._closed or (await self._outbox.destination_state(destination)).stopped:
                return
            # A reply is claimed alone, anything else with its budget (held until its owner
            # changes): one process at a time sends for a budget, so for a destination.
            budget = target.kind != "reply"
            key = budget_of(target) if budget else destination
            if not await self._claims.begin(key, budget):  # another process sends for it now
                return
            try:
                # Read under the lock and the claim: another drain may have just sent some.
                for queued in await self._outbox.due_messages(destination, self._clock()):
                    check = partial(self._claims.still_ours, key, budget)
                    receipt = await self._send_queued(queued, target, transport, check)
                    results[queued.id] = receipt
                    if not (receipt.ok or receipt.dropped) or not await self._claims.claim(
                        key, budget
                    ):
                        return
            finally:
                await self._claims.end(key, budget)

    def sends_to(self, destination: Destination) -> bool:
        return self._claims.sends_to(destination)

    async def set_peers(self, processes: Sequence[str]) -> None:
        await self._claims.set_peers(processes)

    async def _send_queued(
        self,
        queued: QueuedMessage,
        destination: Destination,
        transport: Transport,
        still_ours: Callable[[], Awaitable[None]] | None = None,
    ) -> Receipt:
        """One outbox message of `destination`, sent through `transport`."""
        is_reply = destination.kind == "reply"
        now = self._clock()
        try:
            reply = codec.loads(queued.reply)
            handle = json.loads(queued.handle) if queued.handle else None
            expires = _expiry(handle)
        except (ValueError, KeyError, TypeError) as exc:  # a row no code of ours wrote
            _log.error("outbox message %d cannot be read, dropping it: %s", queued.id, exc)
            await self._outbox.mark_dropped(queued.id, "unreadable")
            return Receipt(ok=False, error="unreadable", permanent=True)
        if is_reply and expires is not None and expires <= now:
            _log.info("a reply in %s expired before it could be sent", queued.destination)
            await self._outbox.mark_dropped(queued.id, "expired")
            return Receipt(ok=False, error="expired", permanent=True)
        message = OutgoingMessage(
            destination,
            reply,
            queued.paper_ids,
            outbox_id=queued.id,
            # Any earlier send begun (cut short by a crash, or failed after a part went) may
            # have posted some of it: the transport looks before it sends.
            recovering=queued.sends > 0,
            enqueued_at=queued.created_at,
            handle=handle,
            departing=_Departure(self._outbox, queued.id, still_ours),
        )
        started = time.perf_counter()
        try:
            receipt = await asyncio.wait_for(transport.send(message), self._send_timeout_s)
        except TimeoutError:
            receipt = Receipt(ok=False, error=f"no answer within {self._send_timeout_s:g} s")
        except ClaimLost:  # its budget's new owner sends it: nothing of it is written here
            return Receipt(ok=False, error="another process sends it now", queued=True)
        except Exception as exc:  # a transport bug must not lose the message
            _log.exception("sending outbox message %d failed", queued.id)
            receipt = Receipt(ok=False, error=f"{type(exc).__name__}: {exc}"[:200])
        if receipt.retry_in is None:  # a wait asked for is no attempt
            kept = not receipt.ok and not receipt.permanent
            outcome = "sent" if receipt.ok else "retried" if kept else "failed"
            self._observe(transport.platform, outcome, time.perf_counter() - started)
        now = self._clock()
        if receipt.ok:
            await self._outbox.mark_sent(queued.id, receipt.platform_ids, now)
            if not is_reply:
                await self._outbox.record_delivery(queued.destination, now)
            return receipt
        if receipt.dropped:
            error = receipt.error or "dropped"
            _log.warning("a message for %s was dropped: %s", queued.destination, error)
            await self._outbox.mark_dropped(queued.id, error)
            return receipt
        if receipt.retry_in is not None:
            return await self._defer(queued, receipt, now)
        error = receipt.error or "unknown error"
        wait = BACKOFF_S[min(queued.attempts, len(BACKOFF_S) - 1)] * (1 + random.random() / 5)
        retry_at = now + timedelta(seconds=wait)
        if is_reply and (receipt.permanent or (expires is not None and retry_at >= expires)):
            # Only this reply is refused, or it would expire before the retry: drop it
            # (there is no destination to stop).
            _log.warning("a reply in %s could not be sent: %s", queued.destination, error)
            await self._outbox.mark_dropped(queued.id, error)
            return replace(receipt, permanent=True)
        _log.warning(
            "delivery to %s failed%s: %s",
            queued.destination,
            " for good, stopping it" if receipt.permanent else f"; retrying in {wait:.0f} s",
            error,
        )
        await self._outbox.mark_failed(queued.id, error, retry_at)
        self._retry_at(queued.destination, retry_at, receipt.permanent)
        if not is_reply:
            await self._outbox.record_delivery(queued.destination, now, error, receipt.permanent)
        return replace(receipt, queued=True)

    def _retry_at(self, destination: str, at: datetime, permanent: bool) -> None:
        if self.wake_at is not None and not permanent:  # a stopped one waits to be resumed
            self.wake_at(destination, at)

    async def _defer(self, queued: QueuedMessage, receipt: Receipt, now: datetime) -> Receipt:
        """The transport asked to wait: no failure, so the attempts (and backoff) stay."""
        reason = receipt.error or "waiting"
        wait = max(0.0, receipt.retry_in or 0.0)
        _log.info("delivery to %s waits %.0f s: %s", queued.destination, wait, reason)
        retry_at = now + timedelta(seconds=wait)
        await self._outbox.mark_deferred(queued.id, reason, retry_at)
        self._retry_at(queued.destination, retry_at, permanent=False)
        return replace(receipt, queued=True)


class _Departure:
    """An outbox message's `departing` hook: its first request of an attempt marks it
    sending (a send begun); the attempt's later requests find it marked."""

    def __init__(
        self,
        outbox: Outbox,
        message_id: int,
        still_ours: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._outbox = outbox
        self._message_id = message_id
        self._still_ours = still_ours  # raises ClaimLost if another process sends it now
        self._marked = False

    async def __call__(self) -> None:
        if self._still_ours is not None:
            await self._still_ours()
        if not self._marked:
            await self._outbox.mark_sending(self._message_id)
            self._marked = True


_NO_SLOT = contextlib.nullcontext()


def _unobserved(platform: str, outcome: str, seconds: float) -> None:
    pass


def _expiry(handle: Mapping[str, Any] | None) -> datetime | None:
    expires = (handle or {}).get("expires_at")
    return datetime.fromisoformat(expires) if isinstance(expires, str) else None
