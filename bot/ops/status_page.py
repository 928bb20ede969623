"""`GET /status`: what `paperwire status` shows, as one small HTML page readable on a phone
(no JavaScript), with the next digests, the newest lists and the version besides.

Everything shown is escaped: channel keys and errors come from platforms and people. The
page never reads a message's text or its reply handle (a response URL, an interaction
token), and URLs inside errors are cut to their host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bot import __version__
from bot.app import Services
from bot.day_lists import ListState
from bot.digests.settings import DigestSettings
from bot.logs import SECRET_PARAMETER as _SECRET_PARAMETER
from bot.status import StatusReport, gather_status, next_try
from bot.wording import ago, until
from schedules.digests import next_run

_STOPPED = '<span class="bad">STOPPED</span>'
_OK = '<span class="ok">ok</span>'
LAST_ERRORS = 10  # destinations with the most recent errors shown
_URL = re.compile(
    r"\b([a-z][a-z0-9+.-]*://)(?:[^/@\s'\"<>]*@)?([^/\s'\"<>]+)[^\s'\"<>]*", re.IGNORECASE
)

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:.5rem 1rem;
line-height:1.4;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
td{overflow-wrap:anywhere}
.bad{color:#a00;font-weight:bold}.ok{color:#060}.quiet{color:#666}
"""


@dataclass(frozen=True)
class StatusPage:
    """What the page shows, gathered at one moment."""

    report: StatusReport
    channels: list[DigestSettings]
    lists: list[ListState]  # the newest of each source
    started: datetime


async def gather_page(services: Services, started: datetime) -> StatusPage:
    report = await gather_status(services)
    channels = await services.digests.channel_digests(enabled_only=False)
    newest: dict[str, ListState] = {}
    for state in await services.day_lists.list_states():  # newest day first
        newest.setdefault(state.source, state)
    return StatusPage(report, channels, sorted(newest.values(), key=lambda s: s.source), started)


def render(page: StatusPage) -> str:
    now = page.report.now
    uptime = _duration(now - page.started)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex">',
        f"<title>paperwire status</title><style>{STYLE}</style></head><body>",
        "<h1>paperwire status</h1>",
        f"<p>Version {_e(__version__)} · up {_e(uptime)} · as of {_e(f'{now:%Y-%m-%d %H:%M} UTC')}"
        "</p>",
        *_processes(page.report),
        *_outbox(page.report),
        *_destinations(page.report),
        *_errors(page.report),
        *_next_digests(page.channels, now),
        *_lists(page.lists, now),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _processes(report: StatusReport) -> list[str]:
    rows = [
        [p.process, "leads (runs the schedule)" if p.leader else "follows",
         ago(p.started_at, report.now), p.detail]
        for p in report.processes
    ]  # fmt: skip
    return ["<h2>Processes</h2>", *_table(["Process", "Role", "Up since", "Detail"], rows)]


def _outbox(report: StatusReport) -> list[str]:
    waiting = [d for d in report.destinations if d.queued]
    line = (
        f"{report.queued} message(s) waiting in {len(waiting)} destination(s);"
        f" {report.replies} command reply(ies) waiting to be retried."
    )
    return ["<h2>Outbox</h2>", f"<p>{_e(line)}</p>"]


def _destinations(report: StatusReport) -> list[str]:
    rows = []
    for row in report.destinations:
        state = row.state
        health = _STOPPED if state.stopped else _OK
        queue = f"{row.queued} queued"
        if row.head is not None and not state.stopped:
            queue += next_try(row.head, state, report.now)
        success = ago(state.last_success_at, report.now) if state.last_success_at else "never"
        rows.append([_e(row.key), health, _e(_redact(queue)), _e(success)])
    header = ["Destination", "State", "Queue", "Last success"]
    return ["<h2>Destinations</h2>", *_table(header, rows, escaped=True)]


def _errors(report: StatusReport) -> list[str]:
    failed = [d for d in report.destinations if d.state.error and d.state.last_error_at]
    failed.sort(key=lambda d: d.state.last_error_at or report.now, reverse=True)
    rows = [
        [d.key, _redact(d.state.error or ""), ago(d.state.last_error_at, report.now)]
        for d in failed[:LAST_ERRORS]
        if d.state.last_error_at is not None
    ]
    return ["<h2>Last errors</h2>", *_table(["Destination", "Error", "When"], rows)]


def _next_digests(channels: list[DigestSettings], now: datetime) -> list[str]:
    rows = []
    for settings in sorted(channels, key=lambda s: s.destination.key):
        fire = next_run(settings, now)
        when = until(fire, now, settings.zone) if fire else "off"
        rows.append([settings.destination.key, when, settings.describe()])
    header = ["Channel", "Next digest (channel's time)", "Settings"]
    return ["<h2>Next digests</h2>", *_table(header, rows)]


def _lists(lists: list[ListState], now: datetime) -> list[str]:
    rows = [
        [s.source, s.day.isoformat(), str(s.size), "complete" if s.complete else "growing",
         ago(s.fetched_at, now)]
        for s in lists
    ]  # fmt: skip
    header = ["Source", "Day", "Papers", "List", "Fetched"]
    return ["<h2>Newest lists</h2>", *_table(header, rows)]


def _table(header: list[str], rows: list[list[str]], escaped: bool = False) -> list[str]:
    if not rows:
        return ['<p class="quiet">None.</p>']
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    lines = ['<div class="scroll"><table>', f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row in rows:
        cells = "".join(f"<td>{cell if escaped else _e(cell)}</td>" for cell in row)
        lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody></table></div>"]
    return lines


def _e(text: str) -> str:
    return escape(text, quote=True)


def _redact(text: str) -> str:
    """URLs cut to their scheme and host: a path or query may hold a token."""
    return _SECRET_PARAMETER.sub(r"\1=...", _URL.sub(r"\1\2/...", text))


def _duration(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    return f"{days} d {hours} h {minutes} min" if days else f"{hours} h {minutes} min"
