"""The announcement parsers: hand-written RSS 2.0 and RDF samples."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.sources.arxiv import Announcements, parse_rdf, parse_rss
from bot.sources.errors import SourceError

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


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


def test_rss_says_where_a_paper_was_published_when_arxiv_knows(data_dir: Path) -> None:
    found = {o.arxiv_id: o for o in parse_rss(rss(data_dir), NOW).observations}
    published = found["2401.01313"].to_paper()
    assert published.doi == "10.18653/v1/2025.acl-long.101"
    assert published.journal_ref == "Proceedings of ACL 2025, pages 1-20"
    assert found["2509.04664"].journal_doi is None and found["2509.04664"].journal_ref is None


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
