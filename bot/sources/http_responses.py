"""What the HTTP client hands back and how it judges a response: `HttpResponse`, `HttpError`,
the Content-Type check, and the service names and URLs its messages use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from yarl import URL

from bot.errors import PlatformError

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


def accept_header(expect: Expect) -> str:
    """What to send as Accept when the caller expects `expect`."""
    return _EXPECTED_TYPES[expect][1]


def check_content_type(
    headers: Mapping[str, str], status: int, name: str, url: str, expect: Expect | None
) -> None:
    """Raises a permanent `HttpError` when the Content-Type is not what `expect` names (a
    missing one passes: parsers still validate the body)."""
    content_type = headers.get("Content-Type", "")
    if expect is None or not content_type:
        return
    needle = _EXPECTED_TYPES[expect][0]
    if needle not in content_type.lower():
        media_type = content_type.split(";", 1)[0].strip()
        raise HttpError(
            f"{name} sent {media_type} where {expect.upper()} was expected",
            url=url,
            status=status,
            permanent=True,
        )


def service_name(target: URL) -> str:
    host = (target.host or "").lower()
    for domain, name in _SERVICE_NAMES.items():
        if host == domain or host.endswith("." + domain):
            return name
    return host or str(target)


def safe_url(url: URL) -> str:
    """The URL without any user:password part."""
    return str(url.with_user(None)) if url.user or url.password else str(url)
