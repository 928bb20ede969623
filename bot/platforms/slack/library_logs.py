"""Loggers handed to the Slack SDK's clients, set up without touching `logging`'s registry."""

from __future__ import annotations

import logging

# The package's logger: what the SDK clients log goes on to it, as paperwire's own lines do.
_log = logging.getLogger("bot.platforms.slack")


def library_log(name: str, level: int = logging.NOTSET) -> logging.Logger:
    """A logger handed to a Slack SDK client, with a level or filters of its own. It is
    not registered with `logging` (so setting it up changes no logger anyone else can
    get): what it lets through goes on to the package's logger and its handlers."""
    logger = logging.Logger(f"{_log.name}.{name}", level)
    logger.parent = _log
    return logger
