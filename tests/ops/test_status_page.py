"""The status page's HTML: valid (html5lib, strict), everything escaped, no URL path or
token from an error shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import html5lib

from bot.day_lists import ListState
from bot.digests.settings import DigestSettings
from bot.models import Destination
from bot.ops.status_page import StatusPage, render
from bot.status import DestinationStatus, StatusReport
from bot.storage.types import DestinationState, OutboxHead, ProcessBeat

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
HOSTILE = Destination("slack", "T1", "C</td><script>x()</script>")


def _page() -> StatusPage:
    error = "<img src=x onerror=alert(1)> https://user:pw@hooks.slack.com/commands/T/1/Secret1"
    stopped = DestinationState(HOSTILE.key, NOW - timedelta(hours=1), error, None, NOW)
    waiting = DestinationState("discord:300:400", last_success_at=NOW - timedelta(days=2))
    head = OutboxHead("discord:300:400", 2, "pending", 1, NOW + timedelta(minutes=5), "token=abc")
    report = StatusReport(
        NOW,
        [ProcessBeat("host:1:ab", NOW - timedelta(days=3), NOW, True, "paperwire 0.1.0; console")],
        [
            DestinationStatus(HOSTILE.key, stopped, 1, None),
            DestinationStatus(head.destination, waiting, 2, head),
        ],
        replies=1,
    )
    paris = DigestSettings(
        Destination("discord", "300", "400"), time=time(9, 0), timezone="Europe/Paris"
    )
    off = DigestSettings(HOSTILE, enabled=False, topic="<i>agents</i>")
    lists = [ListState(date(2026, 6, 30), "hf", 50, NOW, NOW, NOW)]
    return StatusPage(report, [paris, off], lists, NOW - timedelta(days=1, hours=2))


def test_the_page_is_valid_html_with_everything_escaped() -> None:
    text = render(_page())
    html5lib.HTMLParser(strict=True).parse(text)
    assert "<script" not in text and "<img" not in text and "<i>" not in text
    assert "C&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;" in text
    assert "&lt;i&gt;agents&lt;/i&gt;" in text


def test_errors_lose_their_urls_path_and_tokens() -> None:
    text = render(_page())
    assert "https://hooks.slack.com/..." in text
    assert "Secret1" not in text and "user:pw" not in text and "token=abc" not in text


def test_the_page_shows_what_paperwire_status_shows_and_more() -> None:
    text = render(_page())
    for shown in (
        "host:1:ab",
        "leads (runs the schedule)",
        "STOPPED",
        "2 queued",
        "discord:300:400",
        "Europe/Paris",
        "CEST",  # the next digest in the channel's own time
        "off",
        "2026-06-30",
        "up 1 d 2 h 0 min",
        "3 message(s) waiting in 2 destination(s); 1 command reply(ies)",
    ):
        assert shown in text, shown
