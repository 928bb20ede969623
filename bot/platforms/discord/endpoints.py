"""Where discord.py sends its traffic: the one place paperwire changes discord.py's
process-wide endpoints, and only inside a `with` block (from a platform's start to its stop,
or around a CLI command), never at import."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import discord
import yarl


@contextlib.contextmanager
def discord_py_endpoints(api_url: str | None, gateway_url: str | None) -> Iterator[None]:
    """discord.py's REST and gateway traffic sent to other endpoints (a proxy, tests) while
    in this block, then put back. discord.py has no per-client setting: its endpoints are
    class attributes that every client and webhook in the process reads, so they are
    changed only while a platform runs (from its start to its stop), never at import."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
