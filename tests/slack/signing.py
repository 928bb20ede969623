"""Requests as Slack sends them to the app: signed, form-encoded bodies.

`sign()` is Slack's v0 scheme (checked against Slack's worked example in
`test_fake_slack.py`); the bodies keep the field order Slack's slash-command example uses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

FORM_TYPE = "application/x-www-form-urlencoded"
VERIFICATION_TOKEN = "verification-token"  # deprecated by Slack but still sent


def sign(secret: str, timestamp: int, body: str) -> str:
    """`v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers of a signed request (timestamp: now, unless given)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": FORM_TYPE,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(secret, stamp, body),
    }


def slash_command_body(
    text: str,
    *,
    user_id: str = "U1",
    user_name: str = "ada",
    channel_id: str = "C1",
    channel_name: str = "general",
    team_id: str = "T1",
    team_domain: str = "acme",
    command: str = "/papers",
    response_url: str,
    trigger_id: str = "1.2.3",
    api_app_id: str = "A1",
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    token: str = VERIFICATION_TOKEN,
) -> str:
    """A slash command's body, percent-encoded like Slack's (`/` -> `%2F`, space -> `+`).

    Fields in the order of Slack's documented example; the enterprise fields only when given.
    `response_url` has no default so that no test can make bolt post to the real Slack: pass
    `fake.response_url(...)`.
    """
    fields: list[tuple[str, str]] = [
        ("token", token),
        ("team_id", team_id),
        ("team_domain", team_domain),
    ]
    if enterprise_id is not None:
        fields.append(("enterprise_id", enterprise_id))
    if enterprise_name is not None:
        fields.append(("enterprise_name", enterprise_name))
    fields += [
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
        ("api_app_id", api_app_id),
    ]
    return urlencode(fields)


def interaction_body(payload: dict[str, Any]) -> str:
    """An interaction (block_actions, view_submission, ...): `payload=<json>` form-encoded."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    team_id: str = "T1",
    message_ts: str = "1700000000.000100",
    block_id: str = "b1",
    api_app_id: str = "A1",
    trigger_id: str = "1.2.3",
) -> dict[str, Any]:
    """A minimal `block_actions` payload for a button click, with the fields bolt reads."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "ada", "name": "ada", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": "acme"},
        "channel": {"id": channel_id, "name": "general"},
        "message": {"type": "message", "ts": message_ts, "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": "Button"},
                "action_ts": "1700000001.000000",
            }
        ],
    }
