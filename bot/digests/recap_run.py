"""One channel's weekly recap run: claim the week, gather what the channel's digests sent
that week with its saves and votes, draw the chart, and queue the message in the outbox.

A recap's run is a digest run kept under its own key (`<destination>#recap`) on the Monday
of its calendar week: the same claim (one statement on PostgreSQL, so two processes never
both take it), the same release of what a crash interrupted, and the outbox marks it queued
in the transaction that queues the message, so a restart never posts a week twice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, time, timedelta

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.digests.recap import (
    Recap,
    SentPaper,
    Week,
    channel_label,
    compose_recap,
    recap_reply,
)
from bot.digests.recap_chart import draw_week
from bot.digests.runs import STALE_RUN
from bot.digests.settings import DigestRun, DigestSettings, Outcome
from bot.models import Destination
from bot.wording import plural

_log = logging.getLogger(__name__)

NOTHING_SENT = "no digest reached the channel that week"


def recap_key(destination: Destination) -> str:
    """The key of a channel's recap runs among the digest runs."""
    return f"{destination.key}#recap"


def week_of(settings: DigestSettings, at: datetime) -> Week:
    """The week a recap at `at` covers: seven local days, the day of `at` the last."""
    return Week(at.astimezone(settings.zone).date())


async def gather_recap(services: Services, settings: DigestSettings, week: Week) -> Recap:
    """The recap of `week` from the store: the papers first sent to the channel on the
    week's local days, how many people of its workspace saved each, and its votes."""
    zone, channel = settings.zone, settings.destination
    start = datetime.combine(week.start, time(0), zone)
    end = datetime.combine(week.end + timedelta(days=1), time(0), zone)
    sent = await services.outbox.sent_between(channel.key, start, end)
    pks = [pk for pk, _ in sent]
    papers = await services.papers.papers_by_pk(pks)
    savers = await services.saved_papers.saver_counts(pks, f"{channel.workspace_prefix}@")
    votes = await services.votes.channel_counts(channel.key, pks)
    items = [SentPaper(papers[pk], at.astimezone(zone).date()) for pk, at in sent if pk in papers]
    return compose_recap(
        channel_label(settings.recap_name),
        week,
        items,
        {papers[pk].id: n for pk, n in savers.items() if pk in papers},
        {papers[pk].id: count for pk, count in votes.items() if pk in papers},
    )


async def run_recap(services: Services, settings: DigestSettings, at: datetime) -> DigestRun | None:
    """Post the recap of the week ending on `at`'s local day. None when that calendar
    week's recap was already posted (or queued, or is being posted)."""
    week = week_of(settings, at)
    key = recap_key(settings.destination)
    now = services.clock()
    if not await services.digests.claim_run(key, week.run_day, now, STALE_RUN):
        return None
    run = DigestRun(key, week.run_day, now, Outcome.RUNNING, list_day=week.end)
    try:
        run = await _compose_and_send(services, settings, run, week)
    except asyncio.CancelledError:
        await services.digests.release_run(key, week.run_day)  # the catch-up takes it again
        raise
    except Exception as exc:
        _log.exception("weekly recap for %s failed", settings.destination.key)
        run = replace(run, outcome=Outcome.PLATFORM_ERROR, detail=str(exc)[:300])
    run = replace(run, finished_at=services.clock())
    await services.digests.finish_run(run)
    _log.info(
        "weekly recap for %s: %s (%s)",
        settings.destination.key,
        run.outcome.value,
        plural(run.posted, "paper"),
    )
    return run


async def _compose_and_send(
    services: Services, settings: DigestSettings, run: DigestRun, week: Week
) -> DigestRun:
    recap = await gather_recap(services, settings, week)
    if not recap.papers:
        return replace(run, outcome=Outcome.NO_MATCH, detail=NOTHING_SENT)
    # Drawing takes a fraction of a second of CPU: off the event loop.
    chart = await asyncio.to_thread(draw_week, recap)
    message = OutgoingMessage(
        settings.destination, recap_reply(recap, chart), run=(run.destination, run.run_day)
    )
    receipt = await services.delivery.deliver(message)
    posted = len(recap.papers)
    if not receipt.ok:
        return replace(run, outcome=Outcome.QUEUED, posted=posted, detail=receipt.error)
    return replace(run, outcome=Outcome.POSTED, posted=posted)
