"""The console platform: used when no Slack or Discord token is set. It reads `/papers ...`
lines from a terminal or a pipe and prints replies as text. A reply's files (an export, a
chart) are written to a directory of their own, one line each saying where."""

from __future__ import annotations

import asyncio
import getpass
import re
import tempfile
from pathlib import Path
from typing import TextIO

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage, Receipt
from bot.models import Destination
from bot.render.limits import size_text
from bot.render.neutral import Attachment
from bot.render.text import render_text, wants_color
from handlers.context import Context, Invocation
from handlers.router import dispatch

PROMPT = "paperwire> "
_EXIT = {"exit", "quit", ":q", "/exit", "/quit"}


class ConsoleTransport:
    """Prints messages; what a channel would receive, as a person would read it."""

    platform = "console"

    def __init__(self, out: TextIO, files_dir: Path | None = None) -> None:
        self._out = out
        self._color = wants_color(out)
        self._files_dir = files_dir  # made on the first file when not given

    async def send(self, message: OutgoingMessage) -> Receipt:
        kind, name = message.destination.kind, message.destination.channel
        header = {"channel": f"── #{name} ──\n", "dm": f"── direct message to {name} ──\n"}.get(
            kind, ""
        )
        text = render_text(message.reply.content, color=self._color)
        await message.departs()
        lines = [await asyncio.to_thread(self._write, file) for file in message.reply.files]
        self._out.write(header + "\n".join([text.rstrip(), *lines]) + "\n\n")
        self._out.flush()
        return Receipt(ok=True)

    def _write(self, file: Attachment) -> str:
        """`file` written under the files directory (never over an earlier one); the line
        that says where."""
        if self._files_dir is None:
            self._files_dir = Path(tempfile.mkdtemp(prefix="paperwire-files-"))
        name = re.sub(r"[^\w.+-]", "_", Path(file.filename).name).lstrip(".") or "file"
        path, n = self._files_dir / name, 1
        while path.exists():
            n += 1
            path = self._files_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
        path.write_bytes(file.data)
        return f"file: {path} ({size_text(len(file.data))})"


def invocation_from_line(line: str, user: str, channel: str = "shell") -> Invocation | None:
    """`/papers search x`, `papers search x` or just `search x`; None for a blank line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    first, _, rest = text.partition(" ")
    if first.lower() in ("/papers", "papers"):  # in any case: `/PAPERS help`
        text = rest.strip()
    return Invocation(
        platform="console",
        workspace="local",
        channel=channel,
        user=user,
        text=text,
        is_manager=True,  # whoever runs the shell owns the console
        channel_name=channel,
    )


async def run_shell(
    services: Services, stdin: TextIO, out: TextIO, interactive: bool, channel: str = "shell"
) -> int:
    """Answer each line until end of input or `exit`; returns the number of commands run."""
    transport = ConsoleTransport(out)
    services.delivery.register(transport)
    user = _local_user()
    destination = Destination("console", "local", channel, kind="reply")
    handled = 0
    if interactive:
        out.write("Type /papers help for commands, exit to leave.\n")
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip().lower() in _EXIT:
            break
        invocation = invocation_from_line(line, user, channel)
        if invocation is None:
            continue
        reply = await dispatch(Context(invocation, services, services.clock()))
        await services.delivery.deliver(OutgoingMessage(destination, reply))
        handled += 1
    return handled


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
