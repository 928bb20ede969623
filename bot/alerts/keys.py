"""Compiling a topic into keys: what a query asks of a paper, as set tests on strings.

Papers and queries meet through keys, strings in one space: a stem is itself, `a b` is two
stems side by side in a title or abstract, and `@word`, `#category` and `*prefix` mark an
author's word, a category (or its parent before a dot) and a prefix some word starts with.
Stems are made of word characters only, so the kinds never collide.

Every required clause has keys a matching paper must have, and an excluded clause that is
one key rules out every paper having it (`KeyTest`). Where a clause is exactly one key (a
word, a two-word phrase, a one-word author, a category, a prefix) the key test is the very
test `bot.search.matcher.matches` makes. Each clause can be anchored on the key expected to
be rarest (`AnchorCosts`, from `DocFrequencies` when known).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.search.matcher import AnalyzedPaper
from bot.search.query import AnyOf, Author, Category, Clause, Prefix, Term

AUTHOR, CATEGORY, PREFIX = "@", "#", "*"


@dataclass(frozen=True)
class DocFrequencies:
    """How many of `papers` papers contain each stem, author word and category: the estimate
    that picks the rarest anchor of a topic. Anything never seen counts as rarer than all."""

    papers: int
    stems: Mapping[str, int]
    author_words: Mapping[str, int] = field(default_factory=dict)
    categories: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, papers: Iterable[AnalyzedPaper]) -> DocFrequencies:
        stems: Counter[str] = Counter()
        author_words: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        count = 0
        for doc in papers:
            count += 1
            stems.update(doc.stems)
            author_words.update({w for author in doc.authors for w in author})
            categories.update({n for c in doc.categories for n in category_names(c)})
        return cls(count, stems, author_words, categories)


def category_names(category: str) -> list[str]:
    """The `Category` names a folded paper category matches, as `matches` reads `cat:`:
    itself and each part before a dot (`cs.cl` -> cs.cl, cs)."""
    return [category] + [category[:i] for i, ch in enumerate(category) if ch == "."]


def paper_keys(doc: AnalyzedPaper) -> set[str]:
    """A paper's keys but for prefixes: stems, stem pairs, author words and categories."""
    keys = set(doc.stems)
    for stems in doc.fields:
        keys.update(map(" ".join, itertools.pairwise(stems)))  # as `_pair` makes them
    keys.update(AUTHOR + w for author in doc.authors for w in author)
    keys.update(CATEGORY + n for c in doc.categories for n in category_names(c))
    return keys


def _pair(first: str, second: str) -> str:
    return f"{first} {second}"


def _needed_keys(clause: Clause) -> list[str]:
    """Keys every paper matching a clause other than `AnyOf` has (a phrase: its pairs,
    which imply its stems)."""
    if isinstance(clause, Term):
        pairs = [_pair(a, b) for a, b in itertools.pairwise(clause.stems)]
        return pairs or list(clause.stems)
    if isinstance(clause, Author):
        return [AUTHOR + w for w in clause.words]
    if isinstance(clause, Prefix):
        return [PREFIX + clause.prefix] if clause.prefix else []
    if isinstance(clause, Category):
        return [CATEGORY + clause.name]
    raise TypeError(clause)


def _deciding_key(clause: Clause) -> str | None:
    """The key whose presence is the clause matching, when there is one."""
    if isinstance(clause, Term) and 1 <= len(clause.stems) <= 2:
        return _pair(*clause.stems) if clause.is_phrase else clause.stems[0]
    if isinstance(clause, Author) and len(clause.words) == 1:
        return AUTHOR + clause.words[0]
    if isinstance(clause, Prefix) and clause.prefix:
        return PREFIX + clause.prefix
    if isinstance(clause, Category):
        return CATEGORY + clause.name
    return None


_Anchor = tuple[float, tuple[str, ...]]  # expected cost, keys


@dataclass(frozen=True, slots=True)
class ClauseKeys:
    """What one clause asks of a paper's keys, and where it could be anchored."""

    needed: frozenset[str]  # every match has all of these (none asked of an `AnyOf`)
    deciding: frozenset[str] | None  # having any one of these is the clause matching
    anchor: _Anchor | None  # every match has one of these keys

    @classmethod
    def of(
        cls, clause: Clause, costs: AnchorCosts, keys_of: Callable[[Clause], ClauseKeys]
    ) -> ClauseKeys:
        if not isinstance(clause, AnyOf):
            key = _deciding_key(clause)
            deciding = None if key is None else frozenset([key])
            return cls(frozenset(_needed_keys(clause)), deciding, costs.anchor(clause))
        options = [keys_of(option) for option in clause.options]
        return cls(frozenset(), _either(o.deciding for o in options), _either_anchor(options))


def _either(options: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    found: set[str] = set()
    for keys in options:
        if keys is None:
            return None
        found |= keys
    return frozenset(found)


def _either_anchor(options: list[ClauseKeys]) -> _Anchor | None:
    """An `AnyOf` is anchored on an anchor of each of its options."""
    anchors = [o.anchor for o in options]
    if not anchors or None in anchors:
        return None
    found = [a for a in anchors if a is not None]
    keys = tuple(dict.fromkeys(key for _, keys in found for key in keys))
    return (sum(cost for cost, _ in found), keys)


@dataclass(frozen=True, slots=True)
class KeyTest:
    """What a query asks of a paper's keys. Failing it means no match; passing it (and the
    dates) is the match when `exact`, otherwise `matches` decides."""

    needs: frozenset[str]  # every one of these
    any_of: tuple[frozenset[str], ...]  # one of each of these
    excluded: frozenset[str]  # none of these
    exact: bool

    @classmethod
    def of(
        cls, required: Iterable[tuple[Clause, ClauseKeys]], excluded: Iterable[ClauseKeys]
    ) -> KeyTest:
        needs: set[str] = set()
        any_of: list[frozenset[str]] = []
        ruled_out: set[str] = set()
        exact = True
        for clause, keys in required:
            needs |= keys.needed
            if keys.deciding is None:
                exact = False
            elif isinstance(clause, AnyOf):
                any_of.append(keys.deciding)
        for keys in excluded:
            if keys.deciding is None:
                exact = False
            else:
                ruled_out |= keys.deciding
        return cls(frozenset(needs), tuple(any_of), frozenset(ruled_out), exact)

    @property
    def keys(self) -> frozenset[str]:
        return self.needs.union(self.excluded, *self.any_of)

    def passes(self, keys: set[str]) -> bool:
        return (
            self.needs <= keys
            and self.excluded.isdisjoint(keys)
            and all(not options.isdisjoint(keys) for options in self.any_of)
        )


class AnchorCosts:
    """The expected share of papers a key occurs in, from frequencies when known."""

    def __init__(self, doc_freq: DocFrequencies | None) -> None:
        self._freq = doc_freq
        self._papers = max(doc_freq.papers, 1) if doc_freq else 1
        self._sorted_stems: list[str] = []
        self._cumulative: list[int] = [0]
        if doc_freq is not None:
            self._sorted_stems = sorted(doc_freq.stems)
            counts = (doc_freq.stems[s] for s in self._sorted_stems)
            self._cumulative += itertools.accumulate(counts)

    def anchor(self, clause: Clause) -> _Anchor | None:
        """The rarest key of a clause other than `AnyOf` every match has, if it has any."""
        options: list[tuple[float, str]]
        if isinstance(clause, Term):
            options = self._term(clause.stems)
        elif isinstance(clause, Author):
            options = [(self._author_word(w), AUTHOR + w) for w in clause.words]
        elif isinstance(clause, Prefix):
            options = [(self._prefix(clause.prefix), PREFIX + clause.prefix)]
            options = options if clause.prefix else []
        elif isinstance(clause, Category):
            options = [(self._category(clause.name), CATEGORY + clause.name)]
        else:
            raise TypeError(clause)
        best = min(options, default=None)
        return None if best is None else (best[0], (best[1],))

    def _term(self, stems: tuple[str, ...]) -> list[tuple[float, str]]:
        """Each stem, and each pair of a phrase (rarer than its rarer stem)."""
        costs = [(self._stem(s, len(stems) > 1), s) for s in stems]
        pairs = itertools.pairwise(costs)
        return costs + [(min(a, b) / 2, _pair(sa, sb)) for (a, sa), (b, sb) in pairs]

    def _stem(self, stem: str, in_phrase: bool) -> float:
        if self._freq is None:  # a guess: longer stems, and stems of phrases, are rarer
            return (0.5 if in_phrase else 1.0) / (1 + len(stem))
        return self._share(self._freq.stems.get(stem, 0))

    def _prefix(self, prefix: str) -> float:
        if self._freq is None:
            return 4.0 / (1 + len(prefix))
        low = bisect_left(self._sorted_stems, prefix)
        high = bisect_right(self._sorted_stems, prefix + "\U0010ffff")
        return self._share(self._cumulative[high] - self._cumulative[low])

    def _author_word(self, word: str) -> float:
        if self._freq is None:
            return 0.01 / (1 + len(word))
        return self._share(self._freq.author_words.get(word, 0))

    def _category(self, name: str) -> float:
        if self._freq is None:
            return 0.2
        return self._share(self._freq.categories.get(name, 0))

    def _share(self, count: int) -> float:
        return (count or 0.5) / self._papers
