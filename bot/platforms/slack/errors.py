"""Slack's failures in words: what is logged, stored as a destination's error and shown to
people names the real cause, never "None".

slack_sdk raises `SlackApiError` for any answer that is not `ok`. Most carry Slack's
`error` code (`not_in_channel`), but an answer without one, such as the HTML page Slack's
front end sends with a 5xx or a 404, reads `None` from the response object (it returns
None for a missing key rather than raising). Such an answer is named by its HTTP status
and what came back: "HTTP 503 (HTML page)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import ClientConnectorError, ClientError
from slack_sdk.errors import SlackApiError, SlackRequestError

# What Slack answers to a token it will not take.
REFUSED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
    }
)
# A request that may not have reached Slack, or whose answer did not come back: worth
# another try (after looking for what arrived, for a post).
NETWORK_ERRORS = (SlackRequestError, ClientError, OSError, TimeoutError)


def slack_error(exc: SlackApiError) -> str:
    """Slack's `error` code, or the HTTP status and what the answer was."""
    response = getattr(exc, "response", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(code, str) and code:
        return code
    # A body that was not JSON though it said so leaves the aiohttp response itself.
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers: Mapping[str, Any] = getattr(response, "headers", None) or {}
    return f"HTTP {status or '?'} ({_what_came(data, headers)})"


def _what_came(data: object, headers: Mapping[str, Any]) -> str:
    def header(name: str) -> str:
        return next((str(v) for k, v in headers.items() if k.lower() == name), "")

    content_type = header("content-type").split(";")[0].strip()
    if header("content-length") == "0":
        return "empty answer"
    if "html" in content_type:
        return "HTML page"
    if not isinstance(data, Mapping):
        return "unreadable answer"
    if data or "json" in content_type:
        return "no error code"
    return f"{content_type} answer" if content_type else "empty answer"


def network_error(exc: BaseException) -> str:
    """A request that got no answer from Slack, in a line. Only the error's type: aiohttp's
    messages can quote the URL, and a response URL is a credential."""
    if isinstance(exc, ClientConnectorError):
        return f"Slack could not be reached ({type(exc).__name__})"
    if isinstance(exc, TimeoutError):
        return "Slack did not answer in time"
    if isinstance(exc, SlackRequestError):
        return f"the request to Slack failed ({type(exc).__name__})"
    return f"the connection to Slack broke before its answer ({type(exc).__name__})"


class IncompleteAnswer(Exception):
    """An `ok` answer without what it should hold (a post's `ts`, an opened DM's channel):
    it may have worked, so the message is retried as uncertain (looking for it first)."""
