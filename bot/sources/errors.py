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


class BadEntry(ValueError):
    """One entry of a response that cannot become an observation: skipped, and named in the
    parser's result. The message says why; `ref` names the paper when known (a DOI, an id)."""

    def __init__(self, reason: str, ref: str | None = None) -> None:
        super().__init__(reason)
        self.ref = ref

    def at(self, where: str) -> str:
        """`record 7 (10.1101/...): no title`: where, which paper when known, and why."""
        return f"{where}{f' ({self.ref})' if self.ref else ''}: {self}"
