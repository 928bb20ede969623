"""The weekly recap as a pure function of (papers sent, saves, votes, week): its numbers,
its top papers, its words, and its chart, a real PNG of the expected size whose alt text
names the week's top paper."""

from __future__ import annotations

import io
import sys
from datetime import date

import pytest
from PIL import Image

from bot.delivery import codec
from bot.digests import recap_chart
from bot.digests.recap import (
    SentPaper,
    Week,
    channel_label,
    compose_recap,
    recap_reply,
)
from bot.digests.recap_chart import DPI, HEIGHT_PX, WIDTH_PX, draw_week
from bot.render.discord import render_discord
from bot.render.neutral import Notice
from bot.render.slack import render_slack
from bot.storage.types import VoteCounts
from tests.conftest import make_paper
from tests.payload_checks import PNG_SIGNATURE

WEEK = Week(date(2026, 11, 29))  # Monday 23 to Sunday 29 November


def _paper(number: int, title: str) -> SentPaper:
    day = WEEK.days[number % 7]
    paper_id = f"2611.{number:05d}"
    return SentPaper(make_paper(id=paper_id, arxiv_id=paper_id, title=title), day)


SENT = [
    _paper(0, "Agents That Plan"),  # Monday
    _paper(7, "Sparse Attention"),  # Monday
    _paper(1, "Diffusion Everywhere"),  # Tuesday
    _paper(3, "Tool-Using Agents"),  # Thursday
]
SAVES = {"2611.00007": 3, "2611.00001": 1}
VOTES = {"2611.00000": VoteCounts(4, 1), "2611.00007": VoteCounts(2, 0)}


def test_the_week_is_seven_local_days_ending_on_the_recap_day() -> None:
    assert WEEK.start == date(2026, 11, 23) and WEEK.days[-1] == date(2026, 11, 29)
    assert WEEK.label() == "23\u201329 Nov"
    assert Week(date(2026, 12, 3)).label() == "27 Nov \u2013 3 Dec"
    assert Week(date(2027, 1, 2)).label() == "27 Dec 2026 \u2013 2 Jan 2027"
    # One recap per calendar week: its run is on that week's Monday, whatever the day.
    assert {Week(date(2026, 11, d)).run_day for d in range(23, 30)} == {date(2026, 11, 23)}


def test_the_recap_counts_the_days_and_ranks_saved_and_liked_papers() -> None:
    outside = SentPaper(make_paper(id="2611.09999", title="Last Week"), date(2026, 11, 22))
    recap = compose_recap("#ml", WEEK, [*SENT, outside], SAVES, VOTES)
    assert [p.paper.title for p in recap.papers] == [s.paper.title for s in SENT]
    papers_per_day = [(d.day.strftime("%a"), d.papers) for d in recap.days]
    assert papers_per_day == [
        ("Mon", 2),
        ("Tue", 1),
        ("Wed", 0),
        ("Thu", 1),
        ("Fri", 0),
        ("Sat", 0),
        ("Sun", 0),
    ]
    monday = recap.days[0]
    assert (monday.likes, monday.dislikes, monday.saves) == (6, 1, 3)
    assert [p.paper.title for p in recap.most_saved] == ["Sparse Attention", "Diffusion Everywhere"]
    assert [p.paper.title for p in recap.most_liked] == ["Agents That Plan", "Sparse Attention"]
    # Top: saves and likes less dislikes (3+2 beats 4-1).
    assert recap.top is not None and recap.top.paper.title == "Sparse Attention"
    assert (recap.total("likes"), recap.total("saves")) == (6, 4)


def test_a_week_without_votes_or_saves_still_has_a_top_paper_and_says_how_to_vote() -> None:
    recap = compose_recap("#ml", WEEK, SENT, {}, {})
    assert recap.top is not None and recap.top.paper.title == "Agents That Plan"
    assert "No votes or saves yet" in recap_reply(recap, None).content.text  # type: ignore[union-attr]
    assert compose_recap("#ml", WEEK, [], {}, {}).top is None


def test_the_reply_is_a_public_notice_with_the_top_papers_and_the_chart() -> None:
    recap = compose_recap(channel_label("ml-reading"), WEEK, SENT, SAVES, VOTES)
    reply = recap_reply(recap, b"png")
    assert not reply.ephemeral and isinstance(reply.content, Notice)
    assert reply.content.title == "#ml-reading's week in papers, 23\u201329 Nov"
    assert "4 papers reached this channel on 3 days" in reply.content.text
    assert "Most saved: \u201cSparse Attention\u201d (3)" in reply.content.text
    assert "\u201cAgents That Plan\u201d (4 likes, 1 dislike)" in reply.content.text
    titles = [p.title for p in reply.content.papers]
    assert titles == ["Sparse Attention", "Diffusion Everywhere", "Agents That Plan"]
    [image] = reply.files
    assert (image.filename, image.mime) == ("paperwire-week-2026-11-29.png", "image/png")
    assert "Top paper: Sparse Attention" in image.alt_text
    assert recap_reply(recap, None).files == ()  # without a chart, the text alone
    # It survives the outbox, the image's bytes included.
    assert codec.loads(codec.dumps(reply)) == reply
    assert channel_label(None) == "This channel"


def test_the_chart_is_a_png_of_the_expected_size_named_by_its_top_paper() -> None:
    recap = compose_recap("#ml-reading", WEEK, SENT, SAVES, VOTES)
    png = draw_week(recap)
    assert png is not None and png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX) == (1200, 675)
    assert DPI == 150
    image_file = recap_reply(recap, png).files[0]
    assert image_file.data == png and "Sparse Attention" in image_file.alt_text


def test_hostile_titles_are_drawn_as_text_and_quoted_escaped() -> None:
    """A `$` would start matplotlib's mathtext (an unbalanced one raises); markup and
    mentions stay text in the message."""
    title = "Cost $O(n^2)$ vs $5 <!channel> @everyone *bold* \x07 " + "very long " * 30
    sent = [_paper(0, title), _paper(1, "\u4e2d\u6587 \U0001f600 title")]
    recap = compose_recap("#a$b", WEEK, sent, {"2611.00000": 1}, {})
    png = draw_week(recap)
    assert png is not None and png.startswith(PNG_SIGNATURE)
    reply = recap_reply(recap, png)
    blocks = str(render_slack(reply.content))
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks
    [discord] = render_discord(reply.content)
    assert "@everyone" not in discord["content"] and discord["allowed_mentions"] == {"parse": []}
    assert "\x07" not in reply.files[0].alt_text and "Cost $O(n^2)$" in reply.files[0].alt_text


def test_without_matplotlib_there_is_no_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    assert not recap_chart.charts_available()
    assert draw_week(compose_recap("#ml", WEEK, SENT, SAVES, VOTES)) is None
