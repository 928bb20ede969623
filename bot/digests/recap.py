"""The weekly recap: a channel's week in papers, as a pure function of what was sent there
that week (by local day), how many people saved each paper and how the channel voted.

The week is the seven local days ending on the recap's day; the message is a `Notice` (the
renderers escape and fit it on every platform) with the week's top papers under it, and a
chart of the week (`recap_chart`) when matplotlib is installed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.models import Paper, scrub_text
from bot.render.neutral import Attachment, Notice, Reply
from bot.storage.types import VoteCounts
from bot.wording import plural

TOP = 3  # papers in each of "most saved" and "most liked"
TITLE_CHARS = 90  # a title quoted in the text
CHANNEL_CHARS = 32  # a channel's name in the recap's title (the chart's fits one line)
DASH = "\u2013"  # an en dash, between the week's days


@dataclass(frozen=True)
class Week:
    """Seven local days, `end` (the recap's day) included."""

    end: date

    @property
    def start(self) -> date:
        return self.end - timedelta(days=6)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.start + timedelta(days=n) for n in range(7))

    @property
    def run_day(self) -> date:
        """The Monday of the recap's calendar week: one recap per channel and week, even
        when its day changes in between."""
        return self.end - timedelta(days=self.end.weekday())

    def label(self) -> str:
        """ "23-29 Nov", "30 Nov - 6 Dec", "28 Dec 2026 - 3 Jan 2027" (with en dashes)."""
        start, end = self.start, self.end
        if start.year != end.year:
            return f"{start.day} {start:%b %Y} {DASH} {end.day} {end:%b %Y}"
        if start.month != end.month:
            return f"{start.day} {start:%b} {DASH} {end.day} {end:%b}"
        return f"{start.day}{DASH}{end.day} {end:%b}"


@dataclass(frozen=True)
class SentPaper:
    paper: Paper
    day: date  # the channel's local day it was sent


@dataclass(frozen=True)
class RecapPaper:
    paper: Paper
    saves: int = 0
    likes: int = 0
    dislikes: int = 0
    day: date | None = None  # the local day it was sent

    @property
    def score(self) -> tuple[int, int, int]:
        """What makes the week's top paper: saves and likes, less dislikes."""
        return (self.saves + self.likes - self.dislikes, self.saves, self.likes)


@dataclass(frozen=True)
class DayTally:
    day: date
    papers: int = 0
    likes: int = 0
    dislikes: int = 0
    saves: int = 0


@dataclass(frozen=True)
class Recap:
    channel: str  # "#ml-reading", or "This channel" when its name is not known
    week: Week
    days: tuple[DayTally, ...]  # the week's seven days, in order
    papers: tuple[RecapPaper, ...]  # every paper of the week, in the order sent
    most_saved: tuple[RecapPaper, ...]
    most_liked: tuple[RecapPaper, ...]

    @property
    def title(self) -> str:
        return f"{self.channel}'s week in papers, {self.week.label()}"

    @property
    def top(self) -> RecapPaper | None:
        """The week's top paper: most saved and liked; the first sent when none was."""
        if not self.papers:
            return None
        return max(self.papers, key=lambda p: p.score)  # max keeps the first of equals

    def total(self, what: str) -> int:
        return sum(int(getattr(day, what)) for day in self.days)


def compose_recap(
    channel: str,
    week: Week,
    sent: Sequence[SentPaper],
    saves: Mapping[str, int],
    votes: Mapping[str, VoteCounts],
) -> Recap:
    """The recap of `week` from the papers `sent` (those outside the week are left out),
    with saves and votes by paper id."""
    papers: list[RecapPaper] = []
    tallies = {day: DayTally(day) for day in week.days}
    for item in sent:
        if item.day not in tallies:
            continue
        count = votes.get(item.paper.id, VoteCounts())
        saved = saves.get(item.paper.id, 0)
        paper = RecapPaper(item.paper, saved, count.likes, count.dislikes, item.day)
        papers.append(paper)
        was = tallies[item.day]
        tallies[item.day] = DayTally(
            item.day,
            was.papers + 1,
            was.likes + paper.likes,
            was.dislikes + paper.dislikes,
            was.saves + paper.saves,
        )
    by_saves = sorted((p for p in papers if p.saves), key=lambda p: -p.saves)
    by_likes = sorted((p for p in papers if p.likes), key=lambda p: (-p.likes, p.dislikes))
    return Recap(
        channel,
        week,
        tuple(tallies[day] for day in week.days),
        tuple(papers),
        tuple(by_saves[:TOP]),
        tuple(by_likes[:TOP]),
    )


def channel_label(name: str | None) -> str:
    """ "#name" (at most CHANNEL_CHARS of it), or "This channel" when it is not known."""
    bare = (name or "").lstrip("#")
    if len(bare) > CHANNEL_CHARS:
        bare = bare[: CHANNEL_CHARS - 1] + "…"
    return f"#{bare}" if bare else "This channel"


def recap_text(recap: Recap) -> str:
    """The recap in words: the week's numbers, then the most saved and most liked papers
    (raw titles: the renderers escape them)."""
    count = len(recap.papers)
    active = sum(1 for day in recap.days if day.papers)
    lines = [
        f"{plural(count, 'paper')} reached this channel on {plural(active, 'day')}:"
        f" {plural(recap.total('likes'), 'like')}, {plural(recap.total('dislikes'), 'dislike')}"
        f" and {plural(recap.total('saves'), 'save')} from the team."
    ]
    if recap.most_saved:
        saved = "; ".join(f"{_quoted(p.paper)} ({p.saves})" for p in recap.most_saved)
        lines.append(f"Most saved: {saved}.")
    if recap.most_liked:
        liked = "; ".join(f"{_quoted(p.paper)} ({_votes(p)})" for p in recap.most_liked)
        lines.append(f"Most liked: {liked}.")
    if not recap.most_saved and not recap.most_liked:
        lines.append("No votes or saves yet: the buttons under each paper count here.")
    return "\n".join(lines)


def alt_text(recap: Recap) -> str:
    """What a screen reader says for the chart: what it shows, and the week's top paper."""
    top = recap.top
    lead = f"Bar chart of {recap.title}: papers, likes, dislikes and saves per day."
    return f"{lead} Top paper: {_short(top.paper.title)}." if top else lead


def chart_filename(week: Week) -> str:
    return f"paperwire-week-{week.end.isoformat()}.png"


def recap_reply(recap: Recap, chart: bytes | None) -> Reply:
    """The recap message, with its chart as a PNG when there is one."""
    top = recap.top
    shown = [*recap.most_saved, *recap.most_liked, *([top] if top else [])]
    papers = tuple({p.paper.id: p.paper for p in shown}.values())[: TOP * 2]
    files: tuple[Attachment, ...] = ()
    if chart is not None:
        name = chart_filename(recap.week)
        files = (Attachment(name, chart, "image/png", recap.title, alt_text(recap)),)
    notice = Notice(recap_text(recap), title=recap.title, papers=papers)
    return Reply(notice, ephemeral=False, files=files)


def _votes(paper: RecapPaper) -> str:
    liked = plural(paper.likes, "like")
    return f"{liked}, {plural(paper.dislikes, 'dislike')}" if paper.dislikes else liked


def _quoted(paper: Paper) -> str:
    return f"“{_short(paper.title)}”"


def _short(title: str) -> str:
    text = " ".join(scrub_text(title).split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"
