"""The buttons paperwire puts under its messages, and how a press is handled.

They keep working after a restart: each is a discord.py `DynamicItem` whose state is all in
its custom id, so any process can rebuild it from the id Discord sends back. Each only
translates: its custom id becomes a neutral `Press`, which the client answers like a command
(`PaperwireDiscord.press`, through `handlers.buttons`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import discord

from bot import buttons
from bot.models import Paper
from bot.render.limits import DISCORD_ACTION_ROWS
from bot.render.neutral import Choice, Digest, ListPages
from handlers.buttons import (
    ABSTRACT,
    CHOICES,
    MORE_LIKE,
    NEXT,
    NOT_FOR_US,
    SAVE,
    SAVED_PAGE,
    SIMILAR,
    ListPage,
    Page,
    Press,
)

CUSTOM_ID = 100  # Discord's longest custom id
BUTTONS_PER_ROW = 5
_NEXT_ID = r"pw:next:(?P<offset>\d{1,4}):(?P<key>[0-9a-f]{18})"
_PAPER_ACTIONS = "|".join((ABSTRACT, SIMILAR, MORE_LIKE, NOT_FOR_US))
_PAPER_ID = rf"pw:(?P<action>{_PAPER_ACTIONS}):(?P<paper>{buttons.PAPER_ID})"
# A Save in a direct message (an alert's) names the server whose list it saves to.
_SAVE_ID = rf"pw:{SAVE}:(?P<paper>{buttons.PAPER_ID})(?::(?P<guild>\d{{1,20}}))?"
# A reading list's page; the tag as `/papers saved --tag` takes it (checked by the handler).
_SAVED_ID = rf"pw:{SAVED_PAGE}:(?P<page>\d{{1,5}})(?::(?P<tag>[\w.+-]{{1,40}}))?"
_CHOICE_ID = rf"pw:choice:(?P<choice>{'|'.join(CHOICES)})"


@runtime_checkable
class AnswersPresses(Protocol):
    """The client as its buttons see it (`PaperwireDiscord`, which registers them)."""

    async def press(
        self, interaction: discord.Interaction, pressed: Press, guild: str | None = None
    ) -> None: ...


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


class SaveButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_SAVE_ID,
):
    """ "Save": the paper onto the presser's reading list. Under an alert (a direct message,
    where a press names no server) it carries the server the alert is for."""

    def __init__(
        self, paper_id: str, label: str, row: int | None = None, guild: str | None = None
    ) -> None:
        custom_id = f"pw:{SAVE}:{paper_id}" + (f":{guild}" if guild else "")
        super().__init__(
            discord.ui.Button(
                label=label[:80], style=discord.ButtonStyle.success, custom_id=custom_id, row=row
            )
        )
        self.paper_id = paper_id
        self.guild = guild

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SaveButton:
        return cls(match["paper"], "", guild=match["guild"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client(interaction).press(interaction, Press(SAVE, self.paper_id), self.guild)


class SavedPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_SAVED_ID,
):
    """A reading list's "Previous" or "Next": the page it shows, and the tag it keeps to."""

    def __init__(self, label: str, page: int, tag: str | None) -> None:
        custom_id = f"pw:{SAVED_PAGE}:{page}" + (f":{tag}" if tag else "")
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=custom_id)
        )
        self.page = page
        self.tag = tag

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SavedPageButton:
        return cls("", int(match["page"]), match["tag"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client(interaction).press(
            interaction, Press(SAVED_PAGE, ListPage(self.page, self.tag))
        )


class NextButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=_NEXT_ID,
):
    def __init__(self, key: str, offset: int, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Next",
                style=discord.ButtonStyle.primary,
                custom_id=f"pw:next:{offset}:{key}",
                row=row,
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


# Every id the buttons above take, as one pattern (its groups unnamed: names repeat).
_OURS = re.sub(
    r"\(\?P<\w+>", "(?:", "|".join((_NEXT_ID, _PAPER_ID, _SAVE_ID, _SAVED_ID, _CHOICE_ID))
)


class StaleButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Any other paperwire id: one of another version, or one paperwire never wrote.
    template=rf"(?s)(?!(?:{_OURS})\Z)pw:.*",
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
DYNAMIC_BUTTONS = (
    PaperButton,
    SaveButton,
    SavedPageButton,
    NextButton,
    ChoiceButton,
    StaleButton,
)


def _client(interaction: discord.Interaction) -> AnswersPresses:
    client = interaction.client
    assert isinstance(client, AnswersPresses)
    return client


def digest_views(digest: Digest, bodies: list[dict[str, Any]]) -> list[discord.ui.View | None]:
    """The buttons of each part of a digest (one embed per paper, in order): a row for each
    paper with "Abstract", "Similar to", "More like", "Not for us" and "Save" (a part holds
    at most 5 papers: Discord's 5 rows of 5)."""
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
            view.add_item(SaveButton(paper.id, f"Save {number}", row))
        views.append(view if view.children else None)
    return views


def save_views(
    papers: Sequence[tuple[str, Paper]], bodies: list[dict[str, Any]], guild: str | None = None
) -> list[discord.ui.View | None]:
    """A "Save <which>" for each (which, paper) of a search page or an alert (one embed per
    paper, in order, at most 10 a part), 5 a row: at most 2 rows, room left for a "Next".
    `guild`: the server an alert in a direct message is for."""
    views: list[discord.ui.View | None] = []
    papers = list(papers)
    for body in bodies:
        view = discord.ui.View(timeout=None)
        count = len(body.get("embeds", []))
        mine, papers = papers[:count], papers[count:]
        shown: dict[str, str] = {}  # paper id -> label: Discord refuses an id twice
        for which, paper in mine:
            if buttons.paper_id(paper.id) is not None:
                shown.setdefault(paper.id, which)
        for place, (paper_id, which) in enumerate(list(shown.items())[: BUTTONS_PER_ROW * 2]):
            fits = guild and len(f"pw:{SAVE}:{paper_id}:{guild}") <= CUSTOM_ID
            row = place // BUTTONS_PER_ROW
            view.add_item(SaveButton(paper_id, f"Save {which}", row, guild if fits else None))
        views.append(view if view.children else None)
    return views


def choices_view(choices: tuple[Choice, ...]) -> discord.ui.View:
    """The buttons under a question, in one row."""
    view = discord.ui.View(timeout=None)
    for choice in choices[:5]:
        view.add_item(ChoiceButton(choice.action, choice.label, choice.danger))
    return view


def with_next(view: discord.ui.View | None, key: str, next_offset: int) -> discord.ui.View:
    """`view` (or a new one) with the "Next" button of a search page with more results (the
    query saved as `key`), in a row of its own."""
    view = view or discord.ui.View(timeout=None)
    view.add_item(NextButton(key, next_offset, row=DISCORD_ACTION_ROWS - 1))
    return view


def list_pages_view(pages: ListPages) -> discord.ui.View | None:
    """A reading list's "Previous" and "Next", those that lead somewhere."""
    view = discord.ui.View(timeout=None)
    for label, page in (("Previous", pages.page - 1), ("Next", pages.page + 1)):
        if 1 <= page <= pages.pages:
            view.add_item(SavedPageButton(label, page, pages.tag))
    return view if view.children else None
