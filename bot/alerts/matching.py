"""Match every subscription (a topic: a saved query) against new papers without running
every query on every paper.

Each distinct query is compiled into keys (`bot.alerts.keys`) and indexed under the keys
of ONE of its required clauses, the one expected to be rarest (an `AnyOf` clause under a
key of each option). A paper meets only the topics anchored on one of its keys; then the
query's key test throws out the candidates that cannot match (`bot.alerts.batch`). Any
query the key test cannot decide alone (longer phrases, authors of several words, `AnyOf`
beside other clauses) is finally checked with `matches`, the reference semantics.
Subscriptions sharing a query are checked once; a query with nothing to anchor on (only
exclusions) meets every paper.
"""

from __future__ import annotations

import gc
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from bot.alerts.batch import PaperBatch, TopicGroup
from bot.alerts.keys import PREFIX, AnchorCosts, ClauseKeys, DocFrequencies, KeyTest, paper_keys
from bot.models import Paper
from bot.search.matcher import AnalyzedPaper
from bot.search.query import Clause, Query

CLAUSE_CACHE_SIZE = 200_000


@dataclass(frozen=True)
class Topic:
    """One subscription: its id and its parsed query."""

    id: int
    query: Query


class TopicIndex:
    """Every topic under one selective anchor; `match` finds all topics matching papers."""

    def __init__(self, topics: Iterable[Topic] = (), doc_freq: DocFrequencies | None = None):
        self._costs = AnchorCosts(doc_freq)
        self._queries: dict[int, Query] = {}
        self._groups: dict[Query, TopicGroup] = {}
        self._clauses: dict[Clause, ClauseKeys] = {}  # a cache, emptied when full
        self._serials = itertools.count()
        self._anchored: dict[str, dict[int, TopicGroup]] = {}
        self._unanchored: dict[int, TopicGroup] = {}
        self._keys_in_use: Counter[str] = Counter()
        # Every beginning of every prefix in use, so a word's walk stops at its first miss.
        self._prefix_steps: Counter[str] = Counter()
        with _gc_paused():
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

    def topic_ids(self) -> set[int]:
        return set(self._queries)

    def anchors_of(self, topic_id: int) -> tuple[str, ...]:
        """The keys a topic is indexed under (none: it meets every paper)."""
        return self._groups[self._queries[topic_id]].anchors

    def match(self, papers: Sequence[Paper]) -> dict[int, list[str]]:
        """Topic id -> ids of the papers it matches, in paper order (matched topics only).

        The batch way: each paper is analysed once into postings (key -> papers having it),
        and each group anchored on a key present runs its key test on whole postings at once
        (set operations), leaving `matches` only the papers an exact test cannot decide."""
        found: dict[int, list[str]] = {}
        with _gc_paused():
            batch = self._batch(papers)
            for group in self._groups_meeting(batch.positions):
                paper_ids = batch.paper_ids(group)
                if paper_ids:
                    for topic_id in group.topic_ids:
                        found[topic_id] = paper_ids.copy()
        return found

    def _batch(self, papers: Sequence[Paper]) -> PaperBatch:
        docs = [AnalyzedPaper.of(paper) for paper in papers]
        in_use = self._keys_in_use.keys()
        prefix_memo: dict[str, tuple[str, ...]] = {}
        return PaperBatch(papers, docs, (self._keys_of(d, prefix_memo) & in_use for d in docs))

    def _keys_of(self, doc: AnalyzedPaper, prefix_memo: dict[str, tuple[str, ...]]) -> set[str]:
        keys = paper_keys(doc)
        if self._prefix_steps:
            for token in doc.words | doc.stems:
                hits = prefix_memo.get(token)
                if hits is None:
                    hits = prefix_memo[token] = self._prefixes_of(token)
                keys.update(hits)
        return keys

    def _prefixes_of(self, token: str) -> tuple[str, ...]:
        """The `*prefix` keys in use that `token` starts with."""
        hits = []
        for end in range(1, len(token) + 1):
            head = token[:end]
            if head not in self._prefix_steps:
                break
            if PREFIX + head in self._keys_in_use:
                hits.append(PREFIX + head)
        return tuple(hits)

    def _groups_meeting(self, postings: Mapping[str, object]) -> Iterator[TopicGroup]:
        """Each group anchored on a key of `postings`, once, then the unanchored ones."""
        groups: dict[int, TopicGroup] = {}
        for key in postings:
            bucket = self._anchored.get(key)
            if bucket:
                groups.update(bucket)
        yield from groups.values()
        yield from self._unanchored.values()

    def _clause_keys(self, clause: Clause) -> ClauseKeys:
        found = self._clauses.get(clause)
        if found is None:
            if len(self._clauses) >= CLAUSE_CACHE_SIZE:
                self._clauses.clear()
            found = self._clauses[clause] = ClauseKeys.of(clause, self._costs, self._clause_keys)
        return found

    def _new_group(self, query: Query) -> TopicGroup:
        required = [(clause, self._clause_keys(clause)) for clause in query.required]
        test = KeyTest.of(required, [self._clause_keys(clause) for clause in query.excluded])
        best = min((keys.anchor for _, keys in required if keys.anchor), default=None)
        group = TopicGroup(next(self._serials), query, best[1] if best else (), test)
        self._groups[query] = group
        if not group.anchors:
            self._unanchored[group.serial] = group
        for key in group.anchors:
            self._anchored.setdefault(key, {})[group.serial] = group
        self._keys_in_use.update(group.keys)
        steps = _prefix_steps(group.keys)
        if steps:
            self._prefix_steps.update(steps)
        return group

    def _drop_group(self, group: TopicGroup) -> None:
        del self._groups[group.query]
        self._unanchored.pop(group.serial, None)
        for key in group.anchors:
            bucket = self._anchored[key]
            del bucket[group.serial]
            if not bucket:
                del self._anchored[key]
        _take_away(self._keys_in_use, group.keys)
        _take_away(self._prefix_steps, _prefix_steps(group.keys))


def _take_away(counts: Counter[str], keys: Iterable[str]) -> None:
    """Count `keys` once less each, forgetting those no topic uses any more (only the keys
    touched: a pass over every count would make removing a topic cost the whole index)."""
    for key in keys:
        left = counts[key] - 1
        if left > 0:
            counts[key] = left
        else:
            del counts[key]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Bulk indexing and matching make many objects but no cycles: the collector's passes
    over a heap holding every topic would only double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _prefix_steps(keys: Iterable[str]) -> list[str]:
    prefixes = [key[1:] for key in keys if key.startswith(PREFIX)]
    return [p[:end] for p in prefixes for end in range(1, len(p) + 1)]


_T = TypeVar("_T")


class LiveTopics:
    """The topic index of every subscription, kept for the life of the process: each alert
    run brings it in step with the subscriptions (adding and removing only the difference)
    and so pays for the match, not for building the index again."""

    def __init__(self) -> None:
        self._index: TopicIndex | None = None
        self._given: dict[int, object] = {}  # what each indexed topic was parsed from

    @property
    def built(self) -> bool:
        return self._index is not None

    def build(self, history: Iterable[Paper | AnalyzedPaper]) -> None:
        """Start empty, anchors to be picked by how often each key occurs in `history`."""
        self._index = build_topic_index((), history)
        self._given = {}

    def update(self, topics: Mapping[int, _T], parse: Callable[[_T], Query]) -> TopicIndex:
        """The index of exactly `topics` (id -> its query's text); only the topics new to
        it are parsed and added, and those gone removed. A topic is known by its id and its
        text together: SQLite gives a deleted row's id to the next one, which must not
        inherit the deleted topic's query."""
        if self._index is None:
            self.build(())
        index = self._index
        assert index is not None
        with _gc_paused():
            for gone in self._given.keys() - topics.keys():
                index.remove(gone)
                del self._given[gone]
            for topic_id, given in topics.items():
                if topic_id not in self._given or self._given[topic_id] != given:
                    index.add(Topic(topic_id, parse(given)))  # replaces a reused id's topic
                    self._given[topic_id] = given
        return index


def build_topic_index(
    topics: Iterable[Topic], history: Iterable[Paper | AnalyzedPaper]
) -> TopicIndex:
    """The one way the index is built, by alerts and by `bench match` alike: anchors picked
    by how often each key occurs in `history` (papers already seen)."""
    docs = (p if isinstance(p, AnalyzedPaper) else AnalyzedPaper.of(p) for p in history)
    return TopicIndex(topics, doc_freq=DocFrequencies.of(docs))
