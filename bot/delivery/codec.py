"""Neutral replies to JSON and back, so a message waiting in the outbox survives a restart.

Only the value types a reply is made of are known; anything else is refused, so a stored
message can never become an arbitrary object."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

from bot import models
from bot.render import neutral
from bot.render.neutral import Reply

# The value types a stored reply may be made of, by class name.
_TYPES: dict[str, type[Any]] = {
    t.__name__: t
    for t in (
        neutral.AlertGroup,
        neutral.Choice,
        neutral.Digest,
        neutral.Help,
        neutral.HelpTopic,
        neutral.Highlighted,
        neutral.Hit,
        neutral.Notice,
        neutral.Reply,
        neutral.SearchPage,
        neutral.TopicAlert,
        models.Paper,
        models.Signals,
        models.TrendingEntry,
    )
}


def dumps(reply: Reply) -> str:
    return json.dumps(_encode(reply), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Reply:
    value = _decode(json.loads(text))
    if not isinstance(value, Reply):
        raise ValueError("not a stored reply")
    return value


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _TYPES:
            raise TypeError(f"cannot store a {name}")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$": name, **fields}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    if not isinstance(value, dict):
        return value
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    cls = _TYPES[value["$"]]  # KeyError: an unknown type is refused
    return cls(**{k: _decode(v) for k, v in value.items() if k != "$"})
