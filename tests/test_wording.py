"""Counts read as a person writes them: `1 error`, `2 errors`."""

from __future__ import annotations

from bot.app import Services
from bot.digests.settings import DigestSettings
from bot.ingest import IngestReport
from bot.models import Destination
from bot.render.neutral import Notice
from bot.wording import plural
from handlers.context import Context, Invocation
from handlers.router import dispatch
from tests.conftest import NOW


def test_plural() -> None:
    assert [plural(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert plural(1, "reply", "replies") == "1 reply"
    assert plural(3, "reply", "replies") == "3 replies"


def test_an_ingest_with_one_error_says_one_error() -> None:
    assert IngestReport(errors=["x"]).line().endswith(", 0 skipped, 1 error")
    assert IngestReport(errors=["x", "y"]).line().endswith(", 2 errors")


def test_the_settings_summary_counts_papers_and_shows_what_the_digest_covers() -> None:
    settings = DigestSettings(Destination("fake", "T1", "C1"), size=1, covers="yesterday")
    assert settings.describe() == "09:00 UTC, Mon-Fri, 1 paper, compact, covers yesterday's list"


async def test_pausing_for_one_day_says_one_day(services: Services) -> None:
    invocation = Invocation("console", "local", "shell", "ada", "pause 1")
    reply = await dispatch(Context(invocation, services, NOW))
    assert isinstance(reply.content, Notice)
    assert reply.content.text.startswith("Alerts paused for 1 day, until")
