"""Text that escapes to nothing (bidi overrides, ANSI escapes, other controls) leaves no
empty field behind: Discord refuses an embed footer of `""`, Slack a context without
elements, and a refused digest would be retried forever, holding up its channel."""

from __future__ import annotations

from datetime import date

import pytest

from bot.models import Paper, Signals, TrendingEntry
from bot.render.discord import render_discord
from bot.render.escape import escape_discord, escape_slack
from bot.render.neutral import (
    AlertGroup,
    Content,
    Digest,
    Help,
    HelpTopic,
    Highlighted,
    Hit,
    Notice,
    SearchPage,
    TopicAlert,
)
from bot.render.slack import render_slack, render_slack_abstracts
from bot.render.text import render_text
from tests.payload_checks import (
    check_discord_message,
    check_slack_message,
    discord_texts,
    slack_texts,
)

NOTHING = ("\u202e", "\x1b[31m", "\u2066\u2069", "\x00\x07", "\x1b]8;;http://x\x07")
DAY = date(2026, 5, 9)


def vanishing_paper(number: int, abstract: str = "\x1b[0m") -> Paper:
    """A paper whose every text escapes to nothing; only its id, URL and upvotes remain."""
    return Paper(
        id=f"2605.{number:05d}",
        arxiv_id=f"2605.{number:05d}",
        title=NOTHING[number % len(NOTHING)],
        abstract=abstract,
        authors=NOTHING[:2],
        signals=Signals(upvotes=3, ai_summary="\u202e\u202c"),
        trending=(TrendingEntry(DAY, "hf", number, 3),),
    )


def contents() -> list[Content]:
    papers = tuple(vanishing_paper(n) for n in range(1, 4))
    hits = tuple(
        Hit(p, 1.0, Highlighted(p.title, ((0, 1),)), Highlighted("\u202e", ((0, 1),)))
        for p in papers
    )
    return [
        Digest(DAY, papers, topic="\u202e", style="full", note="\x1b[1m"),
        Digest(DAY, papers, topic="\u202e", style="compact", note="\x1b[1m"),
        Digest(DAY, (), topic="\x1b[0m", note="\u2066"),
        TopicAlert((AlertGroup("\u202e", papers, more=2),)),
        SearchPage("\u202e", hits, note="\x1b[0m", has_more=True),
        SearchPage("\u202e", (), note="\x1b[0m"),
        Help("\u202e", (HelpTopic("\x1b[0m", "\u202e"),), footer="\u202e", error="\x1b[0m"),
        Notice("\u202e", title="\x1b[0m"),
        Notice("\u202e", title="\x1b[0m", is_error=True),
        Notice("\u202e"),
    ]


@pytest.mark.parametrize("content", contents(), ids=lambda c: type(c).__name__)
def test_discord_leaves_out_fields_that_escape_to_nothing(content: Content) -> None:
    for body in render_discord(content):
        check_discord_message(body)
        for embed in body["embeds"]:
            assert "footer" not in embed or embed["footer"]["text"].strip()
            assert "description" not in embed or embed["description"].strip()
        _no_hollow_text(discord_texts(body), "**")


@pytest.mark.parametrize("content", contents(), ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("interactive", [False, True])
def test_slack_leaves_out_fields_that_escape_to_nothing(
    content: Content, interactive: bool
) -> None:
    for body in render_slack(content, interactive=interactive):
        check_slack_message(body)
        _no_hollow_text(slack_texts(body), "*")


def test_slack_abstracts_of_vanishing_papers() -> None:
    digest = Digest(DAY, tuple(vanishing_paper(n) for n in range(1, 4)))
    for body in render_slack_abstracts(digest):
        check_slack_message(body)
        _no_hollow_text(slack_texts(body), "*")


def test_discord_footer_of_authors_that_escape_to_nothing_is_left_out() -> None:
    # The case that reached Discord: a footer `{"text": ""}` it refuses.
    [body] = render_discord(Digest(DAY, (vanishing_paper(1, abstract="Real words."),)))
    [embed] = body["embeds"]
    assert "footer" not in embed
    assert embed["title"] == "1. (untitled)"
    assert embed["description"] == "Real words."


@pytest.mark.parametrize("content", contents(), ids=lambda c: type(c).__name__)
def test_text_leaves_out_lines_that_clean_to_nothing(content: Content) -> None:
    lines = render_text(content).splitlines()
    assert any(line.strip() for line in lines)
    for line in lines:
        assert line == "" or line.strip(), repr(line)  # a blank line is only a separator
        assert not line.strip().startswith("·") and not line.rstrip().endswith("·"), line
        assert line.rstrip() not in ("1.", "2.", "3."), line


def _no_hollow_text(texts: list[str], bold: str) -> None:
    """No markup left wrapping nothing ("**"), no dangling separator."""
    for text in texts:
        for line in text.splitlines():
            assert f"{bold}{bold}" not in line.replace("***", ""), repr(text)
            assert not line.strip().startswith("·") and not line.rstrip().endswith("·"), text


def test_vanishing_text_really_vanishes() -> None:
    """The sample text is all invisible: what a renderer shows of it is empty."""
    for text in NOTHING:
        assert escape_discord(text) == escape_slack(text) == ""
