"""`paperwire status`: what the processes sharing the database are doing, and where each
destination's messages stand, grouped by workspace (each has its own sending budget)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import Services, build_services
from bot.config import Settings
from bot.models import Destination
from bot.render.text import print_json
from bot.storage import DestinationState, OutboxHead
from bot.storage.types import PROCESS_GONE_AFTER, Installation, ProcessBeat
from bot.wording import ago, plural, until


@dataclass(frozen=True)
class DestinationStatus:
    """Where one destination's messages stand."""

    key: str
    state: DestinationState
    queued: int
    head: OutboxHead | None  # the first waiting message, which the others wait behind


@dataclass(frozen=True)
class StatusReport:
    """What `paperwire status` shows, and the status page (bot/ops/status_page.py) too."""

    now: datetime
    processes: list[ProcessBeat]
    destinations: list[DestinationStatus]  # by key; command replies are not among them
    replies: int  # command replies waiting, each in a queue of its own: counted together
    # Slack workspaces installed through OAuth, by team id.
    installations: dict[str, Installation] = field(default_factory=dict)

    @property
    def queued(self) -> int:
        return sum(d.queued for d in self.destinations)


async def gather_status(services: Services) -> StatusReport:
    """The live processes, and each destination's outbox and last outcomes."""
    depths = await services.outbox.outbox_depths()
    replies = sum(n for k, n in depths.items() if Destination.from_key(k).kind == "reply")
    depths = {k: n for k, n in depths.items() if Destination.from_key(k).kind != "reply"}
    states = {s.destination: s for s in await services.outbox.destination_states()}
    heads = {h.destination: h for h in await services.outbox.outbox_heads()}
    now = services.clock()
    processes = await services.processes.live_processes(now - PROCESS_GONE_AFTER)
    destinations = []
    for key in sorted(set(depths) | set(states)):
        state = states.get(key) or await services.outbox.destination_state(key)
        destinations.append(DestinationStatus(key, state, depths.get(key, 0), heads.get(key)))
    installations = {i.team_id: i for i in await services.installations.installations()}
    return StatusReport(now, processes, destinations, replies, installations)


async def print_status(settings: Settings, as_json: bool) -> int:
    """`paperwire status [--json]`: the live processes, and each destination's outbox and
    last outcomes."""
    async with build_services(settings) as services:
        report = await gather_status(services)
    if as_json:
        print_json(
            {
                "processes": [_process_json(p) for p in report.processes],
                "destinations": [_destination_json(d) for d in report.destinations],
                "queued": report.queued,
                "replies_queued": report.replies,
            }
        )
        return 0
    now = report.now
    for process in report.processes:
        role = "leads (runs the schedule)" if process.leader else "follows"
        up = _when(process.started_at, now)
        print(f"process {process.process}: {role} · up since {up} · {process.detail}")
    if not report.destinations and not report.replies:
        print("No messages sent yet.")
    if report.replies:
        print(f"command replies: {report.replies} waiting to be retried (until they expire)")
    shown = None
    for row in report.destinations:
        if (workspace := workspace_of(row.key)) != shown:
            shown = workspace
            print(_workspace_line(workspace, report))
        state = row.state
        health = "STOPPED" if state.stopped else "ok"
        error = ""
        if state.error:
            error = f" · last error {state.error} {_when(state.last_error_at, now)}"
        queue = f"{row.queued} queued"
        if row.head is not None and not state.stopped:
            queue += next_try(row.head, state, now)
        success = _when(state.last_success_at, now)
        print(f"  {row.key}: {health} · {queue} · last success {success}{error}")
    return 0


def _destination_json(row: DestinationStatus) -> dict[str, Any]:
    head, state = row.head, row.state
    return {
        "destination": row.key,
        "workspace": workspace_of(row.key),
        "stopped": state.stopped,
        "queued": row.queued,
        # The first waiting message, which the others wait behind.
        "attempts": head.attempts if head else 0,
        "sending": head is not None and head.state == "sending",
        "next_try_at": _iso(head.next_attempt_at) if head else None,
        "waiting_because": head.last_error if head else None,
        "last_error": state.error,
        "last_error_at": _iso(state.last_error_at),
        "last_success_at": _iso(state.last_success_at),
    }


def workspace_of(key: str) -> str:
    """`slack:T1` for `slack:T1:C1`: the workspace (and budget) a destination belongs to."""
    destination = Destination.from_key(key)
    return f"{destination.platform}:{destination.workspace}"


def _workspace_line(workspace: str, report: StatusReport) -> str:
    """`workspace slack:T1 (Acme, installed): 3 destinations, 1 stopped, 4 queued`."""
    mine = [d for d in report.destinations if workspace_of(d.key) == workspace]
    stopped = sum(d.state.stopped for d in mine)
    queued = sum(d.queued for d in mine)
    platform, _, team = workspace.partition(":")
    installation = report.installations.get(team) if platform == "slack" else None
    about = ""
    if installation is not None:
        name = f"{installation.team_name}, " if installation.team_name else ""
        went = installation.uninstalled_at
        about = f" ({name}{'installed' if went is None else f'uninstalled {went.date()}'})"
    counts = [plural(len(mine), "destination"), f"{stopped} stopped", f"{queued} queued"]
    return f"workspace {workspace}{about}: {', '.join(counts)}"


def _process_json(process: ProcessBeat) -> dict[str, Any]:
    return {
        "process": process.process,
        "leader": process.leader,
        "started_at": _iso(process.started_at),
        "seen_at": _iso(process.seen_at),
        "detail": process.detail,
    }


def next_try(head: OutboxHead, state: DestinationState, now: datetime) -> str:
    """`, 3 failed tries, next try in 58 minutes (...)`: why the queue waits, and until when."""
    parts = [plural(head.attempts, "failed try", "failed tries")] if head.attempts else []
    if head.state == "sending":
        parts.append("one under way (cut short by a stop, it is looked for before it goes again)")
    else:
        parts.append(f"next try {until(head.next_attempt_at, now)}")
    text = ", " + ", ".join(parts)
    if head.last_error and head.last_error != state.error:  # a wait that is no failure
        text += f": {head.last_error}"
    return text


def _when(moment: datetime | None, now: datetime) -> str:
    return ago(moment, now) if moment else "never"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
