"""What a handler receives: who asked what, where, and the services to answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.app import Services

MAX_ARGUMENT_CHARS = 2000


@dataclass(frozen=True)
class Invocation:
    """One slash command as any platform delivers it, reduced to what handlers need."""

    platform: str  # "console", "slack", "discord"
    workspace: str  # Slack team id, Discord guild id, "local" on the console
    channel: str
    user: str
    text: str  # everything after the command name, as typed
    command: str = "/papers"
    is_manager: bool = False  # may change channel settings (platform permission)


@dataclass(frozen=True)
class Context:
    invocation: Invocation
    services: Services
    now: datetime
