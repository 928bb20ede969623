"""Changes to saved papers (a new version, a journal reference, a DOI): recorded by the
ingest that saw them, once each, and told to each saver once. On every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.models import Destination, Observation
from bot.storage import Storage
from tests.conftest import NOW

ADA = Destination("slack", "T1", "U1", "dm")
BOB = Destination("slack", "T1", "U2", "dm")
SAVED, OTHER = "2611.00001", "2611.00002"


def arxiv(arxiv_id: str, minutes: int = 0, **overrides: Any) -> Observation:
    values: dict[str, Any] = {
        "title": f"Paper {arxiv_id[:10]}",
        "source": "arxiv",
        "observed_at": NOW + timedelta(minutes=minutes),
        "arxiv_id": arxiv_id,
    }
    values.update(overrides)
    return Observation(**values)


async def ingest(storage: Storage, *observations: Observation) -> None:
    await storage.papers.ingest(observations, now=max(o.observed_at for o in observations))


async def changes_of(storage: Storage, owner: Destination) -> list[tuple[str, str]]:
    return [(c.kind, c.value) for c in await storage.saved_papers.pending_changes(owner)]


async def saved_by_ada(storage: Storage) -> int:
    await ingest(storage, arxiv(f"{SAVED}v1"), arxiv(f"{OTHER}v1"))
    pk = (await storage.papers.pks_for_ids([SAVED]))[SAVED]
    assert await storage.saved_papers.save_paper(ADA, pk, NOW + timedelta(minutes=1))
    return pk


async def test_a_new_version_and_a_doi_of_a_saved_paper_are_recorded_once(
    storage: Storage,
) -> None:
    await saved_by_ada(storage)
    assert await changes_of(storage, ADA) == []
    v2 = arxiv(f"{SAVED}v2", 10, journal_doi="https://doi.org/10.1038/s41586-026-0001-x")
    await ingest(storage, v2)
    assert await changes_of(storage, ADA) == [
        ("version", "2"),
        ("doi", "10.1038/s41586-026-0001-x"),
    ]
    # The same version seen again (by another source, later) is no change.
    await ingest(storage, arxiv(f"{SAVED}v2", 20), arxiv(SAVED, 21, source="hf"))
    assert len(await changes_of(storage, ADA)) == 2
    # An older observation (v1, seen late) changes nothing either.
    await ingest(storage, arxiv(f"{SAVED}v1", 5))
    assert len(await changes_of(storage, ADA)) == 2
    paper = await storage.papers.paper_by_id(SAVED)
    assert paper is not None and (paper.version, paper.doi) == (2, "10.1038/s41586-026-0001-x")
    # A journal reference later: one more, the DOI it kept is no change.
    await ingest(storage, arxiv(f"{SAVED}v2", 30, journal_ref="Nature 612 (2026)"))
    assert (await changes_of(storage, ADA))[-1] == ("journal_ref", "Nature 612 (2026)")
    assert await changes_of(storage, BOB) == []  # he saved nothing
    assert await storage.saved_papers.owners_with_changes() == [ADA]


async def test_a_paper_no_one_saved_changes_in_silence(storage: Storage) -> None:
    await saved_by_ada(storage)
    await ingest(storage, arxiv(f"{OTHER}v3", 10, journal_ref="Science 1 (2026)"))
    assert await storage.db.fetch_raw("SELECT count(*) FROM paper_changes") == [(0,)]
    # Saved afterwards, what came before is no news to its saver.
    other = (await storage.papers.pks_for_ids([OTHER]))[OTHER]
    await storage.saved_papers.save_paper(BOB, other, NOW + timedelta(minutes=11))
    assert await changes_of(storage, BOB) == []


async def test_changes_seen_before_a_user_saved_the_paper_are_not_theirs(
    storage: Storage,
) -> None:
    pk = await saved_by_ada(storage)
    await ingest(storage, arxiv(f"{SAVED}v2", 10))
    assert await storage.saved_papers.save_paper(BOB, pk, NOW + timedelta(minutes=15))
    await ingest(storage, arxiv(f"{SAVED}v3", 20))
    assert await changes_of(storage, ADA) == [("version", "2"), ("version", "3")]
    assert await changes_of(storage, BOB) == [("version", "3")]
    # Removed from the list, its news goes with it.
    assert await storage.saved_papers.remove_saved(ADA, pk)
    assert await changes_of(storage, ADA) == []


async def test_a_change_is_told_with_the_message_that_queues_it(storage: Storage) -> None:
    pk = await saved_by_ada(storage)
    await storage.saved_papers.save_paper(BOB, pk, NOW + timedelta(minutes=1))
    await ingest(storage, arxiv(f"{SAVED}v2", 10, journal_doi="10.1000/x"))
    version, doi = await storage.saved_papers.pending_changes(ADA)
    await storage.outbox.enqueue(ADA.key, '"alert"', (), NOW, notices=[version.id])
    assert await changes_of(storage, ADA) == [("doi", "10.1000/x")]
    assert len(await changes_of(storage, BOB)) == 2  # told to Ada only
    # Told again (a retried enqueue): still once.
    await storage.outbox.enqueue(ADA.key, '"alert"', (), NOW, notices=[version.id, doi.id])
    assert await changes_of(storage, ADA) == []
    assert await storage.saved_papers.owners_with_changes() == [BOB]


async def test_an_ingest_that_fails_records_no_change(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await saved_by_ada(storage)
    # The day lists are recorded after the papers, in the same transaction: make them fail.
    lists = storage.papers._lists  # type: ignore[attr-defined]

    async def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(lists, "record", broken)
    with pytest.raises(RuntimeError):
        await ingest(storage, arxiv(f"{SAVED}v2", 10, journal_doi="10.1000/x"))
    monkeypatch.undo()
    assert await changes_of(storage, ADA) == []
    paper = await storage.papers.paper_by_id(SAVED)
    assert paper is not None and (paper.version, paper.doi) == (1, None)
    await ingest(storage, arxiv(f"{SAVED}v2", 10, journal_doi="10.1000/x"))  # tried again
    assert await changes_of(storage, ADA) == [("version", "2"), ("doi", "10.1000/x")]


async def test_forgetting_a_saver_removes_what_they_were_told(storage: Storage) -> None:
    await saved_by_ada(storage)
    await ingest(storage, arxiv(f"{SAVED}v2", 10))
    [version] = await storage.saved_papers.pending_changes(ADA)
    await storage.outbox.enqueue(ADA.key, '"alert"', (), NOW, notices=[version.id])
    assert await storage.saved_papers.forget_user(ADA) == 1
    assert await storage.db.fetch_raw("SELECT count(*) FROM saved_notices") == [(0,)]
