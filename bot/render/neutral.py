"""Neutral reply content: what handlers and the digest job return, before any platform.

All text that came from outside (titles, abstracts, authors, the user's own query) is kept
raw here; each renderer escapes it for its platform.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from bot.models import Paper


@dataclass(frozen=True)
class Highlighted:
    """Text with the character ranges [start, end) that matched a query."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def segments(self) -> list[tuple[str, bool]]:
        """(piece, is_highlighted) pieces covering the whole text in order."""
        pieces: list[tuple[str, bool]] = []
        position = 0
        for start, end in sorted(self.spans):
            start, end = max(start, position), min(end, len(self.text))
            if start >= end:
                continue
            if start > position:
                pieces.append((self.text[position:start], False))
            pieces.append((self.text[start:end], True))
            position = end
        if position < len(self.text):
            pieces.append((self.text[position:], False))
        return pieces


@dataclass(frozen=True)
class Hit:
    paper: Paper
    score: float
    title: Highlighted
    snippet: Highlighted


@dataclass(frozen=True)
class SearchPage:
    """One page of ranked search results."""

    query: str
    hits: tuple[Hit, ...]
    offset: int = 0
    has_more: bool = False  # more results after these (counting them all costs too much)
    note: str | None = None  # e.g. why fewer words had to match
    corpus_empty: bool = False  # no hits because there are no papers at all yet


DigestStyle = Literal["compact", "full"]


@dataclass(frozen=True)
class Digest:
    """A day's trending papers for one destination, in the order to show them."""

    day: date
    papers: tuple[Paper, ...]
    topic: str | None = None
    style: DigestStyle = "full"
    note: str | None = None  # e.g. "No list for today yet; showing 9 May."
    # One per paper when the channel's taste ordered it: why taste lifted that paper
    # ("like 3 papers this channel liked"), None for a paper it did not lift.
    reasons: tuple[str | None, ...] = ()

    def reason(self, number: int) -> str | None:
        """Why the paper at `number` (from 0) is where it is, if taste lifted it."""
        return self.reasons[number] if number < len(self.reasons) else None


@dataclass(frozen=True)
class ListPages:
    """Where a page of a reading list stands, for its "Previous" and "Next" buttons: page
    `page` of `pages`, of the papers tagged `tag` (all of them with None)."""

    page: int
    pages: int
    tag: str | None = None


@dataclass(frozen=True)
class Choice:
    """A button under a notice that asks the reader to decide (confirm, or cancel): pressing
    it is the button action `action` (`handlers.buttons`), for the presser alone. It carries
    nothing else: what it does is decided when pressed, for whoever pressed it."""

    label: str
    action: str
    danger: bool = False  # shown as destructive (red)


@dataclass(frozen=True)
class Notice:
    """A short message in our own words (which may quote the user's input)."""

    text: str
    title: str | None = None
    is_error: bool = False
    papers: tuple[Paper, ...] = ()  # a few papers shown under the text, e.g. a topic's catch
    code: str = ""  # shown verbatim in a code block under the text (an export's file, short)
    pages: ListPages | None = None  # a reading list's page: "Previous" / "Next" buttons
    choices: tuple[Choice, ...] = ()  # buttons where the platform has them (not the console)


@dataclass(frozen=True)
class HelpTopic:
    usage: str  # e.g. "/papers search <query>"
    summary: str


@dataclass(frozen=True)
class Help:
    title: str
    topics: tuple[HelpTopic, ...]
    footer: str = ""
    error: str | None = None  # shown first when help answers a mistake


@dataclass(frozen=True)
class AlertGroup:
    """The new papers matching one of a user's topics."""

    topic: str
    papers: tuple[Paper, ...]
    more: int = 0  # matches left out by the cap


UpdateKind = Literal["version", "journal_ref", "doi"]


@dataclass(frozen=True)
class SavedUpdate:
    """A change to a paper on the user's reading list: a new version (`value` its number),
    a journal reference or a DOI."""

    paper: Paper
    kind: UpdateKind
    value: str


@dataclass(frozen=True)
class TopicAlert:
    """A user's daily direct message: new papers, grouped by the topic they matched, and
    what changed about the papers on their reading list ("Your reading list")."""

    groups: tuple[AlertGroup, ...]
    updates: tuple[SavedUpdate, ...] = ()
    more_updates: int = 0  # changes left for the next alert by the cap

    @property
    def count(self) -> int:
        return sum(len(g.papers) + g.more for g in self.groups)


Content = Notice | Help | SearchPage | Digest | TopicAlert


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (an export, a chart). Where a platform cannot take the file,
    the reply goes without it: the text must stand on its own."""

    filename: str  # e.g. "paperwire-saved.bib"
    data: bytes
    mime: str  # e.g. "application/x-bibtex", "image/png"
    title: str = ""
    alt_text: str = ""  # for images: what a screen reader says


@dataclass(frozen=True)
class Reply:
    """What a handler answers; adapters render it and deliver it."""

    content: Content
    ephemeral: bool = True
    private: bool = False  # for the asker only, even where answers are public (a mention)
    files: tuple[Attachment, ...] = ()  # uploaded with the message (Slack: to the DM)


def with_line(reply: Reply, line: str) -> Reply:
    """`reply` with a line of our own added to its text (what became of its files, say);
    content with no place for one (help, an alert) is left as it is."""
    content = reply.content
    if isinstance(content, Notice):
        return replace(reply, content=replace(content, text=f"{content.text}\n{line}".strip()))
    if isinstance(content, Digest | SearchPage):
        note = f"{content.note} {line}" if content.note else line
        return replace(reply, content=replace(content, note=note))
    return reply
