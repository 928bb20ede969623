"""A channel's votes on its digests' papers: on every backend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage import Storage, open_storage
from bot.storage.types import VoteCounts
from tests.conftest import NOW, make_observation

CHANNEL = "slack:T1:C1"
OTHER = "slack:T1:C2"
ANN, BOB, CAT = "slack:T1:@U1", "slack:T1:@U2", "slack:T1:@U3"


async def _pks(storage: Storage, *ids: str) -> list[int]:
    await storage.papers.ingest([make_observation(arxiv_id=i) for i in ids])
    found = await storage.papers.pks_for_ids(ids)
    return [found[i] for i in ids]


async def test_votes_count_per_paper_without_saying_who(storage: Storage) -> None:
    first, second = await _pks(storage, "2611.00001", "2611.00002")
    assert await storage.votes.vote(CHANNEL, first, ANN, 1, NOW) == VoteCounts(1, 0)
    assert await storage.votes.vote(CHANNEL, first, BOB, 1, NOW) == VoteCounts(2, 0)
    assert await storage.votes.vote(CHANNEL, first, CAT, -1, NOW) == VoteCounts(2, 1)
    await storage.votes.vote(CHANNEL, second, ANN, -1, NOW)
    assert await storage.votes.channel_counts(CHANNEL) == {
        first: VoteCounts(2, 1),
        second: VoteCounts(0, 1),
    }
    assert await storage.votes.channel_counts(CHANNEL, [second]) == {second: VoteCounts(0, 1)}
    assert await storage.votes.channel_counts(CHANNEL, []) == {}
    assert await storage.votes.vote_of(CHANNEL, first, CAT) == -1
    assert await storage.votes.vote_of(CHANNEL, second, BOB) is None


async def test_one_vote_per_user_and_paper_which_a_new_one_replaces(storage: Storage) -> None:
    [pk] = await _pks(storage, "2611.00001")
    await storage.votes.vote(CHANNEL, pk, ANN, 1, NOW)
    await storage.votes.vote(CHANNEL, pk, ANN, 1, NOW + timedelta(minutes=1))
    assert await storage.votes.counts(CHANNEL, pk) == VoteCounts(1, 0)
    assert await storage.votes.vote(CHANNEL, pk, ANN, -1, NOW) == VoteCounts(0, 1)
    assert await storage.votes.vote_of(CHANNEL, pk, ANN) == -1


async def test_a_vote_can_be_taken_back(storage: Storage) -> None:
    [pk] = await _pks(storage, "2611.00001")
    await storage.votes.vote(CHANNEL, pk, ANN, 1, NOW)
    assert await storage.votes.remove_vote(CHANNEL, pk, ANN)
    assert not await storage.votes.remove_vote(CHANNEL, pk, ANN)
    assert await storage.votes.counts(CHANNEL, pk) == VoteCounts()
    assert await storage.votes.channel_counts(CHANNEL) == {}


async def test_one_channels_votes_never_count_in_another(storage: Storage) -> None:
    [pk] = await _pks(storage, "2611.00001")
    await storage.votes.vote(CHANNEL, pk, ANN, 1, NOW)
    await storage.votes.vote(OTHER, pk, ANN, -1, NOW)  # the same user, elsewhere
    assert await storage.votes.counts(CHANNEL, pk) == VoteCounts(1, 0)
    assert await storage.votes.counts(OTHER, pk) == VoteCounts(0, 1)
    assert await storage.votes.channel_counts("slack:T2:C1") == {}


async def test_forgetting_a_user_removes_their_votes_everywhere(storage: Storage) -> None:
    [pk] = await _pks(storage, "2611.00001")
    await storage.votes.vote(CHANNEL, pk, ANN, 1, NOW)
    await storage.votes.vote(OTHER, pk, ANN, 1, NOW)
    await storage.votes.vote(CHANNEL, pk, BOB, -1, NOW)
    assert await storage.votes.forget_user(ANN) == 2
    assert await storage.votes.channel_counts(CHANNEL) == {pk: VoteCounts(0, 1)}
    assert await storage.votes.channel_counts(OTHER) == {}


async def test_a_vote_is_more_like_this_or_not_for_us(storage: Storage) -> None:
    [pk] = await _pks(storage, "2611.00001")
    with pytest.raises(ValueError):
        await storage.votes.vote(CHANNEL, pk, ANN, 2, NOW)


async def test_votes_survive_a_restart(database: str, tmp_path: Path) -> None:
    where = str(tmp_path / "paperwire.db") if database == ":memory:" else database
    async with open_storage(where, clock=lambda: NOW) as before:
        [pk] = await _pks(before, "2611.00001")
        await before.votes.vote(CHANNEL, pk, ANN, 1, NOW)
    async with open_storage(where, clock=lambda: NOW) as after:
        assert await after.votes.counts(CHANNEL, pk) == VoteCounts(1, 0)
        assert await after.votes.vote_of(CHANNEL, pk, ANN) == 1
