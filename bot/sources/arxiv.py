"""arXiv: the query API's Atom feed and the daily announcement feeds, as `Observation`s.

Announcements come as RSS 2.0 (`rss.arxiv.org` since 2024) or RSS 1.0 / RDF (what arXiv
served before, and mirrors and archives still hold); `parse_feed` takes any of the three.

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
from html.parser import HTMLParser

from bot.models import Observation, arxiv_version, clean_text, normalize_arxiv_id
from bot.sources.errors import SourceError, excerpt

SOURCE = "arxiv"
ABS_URL = "https://arxiv.org/abs/{}"
PDF_URL = "https://arxiv.org/pdf/{}"

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_RSS1 = "{http://purl.org/rss/1.0/}"
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


class _Skip(ValueError):
    """An item that cannot become an observation; the message names it and says why."""


# ---------------------------------------------------------------------------- API (Atom)


def parse_atom(xml: bytes | str, observed_at: datetime) -> AtomPage:
    """One response of `export.arxiv.org/api/query`.

    Raises `SourceError` for a document that is not an Atom feed, and with arXiv's own
    message for its error feed (HTTP 400, for instance on a malformed id).
    """
    root = _parse_xml(xml, _API)
    if root.tag != f"{_ATOM}feed":
        raise SourceError(_API, f"expected an Atom <feed>, got <{_local(root.tag)}>")
    return _atom_page(root, observed_at)


def _atom_page(root: ET.Element, observed_at: datetime) -> AtomPage:
    entries = root.findall(f"{_ATOM}entry")
    _raise_for_error_entry(entries)
    observations: list[Observation] = []
    skipped: list[str] = []
    for position, entry in enumerate(entries, start=1):
        try:
            observations.append(_atom_observation(entry, position, observed_at))
        except _Skip as exc:
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
        entry_id = _child_text(entry, f"{_ATOM}id") or ""
        if "arxiv.org/api/errors" in entry_id:
            message = _child_text(entry, f"{_ATOM}summary") or entry_id
            raise SourceError(_API, f"arXiv refused the query: {message}")


def _atom_observation(entry: ET.Element, position: int, observed_at: datetime) -> Observation:
    raw_id = _child_text(entry, f"{_ATOM}id")
    arxiv_id = normalize_arxiv_id(raw_id)
    if raw_id is None:
        raise _Skip(f"entry {position}: no <id>")
    if arxiv_id is None:
        raise _Skip(f"entry {position}: no arXiv id in <id> {excerpt(raw_id, 60)}")
    # Compare with None: a title may be any text, even "0" (arXiv 2104.12255).
    title = _child_text(entry, f"{_ATOM}title")
    if title is None:
        raise _Skip(f"entry {position} ({arxiv_id}): no title")
    authors = list(_atom_authors(entry))
    affiliations = tuple(affiliation for _, affiliation in authors)
    return Observation(
        title=title,
        source=SOURCE,
        observed_at=observed_at,
        abstract=_child_text(entry, f"{_ATOM}summary") or "",
        authors=tuple(name for name, _ in authors),
        affiliations=affiliations if any(affiliations) else (),
        arxiv_id=raw_id,
        published=_iso_date(_child_text(entry, f"{_ATOM}published")),
        links=_links(arxiv_id, _doi_link(entry)),
        categories=_atom_categories(entry),
    )


def _atom_authors(entry: ET.Element) -> Iterator[tuple[str, str]]:
    """(name, affiliation) of each `<author>`; an author may list several affiliations."""
    for author in entry.iterfind(f"{_ATOM}author"):
        name = _child_text(author, f"{_ATOM}name")
        if name:
            found = (_child_text(a) for a in author.iterfind(f"{_ARXIV}affiliation"))
            yield name, "; ".join(a for a in found if a)


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


# ---------------------------------------------------------------------------- RSS / RDF

LISTED = frozenset({"new", "cross"})  # announce types on the day's list


@dataclass(frozen=True)
class Announcements:
    """The items of one announcement feed (RSS 2.0 or RSS 1.0 / RDF), in feed order.

    Every item with an arXiv id and a title is an observation. Those of a listed type (new
    submissions, cross-lists) carry the announcement `day` and their `rank` among listed
    items; the others (`replace`, `replace-cross`, RDF's UPDATED: a new version of a paper
    announced before) carry neither, so they update the paper and are never on the day's
    list. `kinds` gives each observation's announce type; `skipped` names items left out.
    """

    observations: tuple[Observation, ...]
    kinds: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def parse_rss(
    xml: bytes | str, observed_at: datetime, listed: frozenset[str] = LISTED
) -> Announcements:
    """One `rss.arxiv.org/rss/<categories>` feed (RSS 2.0). An empty channel (weekends,
    holidays) has no observations."""
    root = _parse_xml(xml, _RSS)
    if root.tag != "rss" or root.find("channel") is None:
        raise SourceError(_RSS, f"expected an RSS <rss><channel>, got <{_local(root.tag)}>")
    return _announcements(root, _RSS2_SHAPE, observed_at, listed)


def parse_rdf(
    xml: bytes | str, observed_at: datetime, listed: frozenset[str] = LISTED
) -> Announcements:
    """One RSS 1.0 / RDF feed, as arXiv served until 2024 (mirrors and archives still do)."""
    root = _parse_xml(xml, _RSS)
    if root.tag != f"{_RDF}RDF" or root.find(f"{_RSS1}channel") is None:
        raise SourceError(_RSS, f"expected an RDF <rdf:RDF><channel>, got <{_local(root.tag)}>")
    return _announcements(root, _RSS1_SHAPE, observed_at, listed)


def parse_feed(xml: bytes | str, observed_at: datetime, where: str) -> Announcements | AtomPage:
    """Any arXiv feed, by its root element: RSS 2.0, RSS 1.0 / RDF or the API's Atom.
    `where` (a file name) names the document in errors."""
    root = _parse_xml(xml, where)
    if root.tag == "rss" and root.find("channel") is not None:
        return _announcements(root, _RSS2_SHAPE, observed_at, LISTED)
    if root.tag == f"{_RDF}RDF" and root.find(f"{_RSS1}channel") is not None:
        return _announcements(root, _RSS1_SHAPE, observed_at, LISTED)
    if root.tag == f"{_ATOM}feed":
        return _atom_page(root, observed_at)
    raise SourceError(
        where,
        f"not an arXiv feed: the root element is <{_local(root.tag)}>; expected RSS 2.0"
        " <rss>, RSS 1.0 <rdf:RDF> or an Atom <feed>",
    )


@dataclass(frozen=True)
class _Shape:
    """Where an announcement feed keeps things: RSS 2.0 items sit in the channel, unqualified;
    RSS 1.0 items sit beside the channel in the RSS 1.0 namespace, their description HTML."""

    ns: str
    items_in_channel: bool
    html_description: bool


_RSS2_SHAPE = _Shape("", items_in_channel=True, html_description=False)
_RSS1_SHAPE = _Shape(_RSS1, items_in_channel=False, html_description=True)


def _announcements(
    root: ET.Element, shape: _Shape, observed_at: datetime, listed: frozenset[str]
) -> Announcements:
    channel = root.find(f"{shape.ns}channel")
    assert channel is not None  # checked by the callers
    if shape.items_in_channel:
        day = _rfc822_date(_child_text(channel, "pubDate"))
        items = channel.findall("item")
    else:
        day = _iso_date_as_written(_child_text(channel, f"{_DC}date"))
        items = root.findall(f"{_RSS1}item")
    feed_category = _feed_category(_child_text(channel, f"{shape.ns}title"))
    observations: list[Observation] = []
    kinds: list[str] = []
    skipped: list[str] = []
    rank = 0
    for position, item in enumerate(items, start=1):
        try:
            obs, kind = _announcement(item, shape, position, day, feed_category, observed_at)
        except _Skip as exc:
            skipped.append(str(exc))
            continue
        if kind in listed:
            rank += 1
            obs = replace(obs, rank=rank)
        else:
            obs = replace(obs, day=None)
        observations.append(obs)
        kinds.append(kind)
    return Announcements(tuple(observations), tuple(kinds), tuple(skipped))


def _announcement(
    item: ET.Element,
    shape: _Shape,
    position: int,
    channel_day: date | None,
    feed_category: str | None,
    observed_at: datetime,
) -> tuple[Observation, str]:
    ns = shape.ns
    raw_title = _child_text(item, f"{ns}title")
    suffix = _TITLE_SUFFIX.search(raw_title) if raw_title else None
    description = _child_text(item, f"{ns}description", clean=False) or ""
    described = _RSS_DESCRIPTION.match(description)
    # A versioned id first: the version tells a replacement's place among the paper's.
    candidates = [
        (_child_text(item, "guid") or "").removeprefix("oai:arXiv.org:"),
        described["id"] if described else None,
        suffix["id"] if suffix else None,
        _child_text(item, f"{ns}link"),
        item.get(f"{_RDF}about"),
    ]
    raw_id = next((c for c in candidates if arxiv_version(c)), None) or next(
        (c for c in candidates if normalize_arxiv_id(c)), None
    )
    arxiv_id = normalize_arxiv_id(raw_id)
    if raw_id is None or arxiv_id is None:
        raise _Skip(f"item {position}: no arXiv id")
    title = raw_title[: suffix.start()].strip() if raw_title and suffix else raw_title
    if not title:
        raise _Skip(f"item {position} ({arxiv_id}): no title")
    kind = (
        _child_text(item, f"{_ARXIV}announce_type")
        or (described["type"] if described else None)
        or _SUFFIX_KINDS[suffix["kind"] if suffix else None]
    )
    if described:
        abstract = described["abstract"]
    elif shape.html_description or description.lstrip().startswith("<"):
        abstract = _html_text(description)
    else:
        abstract = description.strip().removeprefix("Abstract:")
    categories = [_child_text(c) for c in item.iterfind("category")]
    if not any(categories):  # RDF: the title's category, then the feed's
        categories = [suffix["category"] if suffix else None, feed_category]
    authors, affiliations = _creators(item)
    obs = Observation(
        title=title,
        source=SOURCE,
        observed_at=observed_at,
        abstract=abstract,
        authors=authors,
        affiliations=affiliations,
        arxiv_id=raw_id,
        links=_links(arxiv_id),
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        day=_rfc822_date(_child_text(item, "pubDate")) or channel_day,
    )
    return obs, kind


# "Title. (arXiv:1808.09876v2 [cs.CL] UPDATED)", the RDF (and pre-2024 RSS 2.0) title. It is
# matched at the very end, so brackets and parentheses inside the title are left alone.
_TITLE_SUFFIX = re.compile(
    r"\.?\s*\(arXiv:(?P<id>[^\s()\[\]]+)\s*(?:\[(?P<category>[^\]]*)\])?\s*"
    r"(?P<kind>UPDATED|CROSS LISTED)?\s*\)\s*$"
)
_SUFFIX_KINDS = {None: "new", "CROSS LISTED": "cross", "UPDATED": "replace"}
_FEED_TITLE = re.compile(r"^(?P<category>[a-z][a-z\-]*(?:\.[A-Za-z\-]+)?) updates on arXiv")


def _feed_category(title: str | None) -> str | None:
    """The category of "cs.CL updates on arXiv.org": every item in it is in that category
    (a cross-list names the paper's primary category in its title, not this one)."""
    match = _FEED_TITLE.match(title or "")
    return match["category"] if match else None


def _creators(item: ET.Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, affiliations) of `dc:creator`: one element with every author, or one per
    author; plain text ("A (Univ. X, City), B and C") or, in RDF, HTML links to each name."""
    names: list[str] = []
    affiliations: list[str] = []
    for creator in item.iterfind(f"{_DC}creator"):
        text = creator.text or ""
        if "<" in text:
            text = _html_text(text)
        for name, affiliation in split_authors(text):
            names.append(name)
            affiliations.append(affiliation)
    return tuple(names), tuple(affiliations) if any(affiliations) else ()


def split_authors(text: str) -> list[tuple[str, str]]:
    """(name, affiliation) for each author of "A (Dept. of X, Univ. Y, City), B and C".

    Only commas and " and " outside parentheses separate authors: the commas of an
    affiliation are part of it. Text in parentheses after a name is its affiliation ("" if
    none). Unbalanced parentheses fall back to splitting at every comma.
    """
    parts = _top_level_split(text)
    if parts is None:
        parts = text.split(",")
    authors = []
    for part in parts:
        for piece in _split_and(clean_text(part).removeprefix("and ")):
            name, affiliation = _name_and_affiliation(piece)
            if name:
                authors.append((name, affiliation))
    return authors


def _top_level_split(text: str) -> list[str] | None:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts if depth == 0 else None


def _split_and(part: str) -> list[str]:
    """ "B. Two and C. Three" is two authors; an " and " in parentheses is not a split."""
    pieces, depth, start = [], 0, 0
    for index, char in enumerate(part):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and part.startswith(" and ", index):
            pieces.append(part[start:index])
            start = index + len(" and ")
    pieces.append(part[start:])
    return [clean_text(piece) for piece in pieces if clean_text(piece)]


def _name_and_affiliation(piece: str) -> tuple[str, str]:
    """ "M. R. Nirmal (Dept. of Chemistry, IIT Madras)" -> ("M. R. Nirmal", "Dept. of ...").
    Several parenthesised groups are joined with "; "."""
    cut = piece.find("(")
    if cut < 0:
        return piece, ""
    groups = re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", piece[cut:])
    if not groups:  # an unclosed parenthesis: no affiliation to tell apart
        return piece, ""
    return clean_text(piece[:cut]), "; ".join(clean_text(g) for g in groups if g.strip())


class _HtmlText(HTMLParser):
    """The text of an HTML fragment, entities decoded; block tags read as spaces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "div"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "div"):
            self.parts.append(" ")


def _html_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return clean_text("".join(parser.parts))


def _rfc822_date(text: str | None) -> date | None:
    """The date of `Mon, 08 Sep 2025 00:00:00 -0400` as written (arXiv's own time zone):
    the announcement day, which UTC would move for a feed stamped late in the evening."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        return None


def _iso_date_as_written(text: str | None) -> date | None:
    """The date of RDF's `dc:date` (`2018-05-23T20:30:00-05:00`) as written, for the same
    reason as `_rfc822_date`."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
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
