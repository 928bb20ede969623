"""Hostile input against a real `paperwire run` (issue 13, "Done when"): a signed button
with a forged offset, a forged request with a marker in its body, 60 concurrent
subscribes from one user and a poisoned source file leave it alive, its log clean, at
most 20 topics stored and every other paper ingested (and what it stored is private to its
owner).

The run is in Slack HTTP mode against the fake Slack, with Hugging Face as its source,
served by the fake sources. The command budget is off (`PAPERWIRE_COMMANDS_PER_MINUTE=0`,
`..._PER_HOUR=0`): otherwise it refuses 50 of the 60 subscribes, and it is the topic limit
under concurrency that is tested here (the budget has tests of its own).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import stat
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.buttons import STALE_BUTTON
from bot.models import Destination
from bot.render.slack_buttons import ACTION_NEXT
from bot.storage import open_storage
from tests.fixture_files import HF_DAILY
from tests.processes import start_paperwire_run
from tests.slack.fake_slack import RESPONSE_URL_METHOD, SlackCall, running_fake_slack
from tests.slack.signing import (
    VERIFICATION_TOKEN,
    block_actions_payload,
    interaction_body,
    signed_headers,
    slash_command_body,
)
from tests.sources.fake_sources import running_fake_sources

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-hostile-run-token"
MARKER = "MARKER-7f3a9c-forged"
POISONED_ID = "2405.15682"  # "The Road Less Scheduled", third from the end of the day
SUBSCRIBES = 60
LIMIT = 20  # PAPERWIRE_MAX_SUBSCRIPTIONS's default


class Output:
    """A child's stdout and stderr, read as they come (a full pipe would block it)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = asyncio.Condition()
        self._readers = [
            asyncio.create_task(self._read(process.stdout, self.stdout)),
            asyncio.create_task(self._read(process.stderr, self.stderr)),
        ]

    async def _read(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        while line := await stream.readline():
            async with self._changed:
                into.append(line.decode("utf-8", "replace"))
                self._changed.notify_all()

    async def wait_for(self, pattern: str, count: int = 1, timeout: float = 20) -> list[str]:  # noqa: ASYNC109
        """The first `count` stderr lines matching `pattern`, once there are that many."""

        def matching() -> list[str]:
            return [line for line in self.stderr if re.search(pattern, line)]

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            raise AssertionError(
                f"no {count} line(s) matching {pattern!r}; the log:\n{self.text()}"
            ) from None
        return matching()[:count]

    async def close(self) -> None:
        await asyncio.gather(*self._readers)

    def text(self) -> str:
        return "".join(self.stderr) + "".join(self.stdout)


def poisoned_day() -> list[dict[str, Any]]:
    """A real day's list whose one paper has a lone surrogate in its title and summary:
    the fake sends them as `\\ud800` escapes, which JSON allows and UTF-8 cannot hold."""
    items: list[dict[str, Any]] = json.loads((HF_DAILY / "2024-05-27.json").read_bytes())
    for item in items:
        if item["paper"]["id"] == POISONED_ID:
            item["paper"]["title"] = "The Road \ud800 Less Scheduled"
            item["title"] = item["paper"]["title"]
            item["paper"]["summary"] = "Poisoned \ud800 summary."
    return items


async def post(http: aiohttp.ClientSession, url: str, body: str, secret: str = SECRET) -> int:
    async with http.post(url, data=body.encode(), headers=signed_headers(secret, body)) as response:
        return response.status


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def texts(call: SlackCall) -> str:
    return json.dumps(call.args, ensure_ascii=False)


def answered(calls: Sequence[SlackCall], name: str) -> list[SlackCall]:
    return [call for call in calls if call.path.endswith(f"/response/{name}")]


async def test_hostile_input_leaves_a_real_run_alive_and_its_log_clean(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    items = poisoned_day()
    async with running_fake_slack(token=TOKEN) as slack, running_fake_sources() as sources:
        # The run fetches its UTC yesterday and today: serve the list on each day it may
        # take for either (the clock may pass midnight while it starts).
        today = datetime.now(UTC).date()
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            sources.hf_days[day.isoformat()] = items
        process = await start_paperwire_run(
            db,
            **slack.http_mode_env(SECRET),
            PAPERWIRE_SOURCES="hf",
            PAPERWIRE_HF_URL=sources.url,
            PAPERWIRE_COMMANDS_PER_MINUTE="0",
            PAPERWIRE_COMMANDS_PER_HOUR="0",
        )
        output = Output(process)
        try:
            [listening] = await output.wait_for(r"listening on http://\S+")
            url = re.findall(r"listening on (http://\S+)", listening)[0]
            async with aiohttp.ClientSession() as http:
                # A signed Next button whose offset paperwire never wrote.
                forged_offset = json.dumps({"q": "diffusion", "o": 10**10})
                payload = block_actions_payload(
                    ACTION_NEXT, forged_offset, response_url=slack.response_url("next")
                )
                assert await post(http, url, interaction_body(payload)) == 200

                # A request not signed with the app's secret, a marker in its body.
                forged = slash_command_body(
                    f"search {MARKER}", response_url=slack.response_url(MARKER)
                )
                assert await post(http, url, forged, secret="not-the-secret") == 401

                # One user subscribing to 60 topics at once.
                statuses = await asyncio.gather(
                    *(
                        post(
                            http,
                            url,
                            slash_command_body(
                                f"subscribe topic{n}", response_url=slack.response_url(f"s{n}")
                            ),
                        )
                        for n in range(SUBSCRIBES)
                    )
                )
                assert statuses == [200] * SUBSCRIBES
            calls = await slack.wait_for(RESPONSE_URL_METHOD, count=1 + SUBSCRIBES, timeout=20)
            # The start-up ingest of both days, the poisoned paper's included.
            await output.wait_for(r"Hugging Face list for \S+: ", count=2)
            assert process.returncode is None  # alive after all of it
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                code = await process.wait()
            await output.close()
    log = output.text()
    assert code == 0, log

    [stale] = answered(calls, "next")
    assert STALE_BUTTON in texts(stale)
    assert answered(calls, MARKER) == []  # the forged request reached nothing
    replies = [texts(call) for n in range(SUBSCRIBES) for call in answered(calls, f"s{n}")]
    assert len(replies) == SUBSCRIBES
    assert sum("Subscribed to" in reply for reply in replies) == LIMIT
    assert sum(f"the most allowed is {LIMIT}" in reply for reply in replies) == SUBSCRIBES - LIMIT

    # The log is clean: nothing failed, nothing of a request or a secret in it.
    assert "Traceback" not in log, log
    assert not [line for line in output.stderr if " ERROR " in line], log
    assert "signature does not match" in log  # the forged request's one line
    for secret in (MARKER, SECRET, TOKEN, VERIFICATION_TOKEN, "/response/", "subscribe topic"):
        assert secret not in log, f"{secret!r} in the log:\n{log}"

    # What it stored (response_urls among it) is its owner's alone.
    assert mode(db) == 0o600 and mode(Path(f"{db}.index")) == 0o700

    async with open_storage(db) as storage:
        subscriptions = await storage.subscriptions.subscriptions()  # everyone's: there is one user
        assert len(subscriptions) == LIMIT
        assert {s.owner for s in subscriptions} == {Destination("slack", "T1", "U1", "dm")}
        for item in items:
            paper = await storage.papers.paper_by_id(item["paper"]["id"])
            assert paper is not None, item["paper"]["id"]
        assert await storage.papers.count_papers() == len(items)
        poisoned = await storage.papers.paper_by_id(POISONED_ID)
        assert poisoned is not None
        assert poisoned.title == "The Road \ufffd Less Scheduled"
        assert poisoned.abstract == "Poisoned \ufffd summary."
