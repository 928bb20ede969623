"""arXiv's query API (`export.arxiv.org/api/query`): one Atom response as an `AtomPage`.

Pass the response bytes, not text: the feed is UTF-8 by its XML declaration, and text
decoded with a guessed charset (ISO-8859-1) turns `é` into `Ã©` (the recorded API fixtures
were saved that way). Bytes let the declaration decide.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.models import Observation, normalize_arxiv_id
from bot.sources.arxiv.xmldoc import (
    ARXIV,
    ATOM,
    OPENSEARCH,
    SOURCE,
    Skip,
    child_text,
    links,
    local_name,
    parse_xml,
)
from bot.sources.errors import SourceError, excerpt

API = "arXiv API"


@dataclass(frozen=True)
class AtomPage:
    """One page of API results and the OpenSearch numbers to page on.

    `skipped` names entries left out (no arXiv id or no title); arXiv does not send such
    entries, so a non-empty `skipped` means the format changed and is worth a warning.
    """

    observations: tuple[Observation, ...]
    total_results: int
    start_index: int
    items_per_page: int
    skipped: tuple[str, ...] = ()


def parse_atom(xml: bytes | str, observed_at: datetime) -> AtomPage:
    """One response of `export.arxiv.org/api/query`.

    Raises `SourceError` for a document that is not an Atom feed, and with arXiv's own
    message for its error feed (HTTP 400, for instance on a malformed id).
    """
    root = parse_xml(xml, API)
    if root.tag != f"{ATOM}feed":
        raise SourceError(API, f"expected an Atom <feed>, got <{local_name(root.tag)}>")
    return atom_page(root, observed_at)


def atom_page(root: ET.Element, observed_at: datetime) -> AtomPage:
    entries = root.findall(f"{ATOM}entry")
    _raise_for_error_entry(entries)
    observations: list[Observation] = []
    skipped: list[str] = []
    for position, entry in enumerate(entries, start=1):
        try:
            observations.append(_atom_observation(entry, position, observed_at))
        except Skip as exc:
            skipped.append(str(exc))
    start = _opensearch_int(root, "startIndex", default=0)
    return AtomPage(
        observations=tuple(observations),
        total_results=_opensearch_int(root, "totalResults", default=start + len(entries)),
        start_index=start,
        items_per_page=_opensearch_int(root, "itemsPerPage", default=len(entries)),
        skipped=tuple(skipped),
    )


def _raise_for_error_entry(entries: list[ET.Element]) -> None:
    """arXiv reports a refused query as a feed whose one entry has an id under
    `arxiv.org/api/errors#...` (http in old docs, https in 2026) and the message in
    `<summary>`."""
    for entry in entries:
        entry_id = child_text(entry, f"{ATOM}id") or ""
        if "arxiv.org/api/errors" in entry_id:
            message = child_text(entry, f"{ATOM}summary") or entry_id
            raise SourceError(API, f"arXiv refused the query: {message}")


def _atom_observation(entry: ET.Element, position: int, observed_at: datetime) -> Observation:
    raw_id = child_text(entry, f"{ATOM}id")
    arxiv_id = normalize_arxiv_id(raw_id)
    if raw_id is None:
        raise Skip(f"entry {position}: no <id>")
    if arxiv_id is None:
        raise Skip(f"entry {position}: no arXiv id in <id> {excerpt(raw_id, 60)}")
    # Compare with None: a title may be any text, even "0" (arXiv 2104.12255).
    title = child_text(entry, f"{ATOM}title")
    if title is None:
        raise Skip(f"entry {position} ({arxiv_id}): no title")
    authors = list(_atom_authors(entry))
    affiliations = tuple(affiliation for _, affiliation in authors)
    return Observation(
        title=title,
        source=SOURCE,
        observed_at=observed_at,
        abstract=child_text(entry, f"{ATOM}summary") or "",
        authors=tuple(name for name, _ in authors),
        affiliations=affiliations if any(affiliations) else (),
        arxiv_id=raw_id,
        published=_iso_date(child_text(entry, f"{ATOM}published")),
        links=links(arxiv_id, _doi_link(entry)),
        categories=_atom_categories(entry),
        journal_doi=child_text(entry, f"{ARXIV}doi") or _doi_link(entry),
        journal_ref=child_text(entry, f"{ARXIV}journal_ref"),
    )


def _atom_authors(entry: ET.Element) -> Iterator[tuple[str, str]]:
    """(name, affiliation) of each `<author>`; an author may list several affiliations."""
    for author in entry.iterfind(f"{ATOM}author"):
        name = child_text(author, f"{ATOM}name")
        if name:
            found = (child_text(a) for a in author.iterfind(f"{ARXIV}affiliation"))
            yield name, "; ".join(a for a in found if a)


def _atom_categories(entry: ET.Element) -> tuple[str, ...]:
    """All `<category term>`s, the `arxiv:primary_category` first (arXiv lists it
    anywhere: after the categories in 2026, before them in 2016)."""
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [primary.get("term")] if primary is not None else []
    terms += [category.get("term") for category in entry.iterfind(f"{ATOM}category")]
    return tuple(dict.fromkeys(term.strip() for term in terms if term and term.strip()))


def _doi_link(entry: ET.Element) -> str | None:
    for link in entry.iterfind(f"{ATOM}link"):
        if link.get("title") == "doi" and link.get("href"):
            return link.get("href")
    return None


def _opensearch_int(root: ET.Element, name: str, default: int) -> int:
    """An OpenSearch number; absent means `default`, present but not a number is an error."""
    text = child_text(root, f"{OPENSEARCH}{name}")
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise SourceError(API, f"opensearch:{name} is not a number: {excerpt(text)}") from None


def _iso_date(text: str | None) -> date | None:
    """The UTC date of an Atom timestamp (`2011-11-08T18:48:36Z`, or with an offset)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
