"""The one way out: every outgoing message (command reply, digest, later DMs) goes through
`DeliveryService`, which adapters' transports only execute. The reliable-delivery work turns
this into a persistent outbox without touching callers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.errors import PaperwireError
from bot.models import Destination
from bot.render.neutral import Reply
from bot.storage import Store

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    destination: Destination
    reply: Reply
    paper_ids: tuple[str, ...] = ()  # papers this message shows, recorded as sent
    reply_to: object | None = field(default=None, compare=False)  # the platform's handle


@dataclass(frozen=True)
class Receipt:
    ok: bool
    platform_ids: tuple[str, ...] = ()
    error: str | None = None


class Transport(Protocol):
    """What a platform adapter implements to execute a delivery."""

    platform: str

    async def send(self, message: OutgoingMessage) -> Receipt: ...


class DeliveryService:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._transports: dict[str, Transport] = {}

    def register(self, transport: Transport) -> None:
        self._transports[transport.platform] = transport

    @property
    def platforms(self) -> Sequence[str]:
        return list(self._transports)

    async def deliver(self, message: OutgoingMessage) -> Receipt:
        """Send one message; papers it showed to a channel or DM are recorded as sent there
        (command replies are not: asking is not the same as being sent a digest)."""
        transport = self._transports.get(message.destination.platform)
        if transport is None:
            raise PaperwireError(f"no transport for platform {message.destination.platform!r}")
        receipt = await transport.send(message)
        if not receipt.ok:
            _log.warning("delivery to %s failed: %s", message.destination.key, receipt.error)
        elif message.paper_ids and message.destination.kind != "reply":
            await self._store.record_sent(message.destination.key, message.paper_ids, self._clock())
        return receipt
