"""`paperwire status`: what the processes sharing the database are doing, and where each
destination's messages stand, grouped by workspace (each has its own sending budget)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.app import build_services
from bot.config import Settings
from bot.models import Destination
from bot.render.text import print_json
from bot.storage import DestinationState, OutboxHead
from bot.storage.types import PROCESS_GONE_AFTER, Installation, ProcessBeat
from bot.wording import ago, plural, until


async def print_status(settings: Settings, as_json: bool) -> int:
    """`paperwire status [--json]`: the live processes, and each destination's outbox and
    last outcomes."""
    async with build_services(settings) as services:
        depths = await services.outbox.outbox_depths()
        # Command replies each wait in a queue of their own: counted together.
        replies = sum(n for k, n in depths.items() if Destination.from_key(k).kind == "reply")
        depths = {k: n for k, n in depths.items() if Destination.from_key(k).kind != "reply"}
        states = {s.destination: s for s in await services.outbox.destination_states()}
        heads = {h.destination: h for h in await services.outbox.outbox_heads()}
        keys = sorted(set(depths) | set(states))
        now = services.clock()
        processes = await services.processes.live_processes(now - PROCESS_GONE_AFTER)
        installations = {i.team_id: i for i in await services.installations.installations()}
        rows = []
        for key in keys:
            state = states.get(key) or await services.outbox.destination_state(key)
            states[key] = state
            head = heads.get(key)
            rows.append(
                {
                    "destination": key,
                    "workspace": workspace_of(key),
                    "stopped": state.stopped,
                    "queued": depths.get(key, 0),
                    # The first waiting message, which the others wait behind.
                    "attempts": head.attempts if head else 0,
                    "sending": head is not None and head.state == "sending",
                    "next_try_at": _iso(head.next_attempt_at) if head else None,
                    "waiting_because": head.last_error if head else None,
                    "last_error": state.error,
                    "last_error_at": _iso(state.last_error_at),
                    "last_success_at": _iso(state.last_success_at),
                }
            )
    if as_json:
        print_json(
            {
                "processes": [_process_json(p) for p in processes],
                "destinations": rows,
                "queued": sum(depths.values()),
                "replies_queued": replies,
            }
        )
        return 0
    for process in processes:
        role = "leads (runs the schedule)" if process.leader else "follows"
        up = _when(process.started_at, now)
        print(f"process {process.process}: {role} · up since {up} · {process.detail}")
    if not rows and not replies:
        print("No messages sent yet.")
    if replies:
        print(f"command replies: {replies} waiting to be retried (until they expire)")
    shown = None
    for key in keys:
        if (workspace := workspace_of(key)) != shown:
            shown = workspace
            print(_workspace_line(workspace, keys, states, depths, installations))
        state = states[key]
        health = "STOPPED" if state.stopped else "ok"
        error = ""
        if state.error:
            error = f" · last error {state.error} {_when(state.last_error_at, now)}"
        queue = f"{depths.get(key, 0)} queued"
        if (head := heads.get(key)) is not None and not state.stopped:
            queue += _next_try(head, state, now)
        success = _when(state.last_success_at, now)
        print(f"  {key}: {health} · {queue} · last success {success}{error}")
    return 0


def workspace_of(key: str) -> str:
    """`slack:T1` for `slack:T1:C1`: the workspace (and budget) a destination belongs to."""
    destination = Destination.from_key(key)
    return f"{destination.platform}:{destination.workspace}"


def _workspace_line(
    workspace: str,
    keys: list[str],
    states: dict[str, DestinationState],
    depths: dict[str, int],
    installations: dict[str, Installation],
) -> str:
    """`workspace slack:T1 (Acme, installed): 3 destinations, 1 stopped, 4 queued`."""
    mine = [k for k in keys if workspace_of(k) == workspace]
    stopped = sum(states[k].stopped for k in mine)
    queued = sum(depths.get(k, 0) for k in mine)
    platform, _, team = workspace.partition(":")
    installation = installations.get(team) if platform == "slack" else None
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


def _next_try(head: OutboxHead, state: DestinationState, now: datetime) -> str:
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
