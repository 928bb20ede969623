"""Small wording helpers shared by everything that prints counts and times to a person."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 error`, `2 errors`, `0 errors` (`nouns` for irregular plurals)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def ago(moment: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """`3 hours ago (2026-11-22 10:30 CET)`: how long ago, then the time in `tz` (default:
    the machine's local zone), to the minute."""
    seconds = (now - moment).total_seconds()
    size = abs(seconds)
    if size < 60:
        relative = "just now"
    else:
        if size < 3600:
            amount = plural(int(size // 60), "minute")
        elif size < 86400:
            amount = plural(int(size // 3600), "hour")
        else:
            amount = plural(int(size // 86400), "day")
        relative = f"{amount} ago" if seconds > 0 else f"in {amount}"
    local = moment.astimezone(tz)
    return f"{relative} ({local:%Y-%m-%d %H:%M} {local.tzname() or ''})".replace(" )", ")")


def until(moment: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """When something due at `moment` happens: `now`, `in 45 seconds`, or
    `in 58 minutes (2026-11-22 15:12 CET)`."""
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 60:
        return f"in {plural(math.ceil(seconds), 'second')}"
    return ago(moment, now, tz)
