"""The Discord settings read from the environment (`bot/platforms/discord/config.py`)."""

import aiohttp
import discord
import pytest

from bot.errors import UserError
from bot.platforms.discord import DiscordConfig

TOKEN = "x" * 30 + "-Secret_" + "y" * 30  # the webhook's secret part (68 characters)


@pytest.mark.parametrize(
    "url",
    [
        f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}",
        f"https://discordapp.com/api/webhooks/123456789012345678/{TOKEN}",
        f"https://ptb.discord.com/api/webhooks/123456789012345678/{TOKEN}?thread_id=42",
    ],
)
async def test_a_discord_webhook_url_is_accepted_as_discord_py_reads_it(url: str) -> None:
    config = DiscordConfig.from_env({"DISCORD_WEBHOOK_URL": url})
    assert config is not None and config.webhook_url == url
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.from_url(url, session=session)
    assert (webhook.id, webhook.token) == (123456789012345678, TOKEN)


@pytest.mark.parametrize(
    "url",
    [
        f"https://example.com/api/webhooks/123456789012345678/{TOKEN}",
        f"http://discord.com/api/webhooks/123456789012345678/{TOKEN}",  # not https
        f"discord.com/api/webhooks/123456789012345678/{TOKEN}",
        f"https://discord.com/api/webhooks/1234/{TOKEN}",  # the id is 17 to 20 digits
        "https://discord.com/api/webhooks/123456789012345678/Secret_short",
        f"https://hooks.slack.com/services/T000/B000/{TOKEN}",
    ],
)
def test_anything_but_a_discord_https_webhook_url_is_refused_when_read(url: str) -> None:
    with pytest.raises(UserError) as refused:
        DiscordConfig.from_env({"DISCORD_WEBHOOK_URL": url})
    message = str(refused.value)
    assert message.startswith("DISCORD_WEBHOOK_URL is not a Discord webhook URL")
    assert "\n" not in message and "Secret" not in message and "example" not in message
