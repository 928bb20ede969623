"""The Discord platform's settings, read from the environment: a bot token or a webhook URL,
other endpoints (a proxy, tests), the webhook's digest time and the request rate."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import UserError
from bot.platforms.discord.endpoints import discord_py_endpoints

# What discord.Webhook.from_url accepts (its own pattern), from the start of an https URL.
WEBHOOK_URL = re.compile(
    r"https://(?:[a-z]+\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9.\-_]{60,}"
)


@dataclass(frozen=True)
class DiscordConfig:
    """Read from the environment only; the secrets are kept out of `repr`."""

    bot_token: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    api_url: str | None = None
    gateway_url: str | None = None
    webhook_digest: str = ""  # webhook mode: when its channel's digest goes, "08:30 Europe/Paris"
    # Requests a second: Discord's global limit per bot (large bots can be granted more).
    requests_per_s: int = 50

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DiscordConfig | None:
        """None when neither a bot token nor a webhook URL is set."""
        env = os.environ if env is None else env
        token = env.get("DISCORD_BOT_TOKEN", "").strip() or None
        webhook = env.get("DISCORD_WEBHOOK_URL", "").strip() or None
        if token is None and webhook is None:
            return None
        if webhook and not WEBHOOK_URL.match(webhook):
            # Not echoed: the URL's last part is the webhook's secret.
            raise UserError(
                "DISCORD_WEBHOOK_URL is not a Discord webhook URL: copy it again from the"
                " channel's Integrations > Webhooks (https://discord.com/api/webhooks/<id>/<token>)"
            )
        rate = env.get("PAPERWIRE_DISCORD_RATE", "").strip() or str(cls.requests_per_s)
        if not rate.isdigit() or not 1 <= int(rate) <= 10_000:
            raise UserError(
                "PAPERWIRE_DISCORD_RATE must be requests a second from 1 to 10000,"
                f" not {rate[:10]!r}"
            )
        return cls(
            bot_token=token,
            webhook_url=webhook,
            api_url=env.get("PAPERWIRE_DISCORD_API_URL", "").strip() or None,
            gateway_url=env.get("PAPERWIRE_DISCORD_GATEWAY_URL", "").strip() or None,
            webhook_digest=env.get("PAPERWIRE_WEBHOOK_DIGEST", "").strip(),
            requests_per_s=int(rate),
        )

    def endpoints(self) -> contextlib.AbstractContextManager[None]:
        """discord.py pointed at this configuration's endpoints, while in the block."""
        return discord_py_endpoints(self.api_url, self.gateway_url)
