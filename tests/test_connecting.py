"""Keeping a platform connected: the backoff, the retry loop and its log lines."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from bot.errors import UserError
from bot.platforms.connecting import (
    Backoff,
    OneLineErrors,
    Platforms,
    Unreachable,
    keep_connecting,
)


class Scripted:
    """A platform whose attempts go as scripted: an exception to raise, or None to connect.
    `steps` records its lifecycle."""

    name = "scripted"

    def __init__(self, *outcomes: BaseException | None, start: BaseException | None = None) -> None:
        self.outcomes = list(outcomes)
        self.attempts = 0
        self.steps: list[str] = []
        self._start = start

    async def start(self) -> None:
        self.steps.append("start")
        if self._start is not None:
            raise self._start

    async def connect(self) -> None:
        self.attempts += 1
        self.steps.append("connect")
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome

    async def serve(self) -> None:
        self.steps.append("serve")
        await asyncio.Event().wait()  # until cancelled

    async def stop(self) -> None:
        self.steps.append("stop")


def test_backoff_doubles_from_1_s_to_60_s_with_jitter() -> None:
    rng = random.Random(7)
    backoff = Backoff()
    for failures, ceiling in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (50, 60), (5000, 60)]:
        delays = [backoff.delay(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # spread out, not in step


async def test_an_unreachable_platform_is_tried_again_with_one_line_per_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    platform = Scripted(Unreachable("refused"), Unreachable("refused again"), None)
    tried = asyncio.Event()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        assert tried.is_set()  # the first attempt is over before the first wait
        waits.append(seconds)

    with caplog.at_level(logging.INFO, logger="bot.platforms.connecting"):
        await keep_connecting(platform, tried, Backoff(first_s=1, cap_s=60), sleep)
    assert platform.attempts == 3 and tried.is_set()
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(";")[0] for r in warnings] == [
        "scripted: cannot connect (refused)",
        "scripted: cannot connect (refused again)",
    ]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in warnings)
    assert caplog.records[-1].getMessage() == "scripted: connected after 2 failed attempts"


async def test_a_refusal_is_not_tried_again() -> None:
    platform = Scripted(Unreachable("down"), UserError("the token was refused"), None)
    tried = asyncio.Event()

    async def sleep(seconds: float) -> None:
        pass

    with pytest.raises(UserError, match="the token was refused"):
        await keep_connecting(platform, tried, sleep=sleep)
    assert platform.attempts == 2


async def test_a_refusal_at_the_first_attempt_leaves_it_untried() -> None:
    """Start-up waits for `tried` or the end of the task: a refusal must end the task."""
    tried = asyncio.Event()
    with pytest.raises(UserError):
        await keep_connecting(Scripted(UserError("no")), tried)
    assert not tried.is_set()


def test_a_library_traceback_for_a_reconnect_becomes_one_line() -> None:
    logger = logging.getLogger("tests.one_line")
    logger.addFilter(OneLineErrors("Attempting a reconnect"))
    records: list[logging.LogRecord] = []
    handler = _Recording(records)
    logger.addHandler(handler)
    try:
        for message in ("Attempting a reconnect in %.2fs", "Ignoring exception after %ss"):
            try:
                raise ConnectionRefusedError(111, "Connect call failed ws://h/?ticket=s3cret&v=1")
            except OSError:
                logger.exception(message, 1.5)
    finally:
        logger.removeHandler(handler)
    reconnect, other = records
    assert reconnect.exc_info is None
    assert logging.Formatter().format(reconnect) == (
        "Attempting a reconnect in 1.50s (ConnectionRefusedError: [Errno 111]"
        " Connect call failed ws://h/?ticket=...&v=1)"
    )
    assert other.exc_info is not None  # other errors keep their traceback


class _Recording(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_platforms_are_started_then_connected_and_stopped_at_the_end() -> None:
    first, second = Scripted(None), Scripted(None)
    platforms = Platforms()
    await platforms.start(first)
    await platforms.start(second)
    await platforms.first_attempts(timeout=5)
    await asyncio.sleep(0)  # each goes on from connecting to serving
    assert first.steps == second.steps == ["start", "connect", "serve"]
    await platforms.stop()
    assert first.steps[-1] == second.steps[-1] == "stop"
    assert all(r.task.cancelled() for r in platforms.running)


async def test_a_platform_whose_start_fails_is_stopped_and_never_connected() -> None:
    """A port in use: the error ends the run; what that start took is given back."""
    broken = Scripted(None, start=UserError("cannot listen on 127.0.0.1:3000"))
    platforms = Platforms()
    with pytest.raises(UserError, match="cannot listen"):
        await platforms.start(broken)
    await platforms.stop()
    assert broken.steps == ["start", "stop"] and broken.attempts == 0
