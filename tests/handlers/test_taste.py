"""A channel's taste through the router and the buttons (no platform): `digest set taste`,
`digest taste [reset]` for channel managers, the taste in `digest status` as counts only."""

from __future__ import annotations

from bot.app import Services
from bot.render.neutral import Notice, Reply
from handlers.buttons import MORE_LIKE, NOT_FOR_US, Press, needs_manager
from handlers.confirm import CANCEL
from handlers.context import Context, Invocation
from handlers.guards import REFUSAL
from handlers.router import dispatch, press
from handlers.taste import TASTE_RESET
from tests.conftest import NOW

CHANNEL = "slack:T1:C1"


def _ctx(services: Services, text: str = "", user: str = "U1", manager: bool = True) -> Context:
    return Context(Invocation("slack", "T1", "C1", user, text, is_manager=manager), services, NOW)


def _notice(reply: Reply) -> Notice:
    assert isinstance(reply.content, Notice)
    return reply.content


async def _ask(services: Services, text: str, manager: bool = True) -> Notice:
    return _notice(await dispatch(_ctx(services, text, manager=manager)))


async def _vote(services: Services, users: int, action: str, query: str) -> None:
    paper_id = (await services.search.search(query, limit=1)).hits[0].paper.id
    for n in range(users):
        await press(_ctx(services, user=f"U{n}"), Press(action, paper_id))


async def test_taste_is_on_by_default_and_a_manager_turns_it_off(seeded: Services) -> None:
    await _ask(seeded, "digest on 08:30")
    status = (await _ask(seeded, "digest status")).text
    assert "Taste: on, no votes yet" in status
    saved = await _ask(seeded, "digest set taste off")
    assert not saved.is_error and "taste off" in saved.text
    stored = await seeded.digests.channel_digest(CHANNEL)
    assert stored is not None and not stored.taste and stored.time.hour == 8
    assert "Taste: off" in (await _ask(seeded, "digest status")).text
    await _ask(seeded, "digest set taste ON")
    stored = await seeded.digests.channel_digest(CHANNEL)
    assert stored is not None and stored.taste


async def test_a_bad_taste_value_is_one_line_and_changes_nothing(seeded: Services) -> None:
    await _ask(seeded, "digest on")
    before = await seeded.digests.channel_digest(CHANNEL)
    notice = await _ask(seeded, "digest set taste maybe")
    assert notice.is_error and notice.text == "`taste` is `on` or `off`."
    assert await seeded.digests.channel_digest(CHANNEL) == before


async def test_status_shows_the_votes_as_counts_never_who(seeded: Services) -> None:
    await _ask(seeded, "digest on")
    await _vote(seeded, 3, MORE_LIKE, "graph")
    await _vote(seeded, 1, NOT_FOR_US, "diffusion")
    status = (await _ask(seeded, "digest status")).text
    assert "Taste: on, from 3 More like this and 1 Not for us on 2 papers." in status
    assert not any(f"U{n}" in status for n in range(3))
    assert (await _ask(seeded, "digest taste")).text.startswith("Taste: on, from 3 More like")
    # The words it leans to come from the liked paper, as written (not stems).
    liked = (await seeded.search.search("graph", limit=1)).hits[0].paper
    [leans] = [line for line in status.splitlines() if line.startswith("It leans to: ")]
    words = leans.removeprefix("It leans to: ").rstrip(".").split(", ")
    assert 1 <= len(words) <= 8 and "graph" in [w.lower() for w in words]
    written = f"{liked.title} {liked.abstract}".lower()
    assert all(word.lower() in written for word in words), words


async def test_reset_asks_first_and_clears_only_this_channels_votes(seeded: Services) -> None:
    await _vote(seeded, 2, MORE_LIKE, "graph")
    paper_id = (await seeded.search.search("graph", limit=1)).hits[0].paper.id
    other = Context(Invocation("slack", "T1", "C2", "U9", ""), seeded, NOW)
    await press(other, Press(MORE_LIKE, paper_id))

    question = await dispatch(_ctx(seeded, "digest taste reset"))
    notice = _notice(question)
    assert question.private and "clears all 2 votes" in notice.text
    assert [c.action for c in notice.choices] == [TASTE_RESET, CANCEL]
    assert "`/papers digest taste reset --yes`" in notice.text
    assert len(await seeded.votes.channel_counts(CHANNEL)) == 1  # nothing yet

    cancelled = _notice(await press(_ctx(seeded), Press(CANCEL, None)))
    assert cancelled.text == "Cancelled: nothing was removed."
    assert len(await seeded.votes.channel_counts(CHANNEL)) == 1

    done = _notice(await press(_ctx(seeded), Press(TASTE_RESET, None)))
    assert done.text == "Cleared 2 votes: the taste starts again from nothing."
    assert await seeded.votes.channel_counts(CHANNEL) == {}
    assert len(await seeded.votes.channel_counts("slack:T1:C2")) == 1  # another channel's
    assert (await _ask(seeded, "digest taste reset")).text == "This channel has no votes to clear."


async def test_reset_with_yes_clears_at_once(seeded: Services) -> None:
    await _vote(seeded, 1, NOT_FOR_US, "graph")
    notice = await _ask(seeded, "digest taste reset --yes")
    assert notice.text == "Cleared 1 vote: the taste starts again from nothing."
    assert await seeded.votes.channel_counts(CHANNEL) == {}


async def test_only_managers_reset_or_set_the_taste(seeded: Services) -> None:
    await _vote(seeded, 2, MORE_LIKE, "graph")
    for text in ("digest taste reset --yes", "digest taste reset", "digest set taste off"):
        notice = await _ask(seeded, text, manager=False)
        assert notice.is_error and notice.text == REFUSAL
    pressed = _notice(await press(_ctx(seeded, manager=False), Press(TASTE_RESET, None)))
    assert pressed.is_error and pressed.text == REFUSAL
    assert needs_manager(TASTE_RESET) and not needs_manager(CANCEL)
    assert len(await seeded.votes.channel_counts(CHANNEL)) == 1
    assert await seeded.digests.channel_digest(CHANNEL) is None


async def test_an_unknown_taste_command_says_how(seeded: Services) -> None:
    notice = await _ask(seeded, "digest taste wipe")
    assert notice.is_error and "`/papers digest taste reset`" in notice.text
    assert (await _ask(seeded, "digest taste reset now")).is_error
