"""Any arXiv feed, told apart by its root element (`paperwire import` of a saved file)."""

from __future__ import annotations

from datetime import datetime

from bot.sources.arxiv.announcements import (
    LISTED,
    RSS1_SHAPE,
    RSS2_SHAPE,
    Announcements,
    read_announcements,
)
from bot.sources.arxiv.atom import AtomPage, atom_page
from bot.sources.arxiv.xmldoc import ATOM, RDF, RSS1, local_name, parse_xml
from bot.sources.errors import SourceError


def parse_feed(xml: bytes | str, observed_at: datetime, where: str) -> Announcements | AtomPage:
    """Any arXiv feed, by its root element: RSS 2.0, RSS 1.0 / RDF or the API's Atom.
    `where` (a file name) names the document in errors."""
    root = parse_xml(xml, where)
    if root.tag == "rss" and root.find("channel") is not None:
        return read_announcements(root, RSS2_SHAPE, observed_at, LISTED)
    if root.tag == f"{RDF}RDF" and root.find(f"{RSS1}channel") is not None:
        return read_announcements(root, RSS1_SHAPE, observed_at, LISTED)
    if root.tag == f"{ATOM}feed":
        return atom_page(root, observed_at)
    raise SourceError(
        where,
        f"not an arXiv feed: the root element is <{local_name(root.tag)}>; expected RSS 2.0"
        " <rss>, RSS 1.0 <rdf:RDF> or an Atom <feed>",
    )
