"""Fetching against a local fake of Hugging Face and arXiv that serves the real captures.

A real `HttpClient` talks to the fake over 127.0.0.1; its waits go to a fake sleep that
records them. The only wall-clock wait is the timeout test's 2 x 0.3 s.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.app import Services, build_services
from bot.errors import UserError
from bot.ingest import ingest_hf_day
from bot.sources import fetch
from bot.sources.errors import SourceError
from bot.sources.fetch import (
    fetch_arxiv_category,
    fetch_arxiv_ids,
    fetch_arxiv_rss,
    fetch_hf_day,
)
from bot.sources.http import HttpError
from tests.conftest import assert_adds_up
from tests.sources.fake_sources import (
    HF_DIR,
    FakeSources,
    FakeTime,
    cut_off,
    hang,
    http_client,
    not_json,
    running_fake_sources,
    settings_for,
    status,
    truncated_json,
)

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
HF_PATH = "/api/daily_papers"
ARXIV_PATH = "/api/query"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSources]:
    async with running_fake_sources() as running:
        yield running


@pytest.fixture
async def services(fake: FakeSources) -> AsyncIterator[Services]:
    async with build_services(settings_for(fake), clock=lambda: NOW) as built:
        yield built


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(fetch, "HF_PAGE_SIZE", 10)
    return 10


def hf_ids(day: str) -> list[str]:
    items = json.loads((HF_DIR / f"{day}.json").read_bytes())
    return [item["paper"]["id"] for item in items]


def pages_asked(fake: FakeSources) -> list[tuple[str, str, str]]:
    return [(r.query["date"], r.query["p"], r.query["limit"]) for r in fake.requests_to(HF_PATH)]


# -- Hugging Face ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "pages"),
    [
        ("2026-07-07", 4),  # 27 items: 10 + 10 + 7, then an empty page ends the list
        ("2026-07-03", 3),  # 20 items: two full pages, then an empty one
        ("2026-07-09", 2),  # 7 items: a short page is not trusted to be the last
    ],
)
async def test_hf_day_reads_every_page_in_rank_order(
    fake: FakeSources, fake_time: FakeTime, small_pages: int, day: str, pages: int
) -> None:
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date.fromisoformat(day), NOW)
    expected = hf_ids(day)
    assert [o.arxiv_id for o in fetched.observations] == expected
    assert [o.rank for o in fetched.observations] == list(range(1, len(expected) + 1))
    assert {o.day for o in fetched.observations} == {date.fromisoformat(day)}
    assert pages_asked(fake) == [(day, str(p), str(small_pages)) for p in range(pages)]
    assert fetched.requests == pages
    assert fetched.skipped == ()
    assert fake_time.sleeps == []


async def test_hf_server_that_ignores_paging_is_read_once(
    fake: FakeSources, fake_time: FakeTime, small_pages: int
) -> None:
    fake.ignore_paging = True  # every page is the whole list of 27
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 7), NOW)
    assert [o.arxiv_id for o in fetched.observations] == hf_ids("2026-07-07")
    assert [o.rank for o in fetched.observations] == list(range(1, 28))
    assert [p for _, p, _ in pages_asked(fake)] == ["0", "1"]  # page 1 brought nothing new


async def test_hf_pages_that_overlap_name_each_repeat_as_skipped(
    fake: FakeSources, fake_time: FakeTime, small_pages: int
) -> None:
    fake.page_overlap = 2  # pages 2 and 3 each begin with the last two of the one before
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 7), NOW)
    assert [o.arxiv_id for o in fetched.observations] == hf_ids("2026-07-07")
    repeats = [reason for reason in fetched.skipped if "already read" in reason]
    assert len(repeats) == 4  # 10 + 12 + 9 items read: 27 distinct and 4 repeats
    assert len(fetched.observations) + len(fetched.skipped) == 31


async def test_hf_default_page_size_reads_a_day_in_two_requests(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 8), NOW)
    assert len(fetched.observations) == 27
    size = str(fetch.HF_PAGE_SIZE)
    assert pages_asked(fake) == [("2026-07-08", "0", size), ("2026-07-08", "1", size)]


async def test_hf_429_waits_what_retry_after_says(
    fake: FakeSources, fake_time: FakeTime, small_pages: int
) -> None:
    fake.fail(HF_PATH, status(429, retry_after="7"), when={"p": "1"})
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 7), NOW)
    assert fake_time.sleeps == [7.0]
    assert [p for _, p, _ in pages_asked(fake)] == ["0", "1", "1", "2", "3"]
    assert [o.arxiv_id for o in fetched.observations] == hf_ids("2026-07-07")


async def test_hf_500_is_retried_after_a_backoff(fake: FakeSources, fake_time: FakeTime) -> None:
    fake.fail(HF_PATH, status(500), status(502))
    async with http_client(fake_time, backoff_base_s=1.0) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 1), NOW)
    assert len(fetched.observations) == 23
    assert len(fake.requests_to(HF_PATH)) == 4  # 2 failures, the list, the empty page after
    # Full jitter: the n-th wait is anywhere in [0, base * 2**n].
    assert len(fake_time.sleeps) == 2
    assert 0 <= fake_time.sleeps[0] <= 1.0 and 0 <= fake_time.sleeps[1] <= 2.0


async def test_hf_500_every_time_gives_up_with_an_http_error(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    fake.fail(HF_PATH, status(500), status(500), status(500))
    async with http_client(fake_time, retries=2) as http:
        with pytest.raises(HttpError, match="answered 500; gave up after 3 tries") as caught:
            await fetch_hf_day(http, fake.url, date(2026, 7, 1), NOW)
    assert caught.value.status == 500
    assert len(fake_time.sleeps) == 2


async def test_hf_cut_off_body_is_retried(fake: FakeSources, fake_time: FakeTime) -> None:
    fake.fail(HF_PATH, cut_off())
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 1), NOW)
    assert len(fetched.observations) == 23
    assert len(fake.requests_to(HF_PATH)) == 3  # cut off, the list, the empty page after


async def test_hf_timeout_raises_http_error_and_stores_nothing(
    fake: FakeSources, fake_time: FakeTime, services: Services, small_pages: int
) -> None:
    # Page 0 answers; page 1 hangs on both tries.
    fake.fail(HF_PATH, hang(), hang(), when={"p": "1"})
    async with http_client(fake_time, timeout_s=0.3, retries=1) as http:
        with pytest.raises(HttpError, match=r"timed out after 0\.3 s; gave up after 2 tries"):
            await ingest_hf_day(services, http, date(2026, 7, 7))
    assert [p for _, p, _ in pages_asked(fake)] == ["0", "1", "1"]
    assert await services.papers.count_papers() == 0
    assert await services.day_lists.list_states() == []


async def test_hf_truncated_json_is_a_source_error_and_stores_nothing(
    fake: FakeSources, fake_time: FakeTime, services: Services, small_pages: int
) -> None:
    fake.fail(HF_PATH, truncated_json(), when={"p": "1"})
    async with http_client(fake_time) as http:
        with pytest.raises(SourceError, match=r"not valid JSON \(cut off\?\)") as caught:
            await ingest_hf_day(services, http, date(2026, 7, 7))
    assert caught.value.source == "Hugging Face daily papers for 2026-07-07"
    assert len(fake.requests_to(HF_PATH)) == 2  # not retried: the HTTP response was whole
    assert await services.papers.count_papers() == 0
    assert await services.day_lists.list_states() == []


async def test_hf_non_json_body_is_a_source_error(fake: FakeSources, fake_time: FakeTime) -> None:
    fake.fail(HF_PATH, not_json(b"Service temporarily unavailable\n"))
    async with http_client(fake_time) as http:
        with pytest.raises(SourceError, match="the response is not valid JSON"):
            await fetch_hf_day(http, fake.url, date(2026, 7, 1), NOW)


async def test_hf_html_error_page_is_refused_by_its_content_type(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    fake.fail(HF_PATH, not_json(content_type="text/html; charset=utf-8"))
    async with http_client(fake_time) as http:
        with pytest.raises(HttpError, match="sent text/html where JSON was expected") as caught:
            await fetch_hf_day(http, fake.url, date(2026, 7, 1), NOW)
    assert caught.value.permanent
    assert len(fake.requests_to(HF_PATH)) == 1


async def test_hf_empty_day_gives_no_papers(
    fake: FakeSources, fake_time: FakeTime, services: Services
) -> None:
    async with http_client(fake_time) as http:
        fetched = await fetch_hf_day(http, fake.url, date(2026, 7, 4), NOW)  # a Saturday
        report = await ingest_hf_day(services, http, date(2026, 7, 4))
    assert fetched.observations == () and fetched.requests == 1
    assert (report.counts.new, report.counts.updated, report.skipped) == (0, 0, 0)
    assert_adds_up(report.line(), 0)
    assert await services.papers.count_papers() == 0


async def test_hf_old_format_day_imports(
    fake: FakeSources, fake_time: FakeTime, services: Services
) -> None:
    async with http_client(fake_time) as http:
        report = await ingest_hf_day(services, http, date(2024, 5, 27))
    assert report.counts.new == 13 and report.skipped == 0
    assert_adds_up(report.line(), 13)
    assert await services.papers.count_papers() == 13
    paper = await services.papers.paper_by_id("2405.15071")
    assert paper is not None
    assert paper.title == (
        "Grokked Transformers are Implicit Reasoners: A Mechanistic Journey to the Edge of"
        " Generalization"
    )
    assert paper.signals.upvotes == 19
    assert paper.signals.thumbnail is not None  # from the 2024 singular `mediaUrl`
    assert [(t.day, t.source, t.rank) for t in paper.trending] == [(date(2024, 5, 27), "hf", 3)]


# -- arXiv API ------------------------------------------------------------------------------


async def test_arxiv_id_list_from_the_recorded_response(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    async with http_client(fake_time) as http:
        fetched = await fetch_arxiv_ids(
            http, f"{fake.url}{ARXIV_PATH}", ["0808.05394", "1707.08567"], NOW
        )
    # 0808.05394 does not exist (four digits after 0808 in 2008): arXiv leaves it out.
    (paper,) = fetched.observations
    assert paper.arxiv_id == "1707.08567" and paper.source == "arxiv"
    assert paper.title.startswith("Proceedings of Workshop AEW10")
    assert paper.authors[0] == "Kees A. Schouhamer Immink"
    assert paper.categories == ("cs.IT",)
    (request,) = fake.requests_to(ARXIV_PATH)
    assert request.query == {"id_list": "0808.05394,1707.08567", "max_results": "2"}
    assert "application/atom+xml" in request.headers["Accept"]


async def test_arxiv_versioned_id_and_unknown_id(fake: FakeSources, fake_time: FakeTime) -> None:
    api = f"{fake.url}{ARXIV_PATH}"
    async with http_client(fake_time) as http:
        versioned = await fetch_arxiv_ids(http, api, ["2104.12255v1"], NOW)
        unknown = await fetch_arxiv_ids(http, api, ["0000.0000"], NOW)
    assert [(o.arxiv_id, o.title) for o in versioned.observations] == [("2104.12255", "0")]
    assert unknown.observations == ()


async def test_arxiv_400_error_feed_gives_arxivs_message(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    async with http_client(fake_time) as http:
        with pytest.raises(
            SourceError, match="arXiv refused the query: incorrect id format for abc"
        ):
            await fetch_arxiv_ids(http, f"{fake.url}{ARXIV_PATH}", ["abc"], NOW)
    assert len(fake.requests_to(ARXIV_PATH)) == 1  # a 400 is an answer, not retried
    assert fake_time.sleeps == []


async def test_arxiv_id_list_is_sent_in_chunks(
    fake: FakeSources, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "ARXIV_IDS_PER_REQUEST", 2)
    ids = ["2202.12139", "2405.13786", "2005.14124", "9999.99999", "1202.4527"]
    async with http_client(fake_time) as http:
        fetched = await fetch_arxiv_ids(http, f"{fake.url}{ARXIV_PATH}", ids, NOW)
    assert [o.arxiv_id for o in fetched.observations] == [i for i in ids if i != "9999.99999"]
    assert [r.query["id_list"] for r in fake.requests_to(ARXIV_PATH)] == [
        "2202.12139,2405.13786",
        "2005.14124,9999.99999",
        "1202.4527",
    ]
    assert fetched.requests == 3


async def test_arxiv_utf8_is_served_and_read_as_utf8(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    # The recording was saved decoded as latin-1 ("Î±"); the fake serves arXiv's bytes.
    async with http_client(fake_time) as http:
        fetched = await fetch_arxiv_ids(http, f"{fake.url}{ARXIV_PATH}", ["2403.16981"], NOW)
    (paper,) = fetched.observations
    assert "type-I error at most $\N{GREEK SMALL LETTER ALPHA}$" in paper.abstract
    assert "Î" not in paper.abstract


@pytest.mark.parametrize(
    ("since", "starts", "count"),
    [
        # 20 real entries, newest first: 5 since 2024-05-22, 10 since 2022-04-18, ...
        (date(2022, 1, 1), ["0", "5", "10"], 12),  # page 3 holds the first older entry
        (date(2024, 6, 1), ["0"], 4),
        (date(2000, 1, 1), ["0", "5", "10", "15"], 20),  # stops at totalResults
    ],
)
async def test_arxiv_category_pages_until_since(
    fake: FakeSources,
    fake_time: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
    since: date,
    starts: list[str],
    count: int,
) -> None:
    monkeypatch.setattr(fetch, "ARXIV_PAGE_SIZE", 5)
    async with http_client(fake_time) as http:
        fetched = await fetch_arxiv_category(http, f"{fake.url}{ARXIV_PATH}", "cs.SE", since, NOW)
    requests = fake.requests_to(ARXIV_PATH)
    assert [r.query["start"] for r in requests] == starts
    assert {r.query["search_query"] for r in requests} == {"cat:cs.SE"}
    assert {(r.query["sortBy"], r.query["sortOrder"]) for r in requests} == {
        ("submittedDate", "descending")
    }
    published = [o.published for o in fetched.observations]
    assert len(published) == count
    assert all(p is not None and p >= since for p in published)
    assert published == sorted(published, reverse=True)  # type: ignore[type-var]
    assert fetched.requests == len(starts)


async def test_arxiv_bad_category_is_refused_before_any_request(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    async with http_client(fake_time) as http:
        with pytest.raises(UserError, match="not an arXiv category"):
            await fetch_arxiv_category(
                http, f"{fake.url}{ARXIV_PATH}", "cs.CL OR all:x", date(2026, 1, 1), NOW
            )
    assert fake.requests == []


# -- arXiv RSS ------------------------------------------------------------------------------


async def test_rss_lists_new_and_cross_lists_and_keeps_replacements(
    fake: FakeSources, fake_time: FakeTime
) -> None:
    async with http_client(fake_time) as http:
        fetched = await fetch_arxiv_rss(http, f"{fake.url}/rss", ["cs.CL", "cs.LG"], NOW)
    assert [(o.arxiv_id, o.rank, o.day) for o in fetched.observations] == [
        ("2509.04664", 1, date(2025, 9, 8)),
        ("2509.04701", 2, date(2025, 9, 8)),
        ("2509.03988", 3, date(2025, 9, 8)),  # the cross-list
        ("2401.01313", None, None),  # replace: a new version, on no day's list
        ("2502.11207", None, None),  # replace-cross
        ("2509.05120", 4, date(2025, 9, 8)),
    ]
    assert fetched.skipped == ()
    (request,) = fake.requests
    assert request.path == "/rss/cs.CL+cs.LG"
    assert "application/rss+xml" in request.headers["Accept"]


# -- all sources ----------------------------------------------------------------------------


async def test_every_request_names_paperwire(fake: FakeSources, fake_time: FakeTime) -> None:
    async with http_client(fake_time) as http:
        await fetch_hf_day(http, fake.url, date(2026, 7, 1), NOW)
        await fetch_arxiv_ids(http, f"{fake.url}{ARXIV_PATH}", ["2104.12255v1"], NOW)
        await fetch_arxiv_rss(http, f"{fake.url}/rss", ["cs.CL"], NOW)
    assert [r.path for r in fake.requests] == [HF_PATH, HF_PATH, ARXIV_PATH, "/rss/cs.CL"]
    for request in fake.requests:
        assert request.headers["User-Agent"].startswith("paperwire/")
        assert "github.com/paperwire" in request.headers["User-Agent"]
