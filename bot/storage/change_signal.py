"""How a papers repository tells this process's waiters that an ingest committed."""

from __future__ import annotations

import asyncio


class ChangeSignal:
    """Set after each ingest commits; a waiter wakes once per change (or when told to stop)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def set(self) -> None:
        self._changed.set()

    async def wait(self, or_until: asyncio.Event) -> None:
        """Return once set since the last call, or once `or_until` is set."""
        waiters = [
            asyncio.ensure_future(self._changed.wait()),
            asyncio.ensure_future(or_until.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._changed.clear()
