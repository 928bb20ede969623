"""`paperwire bench match`: match every subscription against a batch of new papers with the
topic index, beside the naive loop (every query on every paper) as the baseline."""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.alerts.matching import LiveTopics, Topic
from bot.bench.corpus import Vocabulary, load_vocabulary, synthetic_observations
from bot.models import Paper
from bot.search.analysis import words
from bot.search.matcher import AnalyzedPaper, matches
from bot.search.query import Query, parse

SEED = 7
HISTORY_PAPERS = 2000  # the papers already seen, whose frequencies pick the anchors
NAIVE_BUDGET_S = 60.0  # above this the naive loop is timed on a sample and extrapolated
NAIVE_SAMPLE_S = 10.0  # about how long the sampled naive loop should run
PILOT_TOPICS = 300
TARGET_S = 2.0  # one alert run: bring the kept index in step with the topics, then match
CHURN = 0.01  # of the topics, added and as many removed since the previous alert run
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or over the their this to "
    "towards under via vs with without we our can not do does".split()
)
# arXiv categories, the common ones more often, as papers carry them.
CATEGORIES = (
    ["cs.LG"] * 6 + ["cs.CL"] * 5 + ["cs.CV"] * 5 + ["cs.AI"] * 4 + ["stat.ML"] * 2
    + "cs.RO cs.IR cs.SD eess.AS eess.IV cs.CR cs.SE cs.HC math.OC q-bio.QM".split()
)  # fmt: skip


@dataclass(frozen=True)
class _Words:
    """What topics are made of: words as they appear in titles (common ones more often),
    titles for phrases, and author names."""

    weighted: list[str]
    titles: list[list[str]]
    names: list[str]

    @classmethod
    def of(cls, vocabulary: Vocabulary, papers: Sequence[Paper]) -> _Words:
        titles = [words(t) for t in vocabulary.titles]
        weighted = [w for t in titles for w in t if _topical(w)]
        names = sorted({a for p in papers for a in p.authors})
        return cls(weighted, [t for t in titles if len(t) >= 2], names)


async def run_match_bench(subscriptions: int, papers: int, as_json: bool) -> int:
    log = sys.stderr
    vocabulary = load_vocabulary()
    print(f"vocabulary: {vocabulary.source}", file=log)
    rng = random.Random(SEED)
    batch = _papers(papers, vocabulary, rng, seed=42)
    history = [AnalyzedPaper.of(p) for p in _papers(HISTORY_PAPERS, vocabulary, rng, seed=SEED)]
    pool = _Words.of(vocabulary, batch)
    topics = synthetic_topics(subscriptions, pool, rng)
    churn = round(len(topics) * CHURN)
    removed = [replace(t, id=t.id + len(topics)) for t in synthetic_topics(churn, pool, rng)]
    print(f"  {len(topics):,} topics, {len(batch):,} papers: timing the index", file=log)
    indexed = _time_indexed(topics, removed, batch, history)
    print("  timing the naive loop", file=log)
    naive = _time_naive(topics, batch, rng)
    for topic in naive.topics:  # the index must agree with the loop, topic by topic
        assert indexed.found.get(topic.id, []) == naive.found.get(topic.id, []), topic
    seconds = indexed.update_s + indexed.match_s
    figures: dict[str, Any] = {
        "subscriptions": len(topics),
        "papers": len(batch),
        "matches": sum(len(ids) for ids in indexed.found.values()),
        "seconds": round(seconds, 3),
        "naive_seconds": round(naive.seconds, 3),
        "naive_sampled": len(naive.topics) < len(topics),
        "naive_sample": len(naive.topics),
        "build_seconds": round(indexed.build_s, 3),
        "update_seconds": round(indexed.update_s, 3),
        "match_seconds": round(indexed.match_s, 3),
        "cold_seconds": round(indexed.build_s + indexed.match_s, 3),
        "churn": churn,
        "distinct_queries": len({t.query for t in topics}),
        "ratio": round(naive.seconds / max(seconds, 1e-9), 1),
        "target_seconds": TARGET_S,
    }
    if as_json:
        print(json.dumps(figures))
    else:
        _print_table(figures)
    return 0


@dataclass(frozen=True)
class _Indexed:
    found: dict[int, list[str]]
    build_s: float  # the first run of a process: every topic indexed, anchors by frequency
    update_s: float  # a later run: the kept index brought in step (`CHURN` added, removed)
    match_s: float  # analysing the new papers and finding every match


def _time_indexed(
    topics: list[Topic], removed: list[Topic], papers: list[Paper], history: list[AnalyzedPaper]
) -> _Indexed:
    """Times the index as alerts use it (`LiveTopics`): built once, kept, then each run
    updated to the topics of the day and matched. The previous run knew `removed` and not
    yet the last `len(removed)` of `topics`."""
    started = time.perf_counter()
    live = LiveTopics()
    live.build(history)
    before = [*topics[: len(topics) - len(removed)], *removed]
    live.update({t.id: t.query for t in before}, _as_is)
    built = time.perf_counter()
    index = live.update({t.id: t.query for t in topics}, _as_is)
    updated = time.perf_counter()
    found = index.match(papers)
    return _Indexed(found, built - started, updated - built, time.perf_counter() - updated)


def _as_is(query: Query) -> Query:
    return query


def _papers(count: int, vocabulary: Vocabulary, rng: random.Random, seed: int) -> list[Paper]:
    """Synthetic papers with one to three arXiv categories each."""
    return [
        replace(o.to_paper(), categories=_categories(rng))
        for o in synthetic_observations(count, vocabulary, seed=seed)
    ]


def _categories(rng: random.Random) -> tuple[str, ...]:
    return tuple(dict.fromkeys(rng.choices(CATEGORIES, k=rng.randint(1, 3))))


def synthetic_topics(count: int, pool: _Words, rng: random.Random) -> list[Topic]:
    """`count` topics in a realistic mix: 1-3 words (60%, some with OR), a phrase (15%), a
    word and a prefix (10%), an author (5%), a category or a word with an exclusion (10%);
    a few bounded by a date."""
    makers = (_words_topic, _phrase_topic, _prefix_topic, _author_topic, _category_or_not)
    weights = (60, 15, 10, 5, 10)
    topics = []
    for topic_id in range(count):
        (make,) = rng.choices(makers, weights)
        text = make(pool, rng)
        if rng.random() < 0.03:
            text += f" since:{rng.randint(2018, 2025)}-{rng.randint(1, 12):02d}-01"
        topics.append(Topic(topic_id, parse(text)))
    return topics


def _words_topic(pool: _Words, rng: random.Random) -> str:
    chosen = [rng.choice(pool.weighted) for _ in range(rng.randint(1, 3))]
    joiner = " OR " if len(chosen) > 1 and rng.random() < 0.1 else " "
    return joiner.join(chosen)


def _phrase_topic(pool: _Words, rng: random.Random) -> str:
    title = rng.choice(pool.titles)
    size = min(len(title), rng.randint(2, 3))
    start = rng.randrange(len(title) - size + 1)
    return '"' + " ".join(title[start : start + size]) + '"'


def _prefix_topic(pool: _Words, rng: random.Random) -> str:
    stem_of = rng.choice(pool.weighted)
    return f"{rng.choice(pool.weighted)} {stem_of[: rng.randint(3, 6)]}*"


def _author_topic(pool: _Words, rng: random.Random) -> str:
    name = rng.choice(pool.names)
    return f'author:"{name}"' if rng.random() < 0.7 else f"author:{name.split()[-1]}"


def _category_or_not(pool: _Words, rng: random.Random) -> str:
    if rng.random() < 0.5:
        category = f"cat:{rng.choice(CATEGORIES)}"
        return f"{category} {rng.choice(pool.weighted)}" if rng.random() < 0.7 else category
    return f"{rng.choice(pool.weighted)} -{rng.choice(pool.weighted)}"


def _topical(word: str) -> bool:
    return len(word) >= 3 and word.isalpha() and word not in STOPWORDS


def naive_match(topics: Iterable[Topic], papers: Sequence[Paper]) -> dict[int, list[str]]:
    """The baseline the index is measured against, and the reference its tests compare
    with. The obvious loop: every topic's query against every paper (each analysed once)."""
    return naive_match_analyzed(topics, [(paper.id, AnalyzedPaper.of(paper)) for paper in papers])


def naive_match_analyzed(
    topics: Iterable[Topic], docs: Sequence[tuple[str, AnalyzedPaper]]
) -> dict[int, list[str]]:
    """`naive_match` on papers analysed beforehand: (paper id, analysed paper) pairs."""
    found: dict[int, list[str]] = {}
    for topic in topics:
        hits = [paper_id for paper_id, doc in docs if matches(topic.query, doc)]
        if hits:
            found[topic.id] = hits
    return found


@dataclass(frozen=True)
class _Naive:
    topics: list[Topic]
    found: dict[int, list[str]]
    seconds: float  # for all topics, extrapolated from `topics` when they are a sample


def _time_naive(topics: list[Topic], papers: list[Paper], rng: random.Random) -> _Naive:
    """The naive loop over all topics, or over a random sample when it would take too long."""
    started = time.perf_counter()
    docs = [(paper.id, AnalyzedPaper.of(paper)) for paper in papers]
    analyse_s = time.perf_counter() - started
    pilot = rng.sample(topics, min(len(topics), PILOT_TOPICS))
    pilot_s = _naive_loop(pilot, docs)[1]
    estimate_s = pilot_s * len(topics) / max(len(pilot), 1)
    if estimate_s <= NAIVE_BUDGET_S:
        sample = topics
    else:
        size = max(len(pilot), round(len(topics) * NAIVE_SAMPLE_S / estimate_s))
        sample = rng.sample(topics, size)
    found, loop_s = _naive_loop(sample, docs)
    return _Naive(sample, found, analyse_s + loop_s * len(topics) / len(sample))


def _naive_loop(
    topics: list[Topic], docs: list[tuple[str, AnalyzedPaper]]
) -> tuple[dict[int, list[str]], float]:
    started = time.perf_counter()
    found = naive_match_analyzed(topics, docs)
    return found, time.perf_counter() - started


def _print_table(f: dict[str, Any]) -> None:
    print(
        f"paperwire bench match: {f['subscriptions']:,} subscriptions"
        f" ({f['distinct_queries']:,} distinct queries) x {f['papers']:,} new papers,"
        f" {f['matches']:,} matches"
    )
    print(
        f"  indexed {f['seconds']:>9.2f} s   (update the kept index by {f['churn']:,} topics"
        f" in and out {f['update_seconds']:.2f} s, analyse and match {f['match_seconds']:.2f} s)"
        f"   target <= {f['target_seconds']:g} s"
    )
    print(
        f"  first run of a process {f['cold_seconds']:.2f} s (index every topic"
        f" {f['build_seconds']:.2f} s, then match)"
    )
    how = (
        f"timed on {f['naive_sample']:,} random subscriptions, extrapolated"
        if f["naive_sampled"]
        else "timed in full"
    )
    print(f"  naive   {f['naive_seconds']:>9.2f} s   ({how})   ratio x{f['ratio']:,.0f}")
    print(
        f"  ({f['matches'] / max(f['subscriptions'], 1):.1f} papers per subscription; the naive"
        " loop runs `matches` for every subscription on every paper, each analysed once)"
    )
