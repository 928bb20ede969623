"""A digest's order for one channel: the day's trending order blended with similarity to the
channel's profile, keeping the day's pulse and saying why a paper was lifted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Paper
from bot.taste.profile import ChannelProfile
from bot.taste.vectors import CountedFreqs, Vector, dot, vectorize
from bot.wording import plural

PULSE = 10  # the day's top this many trending papers...
KEEP_PULSE = 2  # ...of which every digest keeps at least this many
LIKE_SIMILAR = 0.2  # cosine above which a paper is "like" a liked one
TOPIC_SIMILAR = 0.05
TOPIC_ONLY_WEIGHT = 0.5  # the taste's share of the blend from a topic alone...
VOTED_WEIGHT = 0.5  # ...and with votes, growing by VOTE_STEP a vote up to MAX_WEIGHT
VOTE_STEP = 0.03
MAX_WEIGHT = 0.85
TOPIC_REASON = "matches this channel's topic"


@dataclass(frozen=True)
class Ranked:
    papers: tuple[Paper, ...]
    reasons: tuple[str | None, ...]  # one per paper: why taste lifted it, None if it did not


def taste_weight(profile: ChannelProfile) -> float:
    if not profile.liked and profile.votes == 0:
        return TOPIC_ONLY_WEIGHT
    return min(MAX_WEIGHT, VOTED_WEIGHT + VOTE_STEP * profile.votes)


def rerank(candidates: Sequence[Paper], profile: ChannelProfile, limit: int) -> Ranked:
    """The first `limit` of `candidates` (every paper the digest may show, in trending
    order) for a channel with `profile`. Nothing is dropped for taste: a channel that turned
    everything down still gets `limit` papers, and at least `KEEP_PULSE` of the first `PULSE`
    trending ones stay."""
    if limit <= 0 or not candidates:
        return Ranked((), ())
    if not profile.vector:
        plain = tuple(candidates[:limit])
        return Ranked(plain, (None,) * len(plain))
    freqs = profile.freqs if profile.freqs is not None else CountedFreqs(candidates)
    vectors = vectorize(candidates, freqs)
    similarity = [dot(v, profile.vector) for v in vectors]
    scale = max(abs(s) for s in similarity) or 1.0
    weight = taste_weight(profile)
    count = len(candidates)
    score = [(1 - weight) * (1 - i / count) + weight * similarity[i] / scale for i in range(count)]
    order = sorted(range(count), key=lambda i: (-score[i], i))
    chosen = _keep_pulse(order[:limit], min(PULSE, count), limit)
    chosen.sort(key=lambda i: (-score[i], i))
    reasons = tuple(
        _reason(vectors[i], profile) if place < i else None for place, i in enumerate(chosen)
    )
    return Ranked(tuple(candidates[i] for i in chosen), reasons)


def _keep_pulse(chosen: list[int], pulse: int, limit: int) -> list[int]:
    """`chosen` (indexes in trending order, best first) with at least `KEEP_PULSE` of the
    first `pulse`: the best trending ones missing replace the last chosen others."""
    need = min(KEEP_PULSE, pulse, limit) - sum(1 for i in chosen if i < pulse)
    if need <= 0:
        return chosen
    missing = [i for i in range(pulse) if i not in chosen][:need]
    others = [i for i in chosen if i >= pulse]
    dropped = set(others[len(others) - need :])
    return [i for i in chosen if i not in dropped] + missing


def _reason(vector: Vector, profile: ChannelProfile) -> str | None:
    alike = profile.liked_alike(vector, LIKE_SIMILAR)
    if alike:
        return f"like {plural(alike, 'paper')} this channel liked"
    if profile.topic and dot(vector, profile.topic) >= TOPIC_SIMILAR:
        return TOPIC_REASON
    return None
