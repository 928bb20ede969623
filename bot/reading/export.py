"""A reading list as BibTeX or RIS: pure functions from papers to the file's text.

Every entry has a stable citation key (first author's surname, year, first title word;
papers that would share one get a, b, c … in the order of their ids, so a key does not
depend on the order of the list), the authors, title, year, the arXiv eprint with its
primary class, the DOI where known, where it was published (BibTeX `note`, RIS `JO`), the
URL and the abstract. BibTeX values are escaped
for LaTeX: its specials, braces and accents become commands; other characters (emoji,
Greek, CJK) stay UTF-8, which biber, Zotero and bibtexparser read.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from bot.models import Paper, normalize_title

ExportFormat = Literal["bibtex", "ris"]
FORMATS: tuple[ExportFormat, ...] = ("bibtex", "ris")
EXTENSIONS: dict[ExportFormat, str] = {"bibtex": "bib", "ris": "ris"}
MIME_TYPES: dict[ExportFormat, str] = {
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
}
FORMAT_NAMES: dict[ExportFormat, str] = {"bibtex": "BibTeX", "ris": "RIS"}

_SKIPPED_WORDS = frozenset("a an the on of in for to and with from towards toward is are".split())
_NEW_ARXIV_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")

# The LaTeX specials, as text-mode commands that print them. Braces become commands too:
# BibTeX counts every `{` and `}` (a backslash before one does not hide it) to find where a
# field ends, so an unbalanced `\}` in a title would end it early.
_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Combining accents (after NFD) and the LaTeX accent command for each.
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0327": "c",
    "\u0328": "k",
}
_LETTERS = {
    "ß": r"{\ss}",
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "\u0131": r"{\i}",  # dotless i
}


def latex_escape(text: str) -> str:
    """`text` as BibTeX field content that LaTeX prints as `text`."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char in _SPECIALS:
            out.append(_SPECIALS[char])
        elif char in _LETTERS:
            out.append(_LETTERS[char])
        elif char.isascii():
            out.append(char)
        else:
            out.append(_accented(char))
    return "".join(out)


def _accented(char: str) -> str:
    """`é` as `{\\'e}`; a character that is no accented Latin letter stays itself."""
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if not marks or not base.isascii() or any(m not in _ACCENTS for m in marks):
        return char
    for mark in marks:
        command = _ACCENTS[mark]
        # A letter command (\c, \v …) needs its argument braced; a symbol one takes it bare.
        base = f"\\{command}{{{base}}}" if command.isalpha() else f"\\{command}{base}"
    return "{" + base + "}"


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())


def surname(author: str) -> str:
    """The family name of `Ada Lovelace` or `Lovelace, Ada`."""
    name = author.split(",", 1)[0] if "," in author else (author.split() or [""])[-1]
    return name.strip()


def year_of(paper: Paper) -> str | None:
    if paper.published:
        return str(paper.published.year)
    match = _NEW_ARXIV_ID.match(paper.arxiv_id or "")
    return f"20{match.group(1)}" if match else None


def doi_of(paper: Paper) -> str | None:
    """The published version's DOI where a source gave one, else the paper's DOI where one
    is its id (bioRxiv, medRxiv) or among its links."""
    if paper.doi:
        return paper.doi
    if paper.id.startswith("10."):
        return paper.id
    for link in paper.links:
        found = re.match(r"https?://(?:dx\.)?doi\.org/(10\..+)$", link)
        if found:
            return found.group(1)
    return None


def _base_key(paper: Paper) -> str:
    author = _ascii_word(surname(paper.authors[0])) if paper.authors else ""
    words = [w for w in normalize_title(paper.title).split() if w not in _SKIPPED_WORDS]
    word = next((w for w in map(_ascii_word, words) if w), "")
    return f"{author or 'anon'}{year_of(paper) or 'nd'}{word or 'paper'}"


def citation_keys(papers: Sequence[Paper]) -> list[str]:
    """One key per paper, in order; those that would be the same get a, b, c …"""
    by_key: dict[str, list[Paper]] = defaultdict(list)
    for paper in papers:
        by_key[_base_key(paper)].append(paper)
    assigned: dict[str, str] = {}
    for base, sharing in by_key.items():
        if len(sharing) == 1:
            assigned[sharing[0].id] = base
            continue
        for n, paper in enumerate(sorted(sharing, key=lambda p: p.id)):
            assigned[paper.id] = base + _suffix(n)
    return [assigned[p.id] for p in papers]


def _suffix(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _bib_author(name: str) -> str:
    # A name holding " and " or a comma would be read as several names, or as "Last, First".
    if re.search(r"\band\b", name, re.I) or "," in name:
        return "{" + latex_escape(name) + "}"
    return latex_escape(name)


def to_bibtex(papers: Sequence[Paper]) -> str:
    entries = []
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        fields: list[tuple[str, str]] = []
        if paper.authors:
            fields.append(("author", " and ".join(map(_bib_author, paper.authors))))
        fields.append(("title", latex_escape(paper.title)))
        year = year_of(paper)
        if year:
            fields.append(("year", year))
        if paper.arxiv_id:
            fields.append(("eprint", latex_escape(paper.arxiv_id)))
            fields.append(("archivePrefix", "arXiv"))
            if paper.categories:
                fields.append(("primaryClass", latex_escape(paper.categories[0])))
        doi = doi_of(paper)
        if doi:
            fields.append(("doi", latex_escape(doi)))
        if paper.journal_ref:
            fields.append(("note", latex_escape(f"Published in {paper.journal_ref}")))
        if paper.url:
            fields.append(("url", _bib_url(paper.url)))
        if paper.abstract:
            fields.append(("abstract", latex_escape(paper.abstract)))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


def _bib_url(url: str) -> str:
    # URLs are taken verbatim by \url; only what would unbalance or end the value is encoded.
    for raw, encoded in (("{", "%7B"), ("}", "%7D"), ("\\", "%5C"), (" ", "%20")):
        url = url.replace(raw, encoded)
    return url


def to_ris(papers: Sequence[Paper]) -> str:
    lines: list[str] = []
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        tags: list[tuple[str, str]] = [("TY", "UNPB"), ("ID", key)]
        tags += [("AU", name) for name in paper.authors]
        tags.append(("TI", paper.title))
        year = year_of(paper)
        if year:
            tags.append(("PY", year))
        if paper.published:
            tags.append(("DA", f"{paper.published:%Y/%m/%d}"))
        if paper.arxiv_id:
            primary = f" [{paper.categories[0]}]" if paper.categories else ""
            tags.append(("AN", f"arXiv:{paper.arxiv_id}"))
            tags.append(("DB", "arXiv"))
            tags.append(("N1", f"arXiv:{paper.arxiv_id}{primary}"))
        doi = doi_of(paper)
        if doi:
            tags.append(("DO", doi))
        if paper.journal_ref:
            tags.append(("JO", paper.journal_ref))
        if paper.url:
            tags.append(("UR", paper.url))
        if paper.abstract:
            tags.append(("AB", paper.abstract))
        lines += [f"{tag}  - {_one_line(value)}" for tag, value in tags]
        lines.append("ER  - ")
        lines.append("")
    return "\n".join(lines)


def _one_line(value: str) -> str:
    """RIS is one tag a line: a value never breaks it."""
    return " ".join(value.split())


def export(papers: Sequence[Paper], format: ExportFormat) -> str:
    return to_bibtex(papers) if format == "bibtex" else to_ris(papers)
