"""arXiv: the query API's Atom feed (`atom`) and the daily announcement feeds
(`announcements`: RSS 2.0, RSS 1.0 / RDF), as `Observation`s; `parse_feed` takes any of the
three. The safe XML parse and what the parsers share are in `xmldoc`, the authors' split in
`authors`.
"""

from bot.sources.arxiv.announcements import LISTED, Announcements, parse_rdf, parse_rss
from bot.sources.arxiv.atom import AtomPage, parse_atom
from bot.sources.arxiv.authors import split_authors
from bot.sources.arxiv.feed import parse_feed
from bot.sources.arxiv.xmldoc import ABS_URL, PDF_URL, SOURCE

__all__ = [
    "ABS_URL",
    "LISTED",
    "PDF_URL",
    "SOURCE",
    "Announcements",
    "AtomPage",
    "parse_atom",
    "parse_feed",
    "parse_rdf",
    "parse_rss",
    "split_authors",
]
