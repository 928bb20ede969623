"""What `/papers forget me` and `/papers digest taste reset` remove, and the digest's taste
setting: on every backend. Each removes only its own user's (or channel's) rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.alerts.topics import AlertSettings
from bot.digests.settings import DigestSettings
from bot.models import Destination
from bot.storage import Storage
from bot.storage.types import VoteCounts
from tests.conftest import NOW, make_observation

ANN = Destination("slack", "T1", "U1", kind="dm")
BOB = Destination("slack", "T1", "U2", kind="dm")
CHANNEL, OTHER = "slack:T1:C1", "slack:T1:C2"
DAY = date(2026, 11, 22)


async def _pks(storage: Storage, *ids: str) -> list[int]:
    await storage.papers.ingest([make_observation(arxiv_id=i) for i in ids])
    found = await storage.papers.pks_for_ids(ids)
    return [found[i] for i in ids]


async def test_the_taste_setting_is_kept_on_by_default(storage: Storage) -> None:
    settings = DigestSettings(Destination.from_key(CHANNEL))
    await storage.digests.save_channel_digest(settings, "U1", NOW)
    assert (await storage.digests.channel_digest(CHANNEL)) == settings
    assert settings.taste
    await storage.digests.save_channel_digest(replace(settings, taste=False), "U1", NOW)
    saved = await storage.digests.channel_digest(CHANNEL)
    assert saved is not None and not saved.taste
    assert "taste off" in saved.describe()


async def test_a_channels_votes_are_cleared_and_no_others(storage: Storage) -> None:
    first, second = await _pks(storage, "2611.00001", "2611.00002")
    await storage.votes.vote(CHANNEL, first, ANN.key, 1, NOW)
    await storage.votes.vote(CHANNEL, second, BOB.key, -1, NOW)
    await storage.votes.vote(OTHER, first, ANN.key, 1, NOW)
    assert await storage.votes.forget_channel(CHANNEL) == 2
    assert await storage.votes.channel_counts(CHANNEL) == {}
    assert await storage.votes.channel_counts(OTHER) == {first: VoteCounts(1, 0)}
    assert await storage.votes.forget_channel(CHANNEL) == 0


async def test_a_users_topics_alerts_and_reading_list_are_forgotten(storage: Storage) -> None:
    [pk] = await _pks(storage, "2611.00001")
    for owner in (ANN, BOB):
        await storage.subscriptions.add_subscription(owner, "diffusion", NOW, 10)
        await storage.subscriptions.save_alert_settings(AlertSettings(owner), NOW)
        await storage.saved_papers.save_paper(owner, pk, NOW)
    await storage.subscriptions.add_subscription(ANN, "agents", NOW, 10)
    [sub] = [s.id for s in await storage.subscriptions.subscriptions(ANN)][:1]
    await storage.subscriptions.queue_matches([(ANN, "2611.00001", sub)], [], NOW)
    assert await storage.subscriptions.pending_matches(ANN)

    assert await storage.subscriptions.forget_user(ANN) == 2
    assert await storage.saved_papers.forget_user(ANN) == 1
    assert await storage.subscriptions.subscriptions(ANN) == []
    assert await storage.subscriptions.alert_settings(ANN) is None
    assert await storage.subscriptions.pending_matches(ANN) == []
    assert await storage.saved_papers.saved_papers(ANN) == []
    # Bob's are untouched.
    assert [s.topic for s in await storage.subscriptions.subscriptions(BOB)] == ["diffusion"]
    assert await storage.subscriptions.alert_settings(BOB) is not None
    assert len(await storage.saved_papers.saved_papers(BOB)) == 1


async def test_what_was_sent_to_a_users_dms_is_forgotten(storage: Storage) -> None:
    await _pks(storage, "2611.00001")
    outbox = storage.outbox
    for owner in (ANN, BOB):
        assert await storage.digests.claim_run(owner.key, DAY, NOW, NOW - NOW)
        await outbox.enqueue(owner.key, '"x"', ["2611.00001"], NOW, run=(owner.key, DAY))
        await outbox.record_delivery(owner.key, NOW, error="HTTP 500")
    assert await outbox.forget_destination(ANN.key, "user forgotten") == 1
    assert await outbox.sent_paper_ids(ANN.key) == frozenset()
    assert await storage.digests.digest_runs(ANN.key) == []
    assert await outbox.due_messages(ANN.key, NOW) == []
    assert (await outbox.destination_state(ANN.key)).last_error_at is None
    assert await outbox.sent_paper_ids(BOB.key) == {"2611.00001"}
    assert len(await storage.digests.digest_runs(BOB.key)) == 1
    assert len(await outbox.due_messages(BOB.key, NOW)) == 1


async def test_what_a_users_dms_said_is_not_kept_once_forgotten(storage: Storage) -> None:
    """The messages to a forgotten user's DMs, delivered or dropped, keep no content (their
    topics, their papers) until the outbox's pruning; others' are left alone."""
    await _pks(storage, "2611.00001")
    outbox = storage.outbox
    for owner in (ANN, BOB):
        sent = await outbox.enqueue(owner.key, '"topic: my secret"', ["2611.00001"], NOW)
        await outbox.mark_sent(sent, ["m1"], NOW)
        await outbox.enqueue(owner.key, '"topic: my secret"', ["2611.00001"], NOW)
    assert await outbox.forget_destination(ANN.key, "user forgotten") == 1
    rows = await storage.db.fetch_raw(
        "SELECT destination, reply, CAST(paper_ids AS TEXT) FROM outbox ORDER BY id"
    )
    kept = [(d, "secret" in r, "2611" in p) for d, r, p in rows]
    assert sorted(kept) == [
        (ANN.key, False, False),
        (ANN.key, False, False),
        (BOB.key, True, True),
        (BOB.key, True, True),
    ]


async def test_a_user_is_forgotten_as_who_last_changed_a_digest(storage: Storage) -> None:
    mine = DigestSettings(Destination.from_key(CHANNEL))
    theirs = DigestSettings(Destination.from_key("slack:T2:C1"))  # another workspace's U1
    await storage.digests.save_channel_digest(mine, "U1", NOW)
    await storage.digests.save_channel_digest(theirs, "U1", NOW)
    assert await storage.digests.forget_editor("slack:T1:", "U1") == 1
    rows = await storage.db.fetch_raw(
        "SELECT destination, updated_by FROM channel_digests ORDER BY destination"
    )
    assert [tuple(r) for r in rows] == [(CHANNEL, ""), ("slack:T2:C1", "U1")]
    assert await storage.digests.channel_digest(CHANNEL) == mine  # the settings stay
