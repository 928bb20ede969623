"""What every arXiv feed parser shares: the safe parse, namespaces, element text and links.

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
from html.parser import HTMLParser

from bot.models import clean_text
from bot.sources.errors import SourceError, excerpt

SOURCE = "arxiv"
ABS_URL = "https://arxiv.org/abs/{}"
PDF_URL = "https://arxiv.org/pdf/{}"

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
DC = "{http://purl.org/dc/elements/1.1/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RSS1 = "{http://purl.org/rss/1.0/}"

# The root element's start tag; a DOCTYPE can only come before it.
_FIRST_START_TAG = re.compile(rb"<[A-Za-z_:\x80-\xff]")


class Skip(ValueError):
    """An item that cannot become an observation; the message names it and says why."""


def parse_xml(xml: bytes | str, source: str) -> ET.Element:
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


def child_text(element: ET.Element, tag: str | None = None, clean: bool = True) -> str | None:
    """Text of `element` (or of its first `tag` child), None when absent.

    Never tests an element's truth value: an `Element` with no children is falsy.
    """
    found = element if tag is None else element.find(tag)
    if found is None or found.text is None:
        return None
    if not clean:
        return found.text
    return clean_text(found.text) or None


def links(arxiv_id: str, *extra: str | None) -> tuple[str, ...]:
    found = [ABS_URL.format(arxiv_id), PDF_URL.format(arxiv_id)]
    found += [link for link in extra if link]
    return tuple(found)


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


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


def html_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return clean_text("".join(parser.parts))
