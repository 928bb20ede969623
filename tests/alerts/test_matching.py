import random
from dataclasses import replace
from datetime import date

import pytest

from bot.alerts.keys import DocFrequencies
from bot.alerts.matching import Topic, TopicIndex
from bot.bench.match import naive_match
from bot.models import Observation, Paper, TrendingEntry
from bot.search.analysis import words
from bot.search.matcher import AnalyzedPaper, matches
from bot.search.query import AnyOf, Author, Category, Prefix, Query, Term, parse
from tests.conftest import make_paper, seed_observations

NAMES = ["Yann LeCun", "José Núñez", "Ada Lovelace", "Alan Turing", "Grace Hopper", "Li Wei"]
CATEGORIES = ["cs.CL", "cs.LG", "cs.CV", "stat.ML", "math.OC", "cs.AI"]


def seed_papers() -> list[Paper]:
    """The bundled papers, with the days they trended; some given authors and categories."""
    seen: dict[str, Observation] = {}
    days: dict[str, list[date]] = {}
    for obs in seed_observations():
        seen.setdefault(obs.paper_id, obs)
        if obs.day:
            days.setdefault(obs.paper_id, []).append(obs.day)
    rng = random.Random(3)
    papers = []
    for paper_id, obs in seen.items():
        paper = obs.to_paper()
        trending = tuple(TrendingEntry(d, "seeds", 1) for d in days.get(paper_id, []))
        paper = replace(paper, trending=trending)
        if rng.random() < 0.5:
            paper = replace(
                paper,
                authors=tuple(rng.sample(NAMES, rng.randint(1, 3))),
                categories=tuple(rng.sample(CATEGORIES, rng.randint(1, 2))),
            )
        papers.append(paper)
    return papers


def extra_papers() -> list[Paper]:
    return [
        make_paper(
            id="x1",
            title="Hallucinating Transformers: Large Language Models Under Stress",
            abstract="We evaluate state-of-the-art models on reasoning benchmarks.",
            authors=("Yann LeCun", "José Núñez"),
            categories=("cs.CL", "cs.LG"),
            trending=(TrendingEntry(date(2026, 7, 15), "hf", 3, 5),),
        ),
        make_paper(
            id="x2",
            title="Video Video Diffusion",
            abstract="",
            authors=(),
            categories=("math.AG",),
            trending=(),
            published=date(2019, 3, 1),
        ),
        make_paper(id="x3", title="Untitled", abstract="", authors=(), trending=(), published=None),
        make_paper(id="x4", title="Grace Hopper and Compilers", authors=("Hopper Grace",)),
    ]


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    return seed_papers() + extra_papers()


def random_queries(papers: list[Paper], count: int, seed: int = 11) -> list[str]:
    """Queries of every kind, built from the papers' own words so that many match."""
    rng = random.Random(seed)
    titles = [words(p.title) for p in papers if len(words(p.title)) >= 3]
    vocab = sorted({w for t in titles for w in t})
    names = [n for p in papers for n in p.authors] or NAMES

    def word() -> str:
        return rng.choice(rng.choice(titles))

    def phrase() -> str:
        title = rng.choice(titles)
        size = rng.randint(2, 3)
        start = rng.randrange(len(title) - size + 1)
        return '"' + " ".join(title[start : start + size]) + '"'

    def prefix() -> str:
        return rng.choice(vocab)[: rng.randint(2, 5)] + "*"

    def author() -> str:
        name = rng.choice(names)
        parts = name.split()
        return rng.choice(
            [f'author:"{name}"', f"author:{parts[-1]}", f'author:"{parts[-1]} {parts[0]}"']
        )

    def category() -> str:
        return "cat:" + rng.choice([*CATEGORIES, "cs", "math", "stat.ml", "cs.c"])

    def date_bound() -> str:
        key = rng.choice(["since", "until"])
        return f"{key}:{rng.randint(2018, 2026)}-{rng.randint(1, 12):02d}-01"

    makers = [word, word, word, phrase, prefix, author, category]
    queries = []
    for _ in range(count):
        parts = [rng.choice(makers)() for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.25:
            parts.insert(rng.randrange(len(parts)), "OR")
        if rng.random() < 0.3:
            parts.append("-" + rng.choice(makers)())
        if rng.random() < 0.15:
            parts.append(date_bound())
        queries.append(" ".join(parts))
    return queries


# Queries the parser never makes, or makes only from odd text.
HAND_MADE = [
    Query(excluded=(Term(("model",)),)),  # only an exclusion: checked on every paper
    Query(),
    Query(required=(AnyOf(()),)),
    Query(required=(AnyOf((AnyOf((Term(("video",)), Prefix("hallu"))), Category("math"))),)),
    Query(required=(Term(("model",)),), excluded=(AnyOf((Term(("video",)), Category("cs"))),)),
    Query(required=(Author(()),)),
    Query(required=(Prefix(""), Term(("model",)))),
    Query(required=(Category(""),)),
    Query(required=(AnyOf((Term(("languag", "model", "for")), Author(("lecun",)))),)),
    Query(required=(Term(("video", "video")),)),
    Query(required=(Term(("video",)),), excluded=(Term(("video",)),)),
    Query(required=(Author(("yann", "lecun")), Term(("model",))), until=date(2026, 8, 1)),
]


def topics_for(papers: list[Paper], count: int = 400) -> list[Topic]:
    texts = random_queries(papers, count)
    texts += [
        "video -video",
        "diffusion OR transformer OR author:lecun",
        '"language model" OR cat:cs.CV',
        "hallu* OR zebra",
        "cat:cs -cat:cs.cl",
        "-survey",
        "model -mod*",
        'author:"grace hopper"',
        "author:hopper author:grace",
    ]
    topics = [Topic(i, parse(text)) for i, text in enumerate(texts)]
    topics += [Topic(len(topics) + i, query) for i, query in enumerate(HAND_MADE)]
    return topics


def naive_ids(topics: list[Topic], doc: AnalyzedPaper) -> list[int]:
    return sorted(t.id for t in topics if matches(t.query, doc))


@pytest.mark.parametrize("with_frequencies", [False, True])
def test_the_index_matches_exactly_what_the_naive_loop_does(
    papers: list[Paper], with_frequencies: bool
) -> None:
    topics = topics_for(papers)
    frequencies = DocFrequencies.of(AnalyzedPaper.of(p) for p in papers[:100])
    index = TopicIndex(topics, doc_freq=frequencies if with_frequencies else None)

    expected = naive_match(topics, papers)
    assert index.match(papers) == expected
    assert sum(map(len, expected.values())) > 1000  # the topics really do match papers
    assert len(expected) > len(topics) / 3


def test_one_paper_at_a_time_agrees_with_the_loop(papers: list[Paper]) -> None:
    topics = topics_for(papers, 200)
    index = TopicIndex(topics)
    for paper in papers[::3] + extra_papers():
        found = index.match([paper])
        assert sorted(found) == naive_ids(topics, AnalyzedPaper.of(paper)), paper.title
        assert all(ids == [paper.id] for ids in found.values())


def test_every_clause_kind_is_anchored_on_a_key(papers: list[Paper]) -> None:
    index = TopicIndex(
        [
            Topic(1, parse('"large language models" reasoning')),
            Topic(2, parse("author:lecun")),
            Topic(3, parse("cat:cs.CL")),
            Topic(4, parse("hallu*")),
            Topic(5, parse("video OR author:lecun OR cat:math")),
            Topic(6, parse("-survey")),
        ]
    )
    (pair,) = index.anchors_of(1)  # a pair of words of the phrase: rarer than either
    assert pair in ("larg languag", "languag model")
    assert index.anchors_of(2) == ("@lecun",)
    assert index.anchors_of(3) == ("#cs.cl",)
    assert index.anchors_of(4) == ("*hallu",)
    assert set(index.anchors_of(5)) == {"video", "@lecun", "#math"}
    assert index.anchors_of(6) == ()
    found = index.match(extra_papers())
    assert found == {
        1: ["x1"],
        2: ["x1"],
        3: ["x1"],
        4: ["x1"],
        5: ["x1", "x2"],
        6: ["x1", "x2", "x3", "x4"],
    }


def test_a_topic_of_only_an_any_of(papers: list[Paper]) -> None:
    topics = [
        Topic(1, parse("zebra OR hallucinating OR author:núñez")),
        Topic(2, parse('"language model" OR transf*')),
    ]
    index = TopicIndex(topics)
    assert len(index.anchors_of(1)) == 3
    assert index.match(papers) == naive_match(topics, papers)
    assert "x1" in index.match(papers)[1]


def test_adding_and_removing_topics(papers: list[Paper]) -> None:
    topics = topics_for(papers, 300)
    index = TopicIndex(topics[:150])
    for topic in topics[150:]:
        index.add(topic)
    assert len(index) == len(topics)
    for topic in topics[::2]:
        index.remove(topic.id)
    index.remove(10_000)  # unknown ids are ignored
    kept = topics[1::2]
    assert len(index) == len(kept)
    assert 0 not in index and 1 in index
    assert index.match(papers) == naive_match(kept, papers)

    replaced = Topic(1, parse("zebra OR hallucinating"))  # the same id: replaces
    index.add(replaced)
    kept = [replaced if t.id == 1 else t for t in kept]
    assert index.match(papers) == naive_match(kept, papers)
    for topic in kept:
        index.remove(topic.id)
    assert len(index) == 0
    assert index.match(papers) == {}


def test_topics_sharing_a_query_each_get_their_matches(papers: list[Paper]) -> None:
    topics = [Topic(i, parse("hallu*")) for i in range(3)] + [Topic(3, parse("Hallu*"))]
    index = TopicIndex(topics)
    found = index.match(papers)
    assert found[0] == found[1] == found[2] == found[3] == naive_match(topics[:1], papers)[0]
    found[0].append("mine")  # each topic has a list of its own
    assert "mine" not in found[1]
    index.remove(0)
    assert set(index.match(papers)) == {1, 2, 3}


def test_an_empty_index(papers: list[Paper]) -> None:
    index = TopicIndex()
    assert len(index) == 0
    assert index.match(papers) == {}
    assert index.match([]) == {}


def test_no_papers() -> None:
    index = TopicIndex([Topic(1, parse("-survey")), Topic(2, parse("video"))])
    assert index.match([]) == naive_match([], []) == {}
