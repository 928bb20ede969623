import aiohttp
import discord
import pytest

from bot.config import Settings, default_db_path
from bot.errors import UserError
from bot.platforms.discord import DiscordConfig


def test_defaults_follow_xdg() -> None:
    assert default_db_path({"XDG_DATA_HOME": "/data"}) == "/data/paperwire/paperwire.db"
    settings = Settings.from_env({"XDG_DATA_HOME": "/data"})
    assert settings.db_path == "/data/paperwire/paperwire.db"
    assert (settings.digest_size, settings.search_page_size) == (10, 5)


def test_flag_beats_environment() -> None:
    env = {"PAPERWIRE_DB": "/env.db"}
    assert Settings.from_env(env).db_path == "/env.db"
    assert Settings.from_env(env, db="/flag.db").db_path == "/flag.db"


@pytest.mark.parametrize(
    ("value", "message"),
    [("ten", "must be a whole number"), ("0", "between 1 and 50"), ("51", "between 1 and 50")],
)
def test_bad_numbers_are_explained(value: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        Settings.from_env({"PAPERWIRE_DIGEST_SIZE": value})


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


def test_biorxiv_is_a_source_with_its_servers() -> None:
    settings = Settings.from_env({"PAPERWIRE_SOURCES": "hf,biorxiv"})
    assert settings.sources == ("hf", "biorxiv")
    assert settings.biorxiv_servers == ("biorxiv",)
    assert settings.biorxiv_api_url == "https://api.biorxiv.org"
    both = Settings.from_env({"PAPERWIRE_BIORXIV_SERVERS": "biorxiv, medrxiv"})
    assert both.biorxiv_servers == ("biorxiv", "medrxiv")
    with pytest.raises(UserError, match="unknown server 'chemrxiv'"):
        Settings.from_env({"PAPERWIRE_BIORXIV_SERVERS": "chemrxiv"})
