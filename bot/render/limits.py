"""Platform limits (as Slack and Discord document them) and length-safe shortening.

Both platforms count length in characters, which is what `len(str)` counts.
"""

from __future__ import annotations

ELLIPSIS = "…"

# Slack Block Kit
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_SECTION_FIELDS = 10
SLACK_FIELD_TEXT = 2000
SLACK_HEADER_TEXT = 150
SLACK_CONTEXT_ELEMENTS = 10
SLACK_CONTEXT_TEXT = 3000
SLACK_BUTTON_TEXT = 75
SLACK_BUTTON_VALUE = 2000
SLACK_MESSAGE_TEXT = 40_000  # Slack truncates `text` past this
SLACK_FALLBACK_TEXT = 3000  # our own bound for the notification fallback `text`

# Discord
DISCORD_CONTENT = 2000
DISCORD_EMBEDS_PER_MESSAGE = 10
DISCORD_ACTION_ROWS = 5  # rows of at most 5 buttons under one message
DISCORD_EMBEDS_TOTAL = 6000
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELDS = 25
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_FOOTER = 2048
DISCORD_AUTHOR = 256
DISCORD_FILES_PER_MESSAGE = 10
# What a file may weigh on Discord where the server says nothing else (discord.py's
# DEFAULT_FILE_SIZE_LIMIT_BYTES: a server without boosts, a DM); an interaction tells its own
# (`attachment_size_limit`). Over it Discord answers 413 (code 40005).
DISCORD_FILE_BYTES = 10 * 1024 * 1024

# Files sent with a reply (an export, a chart): at most this much each. It is what Discord
# takes anywhere (Slack takes up to 1 GB), and what a message waiting in the outbox may
# carry (base64 in its row).
MAX_FILE_BYTES = DISCORD_FILE_BYTES
MAX_FILES = DISCORD_FILES_PER_MESSAGE

# A word boundary is worth taking only if it keeps at least this share of the room.
_MIN_KEEP = 0.5


def size_text(size: int) -> str:
    """A file's size for people: "812 bytes", "14.2 KiB", "10 MiB"."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = (size / 1024, "KiB") if size < 1024 * 1024 else (size / 1024 / 1024, "MiB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary and ended with "…".

    Never returns more than `limit` characters; a single word longer than the room is cut
    inside the word.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    room = limit - 1
    head = text[:room]
    if not text[room].isspace():
        boundary = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
        if boundary >= room * _MIN_KEEP:
            head = head[:boundary]
    head = head.rstrip().rstrip(",;:-\u2013\u2014")
    return head.rstrip() + ELLIPSIS
