"""The Slack settings read from the environment (config.py)."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.platforms.slack import SlackConfig


def test_config_needs_the_signing_secret_or_an_app_token() -> None:
    assert SlackConfig.from_env({}) is None
    with pytest.raises(UserError, match="SLACK_SIGNING_SECRET"):
        SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    config = SlackConfig.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "PAPERWIRE_HTTP_PORT": "80"}
    )
    assert config is not None and config.http_port == 80
    assert "xoxb-1" not in repr(config) and "xapp-1" not in repr(config)
