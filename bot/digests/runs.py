"""One channel's digest run: claim the day, pick the list, select, send, and record what
happened (including why nothing was posted)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.digests.selection import select_trending
from bot.digests.settings import DigestRun, DigestSettings, Outcome
from bot.models import Paper
from bot.render.neutral import Digest, Reply
from bot.search.query import parse
from bot.taste.loading import load_profile
from bot.taste.rerank import Ranked, rerank
from bot.wording import plural

_log = logging.getLogger(__name__)

STALE_RUN = timedelta(hours=1)  # a run still "running" after this died with its process


async def run_channel_digest(
    services: Services, settings: DigestSettings, at: datetime
) -> DigestRun | None:
    """Post `settings`' digest for the channel's local day of `at`. None when that day's
    digest was already posted or is being posted: never two in a day."""
    key = settings.destination.key
    run_day = at.astimezone(settings.zone).date()
    now = services.clock()
    if not await services.digests.claim_run(key, run_day, now, STALE_RUN):
        return None
    run = DigestRun(key, run_day, now, Outcome.RUNNING)
    try:
        run = await _compose_and_send(services, settings, run, at)
    except asyncio.CancelledError:
        # A stop, or a lost lead, before the message was queued: the day is given back for
        # the catch-up (here at the next start, or the next leader's) to take at once.
        await services.digests.release_run(key, run_day)
        raise
    except Exception as exc:
        _log.exception("digest for %s failed", key)
        run = replace(run, outcome=Outcome.PLATFORM_ERROR, detail=str(exc)[:300])
    run = replace(run, finished_at=services.clock())
    await services.digests.finish_run(run)
    services.metrics.digest(run.outcome)
    _log.info("digest for %s: %s (%s)", key, run.outcome.value, plural(run.posted, "paper"))
    return run


async def _compose_and_send(
    services: Services, settings: DigestSettings, run: DigestRun, at: datetime
) -> DigestRun:
    day = await _list_day(services, settings, at)
    if day is None:
        return replace(run, outcome=Outcome.NOTHING_COMPLETE)
    run = replace(run, list_day=day)
    papers = await services.papers.trending_list(day)
    topic = parse(settings.topic) if settings.topic else None
    sent = await services.outbox.sent_paper_ids(settings.destination.key)
    candidates = select_trending(papers, day, now=at, limit=len(papers), topic=topic, exclude=sent)
    if not candidates:
        matching = select_trending(papers, day, now=at, limit=1, topic=topic)
        return replace(run, outcome=Outcome.ALL_POSTED if matching else Outcome.NO_MATCH)
    ranked = await _in_channel_order(services, settings, candidates)
    chosen = ranked.papers
    digest = Digest(
        day=day,
        papers=chosen,
        topic=settings.topic,
        style=settings.format,
        reasons=ranked.reasons if any(ranked.reasons) else (),
    )
    message = OutgoingMessage(
        settings.destination,
        Reply(digest, ephemeral=False),
        tuple(p.id for p in chosen),
        run=(run.destination, run.run_day),
    )
    receipt = await services.delivery.deliver(message)
    if not receipt.ok:  # kept in the outbox: it goes when the platform takes it
        return replace(run, outcome=Outcome.QUEUED, posted=len(chosen), detail=receipt.error)
    return replace(run, outcome=Outcome.POSTED, posted=len(chosen))


async def _in_channel_order(
    services: Services, settings: DigestSettings, candidates: list[Paper]
) -> Ranked:
    """The digest's papers: `candidates` (in trending order) re-ranked by the channel's
    taste when it has votes or a topic, unless taste is off there. A failure to read the
    taste costs the order, never the digest."""
    plain = Ranked(tuple(candidates[: settings.size]), ())
    if not settings.taste:  # `set taste off`
        return plain
    try:
        profile = await load_profile(
            services, settings.destination.key, settings.topic, corpus=candidates
        )
        if not profile.votes and not settings.topic:
            return plain
        return rerank(candidates, profile, settings.size)  # reads the index too
    except Exception:
        _log.exception("taste of %s unreadable; trending order", settings.destination.key)
        return plain


async def _list_day(services: Services, settings: DigestSettings, at: datetime) -> date | None:
    """The most recent complete list up to `at` (or yesterday's, when asked for)."""
    complete = {s.day for s in await services.day_lists.list_states() if s.complete}
    if settings.covers == "yesterday":
        yesterday = at.astimezone(settings.zone).date() - timedelta(days=1)
        return yesterday if yesterday in complete else None
    today = at.astimezone(settings.zone).date()
    return max((d for d in complete if d <= today), default=None)
