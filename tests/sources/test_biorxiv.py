"""The bioRxiv / medRxiv details API: the parser on the constructed pages, and fetching
from the local fake page by page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.errors import UserError
from bot.models import normalize_arxiv_id
from bot.sources.biorxiv import DetailsPage, parse_details, rank_by_day
from bot.sources.errors import SourceError
from bot.sources.fetch import fetch_biorxiv
from tests.fixture_files import BIORXIV
from tests.sources.fake_sources import FakeSources, FakeTime, http_client, running_fake_sources

NOW = datetime(2025, 1, 15, 9, 15, tzinfo=UTC)
BIO_PAGE = BIORXIV / "details_biorxiv_2025-01-13_2025-01-14_0.json"
MED_PAGE = BIORXIV / "details_medrxiv_2025-01-14_2025-01-14_0.json"
NEURO = "10.1101/2025.01.10.632451"  # v1 on the 13th, v2 on the 14th


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def parse(path: Path, server: str = "biorxiv") -> DetailsPage:
    return parse_details(load(path), server, NOW)


def test_a_page_of_records_in_api_order() -> None:
    page = parse(BIO_PAGE)
    assert (page.cursor, page.count, page.total, page.skipped) == (0, 8, 8, ())
    observations = rank_by_day(page.observations)
    assert [(o.paper_id, o.version, o.day, o.rank) for o in observations] == [
        (NEURO, 1, date(2025, 1, 13), 1),
        ("10.1101/2025.01.10.632488", 1, date(2025, 1, 13), 2),
        ("10.1101/2025.01.11.632502", 1, date(2025, 1, 13), 3),
        ("10.1101/2025.01.11.632519", 1, date(2025, 1, 13), 4),
        ("10.1101/2024.06.03.597211", 3, None, None),  # a later version: on no list
        ("10.1101/2025.01.12.632601", 1, date(2025, 1, 14), 1),
        (NEURO, 2, None, None),
        ("10.1101/2024.11.28.625834", 2, None, None),
    ]
    assert all(o.source == "biorxiv" and o.arxiv_id is None for o in observations)


def test_a_record_in_full() -> None:
    observations = parse(BIO_PAGE).observations
    first, immunology = observations[0], observations[4]
    assert first.doi == NEURO and first.paper_id == NEURO
    assert first.title == "Hippocampal replay during sleep is shaped by prior exploration"
    assert first.abstract.startswith("Hippocampal place cells replay recent trajectories")
    assert first.authors == ("C. N. Okafor", "E. Lindgren", "J. M\u00fcller", "Y. Tanaka")
    assert first.categories == ("neuroscience",)
    assert first.published == date(2025, 1, 13)
    assert first.links == (f"https://www.biorxiv.org/content/{NEURO}v1",)
    # A journal DOI adds its link; a later version has no publication date of its own.
    assert immunology.links == (
        "https://www.biorxiv.org/content/10.1101/2024.06.03.597211v3",
        "https://doi.org/10.1016/j.immuni.2025.01.004",
    )
    assert immunology.published is None
    # That DOI is where it was published; "NA" (not yet) is none.
    assert immunology.to_paper().doi == "10.1016/j.immuni.2025.01.004"
    assert first.journal_doi is None and first.to_paper().id == NEURO


def test_consortia_categories_and_dois_that_are_not_arxiv_ids() -> None:
    observations = parse(BIO_PAGE).observations
    assert observations[2].authors[0] == "The Gut Phage Consortium"
    assert observations[3].categories == ("cell_biology",)
    assert all(normalize_arxiv_id(o.paper_id) is None for o in observations)


def test_a_medrxiv_page_links_to_medrxiv_whatever_the_server_asked() -> None:
    page = parse(MED_PAGE, server="biorxiv")  # the records name their server
    assert [o.source for o in page.observations] == ["medrxiv"] * 3
    assert page.observations[0].links == (
        "https://www.medrxiv.org/content/10.1101/2025.01.12.25320315v1",
    )
    assert page.observations[0].categories == ("infectious_diseases_(except_hiv/aids)",)


def test_bad_records_are_skipped_and_named() -> None:
    good = load(BIO_PAGE)["collection"][0]
    payload = {
        "messages": [{"status": "ok", "cursor": "100", "count": 4, "total": "104"}],
        "collection": [{**good, "doi": ""}, {**good, "title": "  "}, "x", {**good, "doi": "abc"}],
    }
    page = parse_details(payload, "biorxiv", NOW)
    assert page.observations == ()
    assert page.skipped == (
        "record 101: no DOI",
        f"record 102 ({NEURO}): no title",
        "record 103: not an object but str: 'x'",
        "record 104: not a DOI: 'abc'",
    )
    assert (page.cursor, page.count, page.total) == (100, 4, 104)


def test_no_posts_is_an_empty_page() -> None:
    page = parse_details({"messages": [{"status": "no posts found"}], "collection": []}, "x", NOW)
    assert (page.observations, page.count, page.total) == ((), 0, 0)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([], "bioRxiv API: expected an object, got list"),
        ({"error": "x"}, "bioRxiv API: expected messages and a collection (keys: error)"),
    ],
)
def test_a_payload_of_another_shape_raises(payload: Any, problem: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_details(payload, "biorxiv", NOW)
    assert str(caught.value) == problem


# -- fetching from the fake ------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeSources]:
    async with running_fake_sources() as running:
        yield running


async def test_fetch_pages_through_an_interval_one_request_at_a_time(
    fake: FakeSources,
) -> None:
    fake.biorxiv_page_size = 3  # 8 records: pages at offsets 0, 3 and 6
    fake_time = FakeTime()
    async with http_client(fake_time) as http:
        fetched = await fetch_biorxiv(
            http, fake.url, "biorxiv", date(2025, 1, 13), date(2025, 1, 14), NOW
        )
    paths = [r.path for r in fake.requests]
    base = "/details/biorxiv/2025-01-13/2025-01-14"
    assert paths == [f"{base}/0/json", f"{base}/3/json", f"{base}/6/json"]
    assert fetched.requests == 3 and fetched.skipped == ()
    assert len(fetched.observations) == 8
    # Ranks run on across pages, per day.
    ranks = [(o.day, o.rank) for o in fetched.observations if o.rank]
    assert ranks == [(date(2025, 1, 13), n) for n in range(1, 5)] + [(date(2025, 1, 14), 1)]


async def test_fetch_of_a_day_without_posts_is_one_request(fake: FakeSources) -> None:
    async with http_client(FakeTime()) as http:
        fetched = await fetch_biorxiv(
            http, fake.url, "medrxiv", date(2025, 2, 1), date(2025, 2, 1), NOW
        )
    assert fetched.observations == () and fetched.requests == 1


async def test_an_unknown_server_is_refused_before_any_request(fake: FakeSources) -> None:
    async with http_client(FakeTime()) as http:
        with pytest.raises(UserError, match="not a server"):
            await fetch_biorxiv(http, fake.url, "arxiv", date(2025, 1, 1), date(2025, 1, 2), NOW)
    assert fake.requests == []
