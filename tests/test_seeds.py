from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.sources import seeds
from bot.storage import open_storage
from tests.conftest import seed_observations

PAGE = """new

Get trending papers in your email inbox!

Subscribe

Mar 11

First Title

First abstract.

Second Title
"""


def test_bundled_pages_are_five_days_in_file_order() -> None:
    pages = seeds.read_pages(seeds.bundled_pages(), reference=date(2026, 11, 22))
    assert [p.day.isoformat() for p in pages] == [
        "2026-05-09",
        "2026-03-11",
        "2026-03-12",
        "2026-03-14",
        "2026-03-11",
    ]
    assert [len(p.entries) for p in pages] == [60, 72, 60, 52, 73]


async def test_bundled_pages_hold_223_distinct_papers() -> None:
    async with open_storage(":memory:") as storage:
        counts = await storage.papers.ingest(seed_observations())
        # Every one of the 317 entries is accounted for: 94 repeat a paper listed before.
        assert (counts.new, counts.updated, counts.unchanged) == (223, 0, 94)
        assert await storage.papers.count_papers() == 223
        days = await storage.papers.trending_days()
        assert [d.isoformat() for d in days] == [
            "2026-05-09",
            "2026-03-14",
            "2026-03-12",
            "2026-03-11",
        ]


def test_year_is_the_latest_not_after_the_reference() -> None:
    assert seeds.resolve_year(3, 11, date(2026, 11, 22)) == date(2026, 3, 11)
    assert seeds.resolve_year(12, 24, date(2026, 11, 22)) == date(2025, 12, 24)
    assert seeds.resolve_year(2, 29, date(2026, 3, 1)) == date(2024, 2, 29)


def test_page_format_and_explicit_year() -> None:
    page = seeds.parse_page(PAGE, "p.txt", date(2026, 1, 1), year=2024)
    assert page.day == date(2024, 3, 11)
    assert page.entries == (("First Title", "First abstract."), ("Second Title", ""))


def test_a_page_without_a_date_line_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\nworld\n")
    with pytest.raises(UserError, match=r"bad\.txt: no date line"):
        seeds.read_pages([bad])
    with pytest.raises(UserError, match="cannot read"):
        seeds.read_pages([tmp_path / "missing.txt"])


def test_two_pages_of_one_day_continue_the_ranks() -> None:
    one = seeds.parse_page(PAGE, "a", date(2026, 5, 1))
    two = seeds.parse_page(PAGE.replace("First Title", "Third Title"), "b", date(2026, 5, 1))
    obs = list(seeds.observations([one, two], datetime.now(UTC)))
    assert [(o.title, o.rank) for o in obs] == [
        ("First Title", 1),
        ("Second Title", 2),
        ("Third Title", 3),
        ("Second Title", 4),
    ]
