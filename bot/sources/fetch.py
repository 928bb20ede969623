"""Fetching from the live sources: paging and stopping rules around the pure parsers.

Every fetch reads all its pages before returning, so a failure part-way (a timeout, a
truncated page) raises and nothing of it reaches the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.errors import UserError
from bot.models import Observation
from bot.sources import arxiv, biorxiv, hf_daily
from bot.sources.errors import SourceError
from bot.sources.http import HttpClient

HF_PAGE_SIZE = 50  # the API's default page size
HF_MAX_PAGES = 20  # a day's list is ~20-150 papers; more pages means paging is ignored
ARXIV_PAGE_SIZE = 200
ARXIV_MAX_RESULTS = 30_000  # the API's own ceiling
ARXIV_IDS_PER_REQUEST = 100
BIORXIV_MAX_PAGES = 500  # pages of 100: far more than a month of bioRxiv posts
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought: observations, and every other item it read, named in `skipped`
    (a bad item) or counted in `refused` (the ids of items not from this source)."""

    observations: tuple[Observation, ...]
    skipped: tuple[str, ...] = ()
    requests: int = 0
    refused: tuple[str, ...] = ()


async def fetch_hf_day(
    http: HttpClient, base_url: str, day: date, observed_at: datetime
) -> Fetched:
    """The whole list of `day`, page by page (`p`, `limit`), until a page brings nothing new.
    A short page is not taken as the last: the server may cap `limit` below what we ask."""
    url = base_url.rstrip("/") + "/api/daily_papers"
    observations: list[Observation] = []
    skipped: list[str] = []
    refused: list[str] = []
    seen: set[str] = set()
    for page in range(HF_MAX_PAGES):
        params = {"date": day.isoformat(), "p": str(page), "limit": str(HF_PAGE_SIZE)}
        response = await http.get(url, params, expect="json")
        payload = decode_json(response.body, f"Hugging Face daily papers for {day}")
        parsed = hf_daily.parse_daily_papers(
            payload, day, observed_at, first_rank=page * HF_PAGE_SIZE + 1
        )
        fresh = [o for o in parsed.observations if o.paper_id not in seen]
        again = [o for o in parsed.observations if o.paper_id in seen]
        # An empty page ends the list; a page of nothing new means paging is ignored: it is
        # the list again, so neither its papers nor its bad items are counted twice.
        if not fresh and page > 0:
            return Fetched(tuple(observations), tuple(skipped), page + 1, tuple(refused))
        seen.update(o.paper_id for o in fresh)
        observations += fresh
        # The list moved between two pages (upvotes reorder it): a paper read on an earlier
        # page is named once more as skipped, so that every item read is accounted for.
        skipped += [
            f"rank {o.rank} ({o.paper_id}): already read on an earlier page (the list moved)"
            for o in again
        ]
        skipped += parsed.skipped
        refused += parsed.refused
        if not fresh:
            return Fetched(tuple(observations), tuple(skipped), page + 1, tuple(refused))
    return Fetched(tuple(observations), tuple(skipped), HF_MAX_PAGES, tuple(refused))


def decode_json(body: bytes, what: str) -> object:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        looks_json = body.lstrip()[:1] in (b"[", b"{")
        hint = " (cut off?)" if looks_json and body.rstrip()[-1:] not in (b"]", b"}") else ""
        raise SourceError(what, f"the response is not valid JSON{hint}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise SourceError(what, "the response is not UTF-8 JSON") from None


def check_category(category: str) -> str:
    if not _CATEGORY.match(category):
        raise UserError(f"{category[:40]!r} is not an arXiv category such as cs.CL or math")
    return category


async def fetch_arxiv_category(
    http: HttpClient, api_url: str, category: str, since: date, observed_at: datetime
) -> Fetched:
    """Papers of `category` submitted on or after `since`, newest first, page by page."""
    check_category(category)
    observations: list[Observation] = []
    skipped: list[str] = []
    requests = 0
    for start in range(0, ARXIV_MAX_RESULTS, ARXIV_PAGE_SIZE):
        params = {
            "search_query": f"cat:{category}",
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": str(start),
            "max_results": str(ARXIV_PAGE_SIZE),
        }
        page = await _atom(http, api_url, params, observed_at)
        requests += 1
        skipped += page.skipped
        recent = [o for o in page.observations if o.published is None or o.published >= since]
        observations += recent
        last = start + len(page.observations)
        if len(recent) < len(page.observations) or not page.observations:
            break
        if last >= page.total_results:
            break
    return Fetched(tuple(observations), tuple(skipped), requests)


async def fetch_arxiv_ids(
    http: HttpClient, api_url: str, ids: Sequence[str], observed_at: datetime
) -> Fetched:
    """The papers with these arXiv ids (ids arXiv does not know are left out silently)."""
    observations: list[Observation] = []
    skipped: list[str] = []
    requests = 0
    for start in range(0, len(ids), ARXIV_IDS_PER_REQUEST):
        chunk = ids[start : start + ARXIV_IDS_PER_REQUEST]
        params = {"id_list": ",".join(chunk), "max_results": str(len(chunk))}
        page = await _atom(http, api_url, params, observed_at)
        requests += 1
        observations += page.observations
        skipped += page.skipped
    return Fetched(tuple(observations), tuple(skipped), requests)


async def fetch_arxiv_rss(
    http: HttpClient, rss_url: str, categories: Sequence[str], observed_at: datetime
) -> Fetched:
    """Today's announcements in `categories`, in feed order: new submissions and cross-lists
    on the day's list, replacements stored without it. RSS 2.0 or (a mirror's) RDF."""
    for category in categories:
        check_category(category)
    response = await http.get(f"{rss_url.rstrip('/')}/{'+'.join(categories)}", expect="xml")
    feed = arxiv.parse_feed(response.body, observed_at, "arXiv RSS")
    return Fetched(feed.observations, feed.skipped, 1)


async def fetch_biorxiv(
    http: HttpClient, api_url: str, server: str, since: date, until: date, observed_at: datetime
) -> Fetched:
    """Every version posted on `server` from `since` to `until` (inclusive), page by page,
    one request at a time. The cursor is the offset of the next record: it moves by what a
    page brought, whatever the page size (100 when written)."""
    biorxiv.check_server(server)
    base = f"{api_url.rstrip('/')}/details/{server}/{since.isoformat()}/{until.isoformat()}"
    what = f"{server} details from {since} to {until}"
    observations: list[Observation] = []
    skipped: list[str] = []
    cursor = requests = 0
    while requests < BIORXIV_MAX_PAGES:
        response = await http.get(f"{base}/{cursor}/json", expect="json")
        requests += 1
        page = biorxiv.parse_details(decode_json(response.body, what), server, observed_at)
        observations += page.observations
        skipped += page.skipped
        cursor += page.count
        if page.count == 0 or cursor >= page.total:
            break
    return Fetched(tuple(biorxiv.rank_by_day(observations)), tuple(skipped), requests)


async def _atom(
    http: HttpClient, api_url: str, params: dict[str, str], observed_at: datetime
) -> arxiv.AtomPage:
    # arXiv answers a bad query with HTTP 400 and an Atom error feed the parser explains.
    response = await http.get(api_url, params, expect="xml", accept_status={400})
    return arxiv.parse_atom(response.body, observed_at)


def days_back(now: datetime, days: int) -> date:
    return (now - timedelta(days=max(days, 1) - 1)).date()
