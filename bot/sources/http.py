"""The one HTTP client paper sources use: polite, patient, and clear when a source fails.

`async with HttpClient(...) as http:` owns one aiohttp session. `await http.get(url)`:

- sends a User-Agent naming paperwire and its version;
- retries 429, 5xx, timeouts, dropped connections and cut-off bodies, waiting what the
  server asked (`Retry-After`, seconds or an HTTP date) or else exponential backoff with
  full jitter; a server asking for more than `max_retry_after_s` gets no retry at all;
- sends `If-None-Match` / `If-Modified-Since` when it has seen an `ETag` / `Last-Modified`
  for the same URL, and on 304 hands back the body it kept (`from_cache=True`);
- serialises requests to hosts listed in `min_interval_s` and spaces them out (arXiv asks
  for one request every 3 s, one connection at a time);
- returns 2xx responses and raises `HttpError` for everything else, except statuses the
  caller accepts (`accept_status={400}`: arXiv explains a bad query in an Atom document
  sent with 400, and its parser turns that into a better message than ours).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Literal, Self

import aiohttp
from yarl import URL

from bot import __version__
from bot.errors import PlatformError

_log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"paperwire/{__version__} (+https://github.com/paperwire/paperwire)"

Expect = Literal["json", "xml"]
# What a Content-Type must contain for each `expect`, and what to send as Accept.
_EXPECTED_TYPES: Mapping[str, tuple[str, str]] = {
    "json": ("json", "application/json"),
    "xml": ("xml", "application/atom+xml, application/rss+xml, application/xml, text/xml"),
}
_SERVICE_NAMES: Mapping[str, str] = {"arxiv.org": "arXiv", "huggingface.co": "Hugging Face"}


class HttpError(PlatformError):
    """A source could not be fetched. The message is short and meant for people.

    `permanent` is True when trying again later will not help by itself (404, wrong content
    type, a TLS failure); `retry_after` is set when the server named a wait we refused.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message, retry_after=retry_after, permanent=permanent)
        self.url = url
        self.status = status


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy)
    url: str
    from_cache: bool = False  # the server said 304 and this is the body we kept


@dataclass(frozen=True)
class _Retry:
    """One failed attempt worth trying again."""

    reason: str  # completes "arXiv ...": "answered 503", "timed out after 30 s"
    status: int | None = None
    server_wait_s: float | None = None  # from Retry-After


@dataclass(frozen=True)
class _Cached:
    etag: str | None
    last_modified: str | None
    response: HttpResponse


class HttpClient:
    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout_s: float = 30.0,
        retries: int = 4,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_retry_after_s: float = 300.0,
        min_interval_s: Mapping[str, float] | None = None,
        cache_entries: int = 256,
        max_body_bytes: int = 64 * 1024 * 1024,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if retries < 0 or timeout_s <= 0:
            raise ValueError("retries must be >= 0 and timeout_s > 0")
        self._user_agent = user_agent
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_retry_after_s = max_retry_after_s
        self._min_interval_s = {h.lower(): s for h, s in (min_interval_s or {}).items()}
        self._cache_entries = cache_entries
        self._max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last_done: dict[str, float] = {}
        self._cache: OrderedDict[str, _Cached] = OrderedDict()

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": self._user_agent},
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        expect: Expect | None = None,
        accept_status: Collection[int] = (),
    ) -> HttpResponse:
        """GET `url` (plus `params`), retrying what is worth retrying.

        Returns 2xx responses, 304s answered from the cache, and any status in
        `accept_status` (429 and 5xx are retried all the same); raises `HttpError` otherwise.
        `expect` checks the Content-Type loosely ("json" / "xml" must appear in it, a missing
        one passes) and sets Accept; parsers still validate the body.
        """
        target = URL(url).extend_query(params) if params else URL(url)
        host = (target.host or "").lower()
        async with self._host_turns(host):
            return await self._get_with_retries(target, expect, frozenset(accept_status))

    # -- retrying -------------------------------------------------------------------------

    async def _get_with_retries(
        self, target: URL, expect: Expect | None, accept_status: frozenset[int]
    ) -> HttpResponse:
        name = _service_name(target)
        tries = self._retries + 1
        for attempt in range(tries):
            await self._wait_for_turn(target)
            outcome = await self._attempt(target, name, expect, accept_status)
            if isinstance(outcome, HttpResponse):
                return outcome
            failure = outcome
            if attempt + 1 < tries:
                wait = self._retry_wait(failure, attempt, name, target)
                _log.info(
                    "%s %s; trying again in %.1f s (try %d of %d): %s",
                    name,
                    failure.reason,
                    wait,
                    attempt + 2,
                    tries,
                    _safe_url(target),
                )
                await self._sleep(wait)
        raise HttpError(
            f"{name} {failure.reason}; gave up after {tries} {'try' if tries == 1 else 'tries'}",
            url=_safe_url(target),
            status=failure.status,
            retry_after=failure.server_wait_s,
        )

    def _retry_wait(self, failure: _Retry, attempt: int, name: str, target: URL) -> float:
        if failure.server_wait_s is None:
            # Full jitter: spread retries from many clients over the whole window.
            cap = min(self._backoff_max_s, self._backoff_base_s * 2**attempt)
            return self._rng.uniform(0.0, cap)
        if failure.server_wait_s > self._max_retry_after_s:
            raise HttpError(
                f"{name} {failure.reason} and asked us to wait "
                f"{_seconds(failure.server_wait_s)}; not waiting that long",
                url=_safe_url(target),
                status=failure.status,
                retry_after=failure.server_wait_s,
            )
        return failure.server_wait_s

    async def _attempt(
        self, target: URL, name: str, expect: Expect | None, accept_status: frozenset[int]
    ) -> HttpResponse | _Retry:
        session = self._open_session()
        key = str(target)
        try:
            async with session.get(target, headers=self._request_headers(key, expect)) as resp:
                body = await self._read_body(resp, name)
                return self._judge(resp, body, key, name, expect, accept_status)
        except TimeoutError:  # before ClientConnectionError: ServerTimeoutError is both
            return _Retry(f"timed out after {_seconds(self._timeout_s)}")
        except aiohttp.ClientPayloadError:
            return _Retry("sent a response that was cut off")
        except aiohttp.ClientSSLError as exc:
            raise HttpError(
                f"{name} failed the TLS check: {exc.os_error}",
                url=_safe_url(target),
                permanent=True,
            ) from exc
        except aiohttp.ClientConnectionError as exc:
            return _Retry(_connection_failure(exc))
        except aiohttp.ClientError as exc:  # a response aiohttp could not make sense of
            raise HttpError(
                f"{name} sent a response that could not be read ({type(exc).__name__})",
                url=_safe_url(target),
                permanent=True,
            ) from exc
        finally:
            self._finished_turn(target)

    async def _read_body(self, resp: aiohttp.ClientResponse, name: str) -> bytes:
        """The whole body, or a clear error past `max_body_bytes` rather than a full memory."""
        limit = self._max_body_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise self._too_big(resp, name)
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:  # no or wrong Content-Length, or a compressed body
                raise self._too_big(resp, name)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_big(self, resp: aiohttp.ClientResponse, name: str) -> HttpError:
        return HttpError(
            f"{name} sent more than {self._max_body_bytes:,} bytes; not reading it all",
            url=_safe_url(resp.url),
            status=resp.status,
            permanent=True,
        )

    def _judge(
        self,
        resp: aiohttp.ClientResponse,
        body: bytes,
        key: str,
        name: str,
        expect: Expect | None,
        accept_status: frozenset[int],
    ) -> HttpResponse | _Retry:
        status = resp.status
        url = _safe_url(resp.url)
        if status == 304:
            return self._from_cache(key, name, url)
        if status == 429 or status >= 500:
            return _Retry(f"answered {status}", status, _retry_after_s(resp.headers))
        if not (200 <= status < 300 or status in accept_status):
            reason = f" ({resp.reason})" if resp.reason else ""
            raise HttpError(
                f"{name} answered {status}{reason}", url=url, status=status, permanent=True
            )
        _check_content_type(resp, name, url, expect)
        response = HttpResponse(status, body, resp.headers, url)
        if 200 <= status < 300:
            self._remember(key, response)
        return response

    # -- per-host spacing -----------------------------------------------------------------

    def _host_turns(self, host: str) -> AbstractAsyncContextManager[object]:
        """One request at a time (retries included) to a host with a minimum interval."""
        if host not in self._min_interval_s:
            return nullcontext()
        return self._host_locks.setdefault(host, asyncio.Lock())

    async def _wait_for_turn(self, target: URL) -> None:
        host = (target.host or "").lower()
        last = self._host_last_done.get(host)
        if last is None:
            return
        # Measured from the end of the previous request: the stricter reading of the rule.
        wait = last + self._min_interval_s[host] - self._clock()
        if wait > 0:
            await self._sleep(wait)

    def _finished_turn(self, target: URL) -> None:
        host = (target.host or "").lower()
        if host in self._min_interval_s:
            self._host_last_done[host] = self._clock()

    # -- conditional requests ---------------------------------------------------------------

    def _request_headers(self, key: str, expect: Expect | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if expect is not None:
            headers["Accept"] = _EXPECTED_TYPES[expect][1]
        cached = self._cache.get(key)
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        return headers

    def _remember(self, key: str, response: HttpResponse) -> None:
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if self._cache_entries <= 0 or not (etag or last_modified):
            self._cache.pop(key, None)
            return
        self._cache[key] = _Cached(etag, last_modified, response)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)

    def _from_cache(self, key: str, name: str, url: str) -> HttpResponse:
        cached = self._cache.get(key)
        if cached is None:
            raise HttpError(
                f"{name} answered 304 (Not Modified) to a request we had not made before",
                url=url,
                status=304,
                permanent=True,
            )
        self._cache.move_to_end(key)
        kept = cached.response
        return HttpResponse(kept.status, kept.body, kept.headers, kept.url, from_cache=True)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HttpClient is not open: use `async with HttpClient() as http:`")
        return self._session


# -- helpers ------------------------------------------------------------------------------


def _service_name(target: URL) -> str:
    host = (target.host or "").lower()
    for domain, name in _SERVICE_NAMES.items():
        if host == domain or host.endswith("." + domain):
            return name
    return host or str(target)


def _safe_url(url: URL) -> str:
    """The URL without any user:password part."""
    return str(url.with_user(None)) if url.user or url.password else str(url)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _connection_failure(exc: aiohttp.ClientConnectionError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "could not be found (DNS lookup failed)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "refused the connection"
        return f"could not be reached ({exc.os_error.strerror or type(exc.os_error).__name__})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "closed the connection before answering"
    return f"could not be reached ({type(exc).__name__})"


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, headers.get("Date"))
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until(http_date: str, server_date: str | None) -> float | None:
    when = _parse_http_date(http_date)
    if when is None:
        return None
    # The server's own Date makes the difference immune to our clock being off.
    now = (_parse_http_date(server_date) if server_date else None) or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_content_type(
    resp: aiohttp.ClientResponse, name: str, url: str, expect: Expect | None
) -> None:
    content_type = resp.headers.get("Content-Type", "")
    if expect is None or not content_type:
        return
    needle = _EXPECTED_TYPES[expect][0]
    if needle not in content_type.lower():
        media_type = content_type.split(";", 1)[0].strip()
        raise HttpError(
            f"{name} sent {media_type} where {expect.upper()} was expected",
            url=url,
            status=resp.status,
            permanent=True,
        )
