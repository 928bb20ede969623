"""The Discord platform's settings, read from the environment: a bot token or a webhook URL,
other endpoints (a proxy, tests), the webhook's digest time, the request rate and the
gateway shards this process runs."""

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
# Far above any bot's need (Discord asks for one shard per 1,000 to 2,500 servers).
MAX_SHARDS = 10_000
SHARD_IDS_FORMAT = re.compile(r"[0-9]+(?:-[0-9]+)?")


@dataclass(frozen=True)
class Shards:
    """The gateway shards this process runs: `ids`, out of `count` in all."""

    count: int
    ids: tuple[int, ...]


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
    shards: Shards | None = None  # None: one gateway connection, no sharding

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
        shards = read_shards(env)
        if shards is not None and token is None:
            raise UserError(
                "PAPERWIRE_DISCORD_SHARDS needs DISCORD_BOT_TOKEN: a webhook has no gateway"
            )
        return cls(
            bot_token=token,
            webhook_url=webhook,
            api_url=env.get("PAPERWIRE_DISCORD_API_URL", "").strip() or None,
            gateway_url=env.get("PAPERWIRE_DISCORD_GATEWAY_URL", "").strip() or None,
            webhook_digest=env.get("PAPERWIRE_WEBHOOK_DIGEST", "").strip(),
            requests_per_s=int(rate),
            shards=shards,
        )

    def endpoints(self) -> contextlib.AbstractContextManager[None]:
        """discord.py pointed at this configuration's endpoints, while in the block."""
        return discord_py_endpoints(self.api_url, self.gateway_url)


def read_shards(env: Mapping[str, str]) -> Shards | None:
    """PAPERWIRE_DISCORD_SHARDS (the count, e.g. 4) and PAPERWIRE_DISCORD_SHARD_IDS (this
    process's slice, e.g. "0,1" or "2-3"; all shards when unset); None when neither is set."""
    count_text = env.get("PAPERWIRE_DISCORD_SHARDS", "").strip()
    ids_text = env.get("PAPERWIRE_DISCORD_SHARD_IDS", "").strip()
    if not count_text:
        if ids_text:
            raise UserError(
                "PAPERWIRE_DISCORD_SHARD_IDS needs PAPERWIRE_DISCORD_SHARDS, the count of"
                " shards in all processes together"
            )
        return None
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_SHARDS:
        raise UserError(
            f"PAPERWIRE_DISCORD_SHARDS must be a whole number from 1 to {MAX_SHARDS},"
            f" not {count_text[:10]!r}"
        )
    count = int(count_text)
    if not ids_text:
        return Shards(count, tuple(range(count)))
    return Shards(count, _shard_ids(ids_text, count))


def _shard_ids(text: str, count: int) -> tuple[int, ...]:
    ids: dict[int, None] = {}  # in the order given
    for part in (p.strip() for p in text.split(",")):
        if not SHARD_IDS_FORMAT.fullmatch(part):
            raise UserError(
                'PAPERWIRE_DISCORD_SHARD_IDS must list shard ids and ranges, like "0,1" or'
                f' "2-3", not {text[:20]!r}'
            )
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if low > high:
            raise UserError(f"PAPERWIRE_DISCORD_SHARD_IDS: the range {part!r} runs backwards")
        if high >= count:
            raise UserError(
                f"PAPERWIRE_DISCORD_SHARD_IDS: shard {high} is out of range: with"
                f" PAPERWIRE_DISCORD_SHARDS={count} the ids are 0 to {count - 1}"
            )
        for shard in range(low, high + 1):
            if shard in ids:
                raise UserError(f"PAPERWIRE_DISCORD_SHARD_IDS lists shard {shard} twice")
            ids[shard] = None
    return tuple(ids)
