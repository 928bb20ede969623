"""Paper vectors and the word rarity behind them: read once, remembered until the corpus
has grown enough to change them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.models import Paper
from bot.search.index import SearchIndex
from bot.storage.types import IndexRow
from bot.taste.vectors import CachedFreqs, CountedFreqs, dot, idf, vectorize

ROBOT = Paper(
    id="r", title="Robot grasping", abstract="The robot grasps cups and the robot learns."
)
CUPS = Paper(id="c", title="Cups", abstract="The cups are on the table.")


class Corpus:
    """Counts the reads, like an index would be read."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.reads: list[set[str]] = []

    def count(self) -> int:
        return self.total

    def read(self, terms: Iterable[str]) -> Mapping[str, int]:
        wanted = set(terms)
        self.reads.append(wanted)
        return {t: 1 if t == "robot" else 500 for t in wanted}


def test_titles_weigh_more_and_common_words_weigh_nothing() -> None:
    freqs = CountedFreqs([ROBOT, CUPS])
    [robot] = vectorize([ROBOT], freqs)
    assert robot["robot"] > robot["grasp"] > 0 and robot["the"] < 0.2
    assert abs(dot(robot, robot) - 1) < 1e-9
    assert idf(2, 2) < idf(1, 2) and idf(0, 10) == idf(1, 10) and idf(10, 10) >= 0


def test_frequencies_are_read_once_until_the_corpus_grows() -> None:
    corpus = Corpus(1000)
    freqs = CachedFreqs(corpus.count, lambda: (corpus.total, corpus.read))
    first = vectorize([ROBOT], freqs)
    assert len(corpus.reads) == 1 and "robot" in corpus.reads[0]
    assert vectorize([ROBOT], freqs) == first and len(corpus.reads) == 1  # remembered
    vectorize([CUPS], freqs)
    assert corpus.reads[1] == {"are", "on", "tabl"}  # only new words ("cup", "the" known)
    corpus.total = 1040  # +4%: not enough to matter
    vectorize([ROBOT], freqs)
    assert len(corpus.reads) == 2
    corpus.total = 2000
    vectorize([ROBOT], freqs)
    assert len(corpus.reads) == 3 and freqs.total == 2000


def test_the_index_counts_papers_with_a_word() -> None:
    index = SearchIndex.open(None)
    rows = [
        IndexRow(1, 1, "Robot grasping", "A robot.", (), (), ()),
        IndexRow(2, 2, "Cups", "A robot holds cups.", (), (), ()),
        IndexRow(3, 3, "Tables", "Nothing here.", (), (), ()),
    ]
    writer = index._index.writer()
    index._add_batch(writer, rows)
    writer.commit()
    index._index.reload()
    total, doc_freqs = index.doc_freqs_snapshot()
    assert total == 3 and doc_freqs(["robot", "cup", "nope"]) == {"robot": 2, "cup": 1, "nope": 0}


def _index_rows(index: SearchIndex, rows: list[IndexRow]) -> None:
    writer = index._index.writer()
    index._add_batch(writer, rows)
    writer.commit()
    index._index.reload()


def test_a_words_rarity_does_not_depend_on_who_asked_first() -> None:
    """One channel's votes look up the words of the papers it liked; another channel's
    vectors must weigh those words as if it had asked itself (no cross-channel effect)."""
    index = SearchIndex.open(None)
    rows = [IndexRow(n, n, f"Study {n}", "Models and data.", (), (), ()) for n in range(1, 401)]
    _index_rows(index, [*rows, IndexRow(401, 401, "Qwenix", "A qwenix model.", (), (), ())])
    asked = CachedFreqs(index.num_docs, index.doc_freqs_snapshot)
    fresh = CachedFreqs(index.num_docs, index.doc_freqs_snapshot)
    for freqs in (asked, fresh):
        freqs.refresh()
    assert asked.lookup(["qwenix"]) == {"qwenix": 1}  # a liked paper's word, looked up now
    news = [IndexRow(n, n, "Qwenix agents", "Qwenix plans.", (), (), ()) for n in range(402, 420)]
    _index_rows(index, news)  # +4.5%: too little to refresh either
    for freqs in (asked, fresh):
        freqs.refresh()
    assert fresh.lookup(["qwenix"]) == asked.lookup(["qwenix"])
    assert [fresh.total, asked.total] == [401, 401]
