import pytest

from bot.models import (
    Signals,
    arxiv_version,
    clean_text,
    find_code_links,
    is_title_key,
    normalize_arxiv_id,
    normalize_doi,
    normalize_title,
    scrub_text,
    title_key,
)
from tests.conftest import make_observation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2509.04664v2", "2509.04664"),
        ("2509.04664", "2509.04664"),
        ("https://arxiv.org/abs/2509.04664v3", "2509.04664"),
        ("http://arxiv.org/pdf/1706.03762v7.pdf", "1706.03762"),
        ("arXiv:2101.00001", "2101.00001"),
        ("astro-ph/0601001v1", "astro-ph/0601001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("not an id", None),
        ("", None),
        (None, None),
    ],
)
def test_arxiv_ids_lose_their_version(raw: str | None, expected: str | None) -> None:
    assert normalize_arxiv_id(raw) == expected


def test_titles_normalise_across_wrapping_case_accents_and_punctuation() -> None:
    a = "Diffusion Models:\n  A Survey of Méthods"
    b = "diffusion models - a survey of methods"
    assert normalize_title(a) == normalize_title(b) == "diffusion models a survey of methods"
    assert title_key(a) == title_key(b)
    assert title_key(a) != title_key("Diffusion Models: A Survey")


def test_clean_text_collapses_hard_wrapping() -> None:
    assert clean_text("  Large\n   language\tmodels ") == "Large language models"


def test_scrub_text_replaces_lone_surrogates_and_drops_controls() -> None:
    assert scrub_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert scrub_text("pair \ud83d\ude00 joins") == "pair \U0001f600 joins"
    assert scrub_text("nul\x00 esc\x1b[31mred del\x7f c1\x9b") == "nul esc[31mred del c1"
    assert scrub_text("keeps\ttab\nand newline") == "keeps\ttab\nand newline"
    assert clean_text("a\x00 \ud800\r\nb\x1fc") == "a \ufffd b c"
    scrub_text("\ud800" * 3).encode("utf-8")  # encodable


def test_observation_cleans_every_text_it_carries() -> None:
    obs = make_observation(
        title="T\ud800",
        authors=("Ada\x00 Lovelace", "\x1b", "  "),
        links=("https://x.org/\ud800",),
        categories=("cs.CL\x00",),
        signals=Signals(organization="Org\x07", ai_summary="\x00", ai_keywords=("k\udc00", "\x01")),
    )
    assert obs.title == "T\ufffd"
    assert obs.authors == ("Ada Lovelace",)
    assert obs.links == ("https://x.org/\ufffd",)
    assert obs.categories == ("cs.CL",)
    assert obs.signals == Signals(organization="Org", ai_keywords=("k\ufffd",))


def test_code_links_are_found_once_in_order() -> None:
    text = (
        "Code at https://github.com/x/y. Also https://huggingface.co/org/model, "
        "and again https://github.com/x/y."
    )
    assert find_code_links(text) == ("https://github.com/x/y", "https://huggingface.co/org/model")


def test_observation_id_is_arxiv_id_else_title_key() -> None:
    assert make_observation(arxiv_id="2607.12345v2").paper_id == "2607.12345"
    no_id = make_observation(title="Some   Title")
    assert no_id.paper_id == title_key("some title")


def test_newer_signals_win_but_unknown_values_do_not_erase() -> None:
    old = Signals(upvotes=3, github_repo="https://github.com/a/b", ai_keywords=("x",))
    new = Signals(upvotes=40, comments=2)
    merged = old.merged_with(new)
    assert merged == Signals(
        upvotes=40, comments=2, github_repo="https://github.com/a/b", ai_keywords=("x",)
    )


def test_arxiv_versions_are_read_from_any_id_form() -> None:
    assert arxiv_version("2509.04664v12") == 12
    assert arxiv_version("https://arxiv.org/abs/astro-ph/0601001v1") == 1
    assert arxiv_version("2509.04664") is None
    assert arxiv_version("10.1101/2024.01.05.574321") is None


def test_a_doi_is_the_id_of_a_paper_without_an_arxiv_id() -> None:
    doi = "10.1101/2024.01.05.574321"
    assert make_observation(doi=doi).paper_id == doi
    # A DOI can never be read as an arXiv id or a title key.
    assert normalize_arxiv_id(doi) is None and not is_title_key(doi)
    assert make_observation(doi=doi, arxiv_id="2401.00001").paper_id == "2401.00001"


def test_affiliations_are_cleaned_and_stay_with_their_names() -> None:
    obs = make_observation(
        authors=("Ada Lovelace", "\x1b\x00 ", "Alan Turing"),
        affiliations=("Analytical \ud800Engine", "Nowhere", "Bletchley\x00 Park"),
    )
    assert obs.authors == ("Ada Lovelace", "Alan Turing")
    assert obs.affiliations == ("Analytical \ufffdEngine", "Bletchley Park")
    short = make_observation(authors=("A. One", "B. Two"), affiliations=("Somewhere",))
    assert short.authors == ("A. One", "B. Two")
    assert short.affiliations == ("Somewhere", "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1103/PhysRevB.85.115117", "10.1103/PhysRevB.85.115117"),
        ("http://dx.doi.org/10.1103/PhysRevB.85.115117", "10.1103/PhysRevB.85.115117"),
        ("https://doi.org/10.1016/S0550-3213(01)00405-9", "10.1016/S0550-3213(01)00405-9"),
        ("doi:10.1145/3395363.3397376.", "10.1145/3395363.3397376"),
        ("10.1000/first 10.1000/erratum", "10.1000/first"),  # arXiv lists several so
        ("NA", None),
        ("", None),
        (None, None),
        ("10.1/too-short-prefix", None),
    ],
)
def test_dois_lose_their_prefixes_and_only_the_first_is_kept(
    raw: str | None, expected: str | None
) -> None:
    assert normalize_doi(raw) == expected


def test_where_a_paper_was_published_is_cleaned_onto_the_paper() -> None:
    obs = make_observation(journal_doi=" doi:10.1038/x1 ", journal_ref="Nature\n 612  (2026)")
    paper = obs.to_paper()
    assert (paper.doi, paper.journal_ref) == ("10.1038/x1", "Nature 612 (2026)")
    assert obs.paper_id == paper.id and paper.id.startswith("t-")  # never its id
