"""Files sent with a Discord message (an export, a chart): attachments of the message's last
part (`discord.File`, sent as multipart `files[n]` beside `payload_json`), so that an image
shows under the text, on a channel message and on an interaction's (ephemeral) follow-up
alike.

What a file may weigh depends on where it goes: an interaction says (its
`attachment_size_limit`, kept with the reply), a server's boosts raise it; elsewhere it is
Discord's default (`DISCORD_FILE_BYTES`, 10 MiB). A file over it is not sent, and one
Discord refuses (413 Request Entity Too Large, or 403 Missing Permissions: no Attach Files
in that channel) is sent no more: the text goes without it, saying why in one line.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import discord

from bot.render.limits import DISCORD_FILE_BYTES, size_text
from bot.render.neutral import Attachment, Reply, with_line

_log = logging.getLogger(__name__)

MISSING_PERMISSIONS = 50013
TOO_LARGE = 40005


def size_limit(handle: Mapping[str, Any] | None, guild: discord.Guild | None) -> int:
    """The most a file may weigh here: what the interaction said, or the server's."""
    said = (handle or {}).get("attachment_size_limit")
    if isinstance(said, int) and said > 0:
        return said
    return guild.filesize_limit if guild is not None else DISCORD_FILE_BYTES


def fitting(files: Sequence[Attachment], limit: int) -> tuple[tuple[Attachment, ...], str]:
    """The files that may go, and a line on those that may not ("" when all may)."""
    kept = tuple(file for file in files if len(file.data) <= limit)
    over = [file for file in files if len(file.data) > limit]
    if not over:
        return kept, ""
    sizes = ", ".join(f"{file.filename} is {size_text(len(file.data))}" for file in over)
    return kept, f"The file could not be attached: {sizes}, over Discord's {size_text(limit)}."


def discord_files(files: Sequence[Attachment]) -> list[discord.File]:
    """New `discord.File`s each time: discord.py closes them once sent."""
    return [
        discord.File(
            io.BytesIO(file.data), filename=file.filename, description=file.alt_text or None
        )
        for file in files
    ]


def refused(exc: discord.HTTPException) -> str | None:
    """Discord's refusal of a message's files, in a line; None for anything else."""
    if exc.status == 413 or getattr(exc, "code", 0) == TOO_LARGE:
        return "The file could not be attached: Discord answered 413 (too large)."
    if exc.status == 403 and getattr(exc, "code", 0) == MISSING_PERMISSIONS:
        return (
            "The file could not be attached: Discord answered 403 Missing Permissions"
            " (paperwire may not attach files here)."
        )
    return None


SendParts = Callable[[Reply, tuple[Attachment, ...]], Awaitable[None]]


async def with_files(send: SendParts, reply: Reply, limit: int, where: str) -> None:
    """`reply` sent by `send` (its parts not sent yet, the files with the last): the files
    that fit `limit`, and if Discord refuses them, the rest without, saying why."""
    files, line = fitting(reply.files, limit)
    reply = with_line(reply, line) if line else reply
    try:
        await send(reply, files)
    except discord.HTTPException as exc:
        why = refused(exc) if files else None
        if why is None:
            raise
        _log.warning("Discord refused the files of a message to %s: %s", where, why)
        await send(with_line(reply, why), ())
