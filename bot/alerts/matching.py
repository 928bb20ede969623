"""Match every subscription (a topic: a saved query) against new papers without running
every query on every paper.

Papers and queries meet through keys, strings in one space: a stem is itself, `a b` is two
stems side by side in a title or abstract, and `@word`, `#category` and `*prefix` mark an
author's word, a category (or its parent before a dot) and a prefix some word starts with.
Stems are made of word characters only, so the kinds never collide.

Each distinct query is indexed under the keys of ONE of its required clauses, the one
expected to be rarest (an `AnyOf` clause under a key of each option). A paper meets only the
topics anchored on one of its keys. Then set tests on keys throw out the candidates that
cannot match: every required clause has keys a matching paper must have, and an excluded
clause that is one key rules out every paper having it. Where a clause is exactly one key
(a word, a two-word phrase, a one-word author, a category, a prefix) the key test is the
very test `bot.search.matcher.matches` makes; any other query (longer phrases, authors of
several words, `AnyOf` beside other clauses) is finally checked with `matches`, the
reference semantics. Subscriptions sharing a query are checked once; a query with nothing
to anchor on (only exclusions) meets every paper.
"""

from __future__ import annotations

import gc
import itertools
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from bot.models import Paper
from bot.search.matcher import AnalyzedPaper, in_dates, matches
from bot.search.query import AnyOf, Author, Category, Clause, Prefix, Query, Term

AUTHOR, CATEGORY, PREFIX = "@", "#", "*"
CLAUSE_CACHE_SIZE = 200_000


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


# Keys


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
class _ClauseKeys:
    """What one clause asks of a paper's keys, and where it could be anchored."""

    needed: frozenset[str]  # every match has all of these (none asked of an `AnyOf`)
    deciding: frozenset[str] | None  # having any one of these is the clause matching
    anchor: _Anchor | None  # every match has one of these keys

    @classmethod
    def of(
        cls, clause: Clause, costs: _Costs, keys_of: Callable[[Clause], _ClauseKeys]
    ) -> _ClauseKeys:
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


def _either_anchor(options: list[_ClauseKeys]) -> _Anchor | None:
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
        cls, required: Iterable[tuple[Clause, _ClauseKeys]], excluded: Iterable[_ClauseKeys]
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


# Anchors


class _Costs:
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


class _Group:
    """The subscriptions sharing one query, its anchors and its key test."""

    __slots__ = (
        "anchors",
        "checked",
        "dated",
        "keys",
        "narrowed",
        "others",
        "query",
        "serial",
        "single_key",
        "test",
        "topic_ids",
    )

    def __init__(self, serial: int, query: Query, anchors: tuple[str, ...], test: KeyTest):
        self.serial = serial
        self.query = query
        self.anchors = anchors
        self.test = test
        self.keys = test.keys.union(anchors)
        self.others = tuple(test.needs.difference(anchors))  # needed besides the anchors
        self.dated = bool(query.since or query.until)
        self.narrowed = bool(test.any_of or test.excluded)  # more to the key test than needs
        self.checked = self.dated or not test.exact  # more to the match than the key test
        # When having this key is the whole key test (and, undated, the match).
        alone = len(anchors) == 1 and test.exact and not test.excluded and not test.any_of
        self.single_key = anchors[0] if alone and test.needs == self.keys == {*anchors} else None
        self.topic_ids: dict[int, None] = {}

    def accepts(self, doc: AnalyzedPaper, keys: set[str]) -> bool:
        """Whether the paper of these keys matches (`keys` with the prefixes in use)."""
        return (
            self.test.passes(keys)
            and (not self.dated or in_dates(self.query, doc.days))
            and (self.test.exact or matches(self.query, doc))
        )


class _Batch:
    """New papers as postings: for each key some topic uses, the positions of the papers
    having it, in order, as a list and as a set."""

    def __init__(
        self, papers: Sequence[Paper], docs: list[AnalyzedPaper], keys: Iterable[set[str]]
    ) -> None:
        self.ids = [paper.id for paper in papers]
        self.docs = docs
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for position, paper_keys in enumerate(keys):
            for key in paper_keys:
                positions[key].append(position)
        self.positions = dict(positions)
        self.sets = {key: set(found) for key, found in positions.items()}

    def paper_ids(self, group: _Group) -> list[str]:
        """The ids of the papers the group matches, in order."""
        if group.single_key is not None:
            positions = self.positions[group.single_key]
        else:
            try:
                needed = [self.sets[key] for key in group.others]
            except KeyError:  # no paper has one of them
                return []
            passing = self._anchored(group).intersection(*needed)
            if group.narrowed:
                self._narrow(group.test, passing)
            positions = sorted(passing)
        if group.checked and positions:
            positions = self._checked(group, positions)
        return list(map(self.ids.__getitem__, positions))

    def _anchored(self, group: _Group) -> set[int]:
        """The positions of the papers having an anchor of the group."""
        if len(group.anchors) == 1:
            return self.sets[group.anchors[0]]
        if group.anchors:
            return self._union(group.anchors)
        return set(range(len(self.docs)))

    def _narrow(self, test: KeyTest, passing: set[int]) -> None:
        for options in test.any_of:
            passing &= self._union(options)
        for key in test.excluded:
            passing.difference_update(self.sets.get(key, ()))

    def _checked(self, group: _Group, positions: list[int]) -> list[int]:
        """What dates and, when the key test is not exact, `matches` leave of `positions`."""
        query, docs = group.query, self.docs
        if group.dated:
            positions = [i for i in positions if in_dates(query, docs[i].days)]
        if not group.test.exact:
            positions = [i for i in positions if matches(query, docs[i])]
        return positions

    def _union(self, keys: Iterable[str]) -> set[int]:
        return set().union(*(self.sets.get(key, ()) for key in keys))


# The index


class TopicIndex:
    """Every topic under one selective anchor; `match` finds all topics matching papers."""

    def __init__(self, topics: Iterable[Topic] = (), doc_freq: DocFrequencies | None = None):
        self._costs = _Costs(doc_freq)
        self._queries: dict[int, Query] = {}
        self._groups: dict[Query, _Group] = {}
        self._clauses: dict[Clause, _ClauseKeys] = {}  # a cache, emptied when full
        self._serials = itertools.count()
        self._anchored: dict[str, dict[int, _Group]] = {}
        self._unanchored: dict[int, _Group] = {}
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

    def _batch(self, papers: Sequence[Paper]) -> _Batch:
        docs = [AnalyzedPaper.of(paper) for paper in papers]
        in_use = self._keys_in_use.keys()
        prefix_memo: dict[str, tuple[str, ...]] = {}
        return _Batch(papers, docs, (self._keys_of(d, prefix_memo) & in_use for d in docs))

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

    def _groups_meeting(self, postings: Mapping[str, object]) -> Iterator[_Group]:
        """Each group anchored on a key of `postings`, once, then the unanchored ones."""
        groups: dict[int, _Group] = {}
        for key in postings:
            bucket = self._anchored.get(key)
            if bucket:
                groups.update(bucket)
        yield from groups.values()
        yield from self._unanchored.values()

    def _clause_keys(self, clause: Clause) -> _ClauseKeys:
        found = self._clauses.get(clause)
        if found is None:
            if len(self._clauses) >= CLAUSE_CACHE_SIZE:
                self._clauses.clear()
            found = self._clauses[clause] = _ClauseKeys.of(clause, self._costs, self._clause_keys)
        return found

    def _new_group(self, query: Query) -> _Group:
        required = [(clause, self._clause_keys(clause)) for clause in query.required]
        test = KeyTest.of(required, [self._clause_keys(clause) for clause in query.excluded])
        best = min((keys.anchor for _, keys in required if keys.anchor), default=None)
        group = _Group(next(self._serials), query, best[1] if best else (), test)
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

    def _drop_group(self, group: _Group) -> None:
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
