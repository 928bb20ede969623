"""Storage: the database, and one repository per aggregate behind a Protocol
(`protocols.py`, `protocols_people.py`: what each backend implements). SQLite (this
folder) is the embedded default; `postgres/` serves several processes. `open_storage`
builds either."""

from bot.storage.database import Database
from bot.storage.opening import open_storage
from bot.storage.protocols import (
    DayLists,
    Digests,
    Outbox,
    Papers,
    Processes,
    RawReader,
    SavedQueries,
    Storage,
    Subscriptions,
)
from bot.storage.protocols_people import Installations, SavedPapers, Votes
from bot.storage.types import DestinationState, IndexRow, IngestCounts, OutboxHead, QueuedMessage

__all__ = [
    "Database",
    "DayLists",
    "DestinationState",
    "Digests",
    "IndexRow",
    "IngestCounts",
    "Installations",
    "Outbox",
    "OutboxHead",
    "Papers",
    "Processes",
    "QueuedMessage",
    "RawReader",
    "SavedPapers",
    "SavedQueries",
    "Storage",
    "Subscriptions",
    "Votes",
    "open_storage",
]
