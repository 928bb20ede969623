"""Log lines: `PAPERWIRE_LOG_FORMAT=json` gives one JSON object a line, never a secret."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import JsonLines, secrets_in
from tests.processes import closed_port, read_until, start_paperwire_run, stop

WEBHOOK_TOKEN = "SecretWebhookToken" + "w" * 50
WEBHOOK_URL = f"https://discord.com/api/webhooks/123456789012345678/{WEBHOOK_TOKEN}"
ENV = {
    "SLACK_BOT_TOKEN": "xoxb-secret-bot-token",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "DISCORD_WEBHOOK_URL": WEBHOOK_URL,
    "PAPERWIRE_DATABASE_URL": "postgresql://paperwire:db-password-1@db.internal/paperwire",
    "PAPERWIRE_DB": "/var/lib/paperwire/paperwire.db",
}
SECRETS = ("xoxb-secret-bot-token", "signing-secret-value", WEBHOOK_TOKEN, "db-password-1")


def record(message: str, *args: object, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error else None
    return logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_secrets_are_the_tokens_the_webhook_token_and_database_passwords() -> None:
    found = secrets_in(ENV, "postgresql://u:cli-password@h/d", None)
    for secret in (*SECRETS, "cli-password"):
        assert secret in found
    assert "/var/lib/paperwire/paperwire.db" not in found  # a path is no secret


def test_a_json_line_holds_time_level_logger_message_and_the_exception() -> None:
    formatter = JsonLines(secrets_in(ENV))
    try:
        raise RuntimeError(f"refused {ENV['SLACK_BOT_TOKEN']}")
    except RuntimeError as exc:
        error = exc
    line = formatter.format(
        record(
            "posting to %s failed: wss://x/?ticket=abc123&x=1 %s",
            WEBHOOK_URL,
            "db-password-1",
            error=error,
        )
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message", "exception"}
    assert entry["level"] == "WARNING" and entry["logger"] == "bot.test"
    assert entry["time"].endswith("+00:00")
    assert entry["message"] == "posting to ... failed: wss://x/?ticket=...&x=1 ..."
    assert "Traceback" in entry["exception"] and "RuntimeError: refused ..." in entry["exception"]
    for secret in SECRETS:
        assert secret not in line
    assert set(json.loads(formatter.format(record("plain")))) == {
        "time",
        "level",
        "logger",
        "message",
    }


async def test_paperwire_run_logs_json_lines_without_its_secrets(tmp_path: Path) -> None:
    with closed_port() as port:  # Discord cannot be reached: its retries are logged
        process = await start_paperwire_run(
            tmp_path / "p.db",
            PAPERWIRE_LOG_FORMAT="json",
            DISCORD_WEBHOOK_URL=WEBHOOK_URL,
            PAPERWIRE_DISCORD_API_URL=f"http://127.0.0.1:{port}/api/v10",
            PAPERWIRE_STATUS_TOKEN="status-token-value",
        )
        assert process.stderr is not None
        try:
            lines = await read_until(process.stderr, "paperwire is running")
        finally:
            code, _ = await stop(process, signal.SIGTERM)
        lines += (await process.stderr.read()).decode().splitlines(keepends=True)
    assert code == 0, "".join(lines)
    entries = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    messages = " ".join(e["message"] for e in entries)
    assert "paperwire is running" in messages and "discord" in messages.lower()
    for secret in (WEBHOOK_TOKEN, "status-token-value"):
        assert secret not in "".join(lines)


def test_an_unknown_log_format_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        env={**os.environ, "PAPERWIRE_LOG_FORMAT": "xml", "PAPERWIRE_DB": str(tmp_path / "p.db")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "paperwire: PAPERWIRE_LOG_FORMAT is 'xml': use text or json\n"


@pytest.fixture(autouse=True)
def _no_platform_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
