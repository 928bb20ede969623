"""The Slack platform, through slack-bolt. One module a role:

- listeners.py: how a command, a button press or a mention arrives and is answered;
- transport.py: how a message is sent (chat.postMessage, response URLs, rate limits);
- server.py: receiving Slack's requests under `paperwire run` (HTTP or Socket Mode);
  http_endpoint.py: the HTTP endpoint and its signature check;
- adapter.py: the bolt app, listeners and transport put together; config.py: the settings;
- identity.py (auth.test), managers.py (who may change a digest), recovery.py (what an
  earlier send posted), errors.py (Slack's failures in words).
"""

from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.config import SlackConfig
from bot.platforms.slack.server import SlackServer

__all__ = ["SlackAdapter", "SlackConfig", "SlackServer"]
