"""Two real `paperwire run` processes on one PostgreSQL database: one leads (runs the
schedule and posts), the other follows; when the leader is killed, the follower takes the
lead within seconds, and a digest due is posted once, by one of them."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime, timedelta

from bot.app import build_services
from bot.config import Settings
from bot.storage import open_storage
from tests.conftest import seed_observations
from tests.postgres import fresh_schema
from tests.processes import read_until, start_paperwire_run, stop
from tests.test_run import CONSOLE, assert_clean, seed_missed_digest

FAST = {"PAPERWIRE_LEADER_CHECK_S": "1"}


async def status_json(url: str) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "status",
        "--json",
        env={"PAPERWIRE_DATABASE_URL": url, "PATH": ""},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    result: dict[str, object] = json.loads(out)
    return result


async def leader_once_it_beats(url: str) -> str:
    """The one process whose heartbeat says it leads, once a new leader has beaten."""
    async with open_storage(url) as storage, asyncio.timeout(10):
        while True:
            live = await storage.processes.live_processes(datetime.now(UTC) - timedelta(minutes=1))
            leaders = [p.process for p in live if p.leader]
            if len(leaders) == 1 and len(live) == 2 and live[-1].leader:
                return leaders[0]
            await asyncio.sleep(0.1)  # its first beat as leader follows the log line


async def test_a_follower_takes_the_lead_when_the_leader_dies_and_posts_nothing_twice() -> None:
    async with fresh_schema() as url:
        await seed_missed_digest(url)
        leader = await start_paperwire_run(url, **FAST)
        assert leader.stdout is not None and leader.stderr is not None
        follower = None
        try:
            started = "".join(await read_until(leader.stderr, "leading:", "paperwire is running"))
            assert "database PostgreSQL" in started and "digest:console:local:general" in started
            posted = "".join(await read_until(leader.stdout, "Search:"))
            assert "── #general ──" in posted
            follower = await start_paperwire_run(url, **FAST)
            assert follower.stdout is not None and follower.stderr is not None
            joined = "".join(await read_until(follower.stderr, "paperwire is running"))
            assert "following: another process leads" in joined
            assert "digest:" not in joined.split("paperwire is running")[-1]
            processes = (await status_json(url))["processes"]
            assert isinstance(processes, list) and len(processes) == 2
            assert [p["leader"] for p in processes] == [True, False]

            leader.kill()  # no stop, no goodbye: its connection just closes
            await leader.wait()
            await read_until(follower.stderr, "leading:", timeout=30)
            assert await leader_once_it_beats(url) != processes[0]["process"]
        finally:
            for process in (leader, follower):
                if process is not None and process.returncode is None:
                    await stop(process, signal.SIGTERM)
        assert follower is not None and follower.stdout is not None and follower.stderr is not None
        # The follower, now leading, caught up and found the digest posted: nothing twice.
        assert "── #general ──" not in (await follower.stdout.read()).decode()
        assert_clean((await follower.stderr.read()).decode())
        async with open_storage(url) as storage:
            [run] = await storage.digests.digest_runs(CONSOLE.key)
            assert run.posted == 3


async def test_a_follower_searches_what_the_leader_ingested() -> None:
    async with (
        fresh_schema() as url,
        build_services(Settings(db_path=url)) as leader,
        build_services(Settings(db_path=url)) as follower,
    ):
        assert (await follower.search.search("diffusion")).hits == ()
        await leader.papers.ingest(seed_observations())
        # What the follower's `index:follow` job does every few seconds.
        assert await follower.refresh_index() == await leader.papers.count_papers()
        assert (await follower.search.search("diffusion")).hits
        assert await follower.refresh_index() == 0  # in step: nothing more to do
