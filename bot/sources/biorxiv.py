"""bioRxiv and medRxiv: the public details API as `Observation`s.

`GET https://api.biorxiv.org/details/{server}/{from}/{to}/{cursor}/json` answers
`{"messages": [{"status", "interval", "cursor", "count", "count_new_papers", "total"}],
"collection": [{doi, title, authors, author_corresponding, ..., date, version, type,
license, category, jatsxml, abstract, published, server}]}`: every version posted in the
interval, a page at a time (`cursor` is the offset of the page's first record; numbers
may come as strings). An interval with no posts answers a status other than "ok" and an
empty collection.

Decisions:
- The DOI is the paper's id (`10.1101/2024.01.05.574321`): it can never read as an arXiv
  id or a title key. The link names the version
  (`https://www.biorxiv.org/content/10.1101/2024.01.05.574321v2`); a journal DOI in
  `published` adds a `https://doi.org/...` link and is the paper's `doi` (published).
- A first version is on the list of the day it was posted (`date`), ranked in API order by
  `rank_by_day`; a later version updates the paper (title, abstract, authors, version) and
  is on no list, as arXiv's replacements are. `date` is the publication date only of v1.
- Authors come as "Surname, A. B.; Other, C."; each becomes "A. B. Surname". A name
  without exactly one comma (a consortium) stays as written.
- The category is bioRxiv's subject in lower case with underscores (`cell_biology`, as the
  API's own `category` parameter spells it), so `cat:cell_biology` finds it.
- A record without a DOI or a title is skipped and named; a payload that is not this shape
  raises `SourceError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bot.errors import UserError
from bot.models import Observation, clean_text
from bot.sources.errors import BadEntry, SourceError, excerpt

SERVERS = ("biorxiv", "medrxiv")
CONTENT_URL = "https://www.{server}.org/content/{doi}v{version}"
DOI_URL = "https://doi.org/{}"
_NAME = {"biorxiv": "bioRxiv", "medrxiv": "medRxiv"}


@dataclass(frozen=True)
class DetailsPage:
    """One page of the details API: its observations in API order, the records left out,
    and the paging numbers (`total` records in the interval, this page's `cursor`)."""

    observations: tuple[Observation, ...]
    skipped: tuple[str, ...]
    cursor: int
    count: int  # records on this page, good or not
    total: int


def parse_details(payload: Any, server: str, observed_at: datetime) -> DetailsPage:
    """One response of the details API for `server` (a record's own `server` field wins,
    so a saved page of medRxiv reads as medRxiv whatever `server` says)."""
    where = f"{_NAME.get(server, server)} API"
    if not isinstance(payload, Mapping):
        raise SourceError(where, f"expected an object, got {type(payload).__name__}")
    messages = payload.get("messages")
    collection = payload.get("collection", [])
    if not isinstance(messages, list) or not isinstance(collection, list):
        keys = ", ".join(sorted(str(key) for key in payload)[:8]) or "none"
        raise SourceError(where, f"expected messages and a collection (keys: {keys})")
    message = messages[0] if messages and isinstance(messages[0], Mapping) else {}
    cursor = _number(message.get("cursor"), 0)
    observations: list[Observation] = []
    skipped: list[str] = []
    for offset, record in enumerate(collection):
        position = cursor + offset + 1
        try:
            observations.append(_observation(record, server, observed_at))
        except BadEntry as exc:
            skipped.append(exc.at(f"record {position}"))
    total = _number(message.get("total"), cursor + len(collection))
    return DetailsPage(tuple(observations), tuple(skipped), cursor, len(collection), total)


def rank_by_day(observations: Iterable[Observation]) -> list[Observation]:
    """Rank the first versions of each day in the order given (1, 2, ... per day)."""
    ranks: dict[tuple[date, str], int] = {}
    ranked = []
    for obs in observations:
        if obs.day is not None:
            key = (obs.day, obs.source)
            ranks[key] = ranks.get(key, 0) + 1
            obs = replace(obs, rank=ranks[key])
        ranked.append(obs)
    return ranked


def _observation(record: Any, server: str, observed_at: datetime) -> Observation:
    if not isinstance(record, Mapping):
        raise BadEntry(f"not an object but {type(record).__name__}: {excerpt(record, 60)}")
    doi = _text(record, "doi")
    if doi is None:
        raise BadEntry("no DOI")
    if not doi.startswith("10."):
        raise BadEntry(f"not a DOI: {excerpt(doi, 40)}")
    title = _text(record, "title")
    if title is None:
        raise BadEntry("no title", doi)
    source = (_text(record, "server") or server).lower()
    if source not in SERVERS:
        source = server
    version = _number(record.get("version"), 1)
    posted = _date(record.get("date"))
    links = [CONTENT_URL.format(server=source, doi=doi, version=version)]
    journal = _text(record, "published")
    if journal and journal.startswith("10."):
        links.append(DOI_URL.format(journal))
    category = _text(record, "category")
    return Observation(
        title=title,
        source=source,
        observed_at=observed_at,
        abstract=_text(record, "abstract") or "",
        authors=tuple(_authors(_text(record, "authors") or "")),
        doi=doi,
        version=version,
        published=posted if version == 1 else None,
        links=tuple(links),
        categories=(category.lower().replace(" ", "_"),) if category else (),
        day=posted if version == 1 else None,
        journal_doi=journal,
    )


def _authors(text: str) -> Iterable[str]:
    for part in text.split(";"):
        name = clean_text(part)
        pieces = [clean_text(p) for p in name.split(",")]
        if len(pieces) == 2 and all(pieces):
            name = f"{pieces[1]} {pieces[0]}"
        if name:
            yield name


def _text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if not isinstance(value, str):
        return None
    text = clean_text(value)
    return text if text and text != "NA" else None


def _number(value: Any, default: int) -> int:
    """A non-negative whole number, which the API may send as a string."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value if value >= 0 else default
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return default


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def check_server(server: str) -> str:
    if server not in SERVERS:
        raise UserError(f"{server[:20]!r} is not a server: use {' or '.join(SERVERS)}")
    return server
