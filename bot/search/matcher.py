"""Evaluate a parsed query against papers in memory: topic filters on a day's list and
(later) subscriptions. Agrees with the index because both use `bot.search.analysis`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.models import Paper
from bot.search.analysis import fold, stem, words
from bot.search.query import AnyOf, Author, Category, Clause, Prefix, Query, Term


@dataclass(frozen=True)
class AnalyzedPaper:
    """The parts of a paper a query looks at, analysed once."""

    fields: tuple[tuple[str, ...], ...]  # stems of title, of abstract
    stems: frozenset[str]
    words: frozenset[str]  # folded, unstemmed, for prefixes
    authors: tuple[tuple[str, ...], ...]
    categories: frozenset[str]
    days: tuple[date, ...]  # what date filters look at, see `Paper.days`

    @classmethod
    def of(cls, paper: Paper) -> AnalyzedPaper:
        title_words, abstract_words = words(paper.title), words(paper.abstract)
        fields = tuple(tuple(stem(w) for w in ws) for ws in (title_words, abstract_words))
        return cls(
            fields=fields,
            stems=frozenset(fields[0]) | frozenset(fields[1]),
            words=frozenset(title_words) | frozenset(abstract_words),
            authors=tuple(tuple(words(a)) for a in paper.authors),
            categories=frozenset(fold(c) for c in paper.categories),
            days=paper.days,
        )


def in_dates(query: Query, days: tuple[date, ...]) -> bool:
    """Whether any of `days` is within the query's `since:` / `until:` (both inclusive)."""
    return any(
        (query.since is None or day >= query.since) and (query.until is None or day <= query.until)
        for day in days
    )


def matches(query: Query, paper: Paper | AnalyzedPaper) -> bool:
    doc = paper if isinstance(paper, AnalyzedPaper) else AnalyzedPaper.of(paper)
    if (query.since or query.until) and not in_dates(query, doc.days):
        return False
    return all(_clause(c, doc) for c in query.required) and not any(
        _clause(c, doc) for c in query.excluded
    )


def _clause(clause: Clause, doc: AnalyzedPaper) -> bool:
    if isinstance(clause, Term):
        if not clause.is_phrase:
            return clause.stems[0] in doc.stems
        return any(_contains(field, clause.stems) for field in doc.fields)
    if isinstance(clause, Prefix):
        return any(w.startswith(clause.prefix) for w in doc.words) or any(
            s.startswith(clause.prefix) for s in doc.stems
        )
    if isinstance(clause, Author):
        return any(_contains(author, clause.words) for author in doc.authors)
    if isinstance(clause, Category):
        return clause.name in doc.categories or any(
            c.startswith(clause.name + ".") for c in doc.categories
        )
    if isinstance(clause, AnyOf):
        return any(_clause(option, doc) for option in clause.options)
    raise TypeError(clause)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Whether `needle` occurs in `haystack` as consecutive items."""
    size = len(needle)
    if not size or not set(needle) <= set(haystack):
        return False
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))
