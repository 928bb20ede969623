"""What a handler receives: who asked what, where, and the services to answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.app import Services
from bot.models import scrub_text

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
    # May change channel settings (a platform permission); None: the platform could not be
    # asked just now (neither yes nor no).
    is_manager: bool | None = False
    channel_name: str = ""  # as the platform names it, when it says (a recap's title)

    def __post_init__(self) -> None:
        # A platform's JSON can carry a lone surrogate ("\\ud800"), which no store or
        # platform takes back, and controls no command needs: cleaned where commands enter.
        object.__setattr__(self, "text", scrub_text(self.text))


@dataclass(frozen=True)
class Context:
    invocation: Invocation
    services: Services
    now: datetime
