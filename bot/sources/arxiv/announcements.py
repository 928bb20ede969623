"""arXiv's daily announcement feeds: RSS 2.0 (`rss.arxiv.org` since 2024) and RSS 1.0 / RDF
(what arXiv served before, and mirrors and archives still hold), as `Announcements`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.utils import parsedate_to_datetime

from bot.models import Observation, arxiv_version, normalize_arxiv_id
from bot.sources.arxiv.authors import split_authors
from bot.sources.arxiv.xmldoc import (
    ARXIV,
    DC,
    RDF,
    RSS1,
    SOURCE,
    Skip,
    child_text,
    html_text,
    links,
    local_name,
    parse_xml,
)
from bot.sources.errors import SourceError

RSS = "arXiv RSS"
# "arXiv:2509.04664v1 Announce Type: new \nAbstract: We ..."
_RSS_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:)?(?P<abstract>.*)$",
    re.S,
)

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
    root = parse_xml(xml, RSS)
    if root.tag != "rss" or root.find("channel") is None:
        raise SourceError(RSS, f"expected an RSS <rss><channel>, got <{local_name(root.tag)}>")
    return read_announcements(root, RSS2_SHAPE, observed_at, listed)


def parse_rdf(
    xml: bytes | str, observed_at: datetime, listed: frozenset[str] = LISTED
) -> Announcements:
    """One RSS 1.0 / RDF feed, as arXiv served until 2024 (mirrors and archives still do)."""
    root = parse_xml(xml, RSS)
    if root.tag != f"{RDF}RDF" or root.find(f"{RSS1}channel") is None:
        raise SourceError(RSS, f"expected an RDF <rdf:RDF><channel>, got <{local_name(root.tag)}>")
    return read_announcements(root, RSS1_SHAPE, observed_at, listed)


@dataclass(frozen=True)
class Shape:
    """Where an announcement feed keeps things: RSS 2.0 items sit in the channel, unqualified;
    RSS 1.0 items sit beside the channel in the RSS 1.0 namespace, their description HTML."""

    ns: str
    items_in_channel: bool
    html_description: bool


RSS2_SHAPE = Shape("", items_in_channel=True, html_description=False)
RSS1_SHAPE = Shape(RSS1, items_in_channel=False, html_description=True)


def read_announcements(
    root: ET.Element, shape: Shape, observed_at: datetime, listed: frozenset[str]
) -> Announcements:
    channel = root.find(f"{shape.ns}channel")
    assert channel is not None  # checked by the callers
    if shape.items_in_channel:
        day = _rfc822_date(child_text(channel, "pubDate"))
        items = channel.findall("item")
    else:
        day = _iso_date_as_written(child_text(channel, f"{DC}date"))
        items = root.findall(f"{RSS1}item")
    feed_category = _feed_category(child_text(channel, f"{shape.ns}title"))
    observations: list[Observation] = []
    kinds: list[str] = []
    skipped: list[str] = []
    rank = 0
    for position, item in enumerate(items, start=1):
        try:
            obs, kind = _announcement(item, shape, position, day, feed_category, observed_at)
        except Skip as exc:
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
    shape: Shape,
    position: int,
    channel_day: date | None,
    feed_category: str | None,
    observed_at: datetime,
) -> tuple[Observation, str]:
    ns = shape.ns
    raw_title = child_text(item, f"{ns}title")
    suffix = _TITLE_SUFFIX.search(raw_title) if raw_title else None
    description = child_text(item, f"{ns}description", clean=False) or ""
    described = _RSS_DESCRIPTION.match(description)
    # A versioned id first: the version tells a replacement's place among the paper's.
    candidates = [
        (child_text(item, "guid") or "").removeprefix("oai:arXiv.org:"),
        described["id"] if described else None,
        suffix["id"] if suffix else None,
        child_text(item, f"{ns}link"),
        item.get(f"{RDF}about"),
    ]
    raw_id = next((c for c in candidates if arxiv_version(c)), None) or next(
        (c for c in candidates if normalize_arxiv_id(c)), None
    )
    arxiv_id = normalize_arxiv_id(raw_id)
    if raw_id is None or arxiv_id is None:
        raise Skip(f"item {position}: no arXiv id")
    title = raw_title[: suffix.start()].strip() if raw_title and suffix else raw_title
    if not title:
        raise Skip(f"item {position} ({arxiv_id}): no title")
    kind = (
        child_text(item, f"{ARXIV}announce_type")
        or (described["type"] if described else None)
        or _SUFFIX_KINDS[suffix["kind"] if suffix else None]
    )
    if described:
        abstract = described["abstract"]
    elif shape.html_description or description.lstrip().startswith("<"):
        abstract = html_text(description)
    else:
        abstract = description.strip().removeprefix("Abstract:")
    categories = [child_text(c) for c in item.iterfind("category")]
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
        links=links(arxiv_id),
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        day=_rfc822_date(child_text(item, "pubDate")) or channel_day,
        # RSS 2.0 only (optional): where a paper was published.
        journal_doi=child_text(item, f"{ARXIV}DOI"),
        journal_ref=child_text(item, f"{ARXIV}journal_reference"),
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
    for creator in item.iterfind(f"{DC}creator"):
        text = creator.text or ""
        if "<" in text:
            text = html_text(text)
        for name, affiliation in split_authors(text):
            names.append(name)
            affiliations.append(affiliation)
    return tuple(names), tuple(affiliations) if any(affiliations) else ()


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
