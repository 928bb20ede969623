"""Errors of the paper sources: a response we cannot read as what the source promised."""

from __future__ import annotations

from bot.errors import PaperwireError

_EXCERPT_LIMIT = 120


def excerpt(value: object, limit: int = _EXCERPT_LIMIT) -> str:
    """A short, single-line `repr` of part of a payload, for an error message.

    Payloads can be megabytes long; a message shows only enough to recognise the problem.
    """
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SourceError(PaperwireError):
    """A source answered with something malformed, truncated or unexpected.

    The message names the source and says what was wrong, never the whole payload.
    Parsers raise it only when a response as a whole is unusable; a single bad item in an
    otherwise good response is skipped and reported by the parser's result instead.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
