"""A stop while a Slack request is being answered: slack-bolt runs each handler in a task
that nothing awaits, so the stop must end it before the database closes (left running, it
met a closed database: "no active connection", a traceback per request)."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.runner import run_bot
from tests.canned import slow
from tests.slack.fake_slack import RESPONSE_URL_METHOD, running_fake_slack
from tests.slack.signing import signed_headers, slash_command_body

SECRET = "signing-secret-of-the-test"
TOKEN = "xoxb-test"


class _Listening(logging.Handler):
    """Resolves `url` with the address `paperwire run` logs that it listens on."""

    def __init__(self) -> None:
        super().__init__()
        self.url: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def emit(self, record: logging.LogRecord) -> None:
        match = re.search(r"listening on (http://\S+)", record.getMessage())
        if match and not self.url.done():
            self.url.set_result(match.group(1))


def _handlers_running() -> list[asyncio.Task[Any]]:
    """Tasks with one of the Slack adapter's handlers (`_on_command`, ...) in their chain
    of awaits."""
    found = []
    for task in asyncio.all_tasks():
        awaited: Any = task.get_coro()
        while awaited is not None and hasattr(awaited, "cr_code"):
            if awaited.cr_code.co_name.startswith("_on_"):
                found.append(task)
                break
            awaited = awaited.cr_await
    return found


async def test_a_stop_ends_the_requests_being_answered_before_the_database_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    listening = _Listening()
    logging.getLogger("bot.platforms.slack").addHandler(listening)
    held = slow()  # the reply's response_url: the handler waits on it when the stop comes
    try:
        async with running_fake_slack(token=TOKEN) as fake:
            fake.fail(RESPONSE_URL_METHOD, held)
            for name, value in {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "PAPERWIRE_SLACK_API_URL": fake.api_url,
                "PAPERWIRE_HTTP_HOST": "127.0.0.1",
                "PAPERWIRE_HTTP_PORT": "0",
            }.items():
                monkeypatch.setenv(name, value)
            stop = asyncio.Event()
            settings = Settings(db_path=str(tmp_path / "p.db"), sources=())
            with caplog.at_level(logging.INFO):
                running = asyncio.create_task(run_bot(settings, stop))
                async with asyncio.timeout(20):
                    url = await listening.url
                body = slash_command_body("help", response_url=fake.response_url("held"))
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(url, data=body.encode(), headers=signed_headers(SECRET, body)) as r,
                ):
                    assert r.status == 200
                async with asyncio.timeout(20):
                    await held.arrived.wait()
                assert len(_handlers_running()) == 1  # answering, its reply on the way
                stop.set()
                async with asyncio.timeout(5):
                    await running
                # The database is closed: no handler may be left to use it.
                assert _handlers_running() == []
                held.release()
    finally:
        logging.getLogger("bot.platforms.slack").removeHandler(listening)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "stopping: 1 request(s) still being answered were cancelled" in caplog.text
    assert "paperwire stopped" in caplog.text
