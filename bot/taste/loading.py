"""A channel's profile from the store: its vote counts, the papers it voted on, and word
rarity from the search index (the whole corpus), remembered between digests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from weakref import WeakKeyDictionary

from bot.models import Paper
from bot.search.index import SearchIndex
from bot.storage import Papers, Votes
from bot.taste.profile import MAX_VOTED, ChannelProfile, build_profile
from bot.taste.vectors import CachedFreqs, CountedFreqs, DocFreqs, vectorize


class Sources(Protocol):
    """What a profile is read from (`Services` has it all)."""

    @property
    def votes(self) -> Votes: ...

    @property
    def papers(self) -> Papers: ...

    @property
    def index(self) -> SearchIndex: ...


# One per index, so that word rarity and vectors are read once for every channel's digest.
_by_index: WeakKeyDictionary[SearchIndex, CachedFreqs] = WeakKeyDictionary()


def freqs_for(index: SearchIndex, fallback: Sequence[Paper] = ()) -> DocFreqs:
    """Word rarity from `index`; from the `fallback` papers while the index is empty (no
    corpus indexed yet)."""
    if index.num_docs() == 0:
        return CountedFreqs(fallback)
    freqs = _by_index.get(index)
    if freqs is None:
        freqs = _by_index[index] = CachedFreqs(index.num_docs, index.doc_freqs_snapshot)
    return freqs


async def load_profile(
    sources: Sources,
    destination_key: str,
    topic: str | None,
    corpus: Sequence[Paper] = (),
) -> ChannelProfile:
    """The profile of the channel at `destination_key` (its votes only) with its digest
    `topic`. A paper counts as liked when more of the channel liked it than turned it down,
    and the other way round; ties count for neither. `corpus` (e.g. the day's candidates)
    gives word rarity only when the index is empty."""
    counts = await sources.votes.channel_counts(destination_key)
    votes = sum(c.likes + c.dislikes for c in counts.values())
    # The newest papers first (keys grow as papers arrive).
    liked_pks = sorted((pk for pk, c in counts.items() if c.likes > c.dislikes), reverse=True)
    disliked_pks = sorted((pk for pk, c in counts.items() if c.dislikes > c.likes), reverse=True)
    liked_pks, disliked_pks = liked_pks[:MAX_VOTED], disliked_pks[:MAX_VOTED]
    found = await sources.papers.papers_by_pk([*liked_pks, *disliked_pks]) if counts else {}
    liked = [found[pk] for pk in liked_pks if pk in found]
    disliked = [found[pk] for pk in disliked_pks if pk in found]
    freqs = freqs_for(sources.index, [*corpus, *liked, *disliked])
    return build_profile(liked, disliked, freqs, votes=votes, topic=topic)


def prepare_vectors(index: SearchIndex, papers: Sequence[Paper]) -> None:
    """Make the vectors of `papers` (a list that just became complete) now, so that each
    channel's digest of it finds them made: the first digest of a day then costs what the
    others do. Only where an index gives word rarity (without one nothing is remembered)."""
    if papers and index.num_docs() > 0:
        vectorize(papers, freqs_for(index))
