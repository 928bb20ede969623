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


def test_an_oauth_client_instead_of_a_token_serves_many_workspaces() -> None:
    oauth = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "s3cret"}
    config = SlackConfig.from_env({**oauth, "SLACK_SIGNING_SECRET": "sig"})
    assert config is not None and config.oauth and config.bot_token == ""
    assert "s3cret" not in repr(config) and "sig" not in repr(config)
    single = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sig"})
    assert single is not None and not single.oauth
    with pytest.raises(UserError, match="not both"):
        SlackConfig.from_env({**oauth, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(UserError, match="SLACK_CLIENT_SECRET is not set"):
        SlackConfig.from_env({"SLACK_CLIENT_ID": "111.222", "SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(UserError, match="over HTTP"):
        SlackConfig.from_env({**oauth, "SLACK_APP_TOKEN": "xapp-1"})
