"""A stop while a request is being answered. slack-bolt and discord.py run each handler in
a task that nothing awaits, so the stop must end it before the database closes: left
running, it met a closed database ("no active connection", a traceback per request).

`run_bot` runs in this process, so that what is left running after it returns can be
looked at; the reply is held at the fake platform, the handler waiting on it."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.runner import run_bot
from tests.canned import Slow, slow
from tests.discord.fake_discord import (
    APPLICATION_ID,
    point_discord_py_at,
    running_fake_discord,
    slash_interaction,
)
from tests.slack.fake_slack import RESPONSE_URL_METHOD, running_fake_slack
from tests.slack.signing import signed_headers, slash_command_body

SECRET = "signing-secret-of-the-test"
HANDLERS = ("_on_command", "run_command")  # the Slack and Discord entry points


class _Logged(logging.Handler):
    """Resolves `found` with the first match of `pattern` in the log."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = re.compile(pattern)
        self.found: asyncio.Future[re.Match[str]] = asyncio.get_running_loop().create_future()

    def emit(self, record: logging.LogRecord) -> None:
        match = self.pattern.search(record.getMessage())
        if match and not self.found.done():
            self.found.set_result(match)


@contextmanager
def _logged(pattern: str) -> Iterator[_Logged]:
    handler = _Logged(pattern)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


def _handlers_running() -> list[asyncio.Task[Any]]:
    """Tasks with one of paperwire's request handlers in their chain of awaits."""
    found = []
    for task in asyncio.all_tasks():
        awaited: Any = task.get_coro()
        while awaited is not None and hasattr(awaited, "cr_code"):
            if awaited.cr_code.co_name in HANDLERS:
                found.append(task)
                break
            awaited = awaited.cr_await
    return found


async def _stop_while_answering(
    running: asyncio.Task[None], stop: asyncio.Event, held: Slow
) -> None:
    async with asyncio.timeout(20):
        await held.arrived.wait()
    assert len(_handlers_running()) == 1  # answering, its reply on the way
    stop.set()
    async with asyncio.timeout(5):
        await running
    # The database is closed: no handler may be left to use it.
    assert _handlers_running() == []
    held.release()


def _assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "paperwire stopped" in caplog.text


async def test_a_stop_ends_the_slack_requests_being_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    held = slow()
    async with running_fake_slack() as fake:
        fake.fail(RESPONSE_URL_METHOD, held)
        for name, value in {
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "PAPERWIRE_SLACK_API_URL": fake.api_url,
            "PAPERWIRE_HTTP_HOST": "127.0.0.1",
            "PAPERWIRE_HTTP_PORT": "0",
        }.items():
            monkeypatch.setenv(name, value)
        stop = asyncio.Event()
        settings = Settings(db_path=str(tmp_path / "p.db"), sources=())
        with caplog.at_level(logging.INFO), _logged(r"listening on (http://\S+)") as listening:
            running = asyncio.create_task(run_bot(settings, stop))
            async with asyncio.timeout(20):
                url = (await listening.found).group(1)
            body = slash_command_body("help", response_url=fake.response_url("held"))
            async with (
                aiohttp.ClientSession() as http,
                http.post(url, data=body.encode(), headers=signed_headers(SECRET, body)) as r,
            ):
                assert r.status == 200
            await _stop_while_answering(running, stop, held)
    _assert_clean(caplog)
    # Its reply held past the grace: cancelled (the response_url has a session of its own,
    # which closing the platform does not end).
    assert "stopping: 1 request(s) still being answered were cancelled" in caplog.text


async def test_a_stop_ends_the_discord_interactions_being_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    held = slow()
    async with running_fake_discord() as fake:
        with point_discord_py_at(fake):  # restored after: paperwire sets them for good
            fake.fail("POST", rf"/webhooks/{APPLICATION_ID}/[^/]+", held)
            monkeypatch.setenv("DISCORD_BOT_TOKEN", fake.token)
            monkeypatch.setenv("PAPERWIRE_DISCORD_API_URL", fake.api_base)
            monkeypatch.setenv("PAPERWIRE_DISCORD_GATEWAY_URL", fake.gateway_url)
            stop = asyncio.Event()
            settings = Settings(db_path=str(tmp_path / "p.db"), sources=())
            with caplog.at_level(logging.INFO):
                running = asyncio.create_task(run_bot(settings, stop))
                await fake.wait_ready(timeout=20)
                await fake.dispatch("INTERACTION_CREATE", slash_interaction(subcommand="help"))
                await _stop_while_answering(running, stop, held)
    _assert_clean(caplog)
