"""A local fake of Hugging Face and arXiv, serving the real captured responses.

`async with running_fake_sources() as fake:` starts an aiohttp server on 127.0.0.1 (port 0)
and `fake.url` is its base URL. It answers:

- `GET /api/daily_papers?date=D&p=P&limit=L`: page P (size L, default 50) of
  `tests/fixtures/hf_daily/D.json`; a day without a file answers `[]`.
  `fake.hf_days[D] = [...]` replaces a day's list (a list that is still filling in).
- `GET /api/query`: arXiv's Atom API. An `id_list` recorded in
  `arxiv/api_2026_recorded` is answered with the recorded bytes and status (the 400 error
  feed included); other id lists are answered from every entry the fake knows. A
  `search_query=cat:...` is answered from `fake.category_entries` (by default the 20 real
  entries of the recorded "testing" search), newest `<published>` first, paged by
  `start` / `max_results` with OpenSearch totals. Other search queries use the recordings.
- `GET /rss/<categories>`: `tests/fixtures/samples/arxiv_rss_cs_CL.xml`.
- `GET /details/<server>/<from>/<to>/<cursor>[/json]`: the bioRxiv / medRxiv details API
  over `fake.biorxiv[server]` (by default the records of the constructed pages in
  `tests/fixtures/biorxiv/`), those posted from `from` to `to`, `fake.biorxiv_page_size`
  (100) a page from offset `cursor`, with the API's messages (numbers as strings where
  the API sends strings); an interval without posts answers "no posts found".

Scripting: `fake.fail(path, *canned, when={"p": "1"})` queues canned answers returned, one per
request, before the real ones for requests to `path` whose query includes `when`. The
canned answers: `status(429, retry_after="7")`, `status(500)`, `hang()` (answers only once
the fake shuts down), `truncated_json()`, `not_json()`, `cut_off()`. Every request is
recorded in `fake.requests` (path, query, headers).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import Settings
from bot.sources.http import HttpClient
from tests.fixture_files import ARXIV, BIORXIV, HF_DAILY, SAMPLES

HF_DIR = HF_DAILY
ARXIV_RECORDED_DIR = ARXIV / "api_2026_recorded"
DATA = SAMPLES
RSS_FILE = DATA / "arxiv_rss_cs_CL.xml"

HF_DEFAULT_LIMIT = 50
JSON_TYPE = "application/json; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"

_ENTRY = re.compile(r"<entry>.*?</entry>", re.S)
_ENTRY_ID = re.compile(r"<id>\s*https?://arxiv\.org/abs/([^<\s]+?)(?:v\d+)?\s*</id>")
_PUBLISHED = re.compile(r"<published>\s*([^<\s]+)\s*</published>")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RealAnswer = Callable[[], Awaitable[web.Response]]
Canned = Callable[[web.Request, RealAnswer, asyncio.Event], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class _Recording:
    status: int
    body: bytes


@dataclass
class _Queued:
    when: dict[str, str]
    canned: Canned


# -- canned answers -----------------------------------------------------------------------


def status(code: int, retry_after: str | None = None, body: bytes = b"") -> Canned:
    """An error status, with `Retry-After` when given."""

    async def answer(
        request: web.Request, real: RealAnswer, release: asyncio.Event
    ) -> web.StreamResponse:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return web.Response(status=code, body=body, headers=headers)

    return answer


def hang() -> Canned:
    """Never answers while the test runs (longer than any client timeout)."""

    async def answer(
        request: web.Request, real: RealAnswer, release: asyncio.Event
    ) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=503, text="too late")

    return answer


def truncated_json(keep: float = 0.5) -> Canned:
    """A complete HTTP response (right Content-Length) whose JSON body is cut part-way,
    as a proxy that dropped the end of the upstream body would send it."""

    async def answer(
        request: web.Request, real: RealAnswer, release: asyncio.Event
    ) -> web.StreamResponse:
        full = await real()
        body = _body_of(full)
        cut = max(1, int(len(body) * keep))
        if body[:cut].rstrip().endswith((b"]", b"}")):
            cut -= 1
        return web.Response(status=200, body=body[:cut], content_type="application/json")

    return answer


def not_json(
    body: bytes = b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    content_type: str = "application/json",
) -> Canned:
    """A 200 whose body is not JSON (an error page served with the wrong type)."""

    async def answer(
        request: web.Request, real: RealAnswer, release: asyncio.Event
    ) -> web.StreamResponse:
        return web.Response(status=200, body=body, headers={"Content-Type": content_type})

    return answer


def cut_off() -> Canned:
    """Promises 1000 bytes, sends a few and drops the connection."""

    async def answer(
        request: web.Request, real: RealAnswer, release: asyncio.Event
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Length": "1000", "Content-Type": "application/json"}
        )
        await response.prepare(request)
        await response.write(b'[{"paper": {"id": "26')
        assert request.transport is not None
        request.transport.close()
        return response

    return answer


def _body_of(response: web.Response) -> bytes:
    body = response.body
    assert isinstance(body, bytes), type(body)
    return body


# -- the fake -------------------------------------------------------------------------------


@dataclass
class FakeSources:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    hf_days: dict[str, list[Any]] = field(default_factory=dict)
    category_entries: list[str] = field(default_factory=list)
    ignore_paging: bool = False  # answer every HF page with the whole list
    # Each HF page after the first starts this many items early (the list moved between
    # two page requests, as upvotes reorder it).
    page_overlap: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _queues: dict[str, list[_Queued]] = field(default_factory=dict)
    _recorded_ids: dict[str, _Recording] = field(default_factory=dict)
    _recorded_searches: dict[tuple[str, str], _Recording] = field(default_factory=dict)
    _entries_by_id: dict[str, str] = field(default_factory=dict)
    biorxiv: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    biorxiv_page_size: int = 100

    def __post_init__(self) -> None:
        for path in sorted(ARXIV_RECORDED_DIR.glob("*.json")):
            self._load_recording(path)
        for path in sorted(BIORXIV.glob("details_*.json")):
            server = path.name.split("_")[1]
            self.biorxiv.setdefault(server, []).extend(json.loads(path.read_bytes())["collection"])

    # -- scripting --------------------------------------------------------------------------

    def fail(self, path: str, *canned: Canned, when: Mapping[str, str] | None = None) -> None:
        queue = self._queues.setdefault(path, [])
        queue.extend(_Queued(dict(when or {}), answer) for answer in canned)

    def pending_failures(self, path: str) -> int:
        return len(self._queues.get(path, []))

    def add_arxiv_feed(self, feed: bytes, *, in_category: bool = True) -> list[str]:
        """Make the entries of an Atom feed known (to id lists, and to category searches
        unless `in_category` is False); returns their versionless ids."""
        ids = []
        for entry in _ENTRY.findall(feed.decode("utf-8")):
            arxiv_id = self._add_entry(entry)
            ids.append(arxiv_id)
            if in_category:
                self.category_entries.append(entry)
        return ids

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- serving ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._serve(request, handler)

        app = web.Application(middlewares=[record])
        app.router.add_get("/api/daily_papers", self._daily_papers)
        app.router.add_get("/api/query", self._arxiv_query)
        app.router.add_get("/rss/{categories}", self._rss)
        app.router.add_get("/details/{server}/{since}/{until}/{cursor}", self._details)
        app.router.add_get("/details/{server}/{since}/{until}/{cursor}/json", self._details)
        return app

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        query = {key: request.query[key] for key in request.query}
        self.requests.append(Recorded(request.path, query, dict(request.headers)))
        queued = self._take(request.path, query)
        if queued is None:
            return await handler(request)

        async def real() -> web.Response:
            response = await handler(request)
            assert isinstance(response, web.Response)
            return response

        return await queued.canned(request, real, self.release)

    def _take(self, path: str, query: Mapping[str, str]) -> _Queued | None:
        queue = self._queues.get(path, [])
        for index, queued in enumerate(queue):
            if all(query.get(k) == v for k, v in queued.when.items()):
                return queue.pop(index)
        return None

    async def _daily_papers(self, request: web.Request) -> web.Response:
        day = request.query.get("date", "")
        try:
            page = int(request.query.get("p", "0"))
            limit = int(request.query.get("limit", str(HF_DEFAULT_LIMIT)))
        except ValueError:
            return web.json_response({"error": "p and limit must be numbers"}, status=400)
        items = self._hf_day(day)
        if not self.ignore_paging:
            start = max(0, page * limit - (self.page_overlap if page else 0))
            items = items[start : (page + 1) * limit]
        return web.Response(body=json.dumps(items).encode(), content_type="application/json")

    def _hf_day(self, day: str) -> list[Any]:
        if day in self.hf_days:
            return self.hf_days[day]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            return []
        path = HF_DIR / f"{day}.json"
        if not path.is_file():
            return []
        items = json.loads(path.read_bytes())
        assert isinstance(items, list)
        return items

    async def _arxiv_query(self, request: web.Request) -> web.Response:
        query = request.query
        id_list = query.get("id_list", "")
        search = query.get("search_query", "")
        if id_list:
            recorded = self._recorded_ids.get(id_list)
            if recorded is not None:
                return _atom_response(recorded.body, recorded.status)
            ids = [i.strip() for i in id_list.split(",") if i.strip()]
            entries = [self._entries_by_id[i] for i in ids if i in self._entries_by_id]
            return _atom_response(_feed(entries, total=len(entries), start=0))
        if search.startswith("cat:"):
            start = int(query.get("start", "0"))
            size = int(query.get("max_results", "10"))
            ordered = sorted(self.category_entries, key=_published, reverse=True)
            page = ordered[start : start + size]
            return _atom_response(_feed(page, total=len(ordered), start=start))
        recorded = self._recorded_searches.get((search, query.get("start", "0")))
        if recorded is not None:
            return _atom_response(recorded.body, recorded.status)
        return _atom_response(_feed([], total=0, start=0))

    async def _rss(self, request: web.Request) -> web.Response:
        return web.Response(body=RSS_FILE.read_bytes(), headers={"Content-Type": RSS_TYPE})

    async def _details(self, request: web.Request) -> web.Response:
        info = request.match_info
        since, until = info["since"], info["until"]
        posted = [r for r in self.biorxiv.get(info["server"], []) if since <= r["date"] <= until]
        cursor = int(info["cursor"])
        page = posted[cursor : cursor + self.biorxiv_page_size]
        if not page:
            body: dict[str, Any] = {"messages": [{"status": "no posts found"}], "collection": []}
        else:
            message = {
                "status": "ok",
                "category": "all",
                "interval": f"{since}:{until}",
                "funder": "all",
                "cursor": cursor,
                "count": len(page),
                "count_new_papers": str(sum(r["version"] == "1" for r in posted)),
                "total": str(len(posted)),
            }
            body = {"messages": [message], "collection": page}
        return web.Response(body=json.dumps(body).encode(), content_type="application/json")

    # -- loading ----------------------------------------------------------------------------

    def _load_recording(self, path: Path) -> None:
        saved = json.loads(path.read_text(encoding="utf-8"))
        # Saved decoded as latin-1: encoding back gives the bytes arXiv sent (UTF-8).
        recording = _Recording(int(saved["status_code"]), saved["body"].encode("latin-1"))
        params = parse_qs(urlsplit(saved["url"]).query, keep_blank_values=True)
        id_list = params.get("id_list", [""])[0]
        search = params.get("search_query", [""])[0]
        if id_list:
            self._recorded_ids[id_list] = recording
        else:
            self._recorded_searches[(search, params.get("start", ["0"])[0])] = recording
        for entry in _ENTRY.findall(recording.body.decode("utf-8")):
            if _ENTRY_ID.search(entry):
                self._add_entry(entry)
                if search == "testing":
                    self.category_entries.append(entry)

    def _add_entry(self, entry: str) -> str:
        match = _ENTRY_ID.search(entry)
        assert match is not None, f"an entry without an arXiv id: {entry[:120]}"
        self._entries_by_id[match.group(1)] = entry
        return match.group(1)


def _published(entry: str) -> str:
    match = _PUBLISHED.search(entry)
    return match.group(1) if match else ""


def _feed(entries: Sequence[str], total: int, start: int) -> bytes:
    body = "\n".join(entries)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        ' xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/api/fake</id>\n  <title>arXiv Query (fake)</title>\n"
        "  <updated>2026-04-12T22:09:27Z</updated>\n"
        f"  <opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        f"{body}\n</feed>\n"
    ).encode()


def _atom_response(body: bytes, code: int = 200) -> web.Response:
    return web.Response(status=code, body=body, headers={"Content-Type": ATOM_TYPE})


@asynccontextmanager
async def running_fake_sources() -> AsyncIterator[FakeSources]:
    """The fake, listening on 127.0.0.1 with a free port; hanging answers are released
    before it shuts down."""
    fake = FakeSources()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        fake.release.set()
        await server.close()


def settings_for(fake: FakeSources, **overrides: Any) -> Settings:
    """Settings whose sources are the fake, on a memory database, with no arXiv spacing."""
    values: dict[str, Any] = {
        "db_path": ":memory:",
        "hf_url": fake.url,
        "arxiv_api_url": f"{fake.url}/api/query",
        "arxiv_rss_url": f"{fake.url}/rss",
        "biorxiv_api_url": fake.url,
        "arxiv_interval_s": 0,
    }
    values.update(overrides)
    return Settings(**values)


class FakeTime:
    """A monotonic clock that only moves when the client sleeps; records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def http_client(fake_time: FakeTime, **overrides: Any) -> HttpClient:
    """A real `HttpClient` whose waits are recorded, not slept."""
    options: dict[str, Any] = {
        "sleep": fake_time.sleep,
        "clock": fake_time.clock,
        "rng": random.Random(7),
        "timeout_s": 2.0,
        "retries": 2,
    }
    options.update(overrides)
    return HttpClient(**options)
