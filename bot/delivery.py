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
    permanent: bool = False  # the platform will keep refusing: stop this destination


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
        (command replies are not: asking is not the same as being sent a digest). A
        destination a platform refused for good is not tried again until resumed."""
        destination = message.destination
        transport = self._transports.get(destination.platform)
        if transport is None:
            raise PaperwireError(f"no transport for platform {destination.platform!r}")
        if destination.kind == "reply":
            return await transport.send(message)
        state = await self._store.destination_state(destination.key)
        if state.stopped:
            return Receipt(ok=False, error=f"stopped after {state.error}", permanent=True)
        receipt = await transport.send(message)
        now = self._clock()
        if not receipt.ok:
            _log.warning(
                "delivery to %s failed%s: %s",
                destination.key,
                " for good, stopping it" if receipt.permanent else "",
                receipt.error,
            )
            await self._store.record_delivery(
                destination.key, now, receipt.error or "unknown error", receipt.permanent
            )
            return receipt
        await self._store.record_delivery(destination.key, now)
        if message.paper_ids:
            await self._store.record_sent(destination.key, message.paper_ids, now)
        return receipt
