"""The Discord settings read from the environment (`bot/platforms/discord/config.py`)."""

import aiohttp
import discord
import pytest

from bot.errors import UserError
from bot.platforms.discord import DiscordConfig, Shards

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


BOT = {"DISCORD_BOT_TOKEN": "token"}


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("4", "0,1", Shards(4, (0, 1))),
        ("4", "2-3", Shards(4, (2, 3))),
        ("8", " 6, 0-2 ", Shards(8, (6, 0, 1, 2))),
        ("3", "", Shards(3, (0, 1, 2))),  # all shards
        ("1", "0", Shards(1, (0,))),
        ("10000", "9999", Shards(10_000, (9999,))),
    ],
)
def test_the_shards_this_process_runs(count: str, ids: str, expected: Shards) -> None:
    env = BOT | {"PAPERWIRE_DISCORD_SHARDS": count, "PAPERWIRE_DISCORD_SHARD_IDS": ids}
    config = DiscordConfig.from_env(env)
    assert config is not None and config.shards == expected


def test_without_the_shard_variables_there_is_no_sharding() -> None:
    config = DiscordConfig.from_env(BOT)
    assert config is not None and config.shards is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PAPERWIRE_DISCORD_SHARD_IDS": "0,1"},
            "PAPERWIRE_DISCORD_SHARD_IDS needs PAPERWIRE_DISCORD_SHARDS",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "0"},
            "PAPERWIRE_DISCORD_SHARDS must be a whole number from 1 to 10000, not '0'",
        ),
        ({"PAPERWIRE_DISCORD_SHARDS": "10001"}, "PAPERWIRE_DISCORD_SHARDS must be a whole number"),
        ({"PAPERWIRE_DISCORD_SHARDS": "2.5"}, "PAPERWIRE_DISCORD_SHARDS must be a whole number"),
        ({"PAPERWIRE_DISCORD_SHARDS": "-1"}, "PAPERWIRE_DISCORD_SHARDS must be a whole number"),
        ({"PAPERWIRE_DISCORD_SHARDS": "four"}, "PAPERWIRE_DISCORD_SHARDS must be a whole number"),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "4"},
            "PAPERWIRE_DISCORD_SHARD_IDS: shard 4 is out of range:"
            " with PAPERWIRE_DISCORD_SHARDS=4 the ids are 0 to 3",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "2-9"},
            "PAPERWIRE_DISCORD_SHARD_IDS: shard 9 is out of range",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "0,1,1"},
            "PAPERWIRE_DISCORD_SHARD_IDS lists shard 1 twice",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "0-2,2-3"},
            "PAPERWIRE_DISCORD_SHARD_IDS lists shard 2 twice",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "3-1"},
            "PAPERWIRE_DISCORD_SHARD_IDS: the range '3-1' runs backwards",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "0,,1"},
            "PAPERWIRE_DISCORD_SHARD_IDS must list shard ids and ranges",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "-1"},
            "PAPERWIRE_DISCORD_SHARD_IDS must list shard ids and ranges",
        ),
        (
            {"PAPERWIRE_DISCORD_SHARDS": "4", "PAPERWIRE_DISCORD_SHARD_IDS": "a"},
            "PAPERWIRE_DISCORD_SHARD_IDS must list shard ids and ranges",
        ),
    ],
)
def test_shard_settings_that_make_no_sense_are_refused_in_one_line(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(UserError) as refused:
        DiscordConfig.from_env(BOT | env)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_shards_need_a_bot() -> None:
    url = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
    with pytest.raises(UserError, match="PAPERWIRE_DISCORD_SHARDS needs DISCORD_BOT_TOKEN"):
        DiscordConfig.from_env({"DISCORD_WEBHOOK_URL": url, "PAPERWIRE_DISCORD_SHARDS": "2"})
