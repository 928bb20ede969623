"""Neutral replies to JSON and back, so a message waiting in the outbox survives a restart.

Only the value types a reply is made of are known; anything else is refused, so a stored
message can never become an arbitrary object. The files a reply carries (an export, a chart)
are kept as base64, each at most `MAX_FILE_BYTES` and `MAX_FILES` of them: a retried post
goes with its image."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import date, datetime
from typing import Any

from bot import models
from bot.errors import PaperwireError
from bot.render import neutral
from bot.render.limits import MAX_FILE_BYTES, MAX_FILES, size_text
from bot.render.neutral import Reply

# The value types a stored reply may be made of, by class name.
_TYPES: dict[str, type[Any]] = {
    t.__name__: t
    for t in (
        neutral.AlertGroup,
        neutral.Attachment,
        neutral.Choice,
        neutral.Digest,
        neutral.Help,
        neutral.HelpTopic,
        neutral.Highlighted,
        neutral.Hit,
        neutral.ListPages,
        neutral.Notice,
        neutral.Reply,
        neutral.SavedUpdate,
        neutral.SearchPage,
        neutral.TopicAlert,
        models.Paper,
        models.Signals,
        models.TrendingEntry,
    )
}


class FilesTooLarge(PaperwireError):
    """A reply whose files are more than a message may carry: it is not queued."""


def dumps(reply: Reply) -> str:
    _check_files(reply.files)
    return json.dumps(_encode(reply), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Reply:
    value = _decode(json.loads(text))
    if not isinstance(value, Reply):
        raise ValueError("not a stored reply")
    return value


def _check_files(files: tuple[neutral.Attachment, ...]) -> None:
    if len(files) > MAX_FILES:
        raise FilesTooLarge(f"a message carries at most {MAX_FILES} files, not {len(files)}")
    for file in files:
        if len(file.data) > MAX_FILE_BYTES:
            raise FilesTooLarge(
                f"{file.filename} is {size_text(len(file.data))}; a file sent with a message"
                f" is at most {size_text(MAX_FILE_BYTES)}"
            )


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
    if isinstance(value, bytes):  # an attachment's file
        return {"$bytes": base64.b64encode(value).decode("ascii")}
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
    if "$bytes" in value:  # an attachment's file
        # Not base64: binascii.Error, a ValueError (the outbox drops the row as unreadable).
        return base64.b64decode(value["$bytes"], validate=True)
    cls = _TYPES[value["$"]]  # KeyError: an unknown type is refused
    return cls(**{k: _decode(v) for k, v in value.items() if k != "$"})
