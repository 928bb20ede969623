"""What paperwire needs to know to talk to Slack, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import UserError
from bot.platforms.slack.recovery import READS_PER_MIN


@dataclass(frozen=True)
class SlackConfig:
    """Read from the environment only; the secrets are kept out of `repr`."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = "https://slack.com/api/"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    managers: frozenset[str] = frozenset()  # user ids allowed besides admins and owners
    # Messages a second across the workspace. Slack publishes no number for this budget
    # ("a workspace-wide limit"); a 429 beyond it holds every sender for its Retry-After.
    posts_per_s: int = 5
    # Reads a minute of conversations.history (and of conversations.replies), to look for
    # what an earlier send posted: Slack allows one to apps outside its Marketplace created
    # since May 2025, 50 or more to the others.
    history_per_min: int = READS_PER_MIN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig | None:
        """None when no Slack token is set; a clear error when the setup is half done."""
        env = os.environ if env is None else env
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            return None
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip()
        if not secret and app_token is None:
            raise UserError(
                "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: HTTP mode needs the"
                " signing secret (Basic Information page), or set SLACK_APP_TOKEN for Socket Mode."
            )
        api_url = env.get("PAPERWIRE_SLACK_API_URL", "").strip() or cls.api_url
        port = env.get("PAPERWIRE_HTTP_PORT", "").strip() or "3000"
        if not port.isdigit() or int(port) > 65535:
            raise UserError(f"PAPERWIRE_HTTP_PORT must be a port number, not {port[:10]!r}")
        managers = frozenset(
            u.strip() for u in env.get("PAPERWIRE_SLACK_MANAGERS", "").split(",") if u.strip()
        )
        rate = env.get("PAPERWIRE_SLACK_RATE", "").strip() or str(cls.posts_per_s)
        if not rate.isdigit() or not 1 <= int(rate) <= 1000:
            raise UserError(
                f"PAPERWIRE_SLACK_RATE must be messages a second from 1 to 1000, not {rate[:10]!r}"
            )
        reads = env.get("PAPERWIRE_SLACK_HISTORY_RATE", "").strip() or str(cls.history_per_min)
        if not reads.isdigit() or not 1 <= int(reads) <= 1000:
            raise UserError(
                "PAPERWIRE_SLACK_HISTORY_RATE must be history reads a minute from 1 to 1000,"
                f" not {reads[:10]!r}"
            )
        return cls(
            bot_token=token,
            signing_secret=secret,
            app_token=app_token,
            api_url=api_url if api_url.endswith("/") else api_url + "/",  # urljoin needs it
            http_host=env.get("PAPERWIRE_HTTP_HOST", "").strip() or cls.http_host,
            http_port=int(port),
            managers=managers,
            posts_per_s=int(rate),
            history_per_min=int(reads),
        )
