"""Finding what an earlier send of a message posted to Slack, before it is sent again.

Each part paperwire posts carries a metadata marker (its outbox id and part number), so a
message whose earlier send may have arrived is looked for in the channel's history, and in
its thread, before anything of it is posted again. Slack limits these reads per method, for
some apps hard (created since May 2025 and not in its Marketplace: one a minute), so:
- each method keeps to a pace of its own (`PAPERWIRE_SLACK_HISTORY_RATE` reads a minute);
- messages of one channel looked for at the same time share one read;
- a thread is read only when the message's first part is there and has replies;
- a read whose turn is far off, or that Slack refuses with a 429, is not waited for (nor
  asked again and again): `ReadDeferred` says how long to wait, and the message waits that
  long in the outbox, its status saying why.
A read Slack refuses otherwise (the bot is no member of a public channel it posts to with
`chat:write.public`: `not_in_channel`; a missing `*:history` scope) makes the check
impossible, not the post: the message is posted unchecked, with a warning (a possible
duplicate rather than a channel stopped for good). A read that failed (a 5xx, no answer)
is `ReadFailed`: a passing failure, retried later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import OutgoingMessage
from bot.pacing import Bucket, Clock, Sleep, retry_after
from bot.platforms.slack_errors import slack_error

_log = logging.getLogger(__name__)

OUTBOX_EVENT = "paperwire_outbox"
# A read waits this long for its turn at most; beyond it, the message waits in the outbox
# (holding no place among the destinations being sent to).
LONGEST_WAIT_S = 30.0
# The reads a minute of each method (conversations.history, conversations.replies) when not
# configured: the limit Slack sets for apps outside its Marketplace created since May 2025.
READS_PER_MIN = 1
MAX_PAGES = 10

Message = dict[str, Any]


class ReadDeferred(Exception):
    """A read that cannot be made now: wait `wait_s` seconds (the message says why)."""

    def __init__(self, reason: str, wait_s: float) -> None:
        super().__init__(reason)
        self.wait_s = wait_s


class ReadFailed(Exception):
    """A read that failed on the way (a 5xx): tried again later, never a refusal of the
    destination (the post itself was not refused)."""


class PacedReads:
    """One method's reads, at its own pace. One read of a key (a channel, a thread) at a
    time; a caller that asked before a read was sent takes its answer rather than reading
    again (what an earlier send of its message posted was there before it asked)."""

    def __init__(
        self,
        method: str,
        per_min: float,
        fetch: Callable[[Any], Awaitable[list[Message]]],
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        longest_wait_s: float = LONGEST_WAIT_S,
    ) -> None:
        self.method = method
        self.per_min = per_min
        self._fetch = fetch
        self._clock = clock
        self._bucket = Bucket(per_min / 60, clock=clock, sleep=sleep)
        self._longest_wait_s = longest_wait_s
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._callers: dict[Hashable, int] = {}  # asking now, per key
        self._last: dict[Hashable, tuple[float, list[Message]]] = {}  # (sent at, answer)

    async def read(self, key: Hashable) -> list[Message]:
        asked_at = self._clock()
        self._callers[key] = self._callers.get(key, 0) + 1
        try:
            async with self._locks.setdefault(key, asyncio.Lock()):
                last = self._last.get(key)
                if last is not None and last[0] >= asked_at:
                    return last[1]
                return await self._read(key)
        finally:
            self._callers[key] -= 1
            if not self._callers[key]:  # nobody else waits for this key: forget it
                del self._callers[key], self._locks[key]
                self._last.pop(key, None)

    async def _read(self, key: Hashable) -> list[Message]:
        wait = self._bucket.delay()
        if wait > self._longest_wait_s:
            raise ReadDeferred(
                f"waiting to read {self.method} (paced at {self.per_min:g} a minute) to check"
                " what an earlier send posted",
                wait,
            )
        await self._bucket.acquire()
        sent_at = self._clock()
        try:
            messages = await self._fetch(key)
        except SlackApiError as exc:
            if getattr(exc.response, "status_code", 0) != 429:
                raise
            wait = retry_after(exc.response.headers, default=60.0)
            self._bucket.hold(wait)
            _log.warning(
                "Slack refused %s (429) at %g reads a minute; lower"
                " PAPERWIRE_SLACK_HISTORY_RATE if this repeats",
                self.method,
                self.per_min,
            )
            raise ReadDeferred(
                f"Slack allows no {self.method} read now (429): the check for what an earlier"
                " send posted waits",
                wait,
            ) from None
        self._last[key] = (sent_at, messages)
        return messages


class Recovery:
    """What of a message an earlier send already posted, found by the parts' markers."""

    def __init__(
        self,
        client: AsyncWebClient,
        per_min: float = READS_PER_MIN,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self.history = PacedReads("conversations.history", per_min, self._history, clock, sleep)
        self.replies = PacedReads("conversations.replies", per_min, self._replies, clock, sleep)

    async def in_channel(self, channel: str, message: OutgoingMessage) -> dict[int, str]:
        """Parts of `message` posted in `channel` (its thread replies too): part -> ts."""
        messages = await _checked(self.history, self.history.read(channel), channel)
        found = parts_found(messages, message)
        first = next((m for m in messages if part_of(m, message) == 0), None)
        # Only a message that has replies has a thread (and then says so).
        if first is not None and (first.get("reply_count") or first.get("thread_ts")):
            found |= parts_found(await self.in_thread(channel, str(first["ts"])), message)
        return found

    async def in_thread(self, channel: str, ts: str) -> list[Message]:
        return await _checked(self.replies, self.replies.read((channel, ts)), channel)

    async def _history(self, channel: str) -> list[Message]:
        history = await self._client.conversations_history(
            channel=channel, limit=100, include_all_metadata=True
        )
        return list(history.get("messages") or [])

    async def _replies(self, key: tuple[str, str]) -> list[Message]:
        channel, ts = key
        replies = await self._client.conversations_replies(
            channel=channel, ts=ts, include_all_metadata=True
        )
        return list(replies.get("messages") or [])


async def _checked(
    reads: PacedReads, read: Awaitable[list[Message]], channel: str
) -> list[Message]:
    """What `read` found; nothing, with a warning, when Slack refuses it (the check cannot
    be made: what it looks for is posted again). A failed read is `ReadFailed`."""
    try:
        return await read
    except SlackApiError as exc:
        code = slack_error(exc)
        if getattr(exc.response, "status_code", 0) >= 500:
            raise ReadFailed(f"{reads.method} failed: {code}") from None
        _log.warning(
            "Slack refused %s in %s (%s): what an earlier send may have posted there is"
            " posted again without checking (a duplicate is possible)",
            reads.method,
            channel,
            code,
        )
        return []


def marker(message: OutgoingMessage, part: int) -> dict[str, Any] | None:
    """Slack message metadata naming the outbox message and part (to spot a duplicate)."""
    if message.outbox_id is None:
        return None
    return {"event_type": OUTBOX_EVENT, "event_payload": {"id": message.outbox_id, "part": part}}


def parts_found(messages: list[Message], message: OutgoingMessage) -> dict[int, str]:
    found: dict[int, str] = {}
    for item in messages:
        part = part_of(item, message)
        if part is not None:
            found[part] = str(item.get("ts") or "")
    return found


def part_of(item: Mapping[str, Any], message: OutgoingMessage) -> int | None:
    metadata = item.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != OUTBOX_EVENT or payload.get("id") != message.outbox_id:
        return None
    part = payload.get("part")
    return part if isinstance(part, int) else None
