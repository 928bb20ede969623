"""A stop (a cancel) while the search index commits in its thread. The thread holds the
writer until the commit ends; tantivy refuses any other use of it meanwhile ("Already
borrowed"): rolling back then replaced the cancel by a RuntimeError, a traceback in a
scheduler job and exit code 1 during the start-up rebuild."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.search import index as index_module
from bot.search.index import SearchIndex
from bot.storage import Papers, open_storage
from tests.conftest import seed_observations

PAPERS = 223  # in the bundled seeds


class HeldWriter:
    """A real writer whose commit waits for `release` first, holding the writer as
    tantivy's thread does: meanwhile any other call fails as tantivy's does."""

    def __init__(self, real: Any, committing: asyncio.Event) -> None:
        self._real = real
        self._loop = asyncio.get_running_loop()
        self._committing = committing
        self.release = threading.Event()
        self.ended = threading.Event()
        self._busy = False

    def __getattr__(self, name: str) -> Any:
        if self._busy:
            raise RuntimeError("Already borrowed")
        return getattr(self._real, name)

    def commit(self) -> None:
        self._busy = True
        self._loop.call_soon_threadsafe(self._committing.set)
        try:
            self.release.wait()
            self._real.commit()
        except BaseException:
            self.ended.set()  # no merge step follows
            raise
        finally:
            self._busy = False

    def wait_merging_threads(self) -> None:
        # The thread's last step: it frees the writer (and its lock), so `ended` comes after
        # it (set after the commit alone, the next writer could still find the lock held).
        try:
            self._real.wait_merging_threads()
        finally:
            self.ended.set()


class HeldIndex:
    def __init__(self, real: Any) -> None:
        self._real = real
        self.committing = asyncio.Event()
        self.writers: list[HeldWriter] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def writer(self, **options: Any) -> HeldWriter:
        self.writers.append(HeldWriter(self._real.writer(**options), self.committing))
        return self.writers[-1]


@pytest.fixture
async def papers(tmp_path: Path) -> AsyncIterator[Papers]:
    async with open_storage(tmp_path / "p.db") as storage:
        await storage.papers.ingest(seed_observations())
        yield storage.papers


async def test_a_cancel_lets_the_commit_under_way_finish(tmp_path: Path, papers: Papers) -> None:
    index = SearchIndex.open(tmp_path / "index")
    held = HeldIndex(index._index)
    index._index = held
    syncing = asyncio.create_task(index.sync(papers))
    await held.committing.wait()
    syncing.cancel()
    await asyncio.sleep(0)  # the cancel reaches the sync (one turn of the loop, no time)
    [writer] = held.writers
    writer.release.set()
    with pytest.raises(asyncio.CancelledError):
        await syncing  # the cancel, not tantivy's RuntimeError
    assert index.last_seq == await papers.max_seq()
    reopened = SearchIndex.open(tmp_path / "index")  # the commit and its meta landed
    assert reopened.num_docs() == PAPERS
    assert await reopened.sync(papers) == 0


async def test_a_commit_outlasting_the_wait_is_left_to_its_thread(
    tmp_path: Path, papers: Papers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "COMMIT_WAIT_S", 0.0, raising=False)
    index = SearchIndex.open(tmp_path / "index")
    held = HeldIndex(index._index)
    index._index = held
    syncing = asyncio.create_task(index.sync(papers))
    await held.committing.wait()
    syncing.cancel()
    [writer] = held.writers
    try:
        with pytest.raises(asyncio.CancelledError):
            await syncing  # not waiting for the commit, nor breaking on the writer it holds
    finally:
        writer.release.set()
        await asyncio.to_thread(writer.ended.wait)
    assert index.last_seq == 0  # what it indexed counts as not indexed
    # However the commit ended, the next sync adds each paper once (deleting it first).
    reopened = SearchIndex.open(tmp_path / "index")
    assert await reopened.sync(papers) == PAPERS
    assert reopened.num_docs() == PAPERS
