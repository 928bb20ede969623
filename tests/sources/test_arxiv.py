"""The arXiv parsers: recorded API responses (2016 and 2026) and hand-written RSS samples."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.sources.arxiv import (
    SOURCE,
    Announcements,
    AtomPage,
    parse_atom,
    parse_feed,
    parse_rdf,
    parse_rss,
    split_authors,
)
from bot.sources.errors import SourceError

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def recorded(fixtures_dir: Path, prefix: str) -> tuple[int, bytes]:
    """(status, body bytes) of a recorded API response.

    The recorder stored the body decoded as ISO-8859-1 (so UTF-8 `é` reads `Ã©`); encoding
    it back to ISO-8859-1 gives the bytes arXiv sent.
    """
    (path,) = (fixtures_dir / "arxiv" / "api_2026_recorded").glob(f"{prefix}_*.json")
    wrapper = json.loads(path.read_text(encoding="utf-8"))
    return wrapper["status_code"], wrapper["body"].encode("latin-1")


def parse_recorded(fixtures_dir: Path, prefix: str) -> AtomPage:
    status, body = recorded(fixtures_dir, prefix)
    assert status == 200
    return parse_atom(body, NOW)


def parse_2016(fixtures_dir: Path, name: str) -> AtomPage:
    return parse_atom((fixtures_dir / "arxiv" / "api_2016" / f"{name}.xml").read_bytes(), NOW)


def test_every_recorded_response_imports_or_raises_arxivs_message(fixtures_dir: Path) -> None:
    paths = sorted((fixtures_dir / "arxiv").glob("*/*"))
    assert len(paths) == 11
    counts: dict[str, int] = {}
    for path in paths:
        if path.suffix == ".json":
            wrapper = json.loads(path.read_text(encoding="utf-8"))
            body, status = wrapper["body"].encode("latin-1"), wrapper["status_code"]
        else:
            body, status = path.read_bytes(), 200
        if status != 200:
            with pytest.raises(SourceError):
                parse_atom(body, NOW)
            continue
        page = parse_atom(body, NOW)
        assert page.skipped == ()
        counts[path.name] = len(page.observations)
    # 4 files of 2016 (1 + 10 + 10 + 1), 6 good recorded ones (0 + 1 + 1 + 1 + 10 + 10).
    assert len(counts) == 10
    assert sum(counts.values()) == 45


def test_the_two_pages_of_a_search(fixtures_dir: Path) -> None:
    first = parse_recorded(fixtures_dir, "q_testing_s0_m10")
    second = parse_recorded(fixtures_dir, "q_testing_s10_m10")
    assert (first.total_results, first.start_index, first.items_per_page) == (214881, 0, 10)
    assert (second.total_results, second.start_index, second.items_per_page) == (214881, 10, 10)
    assert len(first.observations) == len(second.observations) == 10
    ids = [obs.arxiv_id for obs in first.observations + second.observations]
    assert len(set(ids)) == 20
    assert all(obs.source == SOURCE == "arxiv" for obs in first.observations)
    assert all(obs.day is None and obs.rank is None for obs in first.observations)


def test_a_2026_entry_in_full(fixtures_dir: Path) -> None:
    obs = parse_recorded(fixtures_dir, "q_testing_s10_m10").observations[0]
    assert obs.arxiv_id == "2403.16981"
    assert obs.title == "The Sample Complexity of Simple Binary Hypothesis Testing"
    assert obs.authors == ("Ankit Pensia", "Varun Jog", "Po-Ling Loh")
    assert obs.published == date(2024, 3, 25)
    assert obs.categories == ("math.ST", "cs.IT", "stat.ML")
    assert obs.links == ("https://arxiv.org/abs/2403.16981", "https://arxiv.org/pdf/2403.16981")
    # The body bytes are UTF-8: Greek letters come through, not mojibake.
    assert "type-I error at most $\u03b1$" in obs.abstract
    assert "\u00ce" not in obs.abstract


def test_the_versioned_id_whose_title_is_zero(fixtures_dir: Path) -> None:
    page = parse_recorded(fixtures_dir, "id_2104.12255v1")
    (obs,) = page.observations
    assert obs.title == "0"
    assert obs.arxiv_id == "2104.12255"
    assert obs.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert obs.categories == ("cs.CR",)


def test_an_old_style_id(fixtures_dir: Path) -> None:
    (obs,) = parse_recorded(fixtures_dir, "id_astro-ph_0601001").observations
    assert obs.arxiv_id == "astro-ph/0601001"
    assert obs.links[0] == "https://arxiv.org/abs/astro-ph/0601001"
    assert obs.published == date(2006, 1, 2)
    assert obs.authors[0] == "Andrew Gould" and len(obs.authors) == 4
    # XML entities in the abstract are decoded.
    assert "Gould & Morgan (2003)" in obs.abstract
    assert "V_max<17.5" in obs.abstract


def test_an_id_with_no_paper_is_an_empty_page(fixtures_dir: Path) -> None:
    page = parse_recorded(fixtures_dir, "id_0000.0000")
    assert page == AtomPage((), total_results=0, start_index=0, items_per_page=100)


def test_an_id_list_can_come_back_short(fixtures_dir: Path) -> None:
    # Two ids asked for; arXiv silently returns only the one that exists.
    page = parse_recorded(fixtures_dir, "id_0808.05394_1707.08567")
    assert [obs.arxiv_id for obs in page.observations] == ["1707.08567"]
    assert page.total_results == 1


def test_the_error_feed_raises_with_arxivs_message(fixtures_dir: Path) -> None:
    status, body = recorded(fixtures_dir, "id_abc")
    assert status == 400
    with pytest.raises(SourceError) as caught:
        parse_atom(body, NOW)
    assert str(caught.value) == "arXiv API: arXiv refused the query: incorrect id format for abc"


def test_2016_format_unwraps_titles_and_abstracts(fixtures_dir: Path) -> None:
    page = parse_2016(fixtures_dir, "id_list_1111.2011v2")
    (obs,) = page.observations
    assert obs.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert obs.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert "\n" not in obs.abstract and "  " not in obs.abstract
    # primary_category comes first in 2016 feeds and is not repeated.
    assert obs.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert obs.links == (
        "https://arxiv.org/abs/1111.2011",
        "https://arxiv.org/pdf/1111.2011",
        "http://dx.doi.org/10.1103/PhysRevB.85.115117",
    )
    assert (page.total_results, page.start_index, page.items_per_page) == (1, 0, 10)


def test_2016_search_pages(fixtures_dir: Path) -> None:
    page = parse_2016(fixtures_dir, "search_query_au_del_maestro")
    assert (page.total_results, len(page.observations)) == (31, 10)
    assert all(any("Del Maestro" in name for name in obs.authors) for obs in page.observations)
    assert "cond-mat/0412498" in [obs.arxiv_id for obs in page.observations]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "the response is empty"),
        (b"<html><body>Service Unavailable</body></html>", "expected an Atom <feed>, got <html>"),
        (b"Rate exceeded.", "not well-formed XML"),
        (
            b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><entry><id>http",
            "not well-formed XML",
        ),
        (b"<?xml version='1.0'?>\n<!DOCTYPE feed [<!ENTITY a 'b'>]><feed/>", "DOCTYPE"),
    ],
)
def test_broken_responses_raise(body: bytes, problem: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_atom(body, NOW)
    assert str(caught.value).startswith("arXiv API: ")
    assert problem in str(caught.value)


def test_a_billion_laughs_document_is_refused() -> None:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY l0 "lol">{entities}]><f>&l9;</f>'
    with pytest.raises(SourceError, match="DOCTYPE"):
        parse_atom(bomb, NOW)


def test_a_non_numeric_total_raises(fixtures_dir: Path) -> None:
    _, body = recorded(fixtures_dir, "id_0000.0000")
    broken = body.replace(b"<opensearch:totalResults>0<", b"<opensearch:totalResults>many<")
    with pytest.raises(SourceError, match="opensearch:totalResults is not a number: 'many'"):
        parse_atom(broken, NOW)


def test_an_entry_without_an_arxiv_id_is_skipped_and_named() -> None:
    feed = (
        "<feed xmlns='http://www.w3.org/2005/Atom'>"
        "<entry><id>http://example.org/x</id><title>Not arXiv</title></entry>"
        "<entry><id>http://arxiv.org/abs/2101.00001v2</id><title>Kept</title></entry>"
        "<entry><id>http://arxiv.org/abs/2101.00002v1</id></entry>"
        "</feed>"
    )
    page = parse_atom(feed, NOW)
    assert [obs.title for obs in page.observations] == ["Kept"]
    assert page.skipped == (
        "entry 1: no arXiv id in <id> 'http://example.org/x'",
        "entry 3 (2101.00002): no title",
    )
    # No OpenSearch numbers: the page describes itself.
    assert (page.total_results, page.start_index, page.items_per_page) == (3, 0, 3)


# ---------------------------------------------------------------------------- RSS


def rss(data_dir: Path, name: str = "arxiv_rss_cs_CL.xml") -> bytes:
    return (data_dir / name).read_bytes()


def test_rss_keeps_every_item_and_lists_new_and_cross_in_feed_order(data_dir: Path) -> None:
    feed = parse_rss(rss(data_dir), NOW)
    assert [
        (obs.arxiv_id, obs.rank, kind)
        for obs, kind in zip(feed.observations, feed.kinds, strict=True)
    ] == [
        ("2509.04664", 1, "new"),
        ("2509.04701", 2, "new"),
        ("2509.03988", 3, "cross"),
        ("2401.01313", None, "replace"),
        ("2502.11207", None, "replace-cross"),
        ("2509.05120", 4, "new"),
    ]
    listed = [obs for obs in feed.observations if obs.rank is not None]
    assert {obs.day for obs in listed} == {date(2025, 9, 8)}
    # A replacement is a new version of an earlier paper: stored, never on the day's list.
    replaced = [obs for obs in feed.observations if obs.rank is None]
    assert all(obs.day is None for obs in replaced)
    assert [obs.version for obs in replaced] == [4, 2]
    assert feed.skipped == ()
    assert all(obs.source == "arxiv" and obs.published is None for obs in feed.observations)


def test_rss_item_fields(data_dir: Path) -> None:
    obs = parse_rss(rss(data_dir), NOW).observations[0]
    assert obs.title == "Sparse Retrieval Heads for Long-Context Language Models"
    assert obs.abstract.startswith("Long-context language models spend most")
    assert "Announce Type" not in obs.abstract and "Abstract:" not in obs.abstract
    assert obs.authors == ("Ana Souza", "Bj\u00f6rn Lindqvist", "Chen Wei")
    assert obs.affiliations == ()
    assert obs.categories == ("cs.CL", "cs.LG")
    assert obs.links == ("https://arxiv.org/abs/2509.04664", "https://arxiv.org/pdf/2509.04664")
    assert obs.version == 1
    assert obs.to_paper().code_links == ("https://github.com/example/sparse-heads",)


def test_rss_decodes_entities_in_titles(data_dir: Path) -> None:
    obs = parse_rss(rss(data_dir), NOW).observations[1]
    assert obs.title == "When x < y & y < z: Transitive Reasoning in LLMs"
    assert obs.abstract == "We test whether models infer x < z from x < y & y < z."


def test_rss_listed_types_are_chosen_by_the_caller(data_dir: Path) -> None:
    feed = parse_rss(rss(data_dir), NOW, frozenset({"replace", "replace-cross"}))
    assert [(obs.arxiv_id, obs.rank) for obs in feed.observations if obs.rank] == [
        ("2401.01313", 1),
        ("2502.11207", 2),
    ]
    assert len(feed.observations) == 6


def test_rss_empty_channel_has_no_items(data_dir: Path) -> None:
    assert parse_rss(rss(data_dir, "arxiv_rss_empty.xml"), NOW) == Announcements(())


def test_rss_without_the_announce_element_reads_the_description() -> None:
    feed = """<rss version="2.0"><channel>
      <pubDate>Tue, 09 Sep 2025 00:00:00 -0400</pubDate>
      <item><title>From the Description</title>
        <guid isPermaLink="false">oai:arXiv.org:2509.06000v1</guid>
        <description>arXiv:2509.06000v1 Announce Type: cross
Abstract: Text.</description>
        <creator xmlns="http://purl.org/dc/elements/1.1/">A. One, B. Two and C. Three</creator>
      </item>
      <item><title>No id anywhere</title>
        <description>Announce Type: new</description></item>
      <item><link>https://arxiv.org/abs/2509.06001</link>
        <description>arXiv:2509.06001v1 Announce Type: new</description></item>
    </channel></rss>"""
    parsed = parse_rss(feed, NOW)
    (obs,) = parsed.observations
    assert obs.arxiv_id == "2509.06000"
    assert obs.abstract == "Text."
    assert obs.authors == ("A. One", "B. Two", "C. Three")
    # No pubDate on the item: the channel's announcement date is used.
    assert obs.day == date(2025, 9, 9)
    # Skipped items are named: position, id when there is one, and why.
    assert parsed.skipped == ("item 2: no arXiv id", "item 3 (2509.06001): no title")


def test_rss_affiliations_stay_apart_from_the_names(data_dir: Path) -> None:
    feed = parse_rss(rss(data_dir, "arxiv_rss_affiliations.xml"), NOW)
    assert feed.kinds == ("new",) * 3 + ("cross",) * 2 + ("replace",) * 2 + ("replace-cross",)
    assert [obs.rank for obs in feed.observations] == [1, 2, 3, 4, 5, None, None, None]
    first, second = feed.observations[:2]
    assert first.authors == ("R. K. Iyer", "Meera Pillai", "Tobias Lang")
    madras = "Department of Chemistry, Indian Institute of Technology Madras, Chennai, India"
    assert first.affiliations == (
        madras,
        madras,
        "Max Planck Institute for Polymer Research, Mainz, Germany",
    )
    # Parentheses inside an affiliation, an author with none, and a final "and".
    assert second.authors == ("Luc\u00eda Fern\u00e1ndez", "Kenji Watanabe", "Sofia Andersson")
    assert second.affiliations == (
        "Instituto de F\u00edsica Te\u00f3rica (IFT), UAM-CSIC, Madrid, Spain",
        "",
        "KTH Royal Institute of Technology, Stockholm, Sweden",
    )
    names = [name for obs in feed.observations for name in obs.authors]
    assert len(names) == 18
    assert not {"Chennai", "India", "Germany", "Spain"} & set(names)
    assert all("(" not in name and ")" not in name for name in names)


@pytest.mark.parametrize(
    ("creator", "expected"),
    [
        ("A (X, Y), B", [("A", "X, Y"), ("B", "")]),
        ("A and B", [("A", ""), ("B", "")]),
        ("A, B, and C", [("A", ""), ("B", ""), ("C", "")]),
        ("A (Dept. of Physics and Astronomy, U)", [("A", "Dept. of Physics and Astronomy, U")]),
        ("A (X) (Y)", [("A", "X; Y")]),
        ("A (unclosed, B", [("A (unclosed", ""), ("B", "")]),
        ("", []),
    ],
)
def test_authors_split_only_outside_parentheses(
    creator: str, expected: list[tuple[str, str]]
) -> None:
    assert split_authors(creator) == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'/>",
            "expected an RSS <rss><channel>, got <feed>",
        ),
        (b"<rss version='2.0'><channel><item><title>cut", "not well-formed XML"),
    ],
)
def test_rss_broken_responses_raise(body: bytes, problem: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_rss(body, NOW)
    assert str(caught.value).startswith("arXiv RSS: ")
    assert problem in str(caught.value)


# ---------------------------------------------------------------------------- RDF


def test_rdf_feed_items_titles_ids_and_kinds(data_dir: Path) -> None:
    feed = parse_rdf(rss(data_dir, "arxiv_rdf_cs_CL.xml"), NOW)
    assert feed.skipped == ()
    assert feed.kinds == ("new",) * 5 + ("cross",) * 2 + ("replace",) * 2
    observations = feed.observations
    assert [(obs.arxiv_id, obs.version, obs.rank) for obs in observations] == [
        ("1808.09601", 1, 1),
        ("1808.09615", 1, 2),
        ("1808.09633", 1, 3),
        ("1808.09640", 1, 4),
        ("1808.09652", 1, 5),
        ("1808.09377", 1, 6),
        ("1808.09408", 1, 7),
        ("1808.09876", 2, None),
        ("cs/0612047", 3, None),
    ]
    # The announcement day is dc:date as written; an UPDATED item is on no day's list.
    assert [obs.day for obs in observations] == [date(2018, 8, 29)] * 7 + [None, None]
    # The "(arXiv:... [cat] KIND)" suffix and the period before it are gone; LaTeX,
    # brackets and parentheses inside the title stay.
    assert observations[1].title == (
        r"$k$-Nearest Neighbour Language Models with $\mathcal{O}(\log n)$ Lookups"
    )
    assert observations[2].title == (
        "On the [CLS] Token (and Why It Matters) in BERT-style Encoders"
    )
    assert observations[7].title == (
        "Neural Machine Translation of Rare Words with Subword Lattices"
    )
    assert all("arXiv:" not in obs.title for obs in observations)


def test_rdf_authors_abstracts_and_categories(data_dir: Path) -> None:
    observations = parse_rdf(rss(data_dir, "arxiv_rdf_cs_CL.xml"), NOW).observations
    first, latex, lab, treebank = observations[:4]
    # Names from the HTML links, entities decoded (they are escaped twice in the feed).
    assert first.authors == ("Ingrid Halvorsen", "Chidi Okonkwo", "J\u00fcrgen M\u00fcller")
    assert (lab.authors, lab.affiliations) == (("Astrid Lindqvist",), ("ACME Research Lab",))
    assert len(treebank.authors) == 4
    # Abstracts without markup; math stays, HTML-escaped "<" reads as "<".
    assert latex.abstract == (
        r"Retrieval over a datastore of $N$ entries costs $\mathcal{O}(N)$ per token. We show"
        r" that a tree index brings this to $\mathcal{O}(\log N)$ while perplexity stays"
        r" within $0.1$ for $k<64$."
    )
    assert lab.abstract.endswith("stores position & length information.")
    assert treebank.abstract == (
        "We release 1,500 annotated code-switched tweets. Annotation guidelines and"
        " baselines are included."
    )
    assert all("<" not in obs.abstract.replace("$k<64$", "") for obs in observations)
    # The title's category, then the feed's (a cross-list is in the feed's category too).
    assert first.categories == ("cs.CL",)
    assert observations[5].categories == ("cs.LG", "cs.CL")
    assert observations[8].links[0] == "https://arxiv.org/abs/cs/0612047"


def test_an_rdf_item_without_id_or_title_is_skipped_and_named() -> None:
    feed = parse_rdf(
        """<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
             xmlns="http://purl.org/rss/1.0/">
          <channel rdf:about="http://arxiv.org/"><title>math updates on arXiv.org</title>
          </channel>
          <item rdf:about="http://example.org/x"><title>Elsewhere</title></item>
          <item rdf:about="http://arxiv.org/abs/1808.00001"><title> </title></item>
          <item><title>Kept. (arXiv:1808.00002v1 [math.CO])</title></item>
        </rdf:RDF>""",
        NOW,
    )
    assert [(obs.arxiv_id, obs.categories) for obs in feed.observations] == [
        ("1808.00002", ("math.CO", "math"))
    ]
    assert feed.skipped == ("item 1: no arXiv id", "item 2 (1808.00001): no title")


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
