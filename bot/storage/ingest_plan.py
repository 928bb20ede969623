"""What an ingest writes, as pure functions: the rows a merge plan (`bot.storage.merge`)
becomes once the backend has read the next keys and the day lists as they stand, and how
many papers each day's list carries. The backends only read, then run the writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.models import Observation, Paper
from bot.storage.merge import Plan
from bot.storage.rows import paper_row

ListKey = tuple[str, str]  # a day's list: (ISO day, source)


@dataclass(frozen=True)
class Writes:
    """The rows of one ingest, keys resolved (no placeholder left)."""

    # `paper_row` then first_seen, updated_at, seq, pk
    inserts: list[tuple[Any, ...]]
    # `paper_row` then updated_at, seq, pk
    updates: list[tuple[Any, ...]]
    # (seq, pk): papers that only joined or left a day's list, a change for the search
    # index all the same (their trending days are a date filter)
    reindexed: list[tuple[int, int]]
    # (day, source) lists the batch carries, sorted: each replaces the stored one (Hugging
    # Face reorders by upvotes during the day)
    replaced_lists: list[ListKey]
    # (day, source, pk, rank, upvotes)
    trending: list[tuple[str, str, int, int, int | None]]


def carried_lists(plan: Plan) -> dict[ListKey, set[int]]:
    """The day lists a plan carries, with the keys on each (new papers' placeholders too)."""
    joining: dict[ListKey, set[int]] = {}
    for row in plan.trending:
        joining.setdefault((row.day, row.source), set()).add(row.key)
    return joining


def write_plan(
    plan: Plan,
    stored: Mapping[int, Paper],
    listed: Mapping[ListKey, Iterable[int]],
    at: str | datetime,
    seq: int,
    first_pk: int,
) -> Writes:
    """The rows that write `plan`: `stored` are the papers it started from (by key),
    `listed` the keys on each of its `carried_lists` as stored now, `at` the time as the
    backend stores it, `seq` and `first_pk` the next change sequence and internal key. New
    papers take keys from `first_pk` in the order met; each paper written takes the next
    change sequence, then each stored paper that joins or leaves a list does."""
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    placeholder_pk: dict[int, int] = {}
    for key, pending in plan.touched.items():
        if pending.is_new:
            placeholder_pk[key] = first_pk + len(inserts)
            inserts.append((*paper_row(pending), at, at, seq, placeholder_pk[key]))
            seq += 1
        elif pending.paper != stored[key]:
            updates.append((*paper_row(pending), at, seq, key))
            seq += 1
    moved: set[int] = set()
    for list_key, keys in carried_lists(plan).items():
        # New papers (placeholders below 0) are indexed anyway.
        moved |= {pk for pk in keys.symmetric_difference(listed[list_key]) if pk > 0}
    rewritten = {row[-1] for row in updates}
    reindexed = [(seq + i, pk) for i, pk in enumerate(sorted(moved - rewritten))]
    return Writes(
        inserts=inserts,
        updates=updates,
        reindexed=reindexed,
        replaced_lists=sorted({(row.day, row.source) for row in plan.trending}),
        trending=[
            (row.day, row.source, placeholder_pk.get(row.key, row.key), row.rank, row.upvotes)
            for row in plan.trending
        ],
    )


# What changed about a stored paper that its savers hear of: (paper key, kind, value).
Change = tuple[int, str, str]


def paper_changes(plan: Plan, stored: Mapping[int, Paper]) -> list[Change]:
    """What `plan` changes about stored papers where they stand: a later version (a paper
    whose source gave none counts as v1: Hugging Face and the seeds list new papers), a
    journal reference or a DOI set or changed. New papers have no savers yet."""
    changes: list[Change] = []
    for key, pending in plan.touched.items():
        if pending.is_new:
            continue
        old, new = stored[key], pending.paper
        if new.version is not None and new.version > (old.version or 1):
            changes.append((key, "version", str(new.version)))
        if new.journal_ref and new.journal_ref != old.journal_ref:
            changes.append((key, "journal_ref", new.journal_ref))
        if new.doi and new.doi != old.doi:
            changes.append((key, "doi", new.doi))
    return changes


def list_sizes(
    batch: Iterable[Observation], fetched: Iterable[tuple[date, str]]
) -> list[tuple[date, str, int]]:
    """(day, source, papers) of each day's list in `batch`, and of each `fetched` list even
    when the batch has none of it, by day then source."""
    papers: dict[tuple[date, str], set[str]] = {key: set() for key in fetched}
    for obs in batch:
        if obs.day is not None:
            papers.setdefault((obs.day, obs.source), set()).add(obs.paper_id)
    return [(day, source, len(ids)) for (day, source), ids in sorted(papers.items())]
