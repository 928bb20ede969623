"""arXiv: the query API's Atom feed and the daily RSS listings, as `Observation`s.

Pass the response bytes, not text: the feed is UTF-8 by its XML declaration, and text
decoded with a guessed charset (ISO-8859-1) turns `é` into `Ã©` (the recorded API fixtures
were saved that way). Bytes let the declaration decide.

XML safety: we use the standard library parser. It never fetches external entities or
DTDs, and the Expat it bundles (2.4.1 and later; Python 3.11.7 ships 2.5.0) stops
billion-laughs and quadratic-blowup documents with a parse error. arXiv never sends a
DOCTYPE, so as a second line we refuse any document that declares one before parsing it.

Links are versionless (`https://arxiv.org/abs/{id}`, `/pdf/{id}`) so that seeing v1 and v2
of a paper does not add two sets of links to it; the id is versionless too (see models).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from bot.models import Observation, clean_text, normalize_arxiv_id
from bot.sources.errors import SourceError, excerpt

SOURCE = "arxiv"
ABS_URL = "https://arxiv.org/abs/{}"
PDF_URL = "https://arxiv.org/pdf/{}"

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_API = "arXiv API"
_RSS = "arXiv RSS"

# The root element's start tag; a DOCTYPE can only come before it.
_FIRST_START_TAG = re.compile(rb"<[A-Za-z_:\x80-\xff]")
# "arXiv:2509.04664v1 Announce Type: new \nAbstract: We ..."
_RSS_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:)?(?P<abstract>.*)$",
    re.S,
)


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


# ---------------------------------------------------------------------------- API (Atom)


def parse_atom(xml: bytes | str, observed_at: datetime) -> AtomPage:
    """One response of `export.arxiv.org/api/query`.

    Raises `SourceError` for a document that is not an Atom feed, and with arXiv's own
    message for its error feed (HTTP 400, for instance on a malformed id).
    """
    root = _parse_xml(xml, _API)
    if root.tag != f"{_ATOM}feed":
        raise SourceError(_API, f"expected an Atom <feed>, got <{_local(root.tag)}>")
    entries = root.findall(f"{_ATOM}entry")
    _raise_for_error_entry(entries)
    observations: list[Observation] = []
    skipped: list[str] = []
    for position, entry in enumerate(entries, start=1):
        try:
            observations.append(_atom_observation(entry, observed_at))
        except ValueError as exc:
            skipped.append(f"entry {position}: {exc}")
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
        entry_id = _child_text(entry, f"{_ATOM}id") or ""
        if "arxiv.org/api/errors" in entry_id:
            message = _child_text(entry, f"{_ATOM}summary") or entry_id
            raise SourceError(_API, f"arXiv refused the query: {message}")


def _atom_observation(entry: ET.Element, observed_at: datetime) -> Observation:
    raw_id = _child_text(entry, f"{_ATOM}id")
    arxiv_id = normalize_arxiv_id(raw_id)
    if arxiv_id is None:
        raise ValueError(f"no arXiv id in <id> {excerpt(raw_id, 60)}")
    # Compare with None: a title may be any text, even "0" (arXiv 2104.12255).
    title = _child_text(entry, f"{_ATOM}title")
    if title is None:
        raise ValueError(f"{arxiv_id} has no title")
    return Observation(
        title=title,
        source=SOURCE,
        observed_at=observed_at,
        abstract=_child_text(entry, f"{_ATOM}summary") or "",
        authors=tuple(_atom_authors(entry)),
        arxiv_id=arxiv_id,
        published=_iso_date(_child_text(entry, f"{_ATOM}published")),
        links=_links(arxiv_id, _doi_link(entry)),
        categories=_atom_categories(entry),
    )


def _atom_authors(entry: ET.Element) -> Iterator[str]:
    for author in entry.iterfind(f"{_ATOM}author"):
        name = _child_text(author, f"{_ATOM}name")
        if name:
            yield name


def _atom_categories(entry: ET.Element) -> tuple[str, ...]:
    """All `<category term>`s, the `arxiv:primary_category` first (arXiv lists it
    anywhere: after the categories in 2026, before them in 2016)."""
    primary = entry.find(f"{_ARXIV}primary_category")
    terms = [primary.get("term")] if primary is not None else []
    terms += [category.get("term") for category in entry.iterfind(f"{_ATOM}category")]
    return tuple(dict.fromkeys(term.strip() for term in terms if term and term.strip()))


def _doi_link(entry: ET.Element) -> str | None:
    for link in entry.iterfind(f"{_ATOM}link"):
        if link.get("title") == "doi" and link.get("href"):
            return link.get("href")
    return None


def _opensearch_int(root: ET.Element, name: str, default: int) -> int:
    """An OpenSearch number; absent means `default`, present but not a number is an error."""
    text = _child_text(root, f"{_OPENSEARCH}{name}")
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise SourceError(_API, f"opensearch:{name} is not a number: {excerpt(text)}") from None


def _iso_date(text: str | None) -> date | None:
    """The UTC date of an Atom timestamp (`2011-11-08T18:48:36Z`, or with an offset)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


# ---------------------------------------------------------------------------- RSS


def parse_rss(
    xml: bytes | str,
    observed_at: datetime,
    announce_types: frozenset[str] = frozenset({"new", "cross"}),
) -> list[Observation]:
    """The announcements of one `rss.arxiv.org/rss/<categories>` feed.

    Only items whose `arxiv:announce_type` is in `announce_types` are kept (by default the
    day's new submissions and cross-lists, not replacements). `day` is the announcement
    date, `rank` the order among kept items. An item without an arXiv id or title is
    dropped. An empty channel (weekends, holidays) gives an empty list.
    """
    root = _parse_xml(xml, _RSS)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise SourceError(_RSS, f"expected an RSS <rss><channel>, got <{_local(root.tag)}>")
    channel_day = _rfc822_date(_child_text(channel, "pubDate"))
    observations: list[Observation] = []
    for item in channel.iterfind("item"):
        kind, described_id, abstract = _rss_description(item)
        if kind not in announce_types:
            continue
        day = _rfc822_date(_child_text(item, "pubDate")) or channel_day
        obs = _rss_observation(item, described_id, abstract, day, observed_at)
        if obs is not None:
            observations.append(replace(obs, rank=len(observations) + 1))
    return observations


def _rss_description(item: ET.Element) -> tuple[str | None, str | None, str]:
    """(announce type, id, abstract) of an item.

    The description starts "arXiv:2509.04664v1 Announce Type: new \\nAbstract: ...". The
    `arxiv:announce_type` element wins over the description's copy when both are present.
    """
    description = _child_text(item, "description", clean=False) or ""
    match = _RSS_DESCRIPTION.match(description)
    kind = _child_text(item, f"{_ARXIV}announce_type")
    if match is None:
        abstract = description.strip().removeprefix("Abstract:")
        return kind, None, abstract
    return kind or match["type"], match["id"], match["abstract"]


def _rss_observation(
    item: ET.Element,
    described_id: str | None,
    abstract: str,
    day: date | None,
    observed_at: datetime,
) -> Observation | None:
    arxiv_id = (
        normalize_arxiv_id(_child_text(item, "link"))
        or normalize_arxiv_id((_child_text(item, "guid") or "").removeprefix("oai:arXiv.org:"))
        or normalize_arxiv_id(described_id)
    )
    title = _child_text(item, "title")
    if arxiv_id is None or title is None:
        return None
    categories = (_child_text(c) for c in item.iterfind("category"))
    return Observation(
        title=title,
        source=SOURCE,
        observed_at=observed_at,
        abstract=abstract,
        authors=_rss_authors(item),
        arxiv_id=arxiv_id,
        links=_links(arxiv_id),
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        day=day,
    )


def _rss_authors(item: ET.Element) -> tuple[str, ...]:
    """`dc:creator` holds all authors in one comma-separated string ("A, B, C"); some feeds
    end it with "and Z" or repeat the element once per author. Both are handled."""
    names: list[str] = []
    for creator in item.iterfind(f"{_DC}creator"):
        for part in (_child_text(creator) or "").split(","):
            name = clean_text(part).removeprefix("and ")
            names.extend(n for n in (clean_text(n) for n in name.split(" and ")) if n)
    return tuple(names)


def _rfc822_date(text: str | None) -> date | None:
    """The date of `Mon, 08 Sep 2025 00:00:00 -0400` as written (arXiv's own time zone):
    the announcement day, which UTC would move for a feed stamped late in the evening."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------- shared


def _parse_xml(xml: bytes | str, source: str) -> ET.Element:
    """The root element; raises `SourceError` for empty, truncated or non-XML input."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if not data.strip():
        raise SourceError(source, "the response is empty")
    first_tag = _FIRST_START_TAG.search(data)
    if b"<!DOCTYPE" in data[: first_tag.start() if first_tag else len(data)]:
        raise SourceError(source, "the document declares a DOCTYPE, which arXiv never sends")
    try:
        return ET.fromstring(xml)
    except ET.ParseError as exc:
        raise SourceError(
            source, f"not well-formed XML ({exc}); it starts {excerpt(data[:80])}"
        ) from None


def _child_text(element: ET.Element, tag: str | None = None, clean: bool = True) -> str | None:
    """Text of `element` (or of its first `tag` child), None when absent.

    Never tests an element's truth value: an `Element` with no children is falsy.
    """
    found = element if tag is None else element.find(tag)
    if found is None or found.text is None:
        return None
    if not clean:
        return found.text
    return clean_text(found.text) or None


def _links(arxiv_id: str, *extra: str | None) -> tuple[str, ...]:
    links = [ABS_URL.format(arxiv_id), PDF_URL.format(arxiv_id)]
    links += [link for link in extra if link]
    return tuple(links)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
