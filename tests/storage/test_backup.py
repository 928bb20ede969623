"""`paperwire backup` and `restore` on SQLite files: a copy taken while papers are ingested
holds whole batches, and a restore never lands under a running process."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.models import Observation
from bot.storage import open_storage
from bot.storage.backup import README_SECTION, back_up, check_database, restore
from bot.storage.migrations import LATEST_VERSION
from bot.storage.types import ProcessBeat
from tests.conftest import NOW

BATCH = 25
PAPERS = 1000
FIRST_DAY = date(2026, 1, 1)


def observation(n: int) -> Observation:
    """Paper `n` of the test corpus: batch n // BATCH trends on its own day."""
    return Observation(
        title=f"Paper number {n} on sparse attention",
        source="hf",
        observed_at=NOW,
        abstract=f"Abstract of paper {n}. " * 20,
        authors=(f"Author {n}", f"Second {n}"),
        arxiv_id=f"2601.{n:05d}",
        day=FIRST_DAY + timedelta(days=n // BATCH),
        rank=n % BATCH + 1,
    )


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def beside(path: Path, suffix: str) -> Path:
    """`path`'s companion: `-wal`, `.index`..."""
    return Path(f"{path}{suffix}")


def exists(path: Path) -> bool:
    return path.exists()


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def read(path: Path) -> bytes:
    return path.read_bytes()


def make_index(index: Path) -> None:
    index.mkdir()
    (index / "meta.json").write_text("{}")


async def make_database(path: Path, papers: int = 10) -> None:
    async with open_storage(path) as storage:
        await storage.papers.ingest([observation(n) for n in range(papers)])


def assert_whole_batches(path: Path, boundaries: set[int]) -> int:
    """The papers in `path` are the first N of the corpus, N at a batch boundary, each with
    its row, its trending row and its authors: no batch half there. Returns N."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids = [r[0] for r in conn.execute("SELECT id FROM papers ORDER BY id")]
        assert len(ids) in boundaries
        assert ids == [f"2601.{n:05d}" for n in range(len(ids))]
        rows = conn.execute(
            "SELECT p.id, p.authors, p.abstract, t.day, t.rank FROM papers p"
            " JOIN trending t ON t.paper_pk = p.pk ORDER BY p.id"
        ).fetchall()
        assert len(rows) == len(ids)  # one trending row each, none without its paper
        for n, (paper_id, authors, abstract, day, rank) in enumerate(rows):
            expected = observation(n)
            assert paper_id == expected.arxiv_id
            assert json.loads(authors) == list(expected.authors)
            assert abstract == expected.abstract
            assert (day, rank) == (str(expected.day), expected.rank)
        days = conn.execute("SELECT count(DISTINCT day) FROM trending").fetchone()[0]
        assert days == len(ids) // BATCH
    finally:
        conn.close()
    return len(ids)


async def test_a_backup_taken_while_papers_are_ingested_holds_whole_batches(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.db"
    boundaries = {0}
    ingesting = asyncio.Event()
    done = asyncio.Event()

    async def ingest() -> None:
        async with open_storage(live) as storage:
            for start in range(0, PAPERS, BATCH):
                await storage.papers.ingest([observation(n) for n in range(start, start + BATCH)])
                boundaries.add(start + BATCH)
                ingesting.set()
                await asyncio.sleep(0.005)  # as a source's pages come, not one burst
        done.set()

    async def back_up_meanwhile() -> list[tuple[Path, int, int]]:
        """Backups one after another while the ingest runs, each with the papers committed
        before it began and after it ended."""
        await ingesting.wait()
        taken: list[tuple[Path, int, int]] = []
        while not done.is_set():
            before = max(boundaries)
            target = tmp_path / f"backup-{len(taken)}.db"
            await back_up(str(live), target)
            taken.append((target, before, max(boundaries)))
        return taken

    _, taken = await asyncio.gather(ingest(), back_up_meanwhile())
    overlapped = [t for t in taken if t[1] < t[2]]  # the ingest committed during the copy
    assert overlapped, f"no backup overlapped a commit: {[t[1:] for t in taken]}"
    for target, before, after in taken:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert not exists(beside(target, "-wal"))  # one self-contained file
        assert before <= assert_whole_batches(target, boundaries) <= after
    # One taken mid-ingest, restored: whole, and paperwire opens it and searches it.
    target, before, after = overlapped[len(overlapped) // 2]
    restored = tmp_path / "restored" / "paperwire.db"
    report = await restore(str(restored), target, NOW)
    count = assert_whole_batches(restored, boundaries)
    assert report.checked.papers == count and report.kept is None
    async with open_storage(restored) as storage:
        assert await storage.papers.count_papers() == count
        await storage.papers.ingest([observation(n) for n in range(count, count + BATCH)])
        assert await storage.papers.count_papers() == count + BATCH


async def test_a_backup_is_private_checked_and_never_replaces_a_file_unasked(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await make_database(db, papers=30)
    target = tmp_path / "b.db"
    old_umask = os.umask(0)  # a umask that would leave a new file open to everyone
    try:
        report = await back_up(str(db), target)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert report.checked.papers == 30 and report.checked.version == LATEST_VERSION
    assert str(target) in report.line() and "30 papers" in report.line()
    assert (await check_database(target, target)).papers == 30
    target.write_bytes(b"someone's file")
    with pytest.raises(UserError, match=r"exists: .* --force"):
        await back_up(str(db), target)
    assert target.read_bytes() == b"someone's file"
    await back_up(str(db), target, force=True)
    assert (await check_database(target, target)).papers == 30
    for wrong in (db, beside(db, "-wal"), beside(db, ".index")):
        with pytest.raises(UserError, match="the database or a file of it"):
            await back_up(str(db), wrong, force=True)
    with pytest.raises(UserError, match="nothing to back up"):
        await back_up(str(tmp_path / "missing.db"), tmp_path / "c.db")
    assert not (tmp_path / "missing.db").exists()
    assert names_in(tmp_path) == ["b.db", "p.db"]  # no partial left


async def test_restore_keeps_the_database_it_replaces_and_removes_the_index(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await make_database(db, papers=10)
    backup = tmp_path / "b.db"
    await back_up(str(db), backup)
    async with open_storage(db) as storage:  # written after the backup
        await storage.papers.ingest([observation(n) for n in range(10, 20)])
    index = beside(db, ".index")
    make_index(index)
    report = await restore(str(db), backup, NOW)
    assert not exists(index) and report.index_removed == index
    assert report.kept == tmp_path / "p.db.before-restore-20261122T093000Z"
    assert (await check_database(db, db)).papers == 10
    assert (await check_database(report.kept, report.kept)).papers == 20  # its WAL included
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert names_in(tmp_path) == ["b.db", "p.db", "p.db.before-restore-20261122T093000Z"]
    text = "\n".join(report.lines())
    assert "kept as" in text and "rebuilt" in text and "next: start paperwire" in text
    again = await restore(str(db), backup, NOW)  # in the same second: a name of its own
    assert again.kept == tmp_path / "p.db.before-restore-20261122T093000Z-2"


async def test_restore_is_refused_while_a_process_beats_or_has_the_database_open(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await make_database(db)
    backup = tmp_path / "b.db"
    await back_up(str(db), backup)
    async with open_storage(db) as storage:
        with pytest.raises(UserError, match="open in another process"):
            await restore(str(db), backup, NOW)
        beat = ProcessBeat("host:42:ab", NOW, NOW, leader=True)
        await storage.processes.beat(beat)
    # Gone without saying so (killed): refused until its heartbeat is 30 s old.
    with pytest.raises(UserError, match=r"running on .* \(process host:42:ab seen 29 s ago\)"):
        await restore(str(db), backup, NOW + timedelta(seconds=29))
    assert names_in(tmp_path) == ["b.db", "p.db"]
    report = await restore(str(db), backup, NOW + timedelta(seconds=31))
    assert report.kept is not None


async def test_restore_refuses_what_is_not_a_paperwire_backup_and_changes_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await make_database(db)
    before = db.read_bytes()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text)")
    newer = tmp_path / "newer.db"
    await back_up(str(db), newer)
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    empty = tmp_path / "empty.db"
    empty.touch()
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    cases = {
        other: "not a paperwire database",
        newer: "newer paperwire",
        empty: "not a paperwire database",
        text: "not a paperwire database|cannot read",
        tmp_path / "missing.db": "no backup at",
        db: "the database itself",
    }
    for path, message in cases.items():
        with pytest.raises(UserError, match=message):
            await restore(str(db), path, NOW)
    assert db.read_bytes() == before
    assert names_in(tmp_path) == ["empty.db", "newer.db", "notes.txt", "other.db", "p.db"]


async def test_a_damaged_database_is_set_aside_with_its_wal(tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    await make_database(good)
    backup = tmp_path / "b.db"
    await back_up(str(good), backup)
    db = tmp_path / "p.db"
    db.write_bytes(b"\x00garbage" * 1000)
    write(beside(db, "-wal"), b"a stale log")
    report = await restore(str(db), backup, NOW)
    assert report.kept is not None
    assert read(beside(report.kept, "-wal")) == b"a stale log"  # kept with its file
    assert not exists(beside(db, "-wal"))
    assert (await check_database(db, db)).papers == 10


async def test_a_wal_left_without_its_database_is_set_aside(tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    await make_database(tmp_path / "good.db")
    await back_up(str(tmp_path / "good.db"), backup)
    db = tmp_path / "p.db"
    write(beside(db, "-wal"), b"a log of a database since deleted")
    report = await restore(str(db), backup, NOW)
    assert report.kept is not None and exists(beside(report.kept, "-wal"))
    assert not exists(beside(db, "-wal"))
    assert (await check_database(db, db)).papers == 10


@pytest.mark.parametrize("command", ["backup", "restore"])
async def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path, command: str) -> None:
    url = "postgresql://paperwire:hunter2@db.internal/paperwire"
    run = back_up(url, tmp_path / "b.db") if command == "backup" else restore(url, tmp_path, NOW)
    with pytest.raises(UserError) as raised:
        await run
    message = str(raised.value)
    assert "pg_dump" in message if command == "backup" else "pg_restore" in message
    assert 'README: "Operations: running it for real"' in message
    assert "hunter2" not in message


def test_the_readme_section_the_refusals_point_to_exists() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"\n## {README_SECTION.split(chr(34))[1]}\n" in readme
