"""A channel's daily digest settings and the record of each run, as plain values, plus the
parsing of what a channel manager types (`on 08:30 Europe/Paris`, `set days mon,wed,fri`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError
from bot.models import Destination
from bot.render.neutral import DigestStyle
from bot.wording import plural

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS = WEEKDAYS[:5]
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_SIZE = 30
DEFAULT_TIME = time(9, 0)
Covers = Literal["latest", "yesterday"]
TimeOfDay = time  # the type, where a field named `time` hides it
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.I)


@dataclass(frozen=True)
class DigestSettings:
    """What a channel asked for. `time` is wall-clock time in `timezone`."""

    destination: Destination
    enabled: bool = True
    time: time = DEFAULT_TIME
    timezone: str = "UTC"
    weekdays: tuple[str, ...] = WORKDAYS
    size: int = 10
    topic: str | None = None
    format: DigestStyle = "compact"
    covers: Covers = "latest"  # the most recent complete list, or yesterday's
    taste: bool = True  # the channel's votes re-rank its digest (when it has any)
    # The weekly recap: its weekday (None: no recap) and time (None: the digest's time), in
    # `timezone`; `recap_name` is the channel's name when it was set, for the chart's title.
    recap_day: str | None = None
    recap_time: TimeOfDay | None = None
    recap_name: str | None = None
    updated_at: datetime | None = field(default=None, compare=False)  # when last saved

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        """e.g. "09:00 Europe/Paris, Mon-Fri, 10 papers, compact, covers the latest list,
        topic: agents" (", taste off" when the channel's votes do not re-rank it)."""
        topic = f", topic: {self.topic}" if self.topic else ""
        covers = "the latest list" if self.covers == "latest" else "yesterday's list"
        taste = "" if self.taste else ", taste off"
        return (
            f"{self.time:%H:%M} {self.timezone}, {describe_weekdays(self.weekdays)},"
            f" {plural(self.size, 'paper')}, {self.format}, covers {covers}{topic}{taste}"
        )

    @property
    def recap_at(self) -> TimeOfDay:
        return self.recap_time or self.time

    def describe_recap(self) -> str:
        """e.g. "Weekly recap: Sundays at 17:00 Europe/Paris." or that there is none."""
        if self.recap_day is None:
            return "Weekly recap: off (`/papers digest set recap sun 17:00` starts one)."
        day = WEEKDAY_NAMES[WEEKDAYS.index(self.recap_day)]
        return f"Weekly recap: {day}s at {self.recap_at:%H:%M} {self.timezone}."


class DigestSchedule(Protocol):
    """The running scheduler, told when a channel's settings change."""

    def update(self, settings: DigestSettings) -> None: ...


class Outcome(StrEnum):
    RUNNING = "running"
    POSTED = "posted"
    NOTHING_COMPLETE = "nothing_complete"  # no complete trending list yet
    NO_MATCH = "no_match"  # no paper of the list matched the topic
    ALL_POSTED = "all_posted"  # every paper of the list was already posted here
    PLATFORM_ERROR = "platform_error"
    QUEUED = "queued"  # the platform refused it for now: kept in the outbox, retried
    MISSED = "missed"  # the bot was down at the time, for longer than the grace period


EXPLANATIONS = {
    Outcome.NOTHING_COMPLETE: "no trending list was complete yet",
    Outcome.NO_MATCH: "no paper of the list matched the topic",
    Outcome.ALL_POSTED: "every paper of the list had already been posted here",
    Outcome.PLATFORM_ERROR: "the platform refused the message",
    Outcome.QUEUED: "it is waiting in the outbox, the platform refused it for now",
    Outcome.MISSED: "paperwire was not running at the time (past the grace period)",
}


# What a channel manager can do about a refusal that stopped posting, by the platform's
# error (Slack's code; Discord's "(code N)").
_NEW_TOKEN = (
    "Slack no longer takes paperwire's token (the app was uninstalled or the token revoked):"
    " a workspace admin reinstalls the app and the new bot token goes into SLACK_BOT_TOKEN"
)
_PERMISSIONS = "give the bot the View Channel and Send Messages permissions here"
REMEDIES = {
    "not_in_channel": "invite the bot to the channel (`/invite @paperwire`)",
    "channel_not_found": (
        "invite the bot to the channel (a private channel must add the app), or check that"
        " the channel still exists"
    ),
    "is_archived": "unarchive the channel, or turn this digest off",
    "invalid_auth": _NEW_TOKEN,
    "account_inactive": _NEW_TOKEN,
    "token_revoked": _NEW_TOKEN,
    "token_expired": _NEW_TOKEN,
    "not_authed": _NEW_TOKEN,
    "missing_scope": (
        "the app lacks a permission it needs: add it under OAuth & Permissions in the app's"
        " settings and reinstall the app"
    ),
    "(code 10003)": "the channel no longer exists",
    "(code 50001)": _PERMISSIONS,
    "(code 50013)": _PERMISSIONS,
}
DEFAULT_REMEDY = "check the bot's access to this channel, its permissions and its token"


def remedy(error: str | None) -> str:
    """What to do about the refusal `error` that stopped a destination."""
    text = error or ""
    return next((fix for key, fix in REMEDIES.items() if key in text), DEFAULT_REMEDY)


def answered(platform: str, error: str | None) -> str:
    """A failed send as shown to people (never "None"): "Slack answered `not_in_channel`"
    for the platform's own code or HTTP status, a failure that got no answer as it is
    worded ("Slack did not answer in time")."""
    if not error:
        return f"{platform} gave no reason"
    if " " not in error or error[:1].isdigit() or error.startswith("HTTP "):
        return f"{platform} answered `{error}`"
    return error


@dataclass(frozen=True)
class DigestRun:
    destination: str
    run_day: date  # the channel's local date of the run: at most one run per day
    started_at: datetime
    outcome: Outcome
    finished_at: datetime | None = None
    list_day: date | None = None
    posted: int = 0
    detail: str | None = None


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    hour = int(match.group(1)) if match else -1
    minute = int(match.group(2) or 0) if match else -1
    if match and match.group(3):
        if not 1 <= hour <= 12:
            hour = -1
        else:
            hour = hour % 12 + (12 if match.group(3).lower() == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise UserError(f"`{text[:20]}` is not a time of day; use HH:MM, e.g. 08:30 or 17:00.")
    return time(hour, minute)


_Timed = TypeVar("_Timed")


@dataclass(frozen=True)
class When:
    """A time of day and a time zone, each given or not: what "08:30 Europe/Paris" says."""

    at: time | None = None
    zone: str | None = None

    def apply(self, settings: _Timed) -> _Timed:
        """`settings` (a dataclass with `time` and `timezone`) with what was given."""
        given = {"time": self.at, "timezone": self.zone}
        changes = {name: value for name, value in given.items() if value is not None}
        return replace(settings, **changes)  # type: ignore[type-var]


def parse_when(text: str) -> When:
    """ "08:30", "Europe/Paris" or both, in either order: a word starting with a digit is
    the time, anything else the zone (raises `UserError` on either, or on more words)."""
    when = When()
    for part in text.split():
        if part[:1].isdigit() and when.at is None:
            when = replace(when, at=parse_time(part))
        elif not part[:1].isdigit() and when.zone is None:
            when = replace(when, zone=parse_timezone(part))
        else:
            raise UserError(f"`{text[:40]}`: give one time (HH:MM) and one time zone at most.")
    return when


def parse_timezone(text: str) -> str:
    """An IANA zone name, matched without regard to case (`europe/paris` works)."""
    name = text.strip()
    if name.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    try:
        ZoneInfo(name)
        if "/" in name or name in available_timezones():
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    by_lower = {zone.lower(): zone for zone in available_timezones()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise UserError(
        f"`{name[:40]}` is not a time zone; use an IANA name such as Europe/Paris,"
        " America/New_York or Asia/Tokyo."
    )


def parse_weekdays(text: str) -> tuple[str, ...]:
    """`mon-fri`, `mon,wed,fri`, `daily`, `weekdays` or `weekends`."""
    spec = text.strip().lower().replace(" ", "")
    named = {
        "daily": WEEKDAYS,
        "everyday": WEEKDAYS,
        "weekdays": WORKDAYS,
        "weekends": WEEKDAYS[5:],
    }
    if spec in named:
        return named[spec]
    days: set[str] = set()
    for part in filter(None, spec.split(",")):
        first, _, last = part.partition("-")
        if first[:3] not in WEEKDAYS or (last and last[:3] not in WEEKDAYS):
            raise UserError(
                f"`{text[:40]}` is not a set of weekdays; use e.g. mon-fri, mon,wed,fri or daily."
            )
        start = WEEKDAYS.index(first[:3])
        end = WEEKDAYS.index(last[:3]) if last else start
        span = range(start, end + 1) if end >= start else [*range(start, 7), *range(end + 1)]
        days.update(WEEKDAYS[i] for i in span)
    if not days:
        raise UserError("Give at least one weekday, e.g. mon-fri.")
    return tuple(d for d in WEEKDAYS if d in days)


def parse_weekday(text: str) -> str:
    """One weekday, short or in full, any case: `sun`, `Sunday`."""
    word = text.strip().lower()
    for short, name in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True):
        if word in (short, name.lower()):
            return short
    raise UserError(f"`{text[:20]}` is not a weekday; use mon, tue, wed, thu, fri, sat or sun.")


def parse_size(text: str) -> int:
    try:
        size = int(text.strip()) if text.strip().isascii() else 0
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_SIZE:
        raise UserError(f"The size is a number of papers from 1 to {MAX_SIZE}.")
    return size


def parse_format(text: str) -> DigestStyle:
    value = text.strip().lower()
    if value not in ("compact", "full"):
        raise UserError(
            "The format is `compact` (titles and a one-line summary) or `full`"
            " (with the abstract's lead)."
        )
    return cast(DigestStyle, value)


def parse_covers(text: str) -> Covers:
    value = text.strip().lower()
    if value not in ("latest", "yesterday"):
        raise UserError(
            "A digest covers the `latest` complete list or `yesterday`'s (in its time zone)."
        )
    return cast(Covers, value)


def parse_switch(text: str, setting: str) -> bool:
    """`on` or `off` (also yes/no, true/false) for `setting`."""
    value = text.strip().lower()
    if value in ("on", "yes", "true"):
        return True
    if value in ("off", "no", "false"):
        return False
    raise UserError(f"`{setting}` is `on` or `off`.")


def describe_weekdays(days: tuple[str, ...]) -> str:
    if days == WEEKDAYS:
        return "every day"
    if days == WORKDAYS:
        return "Mon-Fri"
    return ", ".join(d.title() for d in days)
