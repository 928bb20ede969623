"""Where paperwire's log lines go and how they look: stderr (journald, under systemd), as
text (the default) or one JSON object a line (`PAPERWIRE_LOG_FORMAT=json`).

JSON lines are for a log pipeline: the secrets paperwire is given (the platforms' tokens,
a webhook's token, a database URL's password) and credentials in a URL's query are taken
out of the message and the exception text, whatever logged them (a library included)."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

# Library log lines that tell someone running paperwire nothing; shown with -v.
QUIET_LOGGERS = ("apscheduler", "discord")  # their INFO is chatter ("Adding job tentatively")
NOISE = (
    # slack_bolt reads SLACK_BOT_TOKEN from the environment whatever it is given, and warns
    # that it is unused when given anything else: paperwire gives it `authorize` (the token
    # with the kept auth.test answer) and a client; given either, bolt warns.
    "`token` will be unused",
    "voice will NOT be supported",  # discord.py: paperwire sends no voice
    "intent seems to be disabled",  # discord.py: paperwire asks for no gateway intents
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A URL's (or a form's) parameters that are credentials: Slack's websocket URL carries a
# ticket; OAuth exchanges carry client_secret, refresh_token, access_token, code.
SECRET_PARAMETER = re.compile(
    r"(?<![A-Za-z])((?:[A-Za-z]+_)?(?:ticket|token|key|secret)|code)=[^&\s'\")]+", re.IGNORECASE
)
# Variables whose values are secrets: whole, or a database URL's password.
SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_SECRET",
    "DISCORD_BOT_TOKEN",
    "DISCORD_WEBHOOK_URL",  # and its last part, the webhook's token
    "PAPERWIRE_STATUS_TOKEN",
)
DATABASE_VARIABLES = ("PAPERWIRE_DATABASE_URL", "PAPERWIRE_DB")  # PAPERWIRE_DB may be a URL
SHORTEST_SECRET = 6  # shorter values would blank out ordinary words, and guard nothing


def configure_logging(
    verbose: bool,
    command: str | None,
    log_format: str = "text",
    secrets: Iterable[str] = (),
) -> None:
    """Log to stderr: a long-running `run` what it does, one-off commands only what went
    wrong (with `verbose`, everything, the libraries' chatter included)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines(secrets))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(
        level=logging.INFO if verbose or command == "run" else logging.WARNING,
        handlers=[handler],
    )
    if verbose:
        return
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for each in logging.getLogger().handlers:
        each.addFilter(drop_noise)


def drop_noise(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(noise in message for noise in NOISE)


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the
    exception's traceback when there is one; `secrets` never appear in it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first: a secret holding another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= SHORTEST_SECRET}, key=len)[::-1]

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.hide(record.getMessage()),
        }
        if record.exc_info:
            line["exception"] = self.hide(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = self.hide(record.exc_text)
        if record.stack_info:
            line["stack"] = self.hide(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False)

    def hide(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "...")
        return hide_secret_parameters(text)


def hide_secret_parameters(text: str) -> str:
    return SECRET_PARAMETER.sub(r"\1=...", text)


def secrets_in(env: Mapping[str, str], *databases: str | None) -> list[str]:
    """The secret values of `env`: tokens whole, a Discord webhook's URL and its token (the
    last part), and the password of a database URL there or in `databases` (--database)."""
    secrets: list[str] = []
    for name in SECRET_VARIABLES:
        if value := env.get(name, "").strip():
            secrets.append(value)
            if name == "DISCORD_WEBHOOK_URL":
                secrets.append(value.rstrip("/").rpartition("/")[2])
    for location in [*(env.get(name) for name in DATABASE_VARIABLES), *databases]:
        if location and "://" in location:
            try:
                password = urlsplit(location.strip()).password
            except ValueError:  # unreadable: the whole of it may be secret
                password = location.strip()
            if password:
                secrets.append(password)
    return secrets
