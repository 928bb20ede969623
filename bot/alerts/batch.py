"""Matching a batch of new papers: each paper analysed once into postings (key -> the papers
having it), and each group of topics sharing a query runs its key test on whole postings at
once (set operations), leaving `matches` only the papers an exact test cannot decide."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from bot.alerts.keys import KeyTest
from bot.models import Paper
from bot.search.matcher import AnalyzedPaper, in_dates, matches
from bot.search.query import Query


class TopicGroup:
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


class PaperBatch:
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

    def paper_ids(self, group: TopicGroup) -> list[str]:
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

    def _anchored(self, group: TopicGroup) -> set[int]:
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

    def _checked(self, group: TopicGroup, positions: list[int]) -> list[int]:
        """What dates and, when the key test is not exact, `matches` leave of `positions`."""
        query, docs = group.query, self.docs
        if group.dated:
            positions = [i for i in positions if in_dates(query, docs[i].days)]
        if not group.test.exact:
            positions = [i for i in positions if matches(query, docs[i])]
        return positions

    def _union(self, keys: Iterable[str]) -> set[int]:
        return set().union(*(self.sets.get(key, ()) for key in keys))
