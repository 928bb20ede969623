from datetime import date, timedelta

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
