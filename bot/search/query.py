"""The search language users type, parsed into a small tree that never raises on raw text.

    diffusion models          every word must appear (title or abstract), stemmed
    "language model"          a phrase
    transform*                a prefix
    -survey  -"a b"           leave out
    a OR b                    either
    author:"Yann LeCun"       an author (words in order, any case or accent)
    cat:cs.CL                 an arXiv category
    since:2026-07-01  until:2026-07-31   trending or published in a date range

Anything else is literal text: `C++`, `NEAR(`, `title:x` and emoji are just words (or
nothing). Only these operators exist, so no input can reach the engine as syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.errors import UserError
from bot.search.analysis import fold, stem, words

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 24
_TOKEN = re.compile(r'(-?)(?:(\w+):)?("([^"]*)"?|\S+)')
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Term:
    """A word (stemmed) or a phrase of several, all in order."""

    stems: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.stems) > 1


@dataclass(frozen=True)
class Prefix:
    prefix: str  # folded, unstemmed


@dataclass(frozen=True)
class Author:
    words: tuple[str, ...]  # folded


@dataclass(frozen=True)
class Category:
    name: str  # folded, e.g. "cs.cl"


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Clause, ...]


Clause = Term | Prefix | Author | Category | AnyOf


@dataclass(frozen=True)
class Query:
    """Every `required` clause must match, no `excluded` one may; one of the paper's days
    (every day it trended, else its publication date) must be within the dates."""

    required: tuple[Clause, ...] = ()
    excluded: tuple[Clause, ...] = ()
    since: date | None = None
    until: date | None = None

    @property
    def is_empty(self) -> bool:
        return not self.required

    def flat_required(self) -> list[Clause]:
        """Required clauses with `AnyOf` groups opened up (for highlighting)."""
        return _flatten(self.required)


def _flatten(clauses: tuple[Clause, ...]) -> list[Clause]:
    flat: list[Clause] = []
    for clause in clauses:
        if isinstance(clause, AnyOf):
            flat.extend(_flatten(clause.options))
        else:
            flat.append(clause)
    return flat


def parse(text: str) -> Query:
    """Parse raw user text. Raises `UserError` only with a message meant for the user."""
    text = text.strip()
    if len(text) > MAX_QUERY_CHARS:
        raise UserError(
            f"That query is {len(text):,} characters long; keep it under {MAX_QUERY_CHARS}."
        )
    required: list[Clause] = []
    excluded: list[Clause] = []
    since = until = None
    join_next = False
    for match in _TOKEN.finditer(text):
        negate, fieldname, whole, quoted = match.groups()
        value = quoted if quoted is not None else whole
        if not negate and fieldname is None and quoted is None and whole in ("OR", "|"):
            join_next = bool(required)
            continue
        if not negate and fieldname is None and quoted is None and whole == "AND":
            continue
        key = (fieldname or "").lower()
        clause: Clause | None
        if key in ("since", "until", "from", "to", "after", "before"):
            day = _parse_date(value, key)
            if key in ("since", "from", "after"):
                since = day
            else:
                until = day
            continue
        if key == "author":
            folded = tuple(words(value))
            clause = Author(folded) if folded else None
        elif key in ("cat", "category"):
            clause = Category(fold(value).strip()) if value.strip() else None
        else:
            # An unknown `field:` is not syntax here: the field name is one more word.
            if fieldname:
                _add(required, excluded, _text_clause(fieldname, False), negate, join_next)
                join_next = False
            clause = _text_clause(value, is_quoted=quoted is not None)
        if clause is not None:
            _add(required, excluded, clause, negate, join_next)
            join_next = False
    if len(required) + len(excluded) > MAX_CLAUSES:
        raise UserError(f"That query has too many parts; use at most {MAX_CLAUSES}.")
    if since and until and since > until:
        raise UserError(f"since:{since} is after until:{until}; swap them.")
    return Query(tuple(required), tuple(excluded), since, until)


def _add(
    required: list[Clause],
    excluded: list[Clause],
    clause: Clause | None,
    negate: str,
    join: bool,
) -> None:
    if clause is None:
        return
    if negate:
        excluded.append(clause)
    elif join and required:
        previous = required.pop()
        options = previous.options if isinstance(previous, AnyOf) else (previous,)
        required.append(AnyOf((*options, clause)))
    else:
        required.append(clause)


def _text_clause(text: str, is_quoted: bool) -> Clause | None:
    if not is_quoted and text.endswith("*"):
        stem_words = words(text.rstrip("*"))
        if len(stem_words) == 1 and len(stem_words[0]) >= 2:
            return Prefix(stem_words[0])
    found = words(text)
    if not found:
        return None
    return Term(tuple(stem(w) for w in found))


def _parse_date(value: str, key: str) -> date:
    if _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise UserError(f"{key}: takes a date like 2026-07-01, not {value[:40]!r}.")
