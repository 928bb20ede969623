"""Sparse TF-IDF vectors of papers over the search index's terms (`bot.search.analysis`, so
stemming and folding agree with search), and the document frequencies they weigh terms by.

The frequencies come from a `DocFreqs`: the search index's (the whole corpus, right at a
million papers) or, without one, the papers at hand."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from bot.models import Paper
from bot.search.analysis import stem, words

Vector = dict[str, float]

TITLE_WEIGHT = 2.5  # a title word counts like this many abstract words (as search boosts it)
MAX_TERMS = 64  # a paper keeps its strongest terms: less noise, and fast dot products


PaperKey = tuple[str, str, str]  # id, title, abstract: a paper's text as vectorized
MAX_REMEMBERED = 20_000


class DocFreqs(Protocol):
    """How many documents there are and how many contain each term; and the vectors made
    with these frequencies, remembered (a day's candidates and a channel's liked papers
    come back in every digest)."""

    vectors: dict[PaperKey, Vector]

    @property
    def total(self) -> int: ...

    def refresh(self) -> None:
        """Catch up with the corpus, forgetting `vectors` if the frequencies changed."""
        ...

    def lookup(self, terms: Iterable[str]) -> Mapping[str, int]: ...


class CountedFreqs:
    """Document frequencies counted over the given papers (when there is no index)."""

    def __init__(self, papers: Iterable[Paper]) -> None:
        self.vectors: dict[PaperKey, Vector] = {}
        self._df: Counter[str] = Counter()
        self._total = 0
        for paper in papers:
            self._total += 1
            self._df.update(term_counts(paper).keys())

    @property
    def total(self) -> int:
        return self._total

    def refresh(self) -> None:
        pass

    def lookup(self, terms: Iterable[str]) -> Mapping[str, int]:
        return {t: self._df.get(t, 0) for t in terms}


Reader = Callable[[Iterable[str]], Mapping[str, int]]


class CachedFreqs:
    """Frequencies read from a `snapshot` of the corpus (its size and a reader of it as it
    is now, e.g. one index searcher), remembered per term. They move slowly: what is
    remembered is dropped, and a new snapshot taken, once the corpus grew by
    `REFRESH_GROWTH`. Every term is read from the corpus as it was at that refresh: a term's
    rarity does not depend on when it was first asked for, so one channel's votes (the words
    of the papers it liked, looked up first) cannot change another channel's vectors."""

    REFRESH_GROWTH = 0.05
    MAX_CACHED = 500_000

    def __init__(
        self, count: Callable[[], int], snapshot: Callable[[], tuple[int, Reader]]
    ) -> None:
        self.vectors: dict[PaperKey, Vector] = {}
        self._count = count
        self._read: Reader = lambda terms: {}  # replaced by the first refresh's snapshot
        self._snapshot = snapshot
        self._cache: dict[str, int] = {}
        self._total = -1

    @property
    def total(self) -> int:
        return max(self._total, 0)

    def refresh(self) -> None:
        now = self._count()
        grown = now > self._total * (1 + self.REFRESH_GROWTH)
        if grown or now < self._total or len(self._cache) > self.MAX_CACHED:
            self._cache.clear()
            self.vectors.clear()
            self._total, self._read = self._snapshot()

    def lookup(self, terms: Iterable[str]) -> Mapping[str, int]:
        wanted = set(terms)
        missing = [t for t in wanted if t not in self._cache]
        if missing:
            self._cache.update(self._read(missing))
        return {t: self._cache.get(t, 0) for t in wanted}


def idf(df: int, total: int) -> float:
    """BM25's inverse document frequency (as tantivy ranks): near 0 for a word in every
    paper, never negative; a term no document has counts as seen once."""
    df = min(max(df, 1), max(total, 1))
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def term_counts(paper: Paper) -> dict[str, float]:
    """Each term's count in `paper`, a title word counting `TITLE_WEIGHT`."""
    counts: dict[str, float] = {}
    for text, weight in ((paper.title, TITLE_WEIGHT), (paper.abstract, 1.0)):
        for word in words(text):
            if len(word) > 1 and not word.isdigit():
                term = stem(word)
                counts[term] = counts.get(term, 0.0) + weight
    return counts


def vectorize(papers: Sequence[Paper], freqs: DocFreqs) -> list[Vector]:
    """Unit TF-IDF vectors of `papers` (sublinear term counts), each cut to its strongest
    `MAX_TERMS` terms. Read from `freqs.vectors` when made before; one frequency lookup
    for the others."""
    freqs.refresh()
    memo = freqs.vectors
    keys = [(p.id, p.title, p.abstract) for p in papers]
    new = {key: paper for key, paper in zip(keys, papers, strict=True) if key not in memo}
    if len(memo) + len(new) > MAX_REMEMBERED:
        memo.clear()
        new = dict(zip(keys, papers, strict=True))
    if new:
        counted = {key: term_counts(paper) for key, paper in new.items()}
        df = freqs.lookup({t for counts in counted.values() for t in counts})
        total = max(freqs.total, 1)
        weight = {t: idf(n, total) for t, n in df.items()}
        for key, counts in counted.items():
            tfidf = {t: (1 + math.log(c)) * weight[t] for t, c in counts.items()}
            memo[key] = unit(strongest(tfidf))
    return [memo[key] for key in keys]


def surface_words(papers: Iterable[Paper], terms: Iterable[str]) -> dict[str, str]:
    """The word `papers` most often wrote for each of `terms` (stems): what people read."""
    wanted = set(terms)
    seen: dict[str, Counter[str]] = {}
    for paper in papers:
        for word in words(f"{paper.title} {paper.abstract}"):
            term = stem(word)
            if term in wanted:
                seen.setdefault(term, Counter())[word] += 1
    return {term: found.most_common(1)[0][0] for term, found in seen.items()}


def strongest(vector: Vector, keep: int = MAX_TERMS) -> Vector:
    """`vector` with only its `keep` largest weights."""
    if len(vector) <= keep:
        return vector
    return dict(sorted(vector.items(), key=lambda item: -item[1])[:keep])


def unit(vector: Vector) -> Vector:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm > 0 else {}


def dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def centroid(vectors: Sequence[Vector]) -> Vector:
    """The unit mean of `vectors` (empty for none)."""
    total: dict[str, float] = {}
    for vector in vectors:
        for term, weight in vector.items():
            total[term] = total.get(term, 0.0) + weight
    return unit(total)
