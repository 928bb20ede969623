"""What the weekly recap reads and keeps, on every backend: its settings on the channel's
digest, the papers first sent to a channel in a time range, savers counted per workspace,
and its run claimed once per channel and week (the outbox marks it queued, and never
takes it for the channel's digest run of that day)."""

from __future__ import annotations

from datetime import date, time, timedelta

from bot.digests.settings import DigestRun, DigestSettings, Outcome
from bot.models import Destination
from bot.storage import Storage
from tests.conftest import NOW, make_observation

CHANNEL = Destination("slack", "T1", "C1")
IDS = ("2611.00001", "2611.00002", "2611.00003")


async def _pks(storage: Storage) -> list[int]:
    await storage.papers.ingest(
        [make_observation(arxiv_id=i, title=f"Paper {i}") for i in IDS], now=NOW
    )
    found = await storage.papers.pks_for_ids(IDS)
    return [found[i] for i in IDS]


async def test_recap_settings_are_stored_and_turned_off(storage: Storage) -> None:
    settings = DigestSettings(
        CHANNEL, timezone="Europe/Paris", recap_day="sun", recap_time=time(17), recap_name="ml"
    )
    await storage.digests.save_channel_digest(settings, "ada", NOW)
    stored = await storage.digests.channel_digest(CHANNEL.key)
    assert stored == settings and stored.recap_at == time(17)
    default_time = DigestSettings(CHANNEL, time=time(8, 30), recap_day="fri")
    await storage.digests.save_channel_digest(default_time, "ada", NOW)
    stored = await storage.digests.channel_digest(CHANNEL.key)
    assert stored is not None and (stored.recap_time, stored.recap_at) == (None, time(8, 30))
    await storage.digests.save_channel_digest(DigestSettings(CHANNEL), "ada", NOW)
    stored = await storage.digests.channel_digest(CHANNEL.key)
    assert stored is not None and stored.recap_day is None and stored.recap_name is None


async def test_sent_between_lists_the_papers_first_sent_in_the_range(storage: Storage) -> None:
    first, second, third = await _pks(storage)
    outbox = storage.outbox
    await outbox.enqueue(CHANNEL.key, "{}", IDS[:1], NOW - timedelta(days=8))
    await outbox.enqueue(CHANNEL.key, "{}", IDS[1:], NOW - timedelta(days=1))
    await outbox.enqueue(CHANNEL.key, "{}", IDS, NOW)  # sent before: not first sent now
    await outbox.enqueue("slack:T1:C2", "{}", IDS, NOW - timedelta(days=1))  # elsewhere
    week = await outbox.sent_between(CHANNEL.key, NOW - timedelta(days=7), NOW)
    assert [pk for pk, _ in week] == [second, third]
    assert {at for _, at in week} == {NOW - timedelta(days=1)}
    assert [pk for pk, _ in await outbox.sent_between(CHANNEL.key, NOW, NOW)] == []
    assert first not in [pk for pk, _ in await outbox.sent_between(CHANNEL.key, NOW, NOW)]


async def test_savers_are_counted_within_a_workspace(storage: Storage) -> None:
    first, second, third = await _pks(storage)
    saved = storage.saved_papers
    for user in ("U1", "U2", "U3"):
        await saved.save_paper(Destination("slack", "T1", user, "dm"), first, NOW)
    await saved.save_paper(Destination("slack", "T1", "U1", "dm"), second, NOW)
    await saved.save_paper(Destination("slack", "T2", "U9", "dm"), second, NOW)
    await saved.save_paper(Destination("slack", "T1_", "U9", "dm"), third, NOW)
    counts = await saved.saver_counts([first, second, third], "slack:T1:@")
    assert counts == {first: 3, second: 1}  # T2's saver and T1_'s are not T1's
    assert await saved.saver_counts([], "slack:T1:@") == {}


async def test_a_recap_run_is_claimed_once_a_week_and_left_apart_from_the_digest(
    storage: Storage,
) -> None:
    digests, key, monday = storage.digests, f"{CHANNEL.key}#recap", date(2026, 11, 16)
    assert await digests.claim_run(key, monday, NOW, timedelta(hours=1))
    assert not await digests.claim_run(key, monday, NOW, timedelta(hours=1))
    # The channel's own digest of that day is a run of its own (here waiting to be sent).
    assert await digests.claim_run(CHANNEL.key, monday, NOW, timedelta(hours=1))
    await digests.finish_run(DigestRun(CHANNEL.key, monday, NOW, Outcome.QUEUED, NOW))
    message = await storage.outbox.enqueue(CHANNEL.key, "{}", (), NOW, run=(key, monday))
    [recap] = await digests.digest_runs(key)
    assert recap.outcome is Outcome.QUEUED
    # Delivering the recap leaves the digest's run as it was.
    await storage.outbox.mark_sent(message, ["ts1"], NOW)
    [digest] = await digests.digest_runs(CHANNEL.key)
    assert digest.outcome is Outcome.QUEUED
    await digests.finish_run(DigestRun(key, monday, NOW, Outcome.POSTED, NOW, posted=4))
    assert not await digests.claim_run(key, monday, NOW + timedelta(days=1), timedelta(hours=1))
