"""BibTeX and RIS exports, read back by real parsers (bibtexparser, rispy)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import rispy
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import LatexDecodingMiddleware
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from bot.models import Paper
from bot.reading.export import citation_keys, latex_escape, to_bibtex, to_ris
from tests.conftest import make_paper

HOSTILE_TITLES = (
    "Braces {unbalanced and } closed}",
    r"Back\slash \emph{not a command} \\ twice",
    "100% of $x^2$ & more: #1 _under_ ~tilde",
    "Ünïcödé façade: Erdős, Łukasiewicz, Øresund, straße, naïve café",
    "Emoji 🤖🚀 and Greek αβγ and 漢字",
    "@misc{injected, title = {x}} and a } then {",
    'Quotes "double" and `back`',
)


def _paper(**overrides: Any) -> Paper:
    values: dict[str, Any] = {
        "categories": ("cs.LG", "cs.AI"),
        "published": date(2026, 7, 1),
    }
    values.update(overrides)
    return make_paper(**values)


def _latex_decoder() -> LatexNodes2Text:
    """pylatexenc's decoder, knowing the brace commands LaTeX prints as `{` and `}`."""
    context = get_default_latex_context_db()
    braces = [MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}")]
    context.add_context_category("braces", prepend=True, macros=braces)
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False)


def _bib(text: str) -> list[dict[str, str]]:
    library = parse_string(
        text, append_middleware=[LatexDecodingMiddleware(decoder=_latex_decoder())]
    )
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return [
        {"key": e.key, "type": e.entry_type} | {f.key: _as_printed(f.value) for f in e.fields}
        for e in library.entries
    ]


def _as_printed(value: str) -> str:
    # pylatexenc decodes \textasciicircum as U+02C6 (a look-alike); LaTeX prints "^".
    return value.replace("\u02c6", "^")


def test_an_entry_has_every_field() -> None:
    paper = _paper(links=("https://doi.org/10.1000/xyz",))
    [entry] = _bib(to_bibtex([paper]))
    assert entry == {
        "key": "lovelace2026study",
        "type": "misc",
        "author": "Ada Lovelace and Alan Turing",
        "title": "A Study of Diffusion Models",
        "year": "2026",
        "eprint": "2607.00001",
        "archivePrefix": "arXiv",
        "primaryClass": "cs.LG",
        "doi": "10.1000/xyz",
        "url": "https://arxiv.org/abs/2607.00001",
        "abstract": paper.abstract,
    }
    [ris] = rispy.loads(to_ris([paper]))
    assert ris["type_of_reference"] == "UNPB"
    assert ris["id"] == "lovelace2026study"
    assert ris["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert ris["title"] == paper.title
    assert ris["year"] == "2026"
    assert ris["doi"] == "10.1000/xyz"
    assert ris["urls"] == ["https://arxiv.org/abs/2607.00001"]
    assert ris["abstract"] == paper.abstract
    assert ris["notes"] == ["arXiv:2607.00001 [cs.LG]"]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_round_trip_through_both_parsers(title: str) -> None:
    papers = [
        _paper(title=title, abstract=f"About {title}.", authors=("Zoë Ünal", "R&D Team")),
        _paper(id="2607.00002", arxiv_id="2607.00002"),
    ]
    entries = _bib(to_bibtex(papers))
    assert [e["title"] for e in entries] == [title, papers[1].title]
    assert entries[0]["abstract"] == f"About {title}."
    assert entries[0]["author"] == "Zoë Ünal and R&D Team"
    records = rispy.loads(to_ris(papers))
    assert [r["title"] for r in records] == [title, papers[1].title]
    assert records[0]["authors"] == ["Zoë Ünal", "R&D Team"]


def test_specials_and_accents_become_latex() -> None:
    assert latex_escape("R&D 50% {x} \\ $") == (
        r"R\&D 50\% \textbraceleft{}x\textbraceright{} \textbackslash{} \$"
    )
    assert latex_escape("Erdős façade Łódź") == r"Erd{\H{o}}s fa{\c{c}}ade {\L}{\'o}d{\'z}"
    assert latex_escape("🤖") == "🤖"


def test_every_field_keeps_its_braces_balanced_as_bibtex_counts_them() -> None:
    """BibTeX finds a field's end by counting braces, backslashes or not: an unbalanced
    brace in a title must not end it early (nor let the rest become fields of its own)."""
    title = 'x}, url = "https://evil.example", note = "'
    text = to_bibtex([_paper(title=title, abstract="Braces {unbalanced and } closed}")])
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    [entry] = _bib(text)
    assert (entry["title"] == title and "url" not in entry) or entry[
        "url"
    ] != "https://evil.example"


def test_names_that_would_split_stay_whole() -> None:
    paper = _paper(authors=("Research and Development Group", "Lovelace, Ada"))
    [entry] = _bib(to_bibtex([paper]))
    assert entry["author"] == "Research and Development Group and Lovelace, Ada"
    assert "{Research and Development Group}" in to_bibtex([paper])


def test_citation_keys_are_stable_and_unique() -> None:
    a = _paper(id="2607.00002", arxiv_id="2607.00002", title="The Study of X")
    b = _paper(id="2607.00001", arxiv_id="2607.00001", title="A study of Y")
    c = _paper(
        id="2607.00003",
        arxiv_id="2607.00003",
        title="Über Modelle",
        authors=("Paul Erdős",),
        published=None,
    )
    d = _paper(id="t-abc", arxiv_id=None, title="!!!", authors=(), published=None)
    assert citation_keys([a, b, c, d]) == [
        "lovelace2026studyb",
        "lovelace2026studya",
        "erdos2026uber",
        "anonndpaper",
    ]
    assert citation_keys([b, a]) == ["lovelace2026studya", "lovelace2026studyb"]  # any order
    assert len({e["key"] for e in _bib(to_bibtex([a, b, c, d]))}) == 4


def test_a_paper_without_arxiv_id_has_no_eprint_and_a_biorxiv_doi_is_its_doi() -> None:
    paper = _paper(
        id="10.1101/2026.07.01.123456",
        arxiv_id=None,
        links=("https://www.biorxiv.org/content/10.1101/2026.07.01.123456",),
    )
    [entry] = _bib(to_bibtex([paper]))
    assert "eprint" not in entry and "primaryClass" not in entry
    assert entry["doi"] == "10.1101/2026.07.01.123456"
    assert entry["url"] == "https://www.biorxiv.org/content/10.1101/2026.07.01.123456"
    [record] = rispy.loads(to_ris([paper]))
    assert record["doi"] == "10.1101/2026.07.01.123456" and "notes" not in record


def test_where_a_paper_was_published_goes_in_both_files() -> None:
    journal = "Phys. Rev. B 85, 115117 & 100% {erratum} (2012)"
    paper = _paper(
        doi="10.1103/PhysRevB.85.115117",
        journal_ref=journal,
        links=("https://doi.org/10.9999/an-older-link",),
    )
    [entry] = _bib(to_bibtex([paper]))
    assert entry["doi"] == "10.1103/PhysRevB.85.115117"  # the source's DOI before a link's
    assert entry["note"] == f"Published in {journal}"
    [record] = rispy.loads(to_ris([paper]))
    assert record["doi"] == "10.1103/PhysRevB.85.115117"
    assert record["journal_name"] == journal
    # A preprint server's paper published in a journal: the journal's DOI.
    biorxiv = _paper(id="10.1101/2026.07.01.123456", arxiv_id=None, doi="10.1016/j.cell.1")
    [entry] = _bib(to_bibtex([biorxiv]))
    assert entry["doi"] == "10.1016/j.cell.1" and "note" not in entry


def test_an_empty_list_exports_to_empty_files() -> None:
    assert _bib(to_bibtex([])) == []
    assert to_ris([]) == ""
