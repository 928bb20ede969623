"""`paperwire bench deliver --workers N`: separate worker processes on one PostgreSQL
database share a fan-out to many Slack workspaces, each workspace's budget kept by the fake
apart from the others'; every channel gets its digest once, and each worker sends what
the budgets it owns hold."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bench.deliver_workers import bench_workers, run_workers_bench
from bot.bench.limited_fakes import LimitedSlack
from bot.errors import UserError
from tests.postgres import server_url


async def test_two_workers_send_every_digest_once_each_its_own_budgets() -> None:
    figures = await bench_workers(server_url(), 2, workspaces=10, channels=3, slack_rate=50)
    assert (figures.recipients, figures.lost, figures.duplicated) == (30, 0, 0)
    # A digest is two posts (its abstracts in its thread), each let through at the first try.
    assert (figures.requests, figures.rate_limited) == (60, 0)
    # Each worker sent exactly the messages of the workspaces whose budget it owns, and the
    # names hash so that both own some (rendezvous hashing is deterministic).
    assert figures.sent_by_worker == figures.owned_by_worker
    assert sum(figures.sent_by_worker) == 30 and min(figures.sent_by_worker) > 0


@pytest.mark.parametrize(
    ("database", "says"),
    [(None, "--workers needs --database"), ("/tmp/paperwire.db", "is an SQLite file")],
)
async def test_workers_refuse_anything_but_postgresql(database: str | None, says: str) -> None:
    with pytest.raises(UserError, match=says):
        await run_workers_bench(database, [2], 2, 2, 5, as_json=True)


@pytest.fixture
async def limited_slack() -> AsyncIterator[str]:
    fake = LimitedSlack(workspace_rate=2)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/api/chat.postMessage"))
    finally:
        await server.close()


async def test_limited_slack_keeps_each_workspace_budget_apart(limited_slack: str) -> None:
    async def post(session: aiohttp.ClientSession, token: str, channel: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(limited_slack, json={"channel": channel}, headers=headers) as r:
            return r.status

    async with aiohttp.ClientSession() as session:
        # A budget of 2 a second: each workspace's third post at once is refused, whatever
        # the other workspace sent (each post to a channel of its own: no channel limit).
        first = [await post(session, "xoxb-a", f"A{n}") for n in range(3)]
        second = [await post(session, "xoxb-b", f"B{n}") for n in range(3)]
    assert first == second == [200, 200, 429]
