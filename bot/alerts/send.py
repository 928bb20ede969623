"""Topic alerts: match the papers of newly complete lists against every subscription, queue
the matches, and send each user at most one direct message a day with them."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from bot.alerts.matching import LiveTopics
from bot.alerts.topics import DEFAULT_ALERT_CAP, AlertSettings, Subscription
from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.digests.runs import STALE_RUN
from bot.digests.settings import DigestRun, Outcome
from bot.models import Destination, Paper
from bot.render.neutral import AlertGroup, Reply, SavedUpdate, TopicAlert, UpdateKind
from bot.search.matcher import matches
from bot.search.query import Query, parse
from bot.storage import Papers
from bot.storage.types import PaperChange
from bot.taste.loading import prepare_vectors

_log = logging.getLogger(__name__)
PREVIEW_SIZE = 3  # recent matches shown when subscribing
UPDATES_CAP = 20  # reading-list changes in one alert; the rest wait for the next
PREVIEW_DAYS = 7  # of the newest lists, so that subscribing stays quick
HISTORY_DAYS = 30  # lists whose word frequencies pick the topics' anchors


async def match_new_lists(services: Services) -> int:
    """Match the papers of every complete list not matched yet; returns matches queued.
    A subscription gets the papers of lists that became complete after it was made only:
    alerts are about new papers, not the corpus it found on arrival."""
    lists = await services.subscriptions.lists_to_match()
    if not lists:
        return 0
    papers: dict[str, Paper] = {}
    completed: dict[str, datetime] = {}  # paper id -> when its latest list here completed
    for day, source, complete_at in lists:
        for paper in await services.papers.trending_list(day):
            if any(e.day == day and e.source == source for e in paper.trending):
                papers.setdefault(paper.id, paper)
                completed[paper.id] = max(complete_at, completed.get(paper.id, complete_at))
    # The channels' digests will rank these: their taste vectors are made once, here.
    prepare_vectors(services.index, list(papers.values()))
    subscriptions = await services.subscriptions.subscriptions()
    made = {s.id: s.created_at for s in subscriptions}
    if not services.topics.built:
        services.topics.build(await history(services.papers))
    matches = [
        (owner, paper_id, sub_id)
        for owner, paper_id, sub_id in match(subscriptions, list(papers.values()), services.topics)
        if completed[paper_id] >= made[sub_id]
    ]
    queued = await services.subscriptions.queue_matches(
        matches, [(day, source) for day, source, _ in lists], services.clock()
    )
    _log.info(
        "matched %d papers of %d lists against %d subscriptions: %d queued",
        len(papers),
        len(lists),
        len(subscriptions),
        queued,
    )
    return queued


def match(
    subscriptions: Sequence[Subscription], papers: Sequence[Paper], topics: LiveTopics
) -> list[tuple[Destination, str, int]]:
    """(owner, paper id, subscription id) for every subscription a paper matches, through
    the topic index (candidates by a selective anchor term, then the exact matcher)."""
    by_id = {s.id: s for s in subscriptions}
    index = topics.update({s.id: s.topic for s in subscriptions}, parse)
    found = []
    for sub_id, paper_ids in index.match(papers).items():
        owner = by_id[sub_id].owner
        found += [(owner, paper_id, sub_id) for paper_id in paper_ids]
    return found


async def history(papers: Papers, days: int = HISTORY_DAYS) -> list[Paper]:
    """The papers of the newest `days` trending lists: how often each word occurs in them
    picks the rarest anchor of each topic."""
    found: dict[str, Paper] = {}
    for day in (await papers.trending_days())[:days]:
        found.update((paper.id, paper) for paper in await papers.trending_list(day))
    return list(found.values())


async def recent_matches(
    papers: Papers, query: Query, limit: int = PREVIEW_SIZE, days: int = PREVIEW_DAYS
) -> list[Paper]:
    """Up to `limit` papers of the newest `days` trending lists that `query` matches,
    newest list first and by rank within a list: what a new topic would have caught."""
    found: dict[str, Paper] = {}
    for day in (await papers.trending_days())[:days]:
        listed = await papers.trending_list(day)
        listed.sort(key=lambda paper: min(e.rank for e in paper.trending if e.day == day))
        for paper in listed:
            if paper.id not in found and matches(query, paper):
                found[paper.id] = paper
                if len(found) == limit:
                    return list(found.values())
    return list(found.values())


async def send_alert(
    services: Services, settings: AlertSettings, at: datetime, cap: int = DEFAULT_ALERT_CAP
) -> DigestRun | None:
    """The user's direct message for the local day of `at`: at most one a day, never a paper
    sent before, and what changed about the papers on their reading list, each change told
    once. None when that day's message was already sent (or is being sent)."""
    owner = settings.owner
    run_day = at.astimezone(settings.zone).date()
    if settings.paused(at):
        return None
    now = services.clock()
    if not await services.digests.claim_run(owner.key, run_day, now, STALE_RUN):
        return None
    run = DigestRun(owner.key, run_day, now, Outcome.RUNNING)
    try:
        run = await _compose_and_send(services, owner, run, cap)
    except asyncio.CancelledError:  # cut short before it queued: taken again at once
        await services.digests.release_run(owner.key, run_day)
        raise
    run = replace(run, finished_at=services.clock())
    await services.digests.finish_run(run)
    return run


async def _compose_and_send(
    services: Services, owner: Destination, run: DigestRun, cap: int
) -> DigestRun:
    draft = compose_alert(await _pending(services, owner), cap)
    # The writes, in the order they always came: each topic's last match, then the message.
    for sub_id, title in draft.last_matches:
        await services.subscriptions.note_last_match(sub_id, title, services.clock())
    if draft.alert is None:
        run = replace(run, outcome=Outcome.NO_MATCH)
    else:
        paper_ids = draft.paper_ids
        receipt = await services.delivery.deliver(
            OutgoingMessage(
                owner,
                Reply(draft.alert, ephemeral=False),
                paper_ids,
                run=(owner.key, run.run_day),
                notices=draft.notices,
            )
        )
        # Sent or kept in the outbox, the matches are dealt with either way.
        await services.subscriptions.clear_pending(owner)
        services.metrics.alert()
        outcome = Outcome.POSTED if receipt.ok else Outcome.QUEUED
        run = replace(run, outcome=outcome, posted=len(paper_ids), detail=receipt.error)
    return run


@dataclass(frozen=True)
class PendingAlert:
    """What a user's alert is made of, as read from storage: the pending matches (paper key,
    subscription id; oldest first), the papers the user was already sent, their topics, the
    changes to their saved papers not told yet (oldest first), and the papers of the
    matches and changes by key."""

    matches: Sequence[tuple[int, int]]
    sent: frozenset[str]
    subscriptions: Mapping[int, Subscription]
    papers: Mapping[int, Paper]
    changes: Sequence[PaperChange] = ()


@dataclass(frozen=True)
class AlertDraft:
    """What to send (`alert`, None when nothing is left to send, and its `paper_ids`) and
    what to record: (subscription id, title of its first pending match) for each topic with
    pending matches, shown or left out by the cap, and the changes the alert tells of
    (`notices`, told once it is queued)."""

    alert: TopicAlert | None
    paper_ids: tuple[str, ...]
    last_matches: tuple[tuple[int, str], ...]
    notices: tuple[int, ...] = ()


async def _pending(services: Services, owner: Destination) -> PendingAlert:
    found = await services.subscriptions.pending_matches(owner)
    sent = await services.outbox.sent_paper_ids(owner.key)
    subscriptions = {s.id: s for s in await services.subscriptions.subscriptions(owner)}
    changes = await services.saved_papers.pending_changes(owner)
    pks = {pk for pk, _ in found} | {change.paper_pk for change in changes}
    papers = await services.papers.papers_by_pk(sorted(pks))
    return PendingAlert(found, sent, subscriptions, papers, changes)


def compose_alert(pending: PendingAlert, cap: int) -> AlertDraft:
    """The pending matches grouped by topic, at most `cap` papers in all, never a paper sent
    before or twice. Writes nothing: the caller records `last_matches` and sends."""
    by_topic: dict[int, list[Paper]] = defaultdict(list)
    seen: set[str] = set()
    for pk, sub_id in pending.matches:
        paper = pending.papers.get(pk)
        if paper is None or sub_id not in pending.subscriptions or paper.id in pending.sent | seen:
            continue
        seen.add(paper.id)
        by_topic[sub_id].append(paper)
    groups = []
    room = cap
    shown: list[str] = []
    last_matches: list[tuple[int, str]] = []
    for sub_id, matched in by_topic.items():
        take = matched[: max(room, 0)]
        room -= len(take)
        shown += [p.id for p in take]
        topic = pending.subscriptions[sub_id].topic
        groups.append(AlertGroup(topic, tuple(take), more=len(matched) - len(take)))
        last_matches.append((sub_id, matched[0].title))
    updates, more, notices = compose_updates(pending)
    if not shown and not updates:
        return AlertDraft(None, (), tuple(last_matches))
    alert = TopicAlert(tuple(groups) if shown else (), updates, more)
    return AlertDraft(alert, tuple(shown), tuple(last_matches), notices)


def compose_updates(
    pending: PendingAlert, cap: int = UPDATES_CAP
) -> tuple[tuple[SavedUpdate, ...], int, tuple[int, ...]]:
    """A line per paper and kind of change (the latest: v2 then v3 pending is "v3 posted"),
    at most `cap`, in the order first seen; how many lines wait for the next alert; and
    the changes the shown lines tell of."""
    latest: dict[tuple[int, str], list[PaperChange]] = {}
    for change in pending.changes:
        if change.paper_pk in pending.papers:
            latest.setdefault((change.paper_pk, change.kind), []).append(change)
    lines = list(latest.values())
    updates = []
    notices: list[int] = []
    for changes in lines[:cap]:
        newest = max(changes, key=_change_order)
        kind = cast(UpdateKind, newest.kind)  # one of the three the ingest records
        updates.append(SavedUpdate(pending.papers[newest.paper_pk], kind, newest.value))
        notices += [change.id for change in changes]
    return tuple(updates), max(0, len(lines) - cap), tuple(notices)


def _change_order(change: PaperChange) -> tuple[int, int]:
    """Versions by number (v3 after v2, whichever was seen first); the rest by when."""
    number = int(change.value) if change.kind == "version" and change.value.isdigit() else 0
    return number, change.id
