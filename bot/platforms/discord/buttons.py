"""The buttons paperwire puts under its messages, and how a press is handled.

They keep working after a restart: each is a discord.py `DynamicItem` whose state is all in
its custom id, so any process can rebuild it from the id Discord sends back. Each only
translates: its custom id becomes a neutral `Press`, which the client answers like a command
(`PaperwireDiscord.press`, through `handlers.buttons`).
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

from bot import buttons
from bot.render.limits import DISCORD_ACTION_ROWS
from bot.render.neutral import Choice, Digest
from handlers.buttons import (
    ABSTRACT,
    CHOICES,
    MORE_LIKE,
    NEXT,
    NOT_FOR_US,
    SIMILAR,
    Page,
    Press,
)

_NEXT_ID = r"pw:next:(?P<offset>\d{1,4}):(?P<key>[0-9a-f]{18})"
_PAPER_ACTIONS = "|".join((ABSTRACT, SIMILAR, MORE_LIKE, NOT_FOR_US))
_PAPER_ID = rf"pw:(?P<action>{_PAPER_ACTIONS}):(?P<paper>{buttons.PAPER_ID})"
_CHOICE_ID = rf"pw:choice:(?P<choice>{'|'.join(CHOICES)})"


@runtime_checkable
class AnswersPresses(Protocol):
    """The client as its buttons see it (`PaperwireDiscord`, which registers them)."""

    async def press(self, interaction: discord.Interaction, pressed: Press) -> None: ...


class PaperButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_PAPER_ID,
):
    """A digest paper's "Abstract" (shown only to whoever asks), "Subscribe to similar", or
    the channel's vote on it: "More like this", "Not for us"."""

    def __init__(self, action: str, paper_id: str, label: str, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.secondary,
                custom_id=f"pw:{action}:{paper_id}",
                row=row,
            )
        )
        self.action = action  # also the neutral action's name (ABSTRACT, SIMILAR, ...)
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PaperButton:
        return cls(match["action"], match["paper"], "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client(interaction).press(interaction, Press(self.action, self.paper_id))


class NextButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_NEXT_ID,
):
    def __init__(self, key: str, offset: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Next", style=discord.ButtonStyle.primary, custom_id=f"pw:next:{offset}:{key}"
            )
        )
        self.key = key
        self.offset = offset

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NextButton:
        return cls(match["key"], int(match["offset"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        page = Page(self.offset, saved_as=self.key)
        await _client(interaction).press(interaction, Press(NEXT, page))


class ChoiceButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_CHOICE_ID,
):
    """A choice under a question ("Forget me", "Clear the votes", "Cancel"): its action is
    all it carries; it acts for whoever presses it (the question was theirs alone)."""

    def __init__(self, action: str, label: str = "", danger: bool = False) -> None:
        style = discord.ButtonStyle.danger if danger else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(label=label[:80] or "?", style=style, custom_id=f"pw:choice:{action}")
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ChoiceButton:
        return cls(match["choice"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client(interaction).press(interaction, Press(self.action, None))


class StaleButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Any other paperwire id: one of another version, or one paperwire never wrote.
    template=rf"(?s)(?!(?:{_NEXT_ID}|{_PAPER_ID}|{_CHOICE_ID})\Z)pw:.*",
):
    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(label="?", custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StaleButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client(interaction).press(interaction, Press("", None))  # no action: out of date


# What the client registers, so that a press finds its button after a restart.
DYNAMIC_BUTTONS = (PaperButton, NextButton, ChoiceButton, StaleButton)


def _client(interaction: discord.Interaction) -> AnswersPresses:
    client = interaction.client
    assert isinstance(client, AnswersPresses)
    return client


def digest_views(digest: Digest, bodies: list[dict[str, Any]]) -> list[discord.ui.View | None]:
    """The buttons of each part of a digest (one embed per paper, in order): a row for each
    paper with "Abstract", "Similar to", "More like" and "Not for us" (a part holds at most
    5 papers: Discord's 5 rows)."""
    views: list[discord.ui.View | None] = []
    number = 0
    for body in bodies:
        view = discord.ui.View(timeout=None)
        for row, paper in enumerate(digest.papers[number : number + len(body.get("embeds", []))]):
            number += 1
            if buttons.paper_id(paper.id) is None or row >= DISCORD_ACTION_ROWS:
                continue
            if paper.abstract:
                view.add_item(PaperButton(ABSTRACT, paper.id, f"Abstract {number}", row))
            view.add_item(PaperButton(SIMILAR, paper.id, f"Similar to {number}", row))
            view.add_item(PaperButton(MORE_LIKE, paper.id, f"More like {number}", row))
            view.add_item(PaperButton(NOT_FOR_US, paper.id, f"Not for us {number}", row))
        views.append(view if view.children else None)
    return views


def choices_view(choices: tuple[Choice, ...]) -> discord.ui.View:
    """The buttons under a question, in one row."""
    view = discord.ui.View(timeout=None)
    for choice in choices[:5]:
        view.add_item(ChoiceButton(choice.action, choice.label, choice.danger))
    return view


def search_page_view(key: str, next_offset: int) -> discord.ui.View:
    """The "Next" button under a search page with more results (the query saved as `key`)."""
    view = discord.ui.View(timeout=None)
    view.add_item(NextButton(key, next_offset))
    return view
