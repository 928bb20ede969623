"""Ingest end to end: the local fake of Hugging Face and arXiv, a real `HttpClient`, and
services on a memory database.

Covers what is stored, how each day's list is recorded as it fills in, that a failed fetch
leaves the database as it was, importing the saved fixture files, and one paper seen by the
bundled-page seeds, Hugging Face and arXiv becoming one record in either order.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Services, build_services
from bot.errors import PaperwireError, UserError
from bot.ingest import (
    ingest_arxiv_category,
    ingest_arxiv_ids,
    ingest_arxiv_rss,
    ingest_biorxiv,
    ingest_files,
    ingest_hf_day,
    ingest_seeds,
)
from bot.models import normalize_title
from bot.render.common import short_authors
from bot.sources import fetch
from bot.sources.errors import SourceError
from bot.sources.http import HttpError
from tests.conftest import Clock, assert_adds_up, make_observation
from tests.fixture_files import FIXTURES
from tests.sources.fake_sources import (
    DATA,
    HF_DIR,
    Canned,
    FakeSources,
    FakeTime,
    http_client,
    not_json,
    running_fake_sources,
    settings_for,
    status,
    truncated_json,
)

HF_PATH = "/api/daily_papers"
DAY = date(2026, 7, 1)  # 23 papers on Hugging Face
ATOM_V2 = DATA / "arxiv_atom_2405.15071v2.xml"
GROKKED_ID = "2405.15071"  # rank 3 of 2024-05-27 on Hugging Face, 19 upvotes
GROKKED_HF_TITLE = (
    "Grokked Transformers are Implicit Reasoners: A Mechanistic Journey to the Edge of"
    " Generalization"
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSources]:
    async with running_fake_sources() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock(at(DAY, 10))


@pytest.fixture
async def services(fake: FakeSources, clock: Clock) -> AsyncIterator[Services]:
    async with build_services(settings_for(fake), clock=clock) as built:
        yield built


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def hf_items(day: str) -> list[Any]:
    items = json.loads((HF_DIR / f"{day}.json").read_bytes())
    assert isinstance(items, list)
    return items


async def snapshot(services: Services) -> tuple[object, ...]:
    return (
        await services.papers.count_papers(),
        await services.day_lists.list_states(),
        await services.db.fetch_raw("SELECT * FROM papers ORDER BY pk"),
        await services.db.fetch_raw("SELECT * FROM trending ORDER BY day, source, paper_pk"),
        await services.papers.max_seq(),
    )


# -- a Hugging Face day ---------------------------------------------------------------------


async def test_hf_day_is_stored_with_its_ranks_and_an_open_list(
    fake: FakeSources, fake_time: FakeTime, services: Services, clock: Clock
) -> None:
    async with http_client(fake_time) as http:
        report = await ingest_hf_day(services, http, DAY)
    assert (report.counts.new, report.counts.updated, report.counts.unchanged) == (23, 0, 0)
    assert report.line() == "23 new, 0 updated, 0 unchanged, 0 skipped, 0 errors"
    assert_adds_up(report.line(), 23)
    assert await services.papers.count_papers() == 23
    listed = await services.papers.trending_list(DAY)
    ranks = sorted(t.rank for p in listed for t in p.trending if t.day == DAY)
    assert ranks == list(range(1, 24))
    first = await services.papers.paper_by_id(hf_items("2026-07-01")[0]["paper"]["id"])
    assert first is not None and first.sources == ("hf",)
    assert first.trending[0].rank == 1 and first.trending[0].upvotes == 162
    # Fetched at 10:00 on the list's own day: it is still filling in.
    state = await services.day_lists.list_state(DAY, "hf")
    assert state is not None
    assert (state.size, state.grew_at, state.fetched_at) == (23, clock.now, clock.now)
    assert not state.complete
    assert report.lists == [state]
    # The search index was brought up to date.
    page = await services.search.search("Dockerless")
    assert [hit.paper.id for hit in page.hits] == ["2606.28436"]


@pytest.mark.parametrize(
    ("fetched_at", "complete"),
    [
        (at(DAY, 23, 59), False),
        (at(DAY + timedelta(days=1), 5, 59), False),  # before next_day_hour (6 UTC)
        (at(DAY + timedelta(days=1), 6), True),
        (at(DAY + timedelta(days=30), 12), True),
    ],
)
async def test_hf_list_is_complete_after_the_next_days_hour(
    fake: FakeSources,
    fake_time: FakeTime,
    services: Services,
    clock: Clock,
    fetched_at: datetime,
    complete: bool,
) -> None:
    clock.now = fetched_at
    async with http_client(fake_time) as http:
        report = await ingest_hf_day(services, http, DAY)
    assert_adds_up(report.line(), 23)
    state = await services.day_lists.list_state(DAY, "hf")
    assert state is not None
    assert state.complete_at == (fetched_at if complete else None)


async def test_hf_list_growing_during_the_day_then_settling(
    fake: FakeSources, fake_time: FakeTime, services: Services, clock: Clock
) -> None:
    items = hf_items("2026-07-01")
    fake.hf_days["2026-07-01"] = items[:10]  # early in the day: only 10 so far
    first_fetch = clock.now
    async with http_client(fake_time) as http:
        early = await ingest_hf_day(services, http, DAY)
        assert early.counts.new == 10
        assert_adds_up(early.line(), 10)

        # An hour later the list has all 23, and the top paper gained upvotes.
        grown = copy.deepcopy(items)
        grown[0]["paper"]["upvotes"] = 170
        fake.hf_days["2026-07-01"] = grown
        grew_at = clock.advance(hours=1)
        later = await ingest_hf_day(services, http, DAY)
        assert (later.counts.new, later.counts.updated, later.counts.unchanged) == (13, 1, 9)
        assert_adds_up(later.line(), 23)
        state = await services.day_lists.list_state(DAY, "hf")
        assert state is not None
        assert (state.size, state.grew_at, state.fetched_at) == (23, grew_at, grew_at)
        assert state.grew_at > first_fetch and not state.complete

        top = await services.papers.paper_by_id(items[0]["paper"]["id"])
        assert top is not None and top.signals.upvotes == 170
        assert [(t.rank, t.upvotes) for t in top.trending] == [(1, 170)]

        # No growth for less than `settle` (3 h): still open; from 3 h on: complete.
        clock.advance(hours=2, minutes=59)
        assert_adds_up((await ingest_hf_day(services, http, DAY)).line(), 23)
        state = await services.day_lists.list_state(DAY, "hf")
        assert state is not None and state.grew_at == grew_at and not state.complete
        done_at = clock.advance(minutes=1)
        assert_adds_up((await ingest_hf_day(services, http, DAY)).line(), 23)
    state = await services.day_lists.list_state(DAY, "hf")
    assert state is not None
    assert (state.size, state.grew_at, state.complete_at) == (23, grew_at, done_at)
    assert await services.papers.count_papers() == 23


def _failures(kind: str, tries: int) -> tuple[type[PaperwireError], list[Canned]]:
    if kind == "500":
        return HttpError, [status(500) for _ in range(tries)]
    if kind == "truncated":
        return SourceError, [truncated_json()]
    return SourceError, [not_json()]


@pytest.mark.parametrize("kind", ["500", "truncated", "not json"])
@pytest.mark.parametrize("day", [DAY, date(2026, 7, 7)])  # a re-fetch and a new day
async def test_failed_fetch_leaves_the_database_as_it_was(
    fake: FakeSources,
    fake_time: FakeTime,
    services: Services,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    day: date,
) -> None:
    monkeypatch.setattr(fetch, "HF_PAGE_SIZE", 10)
    fake.hf_days["2026-07-01"] = hf_items("2026-07-01")[:15]
    async with http_client(fake_time, retries=1) as http:
        assert_adds_up((await ingest_hf_day(services, http, DAY)).line(), 15)
        before = await snapshot(services)
        assert before[0] == 15

        del fake.hf_days["2026-07-01"]  # the re-fetch would find 23 over three pages
        error, canned = _failures(kind, tries=2)
        fake.fail(HF_PATH, *canned, when={"p": "1"})
        clock.advance(hours=4)
        with pytest.raises(error):
            await ingest_hf_day(services, http, day)
    assert fake.pending_failures(HF_PATH) == 0
    assert [r.query["p"] for r in fake.requests_to(HF_PATH)][-1] == "1"  # failed part-way
    assert await snapshot(services) == before
    rank_20 = hf_items("2026-07-01")[19]["paper"]["id"]
    assert await services.papers.paper_by_id(rank_20) is None


async def test_a_lone_surrogate_in_one_title_does_not_stop_the_day(
    fake: FakeSources, fake_time: FakeTime, services: Services
) -> None:
    # JSON carries "\\ud800" escapes, which decode to a lone surrogate that UTF-8 (and so
    # SQLite) cannot encode; one such title once failed the whole day's store.
    items = copy.deepcopy(hf_items("2026-07-01"))
    poisoned = items[4]["paper"]
    poisoned["title"] = "Bad\ud800 title\x00 here"
    poisoned["authors"][1]["name"] = "Zheyuan\udfff Liu\x1b"
    poisoned["ai_keywords"] = ["ok", "\ud83d"]
    fake.hf_days["2026-07-01"] = items
    assert b"\\ud800" in json.dumps(items).encode()  # the fake sends a real escape
    async with http_client(fake_time) as http:
        report = await ingest_hf_day(services, http, DAY)
    assert report.counts.new == 23 and not report.errors
    assert await services.papers.count_papers() == 23
    stored = await services.papers.paper_by_id(poisoned["id"])
    assert stored is not None
    assert stored.title == "Bad\ufffd title here"
    assert stored.authors[1] == "Zheyuan\ufffd Liu"
    assert stored.signals.ai_keywords == ("ok", "\ufffd")
    page = await services.search.search("title here")
    assert poisoned["id"] in [hit.paper.id for hit in page.hits]


# -- arXiv ----------------------------------------------------------------------------------


async def test_arxiv_rss_announcement_is_a_complete_list(
    fake: FakeSources, fake_time: FakeTime, services: Services, clock: Clock
) -> None:
    async with http_client(fake_time) as http:
        report = await ingest_arxiv_rss(services, http, ["cs.CL"])
    assert report.counts.new == 6
    assert_adds_up(report.line(), 6)  # 3 new, 1 cross-list, 2 replacements
    announced = date(2025, 9, 8)
    state = await services.day_lists.list_state(announced, "arxiv")
    assert state is not None and state.size == 4 and state.complete_at == clock.now
    listed = await services.papers.trending_list(announced)
    assert sorted((t.rank, p.id) for p in listed for t in p.trending) == [
        (1, "2509.04664"),
        (2, "2509.04701"),
        (3, "2509.03988"),
        (4, "2509.05120"),
    ]
    # A replacement is stored, but is not on the day's list.
    replaced = await services.papers.paper_by_id("2401.01313")
    assert replaced is not None and replaced.trending == () and replaced.version == 4


async def test_arxiv_ids_are_fetched_and_bad_ids_refused_before_any_request(
    fake: FakeSources, fake_time: FakeTime, services: Services
) -> None:
    async with http_client(fake_time) as http:
        report = await ingest_arxiv_ids(services, http, ["2104.12255v1"])
        assert report.counts.new == 1
        assert_adds_up(report.line(), 1)
        paper = await services.papers.paper_by_id("2104.12255")
        assert paper is not None and paper.title == "0" and "arxiv" in paper.sources
        asked = len(fake.requests)
        with pytest.raises(UserError, match="is not an arXiv id"):
            await ingest_arxiv_ids(services, http, ["2104.12255", "not-an-id"])
        assert len(fake.requests) == asked


async def test_arxiv_category_stores_the_recent_papers_without_a_day_list(
    fake: FakeSources,
    fake_time: FakeTime,
    services: Services,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fetch, "ARXIV_PAGE_SIZE", 5)
    clock.now = datetime(2025, 3, 8, 12, tzinfo=UTC)
    async with http_client(fake_time) as http:
        # The 20 recorded entries, newest first: 4 since 2024-06-01 (the last 281 days).
        report = await ingest_arxiv_category(services, http, "cs.SE", days=281)
    assert report.counts.new == 4
    assert_adds_up(report.line(), 4)  # the entries of the days asked for
    assert await services.papers.count_papers() == 4
    assert await services.day_lists.list_states() == []  # arXiv search results are no list
    paper = await services.papers.paper_by_id("2503.05378")
    assert paper is not None and paper.sources == ("arxiv",) and paper.trending == ()


# -- saved files ----------------------------------------------------------------------------


async def test_all_hugging_face_fixture_files_import(services: Services, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    paths = sorted(HF_DIR.glob("*.json"))
    assert len(paths) == 43
    seen: list[str] = []
    report = await ingest_files(services, paths, "hf", progress=seen.append)
    assert report.errors == [] and report.skipped == 0
    assert report.counts.new == 853
    assert_adds_up(report.line(), 855)  # two papers are on two days' lists
    assert await services.papers.count_papers() == 853
    assert seen[0] == "1/43 2024-05-27.json" and seen[-1] == "43/43 2026-08-21.json"
    states = await services.day_lists.list_states()
    assert len(states) == 43 and all(s.complete for s in states)
    assert sum(s.size for s in states) == 855
    # The two papers listed on two days have one record each, with both days.
    twice = await services.db.fetch_raw(
        "SELECT p.id, count(*) FROM trending t JOIN papers p ON p.pk = t.paper_pk"
        " GROUP BY p.pk HAVING count(*) > 1 ORDER BY p.id"
    )
    assert twice == [("2608.12313", 2), ("2608.13558", 2)]


async def test_a_bad_file_is_reported_and_the_others_go_in(
    services: Services, tmp_path: Path
) -> None:
    good = [tmp_path / "2026-07-01.json", tmp_path / "2026-07-02.json"]
    for path in good:
        shutil.copy(HF_DIR / path.name, path)
    truncated = tmp_path / "2026-07-03.json"
    truncated.write_bytes((HF_DIR / "2026-07-03.json").read_bytes()[:5000])
    error_page = tmp_path / "2026-07-04.json"
    error_page.write_text('{"error": "Invalid date"}')
    undated = tmp_path / "papers.json"
    shutil.copy(HF_DIR / "2026-07-06.json", undated)
    missing = tmp_path / "2026-07-05.json"
    nested = tmp_path / "2026-07-07.json"  # json.loads raises RecursionError, not its own
    nested.write_bytes(b"[" * 100_000 + b"]" * 100_000)

    paths = [good[0], truncated, error_page, undated, missing, nested, good[1]]
    report = await ingest_files(services, paths, "hf")
    assert report.counts.new == 46
    assert_adds_up(report.line(), 46)  # the two good files; the others are errors
    assert await services.papers.count_papers() == 46
    assert len(report.errors) == 5
    by_file = dict(error.split(": ", 1) for error in report.errors)
    assert list(by_file) == [
        truncated.name,
        error_page.name,
        undated.name,
        missing.name,
        nested.name,
    ]
    assert by_file[nested.name].startswith("RecursionError: maximum recursion depth")
    assert "not valid JSON (cut off?)" in by_file[truncated.name]
    assert "Invalid date" in by_file[error_page.name]
    assert "name the file after its list's day" in by_file[undated.name]
    assert [s.day for s in await services.day_lists.list_states()] == [date(2026, 7, 2), DAY]


# -- one paper from three sources -----------------------------------------------------------

SEED_PAGE = """Trending Papers

Get trending papers in your email inbox!

May 26

grokked transformers are implicit reasoners -- a mechanistic journey to the edge of generalization

We study whether transformers can learn to implicitly reason over parametric knowledge.

A Seeds-Only Paper About Something Else

Nothing to see here.
"""


async def _ingest_from(
    source: str, services: Services, fake: FakeSources, fake_time: FakeTime, seed_page: Path
) -> tuple[int, int]:
    if source == "seeds":
        report = await ingest_seeds(services, [seed_page], year=2024)
    elif source == "hf":
        async with http_client(fake_time) as http:
            report = await ingest_hf_day(services, http, date(2024, 5, 27))
    else:
        fake.category_entries.clear()
        fake.add_arxiv_feed(ATOM_V2.read_bytes())
        async with http_client(fake_time) as http:
            report = await ingest_arxiv_category(services, http, "cs.CL", days=7)
    assert_adds_up(report.line(), {"seeds": 2, "hf": 13, "arxiv": 1}[source])
    return report.counts.new, report.counts.updated


@pytest.mark.parametrize(
    ("order", "counts"),
    [
        (("seeds", "hf", "arxiv"), [(2, 0), (12, 1), (0, 1)]),
        (("arxiv", "seeds", "hf"), [(1, 0), (1, 1), (12, 1)]),
        (("hf", "arxiv", "seeds"), [(13, 0), (0, 1), (1, 1)]),
    ],
)
async def test_one_paper_from_seeds_hugging_face_and_arxiv_is_one_record(
    fake: FakeSources,
    fake_time: FakeTime,
    services: Services,
    clock: Clock,
    tmp_path: Path,
    order: tuple[str, ...],
    counts: list[tuple[int, int]],
) -> None:
    seed_page = tmp_path / "seed_may_26.txt"
    seed_page.write_text(SEED_PAGE, encoding="utf-8")
    clock.now = at(date(2024, 5, 28), 9)  # arXiv: the last 7 days are since 2024-05-22
    got = []
    for source in order:
        got.append(await _ingest_from(source, services, fake, fake_time, seed_page))
        clock.advance(hours=1)
    assert got == counts

    paper = await services.papers.paper_by_id(GROKKED_ID)
    assert paper is not None
    assert (paper.id, paper.arxiv_id) == (GROKKED_ID, GROKKED_ID)
    assert set(paper.sources) == {"seeds", "hf", "arxiv"}
    assert [(t.day, t.source, t.rank) for t in paper.trending] == [
        (date(2024, 5, 27), "hf", 3),
        (date(2024, 5, 26), "seeds", 1),
    ]
    assert paper.signals.upvotes == 19
    assert paper.trending[0].upvotes == 19
    assert "cs.CL" in paper.categories  # from arXiv
    assert paper.authors == ("Boshi Wang", "Xiang Yue", "Yu Su", "Huan Sun")
    assert paper.published == date(2024, 5, 23)
    assert f"https://arxiv.org/abs/{GROKKED_ID}" in paper.links
    assert normalize_title(paper.title) == normalize_title(GROKKED_HF_TITLE)
    # 13 on Hugging Face + the other seed paper; no title-keyed twin left behind.
    assert await services.papers.count_papers() == 14
    title_keyed = await services.db.fetch_raw("SELECT title FROM papers WHERE id LIKE 't-%'")
    assert title_keyed == [("A Seeds-Only Paper About Something Else",)]
    hits = (await services.search.search("grokked mechanistic")).hits
    assert [hit.paper.id for hit in hits] == [GROKKED_ID]


# -- re-fetched lists and file errors ------------------------------------------------------


async def test_refetched_list_in_a_new_order_has_the_new_ranks(
    fake: FakeSources, fake_time: FakeTime, services: Services, clock: Clock
) -> None:
    items = hf_items("2026-07-01")
    first, second = items[0]["paper"]["id"], items[1]["paper"]["id"]
    async with http_client(fake_time) as http:
        assert_adds_up((await ingest_hf_day(services, http, DAY)).line(), 23)
        # An hour later the second paper overtook the first.
        reordered = copy.deepcopy(items)
        reordered[0], reordered[1] = reordered[1], reordered[0]
        reordered[0]["paper"]["upvotes"] = 200
        fake.hf_days["2026-07-01"] = reordered
        clock.advance(hours=1)
        assert_adds_up((await ingest_hf_day(services, http, DAY)).line(), 23)
    ranks = {p.id: t.rank for p in await services.papers.trending_list(DAY) for t in p.trending}
    assert sorted(ranks.values()) == list(range(1, 24))
    assert (ranks[second], ranks[first]) == (1, 2)


async def test_file_errors_name_the_file_once(services: Services, tmp_path: Path) -> None:
    truncated = tmp_path / "2026-07-03.json"
    truncated.write_bytes((HF_DIR / "2026-07-03.json").read_bytes()[:5000])
    undated = tmp_path / "papers.json"
    shutil.copy(HF_DIR / "2026-07-06.json", undated)
    report = await ingest_files(services, [truncated, undated], "hf")
    assert_adds_up(report.line(), 0)
    assert len(report.errors) == 2
    for error, path in zip(report.errors, (truncated, undated), strict=True):
        assert error.startswith(f"{path.name}: ")
        assert error.count(path.name) == 1, error


# -- every arXiv feed shape, every item accounted for ---------------------------------------

RDF = DATA / "arxiv_rdf_cs_CL.xml"  # 5 new, 2 cross-lists, 2 UPDATED
RSS_AFFILIATIONS = DATA / "arxiv_rss_affiliations.xml"  # 3 new, 2 cross, 2 replace, 1 r-cross


async def test_an_rdf_feed_imports_with_its_day_list(services: Services, clock: Clock) -> None:
    report = await ingest_files(services, [RDF], "arxiv")
    assert report.line() == "9 new, 0 updated, 0 unchanged, 0 skipped, 0 errors"
    assert_adds_up(report.line(), 9)
    state = await services.day_lists.list_state(date(2018, 8, 29), "arxiv")
    assert state is not None and state.size == 7 and state.complete
    updated = await services.papers.paper_by_id("1808.09876")
    assert updated is not None and updated.trending == () and updated.version == 2
    assert updated.title == "Neural Machine Translation of Rare Words with Subword Lattices"
    hits = (await services.search.search('author:"Jürgen Müller"')).hits
    assert [hit.paper.id for hit in hits] == ["1808.09601"]


async def test_rss_affiliations_are_not_authors(services: Services) -> None:
    report = await ingest_files(services, [RSS_AFFILIATIONS], "arxiv")
    assert report.line() == "8 new, 0 updated, 0 unchanged, 0 skipped, 0 errors"
    assert_adds_up(report.line(), 8)
    assert (await services.search.search('author:"Chennai"')).hits == ()
    assert (await services.search.search('author:"Max Planck"')).hits == ()
    hits = (await services.search.search("author:Iyer")).hits
    assert [hit.paper.id for hit in hits] == ["2501.07011"]
    paper = hits[0].paper
    assert paper.authors == ("R. K. Iyer", "Meera Pillai", "Tobias Lang")
    assert paper.affiliations[2] == "Max Planck Institute for Polymer Research, Mainz, Germany"
    assert short_authors(paper.authors) == "R. K. Iyer, M. Pillai, T. Lang"


async def test_a_replacement_updates_the_known_paper_but_is_not_listed(
    services: Services, clock: Clock
) -> None:
    hf_day = date(2025, 1, 6)
    known = make_observation(
        title="Coupled-Cluster Theory for Open-Shell Molecules",
        abstract="First version.",
        arxiv_id="2410.01234",
        source="hf",
        observed_at=clock.now - timedelta(days=30),
        day=hf_day,
        rank=2,
    )
    await services.papers.ingest([known])
    report = await ingest_files(services, [RSS_AFFILIATIONS], "arxiv")
    assert report.line() == "7 new, 1 updated, 0 unchanged, 0 skipped, 0 errors"
    assert_adds_up(report.line(), 8)
    paper = await services.papers.paper_by_id("2410.01234")
    assert paper is not None
    assert paper.version == 3
    assert paper.abstract.startswith("Third version: adds triples corrections")
    assert paper.title == "Coupled-Cluster Theory for Open-Shell Molecules, Revisited"
    assert [(e.day, e.source) for e in paper.trending] == [(hf_day, "hf")]
    listed = await services.papers.trending_list(date(2025, 1, 14))
    assert len(listed) == 5 and "2410.01234" not in {p.id for p in listed}


async def test_an_unknown_file_names_itself_and_its_root(
    services: Services, tmp_path: Path
) -> None:
    page = tmp_path / "page.xml"
    page.write_text("<html><body>Service Unavailable</body></html>")
    report = await ingest_files(services, [page, RDF], "arxiv")
    assert report.errors == [
        "page.xml: not an arXiv feed: the root element is <html>; expected RSS 2.0 <rss>,"
        " RSS 1.0 <rdf:RDF> or an Atom <feed>"
    ]
    assert_adds_up(report.line(), 9)


async def test_skipped_items_are_named_ten_at_most_then_counted(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    items = "".join(
        f"<item><link>https://arxiv.org/abs/2501.{n:05d}</link></item>" for n in range(12)
    )
    feed = tmp_path / "untitled.xml"
    feed.write_text(f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>")
    atom = tmp_path / "atom.xml"
    atom.write_text(
        "<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>No id</title></entry>"
        "<entry><id>http://arxiv.org/abs/2501.00099v1</id><title>Kept</title></entry></feed>"
    )
    with caplog.at_level(logging.WARNING, logger="bot.ingest"):
        report = await ingest_files(services, [atom, feed], "arxiv")
    assert report.line() == "1 new, 0 updated, 0 unchanged, 13 skipped, 0 errors"
    assert_adds_up(report.line(), 14)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.ingest"]
    assert lines[:3] == [
        "skipped atom.xml entry 1: no <id>",
        "skipped untitled.xml item 1 (2501.00000): no title",
        "skipped untitled.xml item 2 (2501.00001): no title",
    ]
    assert len(lines) == 11 and lines[-1] == "... and 3 more skipped items"


async def test_a_foreign_json_list_is_refused_with_one_warning(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    items = [
        {"paper": {"id": str(38212345 + n), "title": f"Trial {n}", "upvotes": 3}} for n in range(40)
    ]
    path = tmp_path / "2026-07-01.json"
    path.write_text(json.dumps(items))
    with caplog.at_level(logging.WARNING, logger="bot.ingest"):
        report = await ingest_files(services, [path], "hf")
    assert report.line() == "0 new, 0 updated, 0 unchanged, 40 skipped, 0 errors"
    assert_adds_up(report.line(), 40)
    assert await services.papers.trending_days() == []
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bot.ingest"]
    assert warning.startswith("2026-07-01.json: refused 40 items whose id is not an arXiv id")


# -- bioRxiv and medRxiv --------------------------------------------------------------------

BIORXIV_NEURO = "10.1101/2025.01.10.632451"  # v1 on the 13th, v2 on the 14th


async def test_biorxiv_days_make_lists_and_later_versions_update_papers(
    fake: FakeSources, fake_time: FakeTime, services: Services, clock: Clock
) -> None:
    clock.now = datetime(2025, 1, 15, 9, 15, tzinfo=UTC)
    async with http_client(fake_time) as http:
        report = await ingest_biorxiv(services, http, "biorxiv", days=3)
        # 5 first versions, 2 later versions of older papers, and v2 of a paper posted
        # the day before, all in one page.
        assert report.line() == "7 new, 1 updated, 0 unchanged, 0 skipped, 0 errors"
        assert_adds_up(report.line(), 8)
        assert [r.path for r in fake.requests] == ["/details/biorxiv/2025-01-13/2025-01-15/0/json"]
        again = await ingest_biorxiv(services, http, "biorxiv", days=3)
        assert again.line() == "0 new, 0 updated, 8 unchanged, 0 skipped, 0 errors"
        assert_adds_up(again.line(), 8)
    states = {s.day: s for s in await services.day_lists.list_states()}
    assert [(day.isoformat(), s.size, s.complete) for day, s in sorted(states.items())] == [
        ("2025-01-13", 4, True),
        ("2025-01-14", 1, True),
        ("2025-01-15", 0, False),  # fetched, nothing posted yet
    ]
    paper = await services.papers.paper_by_id(BIORXIV_NEURO)
    assert paper is not None and paper.arxiv_id is None
    assert paper.title == "Hippocampal replay during sleep follows the novelty of prior exploration"
    assert paper.version == 2 and len(paper.authors) == 5
    assert paper.url == f"https://www.biorxiv.org/content/{BIORXIV_NEURO}v2"
    assert [(e.day, e.source, e.rank) for e in paper.trending] == [
        (date(2025, 1, 13), "biorxiv", 1)
    ]
    later_only = await services.papers.paper_by_id("10.1101/2024.11.28.625834")
    assert later_only is not None and later_only.trending == ()
    hits = (await services.search.search("cat:cell_biology")).hits
    assert [hit.paper.id for hit in hits] == ["10.1101/2025.01.11.632519"]


async def test_biorxiv_and_medrxiv_pages_import_from_files(services: Services) -> None:
    pages = sorted((FIXTURES / "biorxiv").glob("details_*.json"))
    report = await ingest_files(services, pages, "biorxiv")
    assert report.line() == "10 new, 1 updated, 0 unchanged, 0 skipped, 0 errors"
    assert_adds_up(report.line(), 11)  # 8 bioRxiv records, 3 medRxiv
    states = await services.day_lists.list_states()
    assert sorted((s.day.isoformat(), s.source, s.size) for s in states) == [
        ("2025-01-13", "biorxiv", 4),
        ("2025-01-14", "biorxiv", 1),
        ("2025-01-14", "medrxiv", 2),
    ]
    paper = await services.papers.paper_by_id("10.1101/2025.01.12.25320315")
    assert paper is not None and paper.sources == ("medrxiv",)
    assert paper.url == "https://www.medrxiv.org/content/10.1101/2025.01.12.25320315v1"


async def test_a_foreign_list_served_as_a_day_is_refused_with_one_warning(
    fake: FakeSources, fake_time: FakeTime, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    items = hf_items("2026-07-01")[:3]
    foreign = [{"paper": {"id": str(38212345 + n), "title": f"Trial {n}"}} for n in range(5)]
    fake.hf_days["2026-07-01"] = [*items, *foreign]
    with caplog.at_level(logging.WARNING, logger="bot.ingest"):
        async with http_client(fake_time) as http:
            report = await ingest_hf_day(services, http, DAY)
    assert report.line() == "3 new, 0 updated, 0 unchanged, 5 skipped, 0 errors"
    assert_adds_up(report.line(), 8)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bot.ingest"]
    assert warning.startswith(
        "Hugging Face daily papers for 2026-07-01: refused 5 items whose id is not an arXiv id"
    )
    state = await services.day_lists.list_state(DAY, "hf")
    assert state is not None and state.size == 3
    links = [link for p in await services.papers.trending_list(DAY) for link in p.links]
    assert not any("huggingface.co/papers/382" in link for link in links)
