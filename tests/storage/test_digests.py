from datetime import date, timedelta

from bot.digests.settings import DigestRun, Outcome
from bot.storage import Storage
from tests.conftest import NOW

DAY = date(2026, 11, 22)
STALE = timedelta(minutes=30)


async def test_only_runs_begun_before_the_start_are_released(storage: Storage) -> None:
    digests = storage.digests
    assert await digests.claim_run("slack:T1:C1", DAY, NOW - timedelta(minutes=1), STALE)
    assert await digests.claim_run("slack:T1:C2", DAY, NOW + timedelta(seconds=1), STALE)
    # This process starts at NOW: C1's run was left by a crash, C2's is live (begun since,
    # by a command already answered or another process).
    assert await digests.release_interrupted_runs(before=NOW) == 1
    assert await digests.claim_run("slack:T1:C1", DAY, NOW, STALE)  # taken again
    assert not await digests.claim_run("slack:T1:C2", DAY, NOW, STALE)  # still running


async def test_a_released_run_is_taken_again_at_once_a_queued_one_is_not(storage: Storage) -> None:
    digests = storage.digests
    assert await digests.claim_run("slack:T1:C1", DAY, NOW, STALE)
    await digests.release_run("slack:T1:C1", DAY)  # cut short before it queued anything
    assert await digests.claim_run("slack:T1:C1", DAY, NOW, STALE)
    await storage.outbox.enqueue("slack:T1:C1", '"x"', (), NOW, run=("slack:T1:C1", DAY))
    await digests.release_run("slack:T1:C1", DAY)  # queued: its message settles it
    assert not await digests.claim_run("slack:T1:C1", DAY, NOW, STALE)


async def test_a_run_posted_by_another_process_stays_posted(storage: Storage) -> None:
    assert await storage.digests.claim_run("slack:T1:C1", DAY, NOW, STALE)
    message = await storage.outbox.enqueue("slack:T1:C1", '"x"', (), NOW, run=("slack:T1:C1", DAY))
    await storage.outbox.mark_sent(message, ["1"], NOW)  # the budget's owner sent it first
    queued = DigestRun("slack:T1:C1", DAY, NOW, Outcome.QUEUED, finished_at=NOW, posted=3)
    await storage.digests.finish_run(queued)  # what the run that queued it says after
    [run] = await storage.digests.digest_runs("slack:T1:C1")
    assert run.outcome is Outcome.POSTED
