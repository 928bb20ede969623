"""The Discord platform through discord.py: `/papers` app commands, persistent buttons, and
posting digests (as the bot, or through a webhook when only a webhook URL is set).

- `commands.py`: how a slash command arrives (the `/papers` tree, its error hook)
- `buttons.py`: the buttons under paperwire's messages, and how a press is handled
- `client.py`: the gateway client; every interaction deferred, answered, followed up
- `transport.py`: how a message is sent (as the bot, or through a webhook)
- `platform.py`: the bot's life in `paperwire run` (start, connect, serve, stop)
- `shards.py`: the client on discord.py's sharded client (PAPERWIRE_DISCORD_SHARDS)
- `config.py`, `endpoints.py`: the settings; discord.py pointed at other endpoints
"""

from bot.platforms.discord.client import PaperwireDiscord
from bot.platforms.discord.config import DiscordConfig, Shards
from bot.platforms.discord.platform import DiscordBot
from bot.platforms.discord.shards import ShardedPaperwireDiscord, discord_client
from bot.platforms.discord.transport import WebhookTransport, digest_bodies, webhook_destination

__all__ = [
    "DiscordBot",
    "DiscordConfig",
    "PaperwireDiscord",
    "ShardedPaperwireDiscord",
    "Shards",
    "WebhookTransport",
    "digest_bodies",
    "discord_client",
    "webhook_destination",
]
