"""The one HTTP client paper sources use: polite, patient, and clear when a source fails.

`async with HttpClient(...) as http:` owns one aiohttp session. `await http.get(url)`:

- sends a User-Agent naming paperwire and its version;
- retries 429, 5xx, timeouts, dropped connections and cut-off bodies, waiting what the
  server asked (`Retry-After`, seconds or an HTTP date) or else exponential backoff with
  full jitter; a server asking for more than `max_retry_after_s` gets no retry at all
  (`http_retry`);
- sends `If-None-Match` / `If-Modified-Since` when it has seen an `ETag` / `Last-Modified`
  for the same URL, and on 304 hands back the body it kept (`from_cache=True`, `http_cache`);
- serialises requests to hosts listed in `min_interval_s` and spaces them out (arXiv asks
  for one request every 3 s, one connection at a time);
- returns 2xx responses and raises `HttpError` for everything else, except statuses the
  caller accepts (`accept_status={400}`: arXiv explains a bad query in an Atom document
  sent with 400, and its parser turns that into a better message than ours; the response
  and its checks are in `http_responses`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from types import TracebackType
from typing import Self

import aiohttp
from yarl import URL

from bot import __version__
from bot.sources.http_cache import ConditionalCache
from bot.sources.http_responses import (
    Expect,
    HttpError,
    HttpResponse,
    accept_header,
    check_content_type,
    safe_url,
    service_name,
)
from bot.sources.http_retry import Retry, RetryPolicy, connection_failure, seconds

__all__ = ["DEFAULT_USER_AGENT", "Expect", "HttpClient", "HttpError", "HttpResponse"]

_log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"paperwire/{__version__} (+https://github.com/paperwire/paperwire)"


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
        self._retry = RetryPolicy(
            retries, backoff_base_s, backoff_max_s, max_retry_after_s, rng or random.Random()
        )
        self._min_interval_s = {h.lower(): s for h, s in (min_interval_s or {}).items()}
        self._max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last_done: dict[str, float] = {}
        self._cache = ConditionalCache(cache_entries)

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
        name = service_name(target)
        tries = self._retry.tries
        for attempt in range(tries):
            await self._wait_for_turn(target)
            outcome = await self._attempt(target, name, expect, accept_status)
            if isinstance(outcome, HttpResponse):
                return outcome
            failure = outcome
            if attempt + 1 < tries:
                wait = self._retry.wait(failure, attempt, name, target)
                _log.info(
                    "%s %s; trying again in %.1f s (try %d of %d): %s",
                    name,
                    failure.reason,
                    wait,
                    attempt + 2,
                    tries,
                    safe_url(target),
                )
                await self._sleep(wait)
        raise HttpError(
            f"{name} {failure.reason}; gave up after {tries} {'try' if tries == 1 else 'tries'}",
            url=safe_url(target),
            status=failure.status,
            retry_after=failure.server_wait_s,
        )

    async def _attempt(
        self, target: URL, name: str, expect: Expect | None, accept_status: frozenset[int]
    ) -> HttpResponse | Retry:
        session = self._open_session()
        key = str(target)
        try:
            async with session.get(target, headers=self._request_headers(key, expect)) as resp:
                body = await self._read_body(resp, name)
                return self._judge(resp, body, key, name, expect, accept_status)
        except TimeoutError:  # before ClientConnectionError: ServerTimeoutError is both
            return Retry(f"timed out after {seconds(self._timeout_s)}")
        except aiohttp.ClientPayloadError:
            return Retry("sent a response that was cut off")
        except aiohttp.ClientSSLError as exc:
            raise HttpError(
                f"{name} failed the TLS check: {exc.os_error}",
                url=safe_url(target),
                permanent=True,
            ) from exc
        except aiohttp.ClientConnectionError as exc:
            return Retry(connection_failure(exc))
        except aiohttp.ClientError as exc:  # a response aiohttp could not make sense of
            raise HttpError(
                f"{name} sent a response that could not be read ({type(exc).__name__})",
                url=safe_url(target),
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
            url=safe_url(resp.url),
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
    ) -> HttpResponse | Retry:
        status = resp.status
        url = safe_url(resp.url)
        if status == 304:
            return self._cache.not_modified(key, name, url)
        retry = Retry.after_status(status, resp.headers)
        if retry is not None:
            return retry
        if not (200 <= status < 300 or status in accept_status):
            reason = f" ({resp.reason})" if resp.reason else ""
            raise HttpError(
                f"{name} answered {status}{reason}", url=url, status=status, permanent=True
            )
        check_content_type(resp.headers, status, name, url, expect)
        response = HttpResponse(status, body, resp.headers, url)
        if 200 <= status < 300:
            self._cache.remember(key, response)
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
            headers["Accept"] = accept_header(expect)
        headers.update(self._cache.headers(key))
        return headers

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HttpClient is not open: use `async with HttpClient() as http:`")
        return self._session
