"""Finding what an earlier send of a message posted to Slack, before it is sent again.

Each part paperwire posts carries a metadata marker (its outbox id and part number), so a
message whose earlier send may have arrived is looked for in the channel's history, and in
its thread, before anything of it is posted again. Slack limits these reads per method, for
some apps hard (created since May 2025 and not in its Marketplace: one a minute), so:
- a read asks only for what came after the message was queued (`oldest`), and pages on
  (those apps get 15 messages a read) until it finds the message's first part, up to
  MAX_PAGES;
- each method keeps to a pace of its own (`PAPERWIRE_SLACK_HISTORY_RATE` reads a minute),
  each page counted;
- messages of one channel looked for at the same time share one read;
- a thread is read only when the message's first part is there and has replies;
- a read whose turn is far off, or that Slack refuses with a 429, is not waited for (nor
  asked again and again): `ReadDeferred` says how long to wait, and the message waits that
  long in the outbox, its status saying why; its check then goes on from that page.
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
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.outbox import OutgoingMessage
from bot.delivery.pacing import Bucket, Clock, Sleep, retry_after
from bot.platforms.slack.errors import slack_error
from bot.platforms.slack.uploads import shared_file

_log = logging.getLogger(__name__)

OUTBOX_EVENT = "paperwire_outbox"
# A read waits this long for its turn at most; beyond it, the message waits in the outbox
# (holding no place among the destinations being sent to).
LONGEST_WAIT_S = 30.0
# The reads a minute of each method (conversations.history, conversations.replies) when not
# configured: the limit Slack sets for apps outside its Marketplace created since May 2025.
READS_PER_MIN = 1
# Messages asked for a read. Slack answers at most 15 to the apps it limits (above).
PAGE_SIZE = 100
# Pages a check reads at most; what it did not find by then is taken as not posted.
MAX_PAGES = 10
# Nothing of a message was posted before it was queued: reads start then, less this for
# the difference between this machine's clock and Slack's.
CLOCK_SKEW = timedelta(seconds=60)
# A check deferred midway goes on from its page if asked again within this.
PAUSE_KEPT_S = 900.0

Message = dict[str, Any]
Page = tuple[list[Message], str]  # a read's messages, and the cursor to the next ("": none)
Fetch = Callable[[Any, str | None, str], Awaitable[Page]]  # key, oldest, cursor
Enough = Callable[[list[Message]], bool]


class ReadDeferred(Exception):
    """A read that cannot be made now: wait `wait_s` seconds (the message says why)."""

    def __init__(self, reason: str, wait_s: float) -> None:
        super().__init__(reason)
        self.wait_s = wait_s


class ReadFailed(Exception):
    """A read that failed on the way (a 5xx): tried again later, never a refusal of the
    destination (the post itself was not refused)."""


@dataclass
class _Scan:
    """A read of one key, page by page: what it found so far and where it goes on."""

    oldest: str | None
    messages: list[Message] = field(default_factory=list)
    cursor: str = ""
    pages: int = 0
    sent_at: float | None = None  # its first page's: it saw what was there by then
    done: bool = False  # no more pages (all read, or the cap)
    paused_at: float = 0.0


class PacedReads:
    """One method's reads, at its own pace, each page counted. One read of a key (a
    channel, a thread) at a time; a caller that asked before a read was sent takes its
    answer rather than reading again (what an earlier send of its message posted was
    there before it asked), when that read covered as much as it needs."""

    def __init__(
        self,
        method: str,
        per_min: float,
        fetch: Fetch,
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
        self._last: dict[Hashable, _Scan] = {}  # the last read of each key asked for now
        # Reads that waited for a page's turn, kept to go on from there: (key, who) -> scan.
        self._paused: dict[tuple[Hashable, Hashable], _Scan] = {}

    async def read(
        self,
        key: Hashable,
        oldest: str | None = None,
        enough: Enough | None = None,
        who: Hashable = None,
    ) -> list[Message]:
        """Messages of `key` after `oldest` (Slack's ts), page by page until `enough` of
        them were seen, all were, or MAX_PAGES. A read of `who` deferred midway goes on
        from where it stopped (nothing of who's was posted meanwhile: it waited)."""
        asked_at = self._clock()
        self._callers[key] = self._callers.get(key, 0) + 1
        try:
            async with self._locks.setdefault(key, asyncio.Lock()):
                last = self._last.get(key)
                if last is not None and _covers(last, asked_at, oldest, enough):
                    return last.messages
                scan = self._resume(key, who, oldest)
                await self._read(key, scan, enough, who)
                self._last[key] = scan
                return scan.messages
        finally:
            self._callers[key] -= 1
            if not self._callers[key]:  # nobody else waits for this key: forget it
                del self._callers[key], self._locks[key]
                self._last.pop(key, None)

    def _resume(self, key: Hashable, who: Hashable, oldest: str | None) -> _Scan:
        paused = self._paused.pop((key, who), None) if who is not None else None
        if paused is not None and paused.oldest == oldest:
            return paused
        return _Scan(oldest)

    def _pause(self, key: Hashable, who: Hashable, scan: _Scan) -> None:
        if who is None or scan.pages == 0:
            return
        now = self._clock()
        scan.paused_at = now
        self._paused[(key, who)] = scan
        # A message that never came back for its read (sent unchecked elsewhere, stopped)
        # leaves its scan behind: those are forgotten after a while.
        for stale in [k for k, v in self._paused.items() if now - v.paused_at > PAUSE_KEPT_S]:
            del self._paused[stale]

    async def _read(self, key: Hashable, scan: _Scan, enough: Enough | None, who: Hashable) -> None:
        while not scan.done:
            wait = self._bucket.delay()
            if wait > self._longest_wait_s:
                self._pause(key, who, scan)
                raise ReadDeferred(
                    f"waiting to read {self.method} (paced at {self.per_min:g} a minute,"
                    f" page {scan.pages + 1}) to check what an earlier send posted",
                    wait,
                )
            await self._bucket.acquire()
            if scan.sent_at is None:
                scan.sent_at = self._clock()
            try:
                messages, cursor = await self._fetch(key, scan.oldest, scan.cursor)
            except SlackApiError as exc:
                if getattr(exc.response, "status_code", 0) != 429:
                    raise
                self._pause(key, who, scan)
                raise self._refused(exc) from None
            scan.messages += messages
            scan.cursor = cursor
            scan.pages += 1
            if enough is not None and enough(scan.messages):
                return
            if scan.pages >= MAX_PAGES and cursor:
                _log.warning(
                    "Slack: the check for what an earlier send posted in %s read %d pages"
                    " of %s without finding it all; the rest is posted again",
                    key,
                    scan.pages,
                    self.method,
                )
            scan.done = not cursor or scan.pages >= MAX_PAGES

    def _refused(self, exc: SlackApiError) -> ReadDeferred:
        wait = retry_after(exc.response.headers, default=60.0)
        self._bucket.hold(wait)
        _log.warning(
            "Slack refused %s (429) at %g reads a minute; lower"
            " PAPERWIRE_SLACK_HISTORY_RATE if this repeats",
            self.method,
            self.per_min,
        )
        return ReadDeferred(
            f"Slack allows no {self.method} read now (429): the check for what an earlier"
            " send posted waits",
            wait,
        )


def _covers(last: _Scan, asked_at: float, oldest: str | None, enough: Enough | None) -> bool:
    """Whether a read made for another caller answers this one: sent after it asked, from
    no later than its `oldest`, and all read (or enough for it)."""
    if last.sent_at is None or last.sent_at < asked_at:
        return False
    if last.oldest is not None and (oldest is None or float(last.oldest) > float(oldest)):
        return False
    return last.done or (enough is not None and enough(last.messages))


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

    async def in_channel(
        self, channel: str, message: OutgoingMessage, files_part: int | None = None
    ) -> dict[int, str]:
        """Parts of `message` posted in `channel` (its thread replies too): part -> ts.
        Its files, shared after its first part (a file carries no metadata: they are known
        by their names), count as part `files_part`."""

        def first_found(messages: list[Message]) -> bool:
            # History is newest first, and the first part went first: the rest is older.
            return any(part_of(m, message) == 0 for m in messages)

        read = self.history.read(channel, _oldest(message), first_found, message.outbox_id)
        messages = await _checked(self.history, read, channel)
        found = parts_found(messages, message)
        first = next((m for m in messages if part_of(m, message) == 0), None)
        # Only a message that has replies has a thread (and then says so).
        if first is not None and (first.get("reply_count") or first.get("thread_ts")):
            found |= parts_found(await self.in_thread(channel, str(first["ts"]), message), message)
        if first is not None and files_part is not None and message.reply.files:
            shared = shared_file(messages, message.reply.files, after=str(first.get("ts")))
            if shared:
                found[files_part] = shared
        return found

    async def files_shared(
        self, channel: str, thread: str | None, message: OutgoingMessage
    ) -> bool:
        """Whether an earlier send shared `message`'s files in `channel` (in the thread of
        `thread`) already: a reply's files go before its text, and a retry of the text
        must not share them again."""
        oldest = _oldest(message)
        if oldest is None or not message.reply.files:
            return False
        if thread:
            read = self.replies.read((channel, thread), oldest, None, message.outbox_id)
            messages = await _checked(self.replies, read, channel)
        else:
            read = self.history.read(channel, oldest, None, message.outbox_id)
            messages = await _checked(self.history, read, channel)
        return bool(shared_file(messages, message.reply.files, after=oldest))

    async def in_thread(self, channel: str, ts: str, message: OutgoingMessage) -> list[Message]:
        read = self.replies.read((channel, ts), _oldest(message), None, message.outbox_id)
        return await _checked(self.replies, read, channel)

    async def _history(self, channel: str, oldest: str | None, cursor: str) -> Page:
        history = await self._client.conversations_history(
            channel=channel,
            oldest=oldest,
            cursor=cursor or None,
            limit=PAGE_SIZE,
            include_all_metadata=True,
        )
        return _page(history)

    async def _replies(self, key: tuple[str, str], oldest: str | None, cursor: str) -> Page:
        channel, ts = key
        replies = await self._client.conversations_replies(
            channel=channel,
            ts=ts,
            oldest=oldest,
            cursor=cursor or None,
            limit=PAGE_SIZE,
            include_all_metadata=True,
        )
        return _page(replies)


def _oldest(message: OutgoingMessage) -> str | None:
    """Slack's ts before which nothing of `message` was posted: when it was queued, less
    a margin for the clocks' difference."""
    if message.enqueued_at is None:
        return None
    return f"{(message.enqueued_at - CLOCK_SKEW).timestamp():.6f}"


def _page(response: AsyncSlackResponse) -> Page:
    messages = list(response.get("messages") or [])
    more = response.get("has_more") and (response.get("response_metadata") or {}).get("next_cursor")
    return messages, str(more or "")


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
