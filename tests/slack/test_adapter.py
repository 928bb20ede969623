"""The Slack platform put together (adapter.py): the bolt app it builds, and the Slack app
manifest asking for what that app uses."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import Services
from bot.platforms.slack import SlackAdapter, SlackConfig
from tests.slack.served import SECRET, TOKEN


def test_the_manifest_asks_for_what_the_bot_uses() -> None:
    manifest = (Path(__file__).parents[2] / "slack-app-manifest.yml").read_text()
    for needed in (
        "command: /papers",
        "/slack/events",
        "- commands",
        "- chat:write",
        "- im:write",
        "- files:write",
        "- users:read",
        "- app_mention",
        "is_enabled: true",
    ):
        assert needed in manifest


def test_the_manifest_and_the_oauth_scopes_agree() -> None:
    from bot.platforms.slack.config import BOT_SCOPES

    manifest = (Path(__file__).parents[2] / "slack-app-manifest.yml").read_text()
    bot = manifest.split("bot:\n", 1)[1].split("settings:", 1)[0]
    listed = [line.split("#")[0].strip().removeprefix("- ") for line in bot.splitlines()]
    assert sorted(s for s in listed if s) == sorted(BOT_SCOPES)


def test_building_the_bolt_app_logs_nothing_the_start_up_log_would_show(
    seeded: Services, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.logs import drop_noise

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # as under `paperwire run`
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    SlackAdapter(seeded, SlackConfig(TOKEN, SECRET))
    bolt = [r for r in caplog.records if r.name.startswith("slack_bolt")]
    assert [r.getMessage() for r in bolt if r.levelno >= logging.INFO and drop_noise(r)] == []
