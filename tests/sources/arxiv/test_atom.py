"""arXiv's API parser: recorded responses (2016 and 2026) and broken ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.sources.arxiv import SOURCE, AtomPage, parse_atom
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
    assert (obs.version, obs.journal_doi) == (2, "10.1103/PhysRevB.85.115117")
    assert obs.journal_ref == "Phys. Rev. B 85, 115117 (2012)"


def test_2026_entries_say_where_they_were_published(fixtures_dir: Path) -> None:
    found = {o.arxiv_id: o for o in parse_recorded(fixtures_dir, "q_testing_s0_m10").observations}
    dois = {i: o.journal_doi for i, o in found.items() if o.journal_doi}
    assert "10.1145/3395363.3397376" in dois.values() and len(dois) < len(found)
    refs = [o.journal_ref for o in found.values() if o.journal_ref]
    assert any(ref.startswith("Proc. 2023 IEEE International Conference") for ref in refs)
    (old,) = parse_recorded(fixtures_dir, "id_astro-ph_0601001").observations
    assert (old.journal_ref, old.journal_doi) == ("ActaAstron.56:1-50,2006", None)


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
