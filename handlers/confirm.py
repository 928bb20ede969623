"""Commands that remove data ask first: the notice says what would go, under it a button
that does it and a Cancel (the presser's alone); where there are no buttons (the console, a
reply in a thread) the command typed again with `--yes` does it."""

from __future__ import annotations

from bot.render.neutral import Choice, Notice, Reply
from handlers.context import Context

CANCEL = "cancel"  # the Cancel button's action (handlers.buttons)
YES = "--yes"
CANCELLED = "Cancelled: nothing was removed."


def ask(text: str, title: str, label: str, action: str, typed: str) -> Reply:
    """What `typed` (the command, e.g. `/papers forget me`) would remove, with `label`'s
    button for `action` and a Cancel; for the asker alone."""
    choices = (Choice(label, action, danger=True), Choice("Cancel", CANCEL))
    text += f"\n(Without buttons: `{typed} {YES}`.)"
    return Reply(Notice(text, title=title, choices=choices), private=True)


def confirmed(words: list[str]) -> bool | None:
    """Of the words after a command's own: True for `--yes`, False for nothing, None for
    anything else (a mistake, to be answered with the usage)."""
    if not words:
        return False
    return True if words == [YES] else None


async def cancel(ctx: Context, press: object) -> Reply:
    """The Cancel button: nothing happens, and the presser is told so."""
    return Reply(Notice(CANCELLED), private=True)
