"""One worker of `paperwire bench deliver --workers N`, run as its own OS process
(`python -m bot.bench.deliver_worker CONFIG`): a `DeliveryService` on the shared PostgreSQL
database, as `paperwire run` has one. It records its heartbeat, says `ready` on stdout,
waits for `go` on stdin (so that every worker starts at once), takes the live processes as
its peers (each budget then has one owner among them), and drains the outbox until it is
empty, sending what its budgets hold. Its last line on stdout is its figures, in JSON.

Slack's transport in paperwire serves one workspace (its bot token); the bench's 100
workspaces go through `WorkspacesTransport`: one paperwire `SlackTransport` per workspace,
each with its workspace's token and its own pacer, as an app installed in many workspaces
would post. The outbox, claims and budget ownership are paperwire's, unchanged."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.outbox import DeliveryService, OutgoingMessage, Receipt
from bot.platforms.slack.config import SlackConfig
from bot.platforms.slack.recovery import Recovery
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


class WorkspacesTransport:
    """Slack for many workspaces: a message goes out through its workspace's transport."""

    platform = "slack"

    def __init__(self, api_url: str, rate: int) -> None:
        self._api_url = api_url
        self._rate = rate
        self._transports: dict[str, SlackTransport] = {}

    async def send(self, message: OutgoingMessage) -> Receipt:
        return await self._transport(message.destination.workspace).send(message)

    def _transport(self, team: str) -> SlackTransport:
        transport = self._transports.get(team)
        if transport is None:
            token = bot_token(team)
            config = SlackConfig(
                token, "bench-secret", api_url=self._api_url, posts_per_s=self._rate
            )
            lookups = AsyncWebClient(token=token, base_url=self._api_url, retry_handlers=[])
            transport = SlackTransport(config, Recovery(lookups, config.history_per_min))
            self._transports[team] = transport
        return transport


async def work(config: WorkerConfig) -> dict[str, object]:
    logging.getLogger("bot.delivery.outbox").setLevel(logging.ERROR)  # retries are counted
    async with open_storage(config.database) as storage:
        delivery = DeliveryService(storage.outbox, _now, process=config.name)
        delivery.register(WorkspacesTransport(config.api_url, config.slack_rate))
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
