"""What paperwire needs to know to talk to Slack, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import UserError
from bot.platforms.slack.recovery import READS_PER_MIN

# The bot scopes of slack-app-manifest.yml: what "Add to Slack" asks each workspace for.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "files:write",
    "users:read",
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
)


@dataclass(frozen=True)
class SlackConfig:
    """Read from the environment only; the secrets are kept out of `repr`. With a bot token
    it serves one workspace; with an OAuth client id and secret instead (`oauth`), every
    workspace that installs it."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    client_id: str | None = None  # OAuth mode: the app's client id
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None  # SLACK_REDIRECT_URI, when the app lists several
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

    @property
    def oauth(self) -> bool:
        """Many workspaces, each installed through OAuth (no SLACK_BOT_TOKEN)."""
        return self.client_id is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig | None:
        """None when neither a Slack token nor an OAuth client is set; a clear error when
        the setup is half done."""
        env = os.environ if env is None else env
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        client_id = env.get("SLACK_CLIENT_ID", "").strip() or None
        client_secret = env.get("SLACK_CLIENT_SECRET", "").strip() or None
        if not token and client_id is None and client_secret is None:
            return None
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip()
        if token and (client_id or client_secret):
            raise UserError(
                "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"
                " (any workspace installs it through OAuth), not both"
            )
        if not token and not (client_id and client_secret):
            missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
            raise UserError(
                f"OAuth mode needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information"
                f" page): {missing} is not set"
            )
        if not token and (app_token or not secret):
            raise UserError(
                "OAuth mode serves the install pages and Slack's requests over HTTP: set"
                " SLACK_SIGNING_SECRET (and not SLACK_APP_TOKEN)"
            )
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
            client_id=None if token else client_id,
            client_secret=None if token else client_secret,
            redirect_uri=env.get("SLACK_REDIRECT_URI", "").strip() or None,
        )
