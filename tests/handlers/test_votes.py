"""The "More like this" and "Not for us" buttons, pressed as neutral presses: no platform."""

from __future__ import annotations

import pytest

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.render.neutral import Notice, Reply
from bot.storage.types import VoteCounts
from handlers.buttons import MORE_LIKE, NOT_FOR_US, Press, needs_manager
from handlers.context import Context, Invocation
from handlers.router import press
from handlers.votes import GONE_PAPER
from tests.conftest import NOW


def _ctx(services: Services, user: str = "U1", channel: str = "C1") -> Context:
    return Context(Invocation("slack", "T1", channel, user, ""), services, NOW)


def _notice(reply: Reply) -> Notice:
    assert isinstance(reply.content, Notice) and reply.ephemeral
    return reply.content


async def _paper_id(services: Services, query: str = "graph") -> str:
    return (await services.search.search(query, limit=1)).hits[0].paper.id


async def _counts(services: Services, paper_id: str, channel: str = "C1") -> VoteCounts:
    pk = (await services.papers.pks_for_ids([paper_id]))[paper_id]
    return await services.votes.counts(f"slack:T1:{channel}", pk)


async def test_more_like_this_counts_the_vote_and_shows_papers_like_it(seeded: Services) -> None:
    paper_id = await _paper_id(seeded)
    notice = _notice(await press(_ctx(seeded), Press(MORE_LIKE, paper_id)))
    assert notice.text.startswith("Noted: more like this — 1 person here liked it.")
    assert not notice.is_error
    assert 0 < len(notice.papers) <= 5 and paper_id not in {p.id for p in notice.papers}
    again = _notice(await press(_ctx(seeded, user="U2"), Press(MORE_LIKE, paper_id)))
    assert again.text.startswith("Noted: more like this — 2 people here liked it.")
    assert await _counts(seeded, paper_id) == VoteCounts(2, 0)


async def test_not_for_us_counts_the_vote_in_one_line(seeded: Services) -> None:
    paper_id = await _paper_id(seeded)
    notice = _notice(await press(_ctx(seeded), Press(NOT_FOR_US, paper_id)))
    assert notice.text == "Noted: not for us — 1 person here turned it down."
    assert notice.papers == ()
    assert await _counts(seeded, paper_id) == VoteCounts(0, 1)


async def test_a_users_new_vote_replaces_their_last(seeded: Services) -> None:
    paper_id = await _paper_id(seeded)
    await press(_ctx(seeded), Press(MORE_LIKE, paper_id))
    await press(_ctx(seeded), Press(MORE_LIKE, paper_id))
    assert await _counts(seeded, paper_id) == VoteCounts(1, 0)
    changed = _notice(await press(_ctx(seeded), Press(NOT_FOR_US, paper_id)))
    assert changed.text == "Noted: not for us — 1 person here turned it down."
    assert await _counts(seeded, paper_id) == VoteCounts(0, 1)


async def test_a_channels_votes_never_count_in_another(seeded: Services) -> None:
    paper_id = await _paper_id(seeded)
    await press(_ctx(seeded, channel="C1"), Press(MORE_LIKE, paper_id))
    elsewhere = _notice(await press(_ctx(seeded, channel="C2"), Press(MORE_LIKE, paper_id)))
    assert elsewhere.text.startswith("Noted: more like this — 1 person here liked it.")
    assert await _counts(seeded, paper_id, "C1") == VoteCounts(1, 0)
    assert await _counts(seeded, paper_id, "C2") == VoteCounts(1, 0)


async def test_a_paper_no_longer_in_the_corpus_records_nothing(seeded: Services) -> None:
    notice = _notice(await press(_ctx(seeded), Press(MORE_LIKE, "2101.00000")))
    assert notice.is_error and notice.text == GONE_PAPER
    assert await seeded.votes.channel_counts("slack:T1:C1") == {}


@pytest.mark.parametrize("action", [MORE_LIKE, NOT_FOR_US])
@pytest.mark.parametrize("value", ["", None, "2509.04664 or 1=1", "2509.04664" * 9])
async def test_a_value_paperwire_did_not_write_is_refused(
    seeded: Services, action: str, value: str | None
) -> None:
    notice = _notice(await press(_ctx(seeded), Press(action, value)))
    assert notice.is_error and notice.text == STALE_BUTTON
    assert await seeded.votes.channel_counts("slack:T1:C1") == {}


def test_anyone_in_the_channel_may_vote() -> None:
    assert not needs_manager(MORE_LIKE) and not needs_manager(NOT_FOR_US)
