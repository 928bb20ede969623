from datetime import date
from pathlib import Path

import aiosqlite
import pytest

from bot.errors import UserError
from bot.storage import IngestCounts, open_storage
from bot.storage.migrations import LATEST_VERSION, MIGRATIONS
from tests.conftest import NOW, make_observation


async def _version(path: Path) -> int:
    async with aiosqlite.connect(path) as conn, conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_fresh_database_reaches_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    async with open_storage(path) as storage:
        assert await storage.db.fetch_raw("PRAGMA journal_mode") == [("wal",)]
    assert await _version(path) == LATEST_VERSION


async def test_database_from_version_1_migrates_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path) as conn:
        await conn.executescript(f"BEGIN; {MIGRATIONS[0]} PRAGMA user_version = 1; COMMIT;")
        await conn.execute(
            "INSERT INTO papers (id, title_hash, title, first_seen, updated_at, seq)"
            " VALUES ('t-1', 42, 'Old Paper', 'x', 'x', 1)"
        )
        await conn.commit()
    async with open_storage(path) as storage:
        assert await storage.papers.count_papers() == 1
        tables = await storage.db.fetch_raw("SELECT name FROM sqlite_master WHERE type='table'")
        assert ("sent_papers",) in tables
    assert await _version(path) == LATEST_VERSION


async def test_version_2_lists_become_complete_day_lists(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    async with aiosqlite.connect(path) as conn:
        script = "".join(MIGRATIONS[:2])
        await conn.executescript(f"BEGIN; {script} PRAGMA user_version = 2; COMMIT;")
        await conn.execute(
            "INSERT INTO papers (pk, id, title_hash, title, first_seen, updated_at, seq)"
            " VALUES (1, 't-1', 42, 'Old Paper', 'x', 'x', 1)"
        )
        await conn.execute("INSERT INTO trending VALUES ('2026-03-11', 'seeds', 1, 1, NULL)")
        await conn.commit()
    async with open_storage(path) as storage:
        [state] = await storage.day_lists.list_states()
        assert (state.day, state.source, state.size) == (date(2026, 3, 11), "seeds", 1)
        assert state.complete


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


async def test_newer_schema_than_the_code_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    async with aiosqlite.connect(path) as conn:
        await conn.execute("CREATE TABLE papers (pk INTEGER PRIMARY KEY)")
        await conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        await conn.commit()
    before = _files(tmp_path)
    with pytest.raises(UserError) as refused:
        async with open_storage(path):
            pass
    assert str(refused.value) == (
        f"{path} was written by a newer paperwire (schema {LATEST_VERSION + 1},"
        f" this one knows {LATEST_VERSION}): upgrade paperwire"
    )
    assert _files(tmp_path) == before  # the same bytes, and no -wal or -shm beside it
    async with aiosqlite.connect(path) as conn, conn.execute("PRAGMA journal_mode") as cur:
        assert await cur.fetchone() == ("delete",)  # not switched to WAL


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"paper_id,title\n2607.00001,A Study\n" * 50, "file is not a database"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 16, "file is not a database"),
    ],
)
async def test_a_file_that_is_not_a_database_is_refused_untouched(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(UserError) as refused:
        async with open_storage(path):
            pass
    assert str(refused.value) == f"{path} is not a paperwire database ({reason})"
    assert _files(tmp_path) == {"notes.db": content}


async def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    async with aiosqlite.connect(path) as conn:
        await conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
        await conn.commit()
    before = _files(tmp_path)
    with pytest.raises(UserError, match="is not a paperwire database \\(it has other tables\\)"):
        async with open_storage(path):
            pass
    assert _files(tmp_path) == before


async def test_database_from_version_9_gains_versions_and_affiliations(tmp_path: Path) -> None:
    path = tmp_path / "v9.db"
    async with aiosqlite.connect(path) as conn:
        script = "".join(MIGRATIONS[:9])
        await conn.executescript(f"BEGIN; {script} PRAGMA user_version = 9; COMMIT;")
        await conn.execute(
            "INSERT INTO papers (id, arxiv_id, title_hash, title, first_seen, updated_at, seq)"
            " VALUES ('2607.00042', '2607.00042', 42, 'Old Paper', 'x', 'x', 1)"
        )
        await conn.commit()
    async with open_storage(path) as storage:
        paper = await storage.papers.paper_by_id("2607.00042")
        assert paper is not None and (paper.version, paper.affiliations) == (None, ())
        counts = await storage.papers.ingest(
            [make_observation(title="Old Paper", arxiv_id="2607.00042v3")]
        )
        assert counts == IngestCounts(updated=1)
        paper = await storage.papers.paper_by_id("2607.00042")
        assert paper is not None and paper.version == 3


async def test_database_from_version_10_keeps_what_its_waiting_messages_began(
    tmp_path: Path,
) -> None:
    """Until version 11 one count held sends begun and failures: a waiting message that
    counted some is still looked for before it goes again."""
    path = tmp_path / "v10.db"
    async with aiosqlite.connect(path) as conn:
        script = "".join(MIGRATIONS[:10])
        await conn.executescript(f"BEGIN; {script} PRAGMA user_version = 10; COMMIT;")
        await conn.executemany(
            "INSERT INTO outbox (destination, reply, paper_ids, created_at, state, attempts,"
            " next_attempt_at) VALUES (?, '\"x\"', '[]', 'x', ?, ?, ?)",
            [
                ("slack:T1:C1", "sending", 3, NOW.isoformat()),
                ("slack:T1:C2", "pending", 0, NOW.isoformat()),
                ("slack:T1:C3", "sent", 1, NOW.isoformat()),
            ],
        )
        await conn.commit()
    async with open_storage(path) as storage:
        rows = await storage.db.fetch_raw("SELECT destination, attempts, sends FROM outbox")
        assert sorted(rows) == [("slack:T1:C1", 3, 3), ("slack:T1:C2", 0, 0), ("slack:T1:C3", 1, 0)]
