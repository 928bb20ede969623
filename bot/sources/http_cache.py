"""Conditional requests: the HTTP client keeps the last 2xx body of a URL with its `ETag` /
`Last-Modified`, sends `If-None-Match` / `If-Modified-Since` next time, and on 304 hands the
kept body back (`from_cache=True`)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bot.sources.http_responses import HttpError, HttpResponse


@dataclass(frozen=True)
class _Cached:
    etag: str | None
    last_modified: str | None
    response: HttpResponse


class ConditionalCache:
    """The kept responses by URL (with its query), the least recently used dropped past
    `entries` (0: keep none)."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._cache: OrderedDict[str, _Cached] = OrderedDict()

    def headers(self, key: str) -> dict[str, str]:
        """The conditional headers for a request to `key`, if it has a kept response."""
        headers: dict[str, str] = {}
        cached = self._cache.get(key)
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        return headers

    def remember(self, key: str, response: HttpResponse) -> None:
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if self._entries <= 0 or not (etag or last_modified):
            self._cache.pop(key, None)
            return
        self._cache[key] = _Cached(etag, last_modified, response)
        self._cache.move_to_end(key)
        while len(self._cache) > self._entries:
            self._cache.popitem(last=False)

    def not_modified(self, key: str, name: str, url: str) -> HttpResponse:
        """The kept response, for a 304; an error when nothing was kept."""
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
