"""One worker of `paperwire bench deliver --workers N`, run as its own OS process
(`python -m bot.bench.deliver_worker CONFIG`): a `DeliveryService` on the shared PostgreSQL
database, as `paperwire run` has one. It records its heartbeat, says `ready` on stdout,
waits for `go` on stdin (so that every worker starts at once), takes the live processes as
its peers (each budget then has one owner among them), and drains the outbox until it is
empty, sending what its budgets hold. Its last line on stdout is its figures, in JSON.

The bench's 100 workspaces go through paperwire's own `SlackTransport`, which keeps a lane
(the workspace's token, its own pacer) per workspace, as an app installed in many
workspaces through OAuth posts. The outbox, claims and budget ownership are paperwire's,
unchanged."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.delivery.outbox import DeliveryService
from bot.platforms.slack.config import SlackConfig
from bot.platforms.slack.transport import SlackTransport
from bot.storage import Processes, open_storage
from bot.storage.types import PROCESS_GONE_AFTER, ProcessBeat

BEAT_EVERY_S = 5.0  # well within PROCESS_GONE_AFTER: the others keep counting this one live
IDLE_WAIT_S = 0.05  # between drains, while other workers (or retries) still have messages


@dataclass(frozen=True)
class WorkerConfig:
    name: str  # the process name its claims and heartbeat carry
    database: str  # postgresql:// URL
    api_url: str  # the fake Slack's Web API
    slack_rate: int  # each workspace's budget, messages/s

    def dumps(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def loads(cls, text: str) -> WorkerConfig:
        return cls(**json.loads(text))


def bot_token(team: str) -> str:
    """The bench's bot token of workspace `team`: one per workspace."""
    return f"xoxb-bench-{team}"


class BenchTokens:
    """Each workspace's bot token, as the product's transport asks for it (an OAuth
    deployment reads them from its installations)."""

    async def bot_token(self, team_id: str) -> str | None:
        return bot_token(team_id)

    def forget(self, team_id: str) -> None:
        pass


def workspaces_transport(api_url: str, rate: int) -> SlackTransport:
    """The product's Slack transport: one lane (token, pacer) per workspace."""
    config = SlackConfig(bot_token("T0"), "bench-secret", api_url=api_url, posts_per_s=rate)
    return SlackTransport(config, BenchTokens())


async def work(config: WorkerConfig) -> dict[str, object]:
    logging.getLogger("bot.delivery.outbox").setLevel(logging.ERROR)  # retries are counted
    async with open_storage(config.database) as storage:
        delivery = DeliveryService(storage.outbox, _now, process=config.name)
        delivery.register(workspaces_transport(config.api_url, config.slack_rate))
        started_at = _now()
        await _beat(storage.processes, config.name, started_at)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        began, cpu = time.monotonic(), time.process_time()
        peers = await storage.processes.live_processes(_now() - PROCESS_GONE_AFTER)
        await delivery.set_peers([p.process for p in peers])
        sent, beaten = 0, time.monotonic()
        while True:
            results = await delivery.drain()
            sent += sum(1 for receipt in results.values() if receipt.ok)
            if not await storage.outbox.outbox_depths():
                break
            if time.monotonic() - beaten > BEAT_EVERY_S:
                await _beat(storage.processes, config.name, started_at)
                beaten = time.monotonic()
            await asyncio.sleep(IDLE_WAIT_S)
        finished, cpu = time.monotonic(), time.process_time() - cpu
        await storage.processes.forget_process(config.name)
    return {
        "process": config.name,
        "sent": sent,
        "began": began,
        "finished": finished,
        "cpu_s": round(cpu, 2),
    }


async def _beat(processes: Processes, name: str, started_at: datetime) -> None:
    await processes.beat(ProcessBeat(name, started_at, _now(), leader=False, detail="bench"))


def _now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    figures = asyncio.run(work(WorkerConfig.loads(sys.argv[1])))
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
