"""Storage: the database and what callers may read and write in it."""

from bot.storage.database import Database
from bot.storage.store import (
    DestinationState,
    IndexRow,
    IngestCounts,
    OutboxHead,
    QueuedMessage,
    Store,
)

__all__ = [
    "Database",
    "DestinationState",
    "IndexRow",
    "IngestCounts",
    "OutboxHead",
    "QueuedMessage",
    "Store",
]
