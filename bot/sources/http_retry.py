"""When the HTTP client tries again and how long it waits: 429, 5xx, timeouts, dropped
connections and cut-off bodies are retried after what the server asked (`Retry-After`,
seconds or an HTTP date) or else exponential backoff with full jitter; a server asking for
more than `max_retry_after_s` gets no retry at all."""

from __future__ import annotations

import errno
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from yarl import URL

from bot.sources.http_responses import HttpError, safe_url


@dataclass(frozen=True)
class Retry:
    """One failed attempt worth trying again."""

    reason: str  # completes "arXiv ...": "answered 503", "timed out after 30 s"
    status: int | None = None
    server_wait_s: float | None = None  # from Retry-After

    @classmethod
    def after_status(cls, status: int, headers: Mapping[str, str]) -> Retry | None:
        """The retry a status asks for (429 and 5xx), None for any other status."""
        if status == 429 or status >= 500:
            return cls(f"answered {status}", status, retry_after_s(headers))
        return None


@dataclass(frozen=True)
class RetryPolicy:
    retries: int
    backoff_base_s: float
    backoff_max_s: float
    max_retry_after_s: float
    rng: random.Random

    @property
    def tries(self) -> int:
        return self.retries + 1

    def wait(self, failure: Retry, attempt: int, name: str, target: URL) -> float:
        """Seconds to wait before the try after `attempt` (0 for the first); raises
        `HttpError` when the server asks for longer than we are willing to wait."""
        if failure.server_wait_s is None:
            # Full jitter: spread retries from many clients over the whole window.
            cap = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
            return self.rng.uniform(0.0, cap)
        if failure.server_wait_s > self.max_retry_after_s:
            raise HttpError(
                f"{name} {failure.reason} and asked us to wait "
                f"{seconds(failure.server_wait_s)}; not waiting that long",
                url=safe_url(target),
                status=failure.status,
                retry_after=failure.server_wait_s,
            )
        return failure.server_wait_s


def seconds(value: float) -> str:
    return f"{value:g} s"


def connection_failure(exc: aiohttp.ClientConnectionError) -> str:
    """Completes "arXiv ..." for a connection that failed."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "could not be found (DNS lookup failed)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "refused the connection"
        return f"could not be reached ({exc.os_error.strerror or type(exc.os_error).__name__})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "closed the connection before answering"
    return f"could not be reached ({type(exc).__name__})"


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        delta = float(value)
    except ValueError:
        return _seconds_until(value, headers.get("Date"))
    return max(0.0, delta) if math.isfinite(delta) else None


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
