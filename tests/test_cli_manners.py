"""The command line's manners: a closed pipe, options after the command, help for every
command and option, times a person reads, and a start-up log without library noise."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import build_parser
from bot.storage import open_storage
from bot.wording import ago, until
from tests.discord.fake_discord import running_fake_discord
from tests.processes import read_until, start_paperwire_run, stop
from tests.slack.fake_slack import running_fake_slack

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PAPERWIRE_DB": str(tmp_path / "default.db"),
        **extra,
    }


def _paperwire(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        timeout=60,
        check=False,
    )


# `demo` meets the closed pipe midway (it flushes its first line), `status` at the end.
@pytest.mark.parametrize("args", [["status", "--json"], ["demo"]])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written: every write fails
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(tmp_path),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert result.returncode == 141  # 128 + SIGPIPE, as a shell shows a writer cut off
    for noise in ("Traceback", "BrokenPipeError", "Exception ignored"):
        assert noise not in result.stderr


def test_db_and_verbose_work_after_the_command(tmp_path: Path) -> None:
    parser = build_parser()
    assert parser.parse_args(["--db", "a.db", "status"]).db == "a.db"
    assert parser.parse_args(["status", "--db", "b.db"]).db == "b.db"
    assert parser.parse_args(["ingest", "seeds", "--db", "c.db", "-v"]).db == "c.db"
    after = parser.parse_args(["discord", "sync", "-v"])
    assert after.verbose is True and after.db is None
    assert parser.parse_args(["-v", "search", "x"]).verbose is True
    assert parser.parse_args(["search", "x"]).verbose is False

    async def queue() -> None:
        async with open_storage(tmp_path / "given.db") as storage:
            at = datetime(2026, 11, 22, tzinfo=UTC)
            await storage.outbox.enqueue("slack:T1:C1", '"x"', (), at)

    asyncio.run(queue())
    result = _paperwire(tmp_path, "status", "--json", "--db", str(tmp_path / "given.db"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["queued"] == 1
    assert not (tmp_path / "default.db").exists()


def _parsers(parser: argparse.ArgumentParser, name: str) -> Iterator[tuple[str, Any]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert choice.help, f"{name} {choice.dest}: no help in the command list"
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_command_and_option_has_help() -> None:
    seen = 0
    for name, parser in _parsers(build_parser(), "paperwire"):
        assert parser.description, f"`{name} --help` has no description"
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            assert action.help and action.help != argparse.SUPPRESS, f"{name} {label}: no help"
            seen += 1
    assert seen > 50


def test_run_help_lists_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    shown = capsys.readouterr().out
    sources = [ROOT / "bot" / "config.py", *(ROOT / "bot" / "platforms").rglob("*.py")]
    names = {
        name
        for path in sources
        for name in re.findall(r'"((?:PAPERWIRE|SLACK|DISCORD)_[A-Z_]+)"', path.read_text())
    }
    assert len(names) > 20
    missing = sorted(name for name in names if name not in shown)
    assert not missing, f"`paperwire run --help` does not mention {missing}"


def test_times_read_as_how_long_ago_and_local_time() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")
    assert ago(now - timedelta(seconds=20), now, paris) == "just now (2026-11-22 12:59 CET)"
    assert ago(now - timedelta(minutes=1), now, paris) == "1 minute ago (2026-11-22 12:59 CET)"
    assert ago(now - timedelta(hours=5), now, paris) == "5 hours ago (2026-11-22 08:00 CET)"
    assert ago(now - timedelta(days=40), now, paris).startswith("40 days ago (2026-10-13 14:00")
    assert ago(now + timedelta(hours=2), now, paris).startswith("in 2 hours (")


def test_status_shows_local_times_and_json_keeps_iso(tmp_path: Path) -> None:
    at = (datetime.now(UTC) - timedelta(hours=3, minutes=10)).replace(microsecond=0)

    async def deliver() -> None:
        async with open_storage(tmp_path / "default.db") as storage:
            await storage.outbox.record_delivery("slack:T1:C1", at)
            await storage.outbox.record_delivery("slack:T1:C2", at, error="not_in_channel")

    asyncio.run(deliver())
    text = _paperwire(tmp_path, "status", TZ="Europe/Paris").stdout
    local = at.astimezone(ZoneInfo("Europe/Paris"))
    when = f"3 hours ago ({local:%Y-%m-%d %H:%M} {local.tzname()})"
    assert f"slack:T1:C1: ok · 0 queued · last success {when}" in text
    assert f"last success never · last error not_in_channel {when}" in text
    assert "+00:00" not in text
    rows = json.loads(_paperwire(tmp_path, "status", "--json").stdout)["destinations"]
    assert rows[0]["last_success_at"] == at.isoformat()


def test_until_reads_as_when_something_due_happens() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")
    assert until(now - timedelta(minutes=5), now, paris) == "now"
    assert until(now + timedelta(seconds=44.2), now, paris) == "in 45 seconds"
    assert until(now + timedelta(seconds=3895), now, paris) == "in 1 hour (2026-11-22 14:04 CET)"


def test_status_shows_each_queues_attempts_and_next_try(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)

    async def queue() -> None:
        async with open_storage(tmp_path / "default.db") as storage:
            failing, deferred, sending = [
                await storage.outbox.enqueue(f"slack:T1:C{n}", '"x"', (), now) for n in (1, 2, 3)
            ]
            for _ in range(2):
                await storage.outbox.mark_failed(
                    failing, "internal_error", now + timedelta(minutes=65)
                )
            await storage.outbox.record_delivery("slack:T1:C1", now, error="internal_error")
            await storage.outbox.mark_sending(deferred)
            await storage.outbox.mark_deferred(
                deferred, "waiting to read history", now + timedelta(hours=2, minutes=30)
            )
            await storage.outbox.mark_sending(sending)

    asyncio.run(queue())
    text = _paperwire(tmp_path, "status", TZ="Europe/Paris").stdout
    lines = {line.split(":")[2]: line for line in text.splitlines()}
    at = (now + timedelta(minutes=65)).astimezone(ZoneInfo("Europe/Paris"))
    assert f"1 queued, 2 failed tries, next try in 1 hour ({at:%Y-%m-%d %H:%M}" in lines["C1"]
    assert "last error internal_error" in lines["C1"]
    assert "1 queued, next try in 2 hours (" in lines["C2"]
    assert lines["C2"].split(" · ")[1].endswith("): waiting to read history")
    assert "1 queued, one under way (cut short by a stop" in lines["C3"]
    rows = json.loads(_paperwire(tmp_path, "status", "--json").stdout)["destinations"]
    first, second, third = rows
    assert (first["attempts"], first["next_try_at"]) == (
        2,
        (now + timedelta(minutes=65)).isoformat(),
    )
    assert (second["attempts"], second["waiting_because"]) == (0, "waiting to read history")
    assert third["sending"] and not first["sending"]


NOISE = (
    "Adding job tentatively",
    "will be unused",
    "voice will NOT be supported",
    "intent seems to be disabled",
)


async def test_the_start_up_log_has_no_library_noise(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with running_fake_slack(token="xoxb-test") as slack, running_fake_discord() as fake:
        process = await start_paperwire_run(
            db,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="secret",
            PAPERWIRE_SLACK_API_URL=slack.api_url,
            PAPERWIRE_HTTP_HOST="127.0.0.1",
            PAPERWIRE_HTTP_PORT="0",
            DISCORD_BOT_TOKEN=fake.token,
            PAPERWIRE_DISCORD_API_URL=fake.api_base,
            PAPERWIRE_DISCORD_GATEWAY_URL=fake.gateway_url,
        )
        assert process.stderr is not None
        lines: list[str] = []
        try:
            lines = await read_until(process.stderr, "paperwire is running")
        finally:
            await stop(process, signal.SIGTERM)
    log = "".join(lines)
    assert "Slack: listening" in log  # both platforms did start
    assert [line for line in lines if any(noise in line for noise in NOISE)] == []
