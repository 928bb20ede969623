"""Match every subscription (a topic: a saved query) against new papers in one pass.

Each distinct query is indexed under the anchors of ONE of its required clauses, the one
expected to be rarest: a stem of a word or phrase, a word of an author's name, a category or
a prefix (an `AnyOf` clause is indexed under an anchor of each of its options). A paper then
looks up its own stems, words, author words and categories and only meets the topics whose
anchor it contains; those candidates are checked with `bot.search.matcher.matches`, the
reference semantics, so the result is exactly the naive loop's. Subscriptions sharing a query
are checked once. A query with nothing to anchor on (only exclusions) is checked on every
paper.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.models import Paper
from bot.search.matcher import AnalyzedPaper, matches
from bot.search.query import AnyOf, Author, Category, Clause, Prefix, Query, Term

AnchorKind = Literal["stem", "prefix", "author", "category"]
Anchor = tuple[AnchorKind, str]
KINDS: tuple[AnchorKind, ...] = ("stem", "prefix", "author", "category")


@dataclass(frozen=True)
class Topic:
    """One subscription: its id and its parsed query."""

    id: int
    query: Query


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


class _Costs:
    """The expected share of papers an anchor occurs in, from frequencies when known."""

    def __init__(self, doc_freq: DocFrequencies | None) -> None:
        self._freq = doc_freq
        self._sorted_stems: list[str] = []
        self._cumulative: list[int] = [0]
        if doc_freq is not None:
            self._sorted_stems = sorted(doc_freq.stems)
            counts = (doc_freq.stems[s] for s in self._sorted_stems)
            self._cumulative += itertools.accumulate(counts)

    def stem(self, stem: str, in_phrase: bool) -> float:
        if self._freq is None:  # guess: longer stems, and stems of phrases, are rarer
            return (0.5 if in_phrase else 1.0) / (1 + len(stem))
        return self._share(self._freq.stems.get(stem, 0))

    def prefix(self, prefix: str) -> float:
        if self._freq is None:
            return 4.0 / (1 + len(prefix))
        low = bisect_left(self._sorted_stems, prefix)
        high = bisect_right(self._sorted_stems, prefix + "\U0010ffff")
        return self._share(self._cumulative[high] - self._cumulative[low])

    def author_word(self, word: str) -> float:
        if self._freq is None:
            return 0.01 / (1 + len(word))
        return self._share(self._freq.author_words.get(word, 0))

    def category(self, name: str) -> float:
        if self._freq is None:
            return 0.2
        return self._share(self._freq.categories.get(name, 0))

    def _share(self, count: int) -> float:
        assert self._freq is not None
        return (count or 0.5) / max(self._freq.papers, 1)


_Choice = tuple[float, tuple[Anchor, ...]]


class _Group:
    """The subscriptions sharing one query, and the anchors it is indexed under."""

    __slots__ = ("anchors", "decided_by_anchor", "query", "serial", "topic_ids")

    def __init__(self, serial: int, query: Query, anchors: tuple[Anchor, ...]) -> None:
        self.serial = serial
        self.query = query
        self.anchors = anchors
        self.decided_by_anchor = bool(anchors) and _decided_by_anchor(query)
        self.topic_ids: dict[int, None] = {}


class TopicIndex:
    """Every topic under one selective anchor; `match` finds all topics matching papers."""

    def __init__(self, topics: Iterable[Topic] = (), doc_freq: DocFrequencies | None = None):
        self._costs = _Costs(doc_freq)
        self._queries: dict[int, Query] = {}
        self._groups: dict[Query, _Group] = {}
        self._serials = itertools.count()
        self._anchored: dict[AnchorKind, dict[str, dict[int, _Group]]] = {k: {} for k in KINDS}
        self._unanchored: dict[int, _Group] = {}
        # Every prefix of every prefix anchor, so a word's walk stops at the first miss.
        self._prefix_steps: Counter[str] = Counter()
        for topic in topics:
            self.add(topic)

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, topic_id: object) -> bool:
        return topic_id in self._queries

    def add(self, topic: Topic) -> None:
        """Index `topic`, replacing the topic of the same id if there is one."""
        if topic.id in self._queries:
            self.remove(topic.id)
        group = self._groups.get(topic.query)
        if group is None:
            group = self._new_group(topic.query)
        group.topic_ids[topic.id] = None
        self._queries[topic.id] = topic.query

    def remove(self, topic_id: int) -> None:
        """Forget a topic; unknown ids are ignored."""
        query = self._queries.pop(topic_id, None)
        if query is None:
            return
        group = self._groups[query]
        del group.topic_ids[topic_id]
        if not group.topic_ids:
            self._drop_group(group)

    def match(self, papers: Sequence[Paper]) -> dict[int, list[str]]:
        """Topic id -> ids of the papers it matches, in paper order (matched topics only)."""
        found: defaultdict[int, list[str]] = defaultdict(list)
        prefix_memo: dict[str, tuple[str, ...]] = {}
        for paper in papers:
            doc = AnalyzedPaper.of(paper)
            for group in self._matching_groups(doc, prefix_memo):
                for topic_id in group.topic_ids:
                    found[topic_id].append(paper.id)
        return dict(found)

    def match_paper(self, paper: AnalyzedPaper | Paper) -> list[int]:
        """The ids of the topics `paper` matches, ascending."""
        doc = paper if isinstance(paper, AnalyzedPaper) else AnalyzedPaper.of(paper)
        groups = self._matching_groups(doc, {})
        return sorted(topic_id for group in groups for topic_id in group.topic_ids)

    def anchors_of(self, topic_id: int) -> tuple[Anchor, ...]:
        """The anchors a topic is indexed under (none: it is checked on every paper)."""
        return self._groups[self._queries[topic_id]].anchors

    # Matching

    def _matching_groups(
        self, doc: AnalyzedPaper, prefix_memo: dict[str, tuple[str, ...]]
    ) -> Iterator[_Group]:
        candidates = self._candidates(doc, prefix_memo)
        for group in itertools.chain(candidates.values(), self._unanchored.values()):
            if group.decided_by_anchor or matches(group.query, doc):
                yield group

    def _candidates(
        self, doc: AnalyzedPaper, prefix_memo: dict[str, tuple[str, ...]]
    ) -> dict[int, _Group]:
        """The groups with an anchor in `doc`, each once."""
        found: dict[int, _Group] = {}
        by_stem, by_author = self._anchored["stem"], self._anchored["author"]
        by_category, by_prefix = self._anchored["category"], self._anchored["prefix"]
        for keys, anchored in (
            (doc.stems, by_stem),
            ({w for author in doc.authors for w in author}, by_author),
            ({n for c in doc.categories for n in category_names(c)}, by_category),
        ):
            if anchored:
                for key in keys:
                    bucket = anchored.get(key)
                    if bucket:
                        found.update(bucket)
        if by_prefix:
            for key in self._prefix_keys(doc, prefix_memo):
                found.update(by_prefix[key])
        return found

    def _prefix_keys(self, doc: AnalyzedPaper, memo: dict[str, tuple[str, ...]]) -> set[str]:
        """The prefix anchors some word or stem of `doc` starts with."""
        keys: set[str] = set()
        for token in doc.words | doc.stems:
            hits = memo.get(token)
            if hits is None:
                hits = memo[token] = self._prefixes_of(token)
            keys.update(hits)
        return keys

    def _prefixes_of(self, token: str) -> tuple[str, ...]:
        steps, anchored = self._prefix_steps, self._anchored["prefix"]
        hits = []
        for end in range(1, len(token) + 1):
            head = token[:end]
            if head not in steps:
                break
            if head in anchored:
                hits.append(head)
        return tuple(hits)

    # Indexing

    def _new_group(self, query: Query) -> _Group:
        choice = self._choose(query)
        group = _Group(next(self._serials), query, choice[1] if choice else ())
        self._groups[query] = group
        if not group.anchors:
            self._unanchored[group.serial] = group
        for kind, key in group.anchors:
            self._anchored[kind].setdefault(key, {})[group.serial] = group
            if kind == "prefix":
                self._prefix_steps.update(key[:end] for end in range(1, len(key) + 1))
        return group

    def _drop_group(self, group: _Group) -> None:
        del self._groups[group.query]
        self._unanchored.pop(group.serial, None)
        for kind, key in group.anchors:
            bucket = self._anchored[kind][key]
            del bucket[group.serial]
            if not bucket:
                del self._anchored[kind][key]
            if kind == "prefix":
                self._prefix_steps.subtract(key[:end] for end in range(1, len(key) + 1))
                self._prefix_steps += Counter()  # drops the steps no anchor needs any more

    def _choose(self, query: Query) -> _Choice | None:
        """The anchors of the required clause expected to be rarest, if any can be anchored."""
        choices = (self._clause_anchors(clause) for clause in query.required)
        return min((c for c in choices if c is not None), key=lambda c: c[0], default=None)

    def _clause_anchors(self, clause: Clause) -> _Choice | None:
        """Anchors one of which every paper matching `clause` contains, with their cost."""
        costs = self._costs
        if isinstance(clause, Term):
            phrase = clause.is_phrase
            return _cheapest(("stem", s, costs.stem(s, phrase)) for s in clause.stems)
        if isinstance(clause, Author):
            return _cheapest(("author", w, costs.author_word(w)) for w in clause.words)
        if isinstance(clause, Prefix):
            return _cheapest([("prefix", clause.prefix, costs.prefix(clause.prefix))])
        if isinstance(clause, Category):
            return (costs.category(clause.name), (("category", clause.name),))
        if isinstance(clause, AnyOf):
            return self._any_of_anchors(clause)
        raise TypeError(clause)

    def _any_of_anchors(self, clause: AnyOf) -> _Choice | None:
        options = [self._clause_anchors(option) for option in clause.options]
        if not options or any(option is None for option in options):
            return None
        chosen = [option for option in options if option is not None]
        anchors = tuple(dict.fromkeys(a for _, found in chosen for a in found))
        return (sum(cost for cost, _ in chosen), anchors)


def _cheapest(options: Iterable[tuple[AnchorKind, str, float]]) -> _Choice | None:
    """The rarest non-empty key of one clause; an empty key anchors nothing."""
    best = min((o for o in options if o[1]), key=lambda o: o[2], default=None)
    return None if best is None else (best[2], ((best[0], best[1]),))


def _decided_by_anchor(query: Query) -> bool:
    """Whether finding the query's anchor in a paper is already a match: one required clause
    whose anchor is the whole clause, nothing excluded, no dates."""
    if query.excluded or query.since or query.until or len(query.required) != 1:
        return False
    return _anchor_is_clause(query.required[0])


def _anchor_is_clause(clause: Clause) -> bool:
    if isinstance(clause, Term):
        return len(clause.stems) == 1
    if isinstance(clause, Author):
        return len(clause.words) == 1
    if isinstance(clause, Prefix | Category):
        return True
    if isinstance(clause, AnyOf):
        return bool(clause.options) and all(_anchor_is_clause(o) for o in clause.options)
    return False


def category_names(category: str) -> list[str]:
    """The `Category` names a folded paper category matches: itself and each parent before a
    dot (`cs.cl` -> cs.cl, cs), as `matches` reads `cat:`."""
    names = [category]
    names += [category[:i] for i, ch in enumerate(category) if ch == "."]
    return names


def naive_match(topics: Iterable[Topic], papers: Sequence[Paper]) -> dict[int, list[str]]:
    """The obvious loop: every topic's query against every paper (each analysed once)."""
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
