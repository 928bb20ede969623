"""Any feed, told apart by its root element."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sources.arxiv import parse_feed
from bot.sources.errors import SourceError

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def rss(data_dir: Path, name: str = "arxiv_rss_cs_CL.xml") -> bytes:
    return (data_dir / name).read_bytes()


@pytest.mark.parametrize(
    ("body", "root"),
    [
        (b"<html><body>Service Unavailable</body></html>", "<html>"),
        (b"<opml version='2.0'><body/></opml>", "<opml>"),
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>", "<RDF>"),
    ],
)
def test_an_unknown_feed_names_the_file_and_its_root(body: bytes, root: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_feed(body, NOW, "saved.xml")
    message = str(caught.value)
    assert message.startswith("saved.xml: not an arXiv feed: the root element is ")
    assert root in message and "arXiv API" not in message


def test_any_feed_shape_is_read_by_its_root(data_dir: Path, fixtures_dir: Path) -> None:
    shapes = {
        "arxiv_rss_cs_CL.xml": 6,
        "arxiv_rss_affiliations.xml": 8,
        "arxiv_rdf_cs_CL.xml": 9,
        "arxiv_atom_2405.15071v2.xml": 1,
    }
    for name, count in shapes.items():
        assert len(parse_feed(rss(data_dir, name), NOW, name).observations) == count
