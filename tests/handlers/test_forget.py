"""`/papers forget me` through the router and the buttons (no platform): it asks first,
a Cancel leaves everything, and confirmed it removes the asker's votes, topics, alert
settings and reading list, and nobody else's."""

from __future__ import annotations

from bot.alerts.topics import AlertSettings
from bot.app import Services
from bot.digests.settings import DigestSettings
from bot.models import Destination
from bot.render.neutral import Notice, Reply
from handlers.buttons import MORE_LIKE, NOT_FOR_US, Press, needs_manager
from handlers.confirm import CANCEL
from handlers.context import Context, Invocation
from handlers.forget import FORGET_ME
from handlers.router import dispatch, press
from tests.conftest import NOW

ANN = Destination("slack", "T1", "U1", kind="dm")
BOB = Destination("slack", "T1", "U2", kind="dm")
ANN_CHANNEL = Destination("slack", "T1", "C1")


def _ctx(services: Services, text: str = "", user: str = "U1", channel: str = "C1") -> Context:
    return Context(Invocation("slack", "T1", channel, user, text), services, NOW)


def _notice(reply: Reply) -> Notice:
    assert isinstance(reply.content, Notice)
    return reply.content


async def _ok(services: Services, text: str, user: str = "U1") -> Notice:
    notice = _notice(await dispatch(_ctx(services, text, user)))
    assert not notice.is_error, notice.text
    return notice


Kept = tuple[list[tuple[str, int, int]], list[str], AlertSettings | None, list[str]]


async def _everything(services: Services, owner: Destination) -> Kept:
    """What paperwire keeps about `owner`: their votes in two channels, topics, alert
    settings, reading list."""
    votes: list[tuple[str, int, int]] = []
    for channel in ("C1", "C2"):
        for pk in await services.votes.channel_counts(f"slack:T1:{channel}"):
            vote = await services.votes.vote_of(f"slack:T1:{channel}", pk, owner.key)
            if vote is not None:
                votes.append((channel, pk, vote))
    return (
        votes,
        [s.topic for s in await services.subscriptions.subscriptions(owner)],
        await services.subscriptions.alert_settings(owner),
        [s.paper_id for s in await services.saved_papers.saved_papers(owner)],
    )


async def _with_data(services: Services) -> list[str]:
    hits = (await services.search.search("graph", limit=2)).hits
    ids = [hit.paper.id for hit in hits]
    pks = await services.papers.pks_for_ids(ids)
    for user, owner in (("U1", ANN), ("U2", BOB)):
        await press(_ctx(services, user=user), Press(MORE_LIKE, ids[0]))
        await _ok(services, "subscribe diffusion", user)
        await _ok(services, "alerts 07:30 Europe/Paris", user)
        await services.saved_papers.save_paper(owner, pks[ids[0]], NOW)
    await press(_ctx(services, channel="C2"), Press(NOT_FOR_US, ids[1]))
    await _ok(services, "subscribe agents")
    await services.saved_papers.save_paper(ANN, pks[ids[1]], NOW)
    return ids


async def test_forget_me_asks_first_and_a_cancel_removes_nothing(seeded: Services) -> None:
    await _with_data(seeded)
    before = await _everything(seeded, ANN)
    assert len(before[0]) == 2
    question = await dispatch(_ctx(seeded, "forget me"))
    notice = _notice(question)
    assert question.private and question.ephemeral and not notice.is_error
    assert "votes in every channel" in notice.text and "reading list" in notice.text
    assert [(c.label, c.action) for c in notice.choices] == [
        ("Forget me", FORGET_ME),
        ("Cancel", CANCEL),
    ]
    assert not needs_manager(FORGET_ME)
    cancelled = await press(_ctx(seeded), Press(CANCEL, None))
    assert _notice(cancelled).text == "Cancelled: nothing was removed." and cancelled.private
    assert await _everything(seeded, ANN) == before


async def test_the_forget_me_button_removes_the_pressers_data_and_no_one_elses(
    seeded: Services,
) -> None:
    await _with_data(seeded)
    bobs = await _everything(seeded, BOB)
    reply = await press(_ctx(seeded), Press(FORGET_ME, None))
    assert reply.private
    assert _notice(reply).text == (
        "Done: removed 2 votes, 2 topics with your alert settings, and 2 saved papers."
    )
    assert await _everything(seeded, ANN) == ([], [], None, [])
    assert await _everything(seeded, BOB) == bobs and len(bobs[0]) == 1  # Bob's vote stays
    assert await seeded.votes.channel_counts("slack:T1:C2") == {}
    again = _notice(await press(_ctx(seeded), Press(FORGET_ME, None)))
    assert (
        again.text
        == "Done: removed 0 votes, 0 topics with your alert settings, and 0 saved papers."
    )


async def test_forget_me_yes_forgets_at_once(seeded: Services) -> None:
    await _with_data(seeded)
    await seeded.digests.save_channel_digest(DigestSettings(ANN_CHANNEL), "U1", NOW)
    notice = await _ok(seeded, "forget me --yes")
    assert notice.text.startswith("Done: removed 2 votes, 2 topics")
    assert await seeded.subscriptions.subscriptions(ANN) == []
    # Nor is Ann kept as who last changed the channel's digest (its settings stay).
    rows = await seeded.db.fetch_raw("SELECT updated_by FROM channel_digests")
    assert [tuple(r) for r in rows] == [("",)]


async def test_anything_but_forget_me_is_refused_and_removes_nothing(seeded: Services) -> None:
    await _with_data(seeded)
    before = await _everything(seeded, ANN)
    for text in ("forget", "forget bob", "forget me now", "forget me --yes please"):
        notice = _notice(await dispatch(_ctx(seeded, text)))
        assert notice.is_error and "`/papers forget me`" in notice.text, text
    assert await _everything(seeded, ANN) == before
