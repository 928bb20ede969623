"""`GET /readyz`: whether this process does its work now. Ready when the database takes a
write (this process's heartbeat row, written as the leadership check writes it), the
scheduler every process runs is running, and each configured platform is connected.

A follower (another process leads, on a shared PostgreSQL database) is ready: it answers
commands and sends its share of the outbox; only the schedule runs elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.platforms.connecting import Platforms, describe
from schedules.leader import Leadership
from schedules.scheduler import Scheduler

_log = logging.getLogger(__name__)

WRITE_TIMEOUT_S = 2.0  # a database slower than this to take one row is not ready
OK = "ok"


class Readiness:
    """What `paperwire run` has started so far, for the readiness check: each part is set
    once it runs, and unset as it stops."""

    def __init__(self) -> None:
        self.platforms: Platforms | None = None
        self._scheduler: Scheduler | None = None
        self._leadership: Leadership | None = None

    @contextmanager
    def watching(self, scheduler: Scheduler, leadership: Leadership) -> Iterator[None]:
        """While the scheduler and the leadership run (no heartbeat written once the
        process's row is forgotten at the stop)."""
        self._scheduler, self._leadership = scheduler, leadership
        try:
            yield
        finally:
            self._scheduler = self._leadership = None

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Whether ready, and the JSON body that says what is (not) ready."""
        checks: dict[str, Any] = {
            "database": await self._database(),
            "scheduler": self._scheduler_state(),
        }
        platforms = self.platforms.states() if self.platforms is not None else None
        checks["platforms"] = platforms if platforms is not None else "starting"
        not_ready = [name for name in ("database", "scheduler") if checks[name] != OK]
        if platforms is None:
            not_ready.append("platforms")
        else:
            not_ready += [name for name, state in platforms.items() if state != "connected"]
        body: dict[str, Any] = {"ready": not not_ready, "not_ready": not_ready, **checks}
        if self._leadership is not None:
            body["role"] = "leader" if self._leadership.leading else "follower"
        return not not_ready, body

    def _scheduler_state(self) -> str:
        if self._scheduler is None:
            return "starting"
        return OK if self._scheduler.running else "stopped"

    async def _database(self) -> str:
        leadership = self._leadership
        if leadership is None:
            return "starting"
        last = leadership.last_beat
        if last is not None and leadership.clock() - last < leadership.check_interval * 2:
            return OK  # it wrote its heartbeat moments ago: no write per probe
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await leadership.beat()
        except TimeoutError:
            return f"no answer within {WRITE_TIMEOUT_S:g} s"
        except Exception as exc:  # what failed is the answer; no traceback for a probe
            _log.warning("readiness: the database refused a write (%s)", describe(exc))
            return f"write failed: {type(exc).__name__}"
        return OK
