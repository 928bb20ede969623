"""`paperwire bench deliver --workers N[,N...] --database postgresql://...`: a digest to
every channel of 100 Slack workspaces (10 channels each), sent by N paperwire processes
sharing one PostgreSQL database.

Each workspace has a budget of its own (`--slack-rate` messages a second), which the fake
(`LimitedSlack`, one budget per bot token) enforces with 429s past it. The digests are
queued first; then N workers (deliver_worker.py, each its own OS process with its own
`DeliveryService`) start together and drain the outbox: each workspace's budget has one
owner among them, which alone sends its messages. The fake runs here, in the parent
process, which does nothing else meanwhile: its clock and its counts stay out of the
workers' way (a thread in a worker would share that worker's interpreter lock and its
timing). Everything runs in a schema of its own, dropped afterwards: the database's own
tables are not touched."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import psycopg

from bot.bench.deliver import allowed_rate, digest_of_three, figures, parts_of, serve
from bot.bench.deliver_worker import WorkerConfig
from bot.bench.limited_fakes import LimitedSlack
from bot.delivery import codec
from bot.delivery.budgets import budget_of, owner_of
from bot.errors import PaperwireError, UserError
from bot.models import Destination
from bot.render.neutral import Reply
from bot.storage import open_storage
from bot.storage.locations import describe, is_postgres_url

RATE_LIMITED_TARGET = 0.01  # 429s / requests
SPEEDUP_TARGET = 1.6  # 3 workers against 1, the budgets above what one worker reaches
READY_TIMEOUT_S = 60.0  # a worker's start: imports, connecting, its first heartbeat
SETTLE_LIMIT_S = 300.0  # after the start, how long the workers may take to empty the outbox


@dataclass(frozen=True)
class WorkersFigures:
    workers: int
    workspaces: int
    recipients: int  # channels, all workspaces together
    seconds: float  # from the start to the outbox empty
    achieved_per_s: float  # messages kept a second, from the start to the last one kept
    allowed_per_s: float  # every workspace's budget together
    requests: int
    rate_limited: int
    lost: int
    duplicated: int
    sent_by_worker: list[int]  # messages each worker sent
    owned_by_worker: list[int]  # messages of the budgets each worker owns
    # CPU seconds from the start to the end: each worker's, and the fake's. A worker's far
    # below `seconds` waits (for its turns, the database, the fake), it is not CPU-bound.
    cpu_s_by_worker: list[float]
    fake_cpu_s: float


async def run_workers_bench(
    database: str | None,
    worker_counts: Sequence[int],
    workspaces: int,
    channels: int,
    slack_rate: int,
    as_json: bool,
) -> int:
    if not database:
        raise UserError(
            "--workers needs --database postgresql://...: the workers share one database"
        )
    if not is_postgres_url(database):
        raise UserError(
            f"--workers runs on PostgreSQL, and {describe(database)} is an SQLite file:"
            " several processes share a postgresql:// database (--database postgresql://...)"
        )
    results: list[WorkersFigures] = []
    for count in worker_counts:
        print(
            f"{count} worker(s): {workspaces} workspaces x {channels} channels,"
            f" {slack_rate}/s each ...",
            file=sys.stderr,
        )
        results.append(await bench_workers(database, count, workspaces, channels, slack_rate))
    if as_json:
        print(json.dumps([f.__dict__ for f in results], indent=2))
    else:
        _print(results)
    return 0 if all(_meets(f) for f in results) else 1


async def bench_workers(
    database: str, workers: int, workspaces: int, channels: int, slack_rate: int
) -> WorkersFigures:
    digest = digest_of_three()
    teams = [f"T{w:04d}" for w in range(workspaces)]
    destinations = [
        Destination("slack", team, f"C{w:04d}{c:05d}")
        for w, team in enumerate(teams)
        for c in range(channels)
    ]
    names = [f"bench-worker-{n + 1}" for n in range(workers)]
    fake = LimitedSlack(slack_rate)
    async with _own_schema(database) as url, serve(fake.app()) as fake_url:
        await _enqueue(url, destinations, codec.dumps(Reply(digest, False)))
        configs = [WorkerConfig(name, url, f"{fake_url}/api/", slack_rate) for name in names]
        fake_cpu = time.process_time()  # this process runs the fake, and only waits besides
        began, reports = await _run_workers(configs)
        fake_cpu = time.process_time() - fake_cpu
    seconds = max(float(r["finished"]) for r in reports) - began
    parts = parts_of("slack", digest)
    allowed = workspaces * allowed_rate("slack", parts, channels, slack_rate)
    counted = figures(fake.tally, parts, len(destinations), began, seconds, allowed)
    sent = {str(r["process"]): int(r["sent"]) for r in reports}
    cpu = {str(r["process"]): float(r["cpu_s"]) for r in reports}
    owned = {name: 0 for name in names}
    for destination in destinations:
        owned[owner_of(budget_of(destination), names)] += 1
    return WorkersFigures(
        workers=workers,
        workspaces=workspaces,
        recipients=len(destinations),
        seconds=counted.seconds,
        achieved_per_s=counted.achieved_per_s,
        allowed_per_s=counted.allowed_per_s,
        requests=counted.requests,
        rate_limited=counted.rate_limited,
        lost=counted.lost,
        duplicated=counted.duplicated,
        sent_by_worker=[sent.get(name, 0) for name in names],
        owned_by_worker=[owned[name] for name in names],
        cpu_s_by_worker=[cpu.get(name, 0.0) for name in names],
        fake_cpu_s=round(fake_cpu, 2),
    )


async def _enqueue(url: str, destinations: list[Destination], reply: str) -> None:
    """Every digest queued before any worker starts (applying the migrations too)."""
    async with open_storage(url) as storage:
        now = datetime.now(UTC)
        for destination in destinations:
            await storage.outbox.enqueue(destination.key, reply, (), now)


async def _run_workers(configs: list[WorkerConfig]) -> tuple[float, list[dict[str, Any]]]:
    """Start the workers, let them go together once all are ready; when the go was given
    (monotonic, the fake's clock) and each one's report."""
    workers: list[asyncio.subprocess.Process] = []
    try:
        for config in configs:
            workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot.bench.deliver_worker",
                    config.dumps(),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        for worker in workers:
            assert worker.stdout is not None
            line = await asyncio.wait_for(worker.stdout.readline(), READY_TIMEOUT_S)
            if line.strip() != b"ready":
                raise PaperwireError("a bench worker did not start (its error is above)")
        began = time.monotonic()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        outputs = await asyncio.wait_for(
            asyncio.gather(*(w.communicate() for w in workers)), SETTLE_LIMIT_S
        )
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    reports = []
    for worker, (out, _) in zip(workers, outputs, strict=True):
        if worker.returncode != 0 or not out.strip():
            raise PaperwireError(f"a bench worker failed (exit {worker.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return began, reports


@asynccontextmanager
async def _own_schema(url: str) -> AsyncIterator[str]:
    """A URL whose connections work in a new schema, dropped afterwards."""
    schema = f"paperwire_bench_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        options = quote(f"-csearch_path={schema}", safe="")
        yield f"{url}{'&' if '?' in url else '?'}options={options}"
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _meets(f: WorkersFigures) -> bool:
    return (
        f.rate_limited <= RATE_LIMITED_TARGET * max(1, f.requests)
        and f.lost == 0
        and f.duplicated == 0
    )


def _print(results: list[WorkersFigures]) -> None:
    print(
        "workers  channels  seconds  messages/s  allowed/s  429s (requests)  lost  duplicated"
        "  sent by worker  cpu s: workers / fake"
    )
    for f in results:
        sent = "/".join(map(str, f.sent_by_worker))
        cpu = "/".join(f"{s:.1f}" for s in f.cpu_s_by_worker)
        print(
            f"{f.workers:7d}  {f.recipients:8d}  {f.seconds:7.1f}  {f.achieved_per_s:10.1f}"
            f"  {f.allowed_per_s:9.0f}  {f.rate_limited:4d} ({f.requests:6d})  {f.lost:4d}"
            f"  {f.duplicated:10d}  {sent:>14}  {cpu} / {f.fake_cpu_s:.1f}"
        )
    print(f"targets: 429s <= {RATE_LIMITED_TARGET:.0%} of requests, 0 lost, 0 duplicated")
    by_count = {f.workers: f for f in results}
    if 1 in by_count and 3 in by_count:
        speedup = by_count[3].achieved_per_s / max(by_count[1].achieved_per_s, 1e-9)
        print(
            f"3 workers / 1 worker: x{speedup:.2f} (target >= x{SPEEDUP_TARGET}"
            " when the budgets are above what one worker reaches)"
        )
