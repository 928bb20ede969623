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
from tests.sources.fake_sources import running_fake_sources


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


async def _run_until_logged(db: Path, wanted: str, times: int = 1, **env: str) -> tuple[int, str]:
    """Start `paperwire run`, stop it with SIGTERM once its log has `times` lines with
    `wanted`; returns its exit code and its log."""
    process = await start_paperwire_run(db, **env)
    assert process.stderr is not None
    lines = []
    try:
        async with asyncio.timeout(60):
            while sum(wanted in line for line in lines) < times:
                line = (await process.stderr.readline()).decode()
                assert line, "paperwire run ended early:\n" + "".join(lines)
                lines.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    return code, "".join(lines) + (await process.stderr.read()).decode()


async def test_run_with_no_source_serves_the_bundled_papers(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    code, logged = await _run_until_logged(db, "bundled papers:")  # PAPERWIRE_SOURCES=""
    assert code == 0, logged
    async with Store.open(db) as store:
        assert await store.count_papers() == len({o.paper_id for o in seed_observations()})


async def test_run_ingests_a_new_deployment_at_once(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with running_fake_sources() as fake:
        today = datetime.now(UTC).date()
        for day in (today, today + timedelta(days=1)):  # in case midnight passes meanwhile
            fake.hf_days[day.isoformat()] = [
                {"paper": {"id": f"2611.{n:05d}", "title": f"Fresh paper {n}"}} for n in (1, 2)
            ]
        code, logged = await _run_until_logged(
            db, "Hugging Face list for", 2, PAPERWIRE_SOURCES="hf", PAPERWIRE_HF_URL=fake.url
        )
    assert code == 0, logged
    assert "start-up ingest of hf" in logged
    async with Store.open(db) as store:
        assert await store.count_papers() == 2
