"""Storage: the database, and one repository per aggregate behind a Protocol
(`protocols.py`: what a second backend implements). `open_storage` builds them all."""

from bot.storage.database import Database
from bot.storage.protocols import DayLists, Digests, Outbox, Papers, SavedQueries, Subscriptions
from bot.storage.sqlite import Storage, open_storage
from bot.storage.types import DestinationState, IndexRow, IngestCounts, OutboxHead, QueuedMessage

__all__ = [
    "Database",
    "DayLists",
    "DestinationState",
    "Digests",
    "IndexRow",
    "IngestCounts",
    "Outbox",
    "OutboxHead",
    "Papers",
    "QueuedMessage",
    "SavedQueries",
    "Storage",
    "Subscriptions",
    "open_storage",
]
