"""`paperwire run` as a real process: with no tokens the console is the platform, and a
digest missed while it was down (within the grace period) is posted on start."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.channel_digests import WEEKDAYS, DigestSettings
from bot.models import Destination
from bot.storage import Store
from tests.conftest import seed_observations
from tests.processes import start_paperwire_run


async def test_run_posts_a_missed_digest_to_the_console_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    due = datetime.now(UTC) - timedelta(hours=1)
    async with Store.open(db) as store:
        await store.ingest(seed_observations())
        settings = DigestSettings(
            Destination("console", "local", "general"),
            time=due.time().replace(second=0, microsecond=0),
            timezone="UTC",
            weekdays=WEEKDAYS,
            size=3,
        )
        # Set up before it was due (a run due before the setup is not a missed one).
        await store.save_channel_digest(settings, "test", due - timedelta(minutes=5))
    process = await start_paperwire_run(db)
    assert process.stdout is not None and process.stderr is not None
    try:
        lines = []
        async with asyncio.timeout(60):
            while not any("Search:" in line for line in lines):
                line = (await process.stdout.readline()).decode()
                assert line, "paperwire run ended before posting the digest"
                lines.append(line)
        output = "".join(lines)
        assert "── #general ──" in output
        assert output.count("\n1. ") == 1 and "3. " in output and "4. " not in output
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert "paperwire is running" in stderr and "paperwire stopped" in stderr
    async with Store.open(db) as store:
        [run] = await store.digest_runs(settings.destination.key)
        assert run.posted == 3
