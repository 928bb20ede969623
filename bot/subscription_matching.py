"""Match every subscription (a topic: a saved query) against new papers without running
every query on every paper.

Each distinct query is indexed under the anchors of ONE of its required clauses, the one
expected to be rarest: a stem of a word or phrase, a word of an author's name, a category or
a prefix (an `AnyOf` clause is indexed under an anchor of each of its options). A paper looks
up its own keys (stems, author words, categories and the prefix anchors its words start
with) and meets only the topics anchored there. A candidate must then contain every key its
required clauses need (a set test), and is finally checked with
`bot.search.matcher.matches`, the reference semantics, unless that test already decides it
(see `_Group.decided`). Subscriptions sharing a query are checked once. A query with nothing
to anchor on (only exclusions) is checked against every paper.

Keys share one string space: a stem is itself, and `@word`, `#category` and `*prefix` mark
the other kinds (stems are made of word characters only, so they never collide).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bot.models import Paper
from bot.search.matcher import AnalyzedPaper, matches
from bot.search.query import AnyOf, Author, Category, Clause, Prefix, Query, Term

AUTHOR, CATEGORY, PREFIX = "@", "#", "*"


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


def category_names(category: str) -> list[str]:
    """The `Category` names a folded paper category matches, as `matches` reads `cat:`:
    itself and each part before a dot (`cs.cl` -> cs.cl, cs)."""
    return [category] + [category[:i] for i, ch in enumerate(category) if ch == "."]


def paper_keys(doc: AnalyzedPaper) -> set[str]:
    """A paper's keys but for prefixes: its stems, `@` author words, `#` categories."""
    keys = set(doc.stems)
    keys.update(AUTHOR + w for author in doc.authors for w in author)
    keys.update(CATEGORY + n for c in doc.categories for n in category_names(c))
    return keys


class _Costs:
    """The expected share of papers a key occurs in, from frequencies when known."""

    def __init__(self, doc_freq: DocFrequencies | None) -> None:
        self._freq = doc_freq
        self._sorted_stems: list[str] = []
        self._cumulative: list[int] = [0]
        if doc_freq is not None:
            self._sorted_stems = sorted(doc_freq.stems)
            counts = (doc_freq.stems[s] for s in self._sorted_stems)
            self._cumulative += itertools.accumulate(counts)

    def stem(self, stem: str, in_phrase: bool) -> float:
        if self._freq is None:  # a guess: longer stems, and stems of phrases, are rarer
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


class _Group:
    """The subscriptions sharing one query: its anchors, the keys a match must contain, and
    whether containing them already decides the match."""

    __slots__ = ("anchors", "decided", "needs", "query", "serial", "topic_ids")

    def __init__(self, serial: int, query: Query, anchors: tuple[str, ...]) -> None:
        self.serial = serial
        self.query = query
        self.anchors = anchors
        self.needs = frozenset(k for c in query.required for k in _needed_keys(c))
        self.decided = bool(anchors) and _decided_by_keys(query)
        self.topic_ids: dict[int, None] = {}


class TopicIndex:
    """Every topic under one selective anchor; `match` finds all topics matching papers."""

    def __init__(self, topics: Iterable[Topic] = (), doc_freq: DocFrequencies | None = None):
        self._costs = _Costs(doc_freq)
        self._queries: dict[int, Query] = {}
        self._groups: dict[Query, _Group] = {}
        self._serials = itertools.count()
        self._anchored: dict[str, dict[int, _Group]] = {}
        self._unanchored: dict[int, _Group] = {}
        self._keys_in_use: Counter[str] = Counter()  # anchors and needed keys, for postings
        # Every prefix of every prefix anchor, so a word's walk stops at its first miss.
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

    def anchors_of(self, topic_id: int) -> tuple[str, ...]:
        """The keys a topic is indexed under (none: it is checked against every paper)."""
        return self._groups[self._queries[topic_id]].anchors

    # Matching

    def match_paper(self, paper: AnalyzedPaper | Paper) -> list[int]:
        """The ids of the topics one paper matches, ascending."""
        doc = paper if isinstance(paper, AnalyzedPaper) else AnalyzedPaper.of(paper)
        keys = paper_keys(doc)
        keys.update(self._prefix_keys(doc, {}))
        candidates: dict[int, _Group] = {}
        for key in keys:
            bucket = self._anchored.get(key)
            if bucket:
                candidates.update(bucket)
        candidates.update(self._unanchored)
        return sorted(
            topic_id
            for group in candidates.values()
            if group.needs <= keys and (group.decided or matches(group.query, doc))
            for topic_id in group.topic_ids
        )

    def match(self, papers: Sequence[Paper]) -> dict[int, list[str]]:
        """Topic id -> ids of the papers it matches, in paper order (matched topics only).

        The batch way: each paper is analysed once into postings (key -> papers having it);
        each group anchored on a key present meets only the papers having its anchor and
        every key it needs (set intersections), which `matches` then checks."""
        docs = [AnalyzedPaper.of(paper) for paper in papers]
        postings = self._postings(docs)
        everyone = set(range(len(docs)))
        found: dict[int, list[str]] = {}
        for group in self._groups_meeting(postings):
            hits = _group_hits(group, postings, everyone)
            if hits and not group.decided:
                hits = [i for i in hits if matches(group.query, docs[i])]
            if hits:
                paper_ids = [papers[i].id for i in hits]
                for topic_id in group.topic_ids:
                    found[topic_id] = paper_ids.copy()
        return found

    def _postings(self, docs: Sequence[AnalyzedPaper]) -> dict[str, set[int]]:
        """Key -> the positions of the papers having it, for the keys some topic uses."""
        postings: defaultdict[str, set[int]] = defaultdict(set)
        in_use = self._keys_in_use.keys()
        prefix_memo: dict[str, tuple[str, ...]] = {}
        for position, doc in enumerate(docs):
            keys = paper_keys(doc)
            keys.update(self._prefix_keys(doc, prefix_memo))
            for key in keys & in_use:
                postings[key].add(position)
        return postings

    def _groups_meeting(self, postings: Mapping[str, set[int]]) -> Iterator[_Group]:
        """Each group anchored on a key of `postings`, once, then the unanchored ones."""
        groups: dict[int, _Group] = {}
        for key in postings:
            bucket = self._anchored.get(key)
            if bucket:
                groups.update(bucket)
        yield from groups.values()
        yield from self._unanchored.values()

    def _prefix_keys(self, doc: AnalyzedPaper, memo: dict[str, tuple[str, ...]]) -> set[str]:
        """The `*prefix` anchors some word or stem of `doc` starts with."""
        keys: set[str] = set()
        if not self._prefix_steps:
            return keys
        for token in doc.words | doc.stems:
            hits = memo.get(token)
            if hits is None:
                hits = memo[token] = self._prefixes_of(token)
            keys.update(hits)
        return keys

    def _prefixes_of(self, token: str) -> tuple[str, ...]:
        hits = []
        for end in range(1, len(token) + 1):
            head = token[:end]
            if head not in self._prefix_steps:
                break
            if PREFIX + head in self._anchored:
                hits.append(PREFIX + head)
        return tuple(hits)

    # Indexing

    def _new_group(self, query: Query) -> _Group:
        choice = self._choose(query)
        group = _Group(next(self._serials), query, choice[1] if choice else ())
        self._groups[query] = group
        if not group.anchors:
            self._unanchored[group.serial] = group
        for key in group.anchors:
            self._anchored.setdefault(key, {})[group.serial] = group
            if key.startswith(PREFIX):
                self._prefix_steps.update(_steps(key[1:]))
        self._keys_in_use.update({*group.anchors, *group.needs})
        return group

    def _drop_group(self, group: _Group) -> None:
        del self._groups[group.query]
        self._unanchored.pop(group.serial, None)
        for key in group.anchors:
            bucket = self._anchored[key]
            del bucket[group.serial]
            if not bucket:
                del self._anchored[key]
            if key.startswith(PREFIX):
                self._prefix_steps.subtract(_steps(key[1:]))
        self._keys_in_use.subtract({*group.anchors, *group.needs})
        # Drop the counts no topic needs any more (`+=` keeps only positive ones).
        self._prefix_steps += Counter()
        self._keys_in_use += Counter()

    def _choose(self, query: Query) -> tuple[float, tuple[str, ...]] | None:
        """The anchors of the required clause expected to be rarest, if any can anchor."""
        choices = (self._clause_anchors(clause) for clause in query.required)
        return min((c for c in choices if c is not None), key=lambda c: c[0], default=None)

    def _clause_anchors(self, clause: Clause) -> tuple[float, tuple[str, ...]] | None:
        """Keys one of which every paper matching `clause` has, with their expected cost."""
        costs = self._costs
        options: list[tuple[float, str]]
        if isinstance(clause, Term):
            options = [(costs.stem(s, clause.is_phrase), s) for s in clause.stems]
        elif isinstance(clause, Author):
            options = [(costs.author_word(w), AUTHOR + w) for w in clause.words]
        elif isinstance(clause, Prefix):
            options = [(costs.prefix(clause.prefix), PREFIX + clause.prefix)]
            options = options if clause.prefix else []
        elif isinstance(clause, Category):
            options = [(costs.category(clause.name), CATEGORY + clause.name)]
        elif isinstance(clause, AnyOf):
            return self._any_of_anchors(clause)
        else:
            raise TypeError(clause)
        best = min(options, default=None)
        return None if best is None else (best[0], (best[1],))

    def _any_of_anchors(self, clause: AnyOf) -> tuple[float, tuple[str, ...]] | None:
        chosen = [self._clause_anchors(option) for option in clause.options]
        if not chosen or None in chosen:
            return None
        found = [c for c in chosen if c is not None]
        anchors = tuple(dict.fromkeys(key for _, keys in found for key in keys))
        return (sum(cost for cost, _ in found), anchors)


def _steps(prefix: str) -> list[str]:
    return [prefix[:end] for end in range(1, len(prefix) + 1)]


def _group_hits(
    group: _Group, postings: Mapping[str, set[int]], everyone: set[int]
) -> list[int]:
    """The positions of the papers having one of the group's anchors and every key it needs,
    ascending."""
    try:
        needed = sorted((postings[key] for key in group.needs), key=len)
    except KeyError:
        return []
    if not group.anchors:
        candidates = everyone
    elif len(group.anchors) == 1 or group.needs.issuperset(group.anchors):
        candidates = postings.get(group.anchors[0], set())
    else:
        candidates = set().union(*(postings.get(key, ()) for key in group.anchors))
    return sorted(candidates.intersection(*needed))


def _needed_keys(clause: Clause) -> list[str]:
    """Keys every paper matching `clause` has: all stems of a term, all words of an author,
    the category, the prefix (an `AnyOf` needs none in particular)."""
    if isinstance(clause, Term):
        return list(clause.stems)
    if isinstance(clause, Author):
        return [AUTHOR + w for w in clause.words]
    if isinstance(clause, Prefix):
        return [PREFIX + clause.prefix] if clause.prefix else []
    if isinstance(clause, Category):
        return [CATEGORY + clause.name]
    return []


def _decided_by_keys(query: Query) -> bool:
    """Whether having the needed keys (or, for a lone `AnyOf`, one of its anchors) is the
    match itself: nothing excluded, no dates, and each required clause a single key, i.e.
    one word, one author word, a category or a prefix."""
    if query.excluded or query.since or query.until or not query.required:
        return False
    if len(query.required) == 1 and isinstance(query.required[0], AnyOf):
        options = query.required[0].options
        return bool(options) and all(_is_one_key(o) for o in options)
    return all(_is_one_key(clause) for clause in query.required)


def _is_one_key(clause: Clause) -> bool:
    if isinstance(clause, Term):
        return len(clause.stems) == 1
    if isinstance(clause, Author):
        return len(clause.words) == 1
    if isinstance(clause, Prefix):
        return bool(clause.prefix)
    return isinstance(clause, Category)


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
