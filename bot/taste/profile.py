"""A channel's profile: Rocchio over TF-IDF vectors. The mean of the papers it liked, minus
a part of the mean of those it turned down, plus its topic: alone before any vote (the cold
start), as a light pull once votes exist."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bot.errors import UserError
from bot.models import Paper
from bot.search.analysis import stem, words
from bot.search.query import Prefix, Term, parse
from bot.taste.vectors import (
    DocFreqs,
    Vector,
    centroid,
    idf,
    strongest,
    surface_words,
    unit,
    vectorize,
)

LIKED_WEIGHT = 1.0
DISLIKED_WEIGHT = 0.5  # away from what it turned down, less strongly than toward likes
TOPIC_ALONE = 1.0
TOPIC_WITH_VOTES = 0.3  # once votes speak, the topic only keeps a small say
PROFILE_TERMS = 300
MAX_VOTED = 60  # the newest liked (and disliked) papers make the profile
MAX_EXAMPLES = 50  # liked papers kept to explain a lift ("like 3 papers this channel liked")


@dataclass(frozen=True)
class ChannelProfile:
    """What one channel reads, from its own votes and topic only."""

    votes: int  # the votes behind it: likes and dislikes, every voter, every paper
    vector: Vector  # the Rocchio query; negative weights point away
    liked: tuple[Vector, ...] = ()  # the newest liked papers' vectors, to explain a lift
    topic: Vector = field(default_factory=dict)
    topic_words: Mapping[str, str] = field(default_factory=dict)  # stem: the word typed
    examples: tuple[Paper, ...] = field(default=(), compare=False, repr=False)  # voted papers
    freqs: DocFreqs | None = field(default=None, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        return not any(w > 0 for w in self.vector.values())

    @cached_property
    def _liked_postings(self) -> dict[str, list[tuple[int, float]]]:
        postings: dict[str, list[tuple[int, float]]] = {}
        for number, vector in enumerate(self.liked):
            for term, weight in vector.items():
                postings.setdefault(term, []).append((number, weight))
        return postings

    def liked_alike(self, vector: Vector, threshold: float) -> int:
        """How many of the liked papers `vector` is alike (cosine at least `threshold`):
        summed over shared terms only, not a dot product with each."""
        sums = [0.0] * len(self.liked)
        postings = self._liked_postings
        for term, weight in vector.items():
            for number, liked_weight in postings.get(term, ()):
                sums[number] += weight * liked_weight
        return sum(1 for total in sums if total >= threshold)

    def top_terms(self, n: int = 10) -> list[str]:
        """The words that pull hardest toward a paper, as people write them."""
        positive = (t for t, w in self.vector.items() if w > 0)
        best = sorted(positive, key=lambda t: -self.vector[t])[: max(n, 0)]
        written = {**surface_words(self.examples, best), **self.topic_words}
        return [written.get(t, t) for t in best]


def empty_profile() -> ChannelProfile:
    return ChannelProfile(votes=0, vector={})


def build_profile(
    liked: Sequence[Paper],
    disliked: Sequence[Paper],
    freqs: DocFreqs,
    *,
    votes: int,
    topic: str | None = None,
) -> ChannelProfile:
    """The profile of a channel that liked `liked` (newest first) and turned down
    `disliked`, out of `votes` votes, with its digest `topic` (search language) if any."""
    liked, disliked = liked[:MAX_VOTED], disliked[:MAX_VOTED]
    liked_vectors = vectorize(liked, freqs)
    liked_mean = centroid(liked_vectors)
    disliked_mean = centroid(vectorize(disliked, freqs))
    topic_vector, topic_words = topic_vector_of(topic, freqs)
    topic_weight = TOPIC_WITH_VOTES if liked_vectors else TOPIC_ALONE
    combined: dict[str, float] = {}
    for part, weight in (
        (liked_mean, LIKED_WEIGHT),
        (disliked_mean, -DISLIKED_WEIGHT),
        (topic_vector, topic_weight),
    ):
        for term, value in part.items():
            combined[term] = combined.get(term, 0.0) + weight * value
    by_size = strongest({t: abs(w) for t, w in combined.items()}, PROFILE_TERMS)
    return ChannelProfile(
        votes=votes,
        vector={t: combined[t] for t in by_size},
        liked=tuple(liked_vectors[:MAX_EXAMPLES]),
        topic=topic_vector,
        topic_words=topic_words,
        examples=(*liked, *disliked),
        freqs=freqs,
    )


def topic_vector_of(topic: str | None, freqs: DocFreqs) -> tuple[Vector, dict[str, str]]:
    """The topic's words (and prefixes, as their stem) weighted by rarity, and the word a
    person typed for each. Exclusions, authors and categories add no words: the topic
    filter applies them to every candidate already."""
    if not topic:
        return {}, {}
    try:
        query = parse(topic)
    except UserError:
        return {}, {}
    terms: set[str] = set()
    for clause in query.flat_required():
        if isinstance(clause, Term):
            terms.update(clause.stems)
        elif isinstance(clause, Prefix):
            terms.add(stem(clause.prefix))
    if not terms:
        return {}, {}
    freqs.refresh()
    df = freqs.lookup(terms)
    total = max(freqs.total, 1)
    vector = unit({t: max(idf(df[t], total), 0.1) for t in terms})
    typed = {stem(w): w for w in words(topic.replace("*", " "))}
    return vector, {t: typed.get(t, t) for t in terms}
