from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.errors import UserError
from bot.models import Signals, title_key
from bot.storage import IngestCounts, Store
from bot.storage.migrations import LATEST_VERSION, MIGRATIONS
from tests.conftest import NOW, make_observation


async def _version(path: Path) -> int:
    async with aiosqlite.connect(path) as conn, conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_fresh_database_reaches_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    async with Store.open(path) as store:
        assert await store.fetch_raw("PRAGMA journal_mode") == [("wal",)]
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
    async with Store.open(path) as store:
        assert await store.count_papers() == 1
        tables = await store.fetch_raw("SELECT name FROM sqlite_master WHERE type='table'")
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
    async with Store.open(path) as store:
        [state] = await store.list_states()
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
        async with Store.open(path):
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
        async with Store.open(path):
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
        async with Store.open(path):
            pass
    assert _files(tmp_path) == before


async def test_same_paper_from_two_sources_and_days_is_one_record() -> None:
    async with Store.open(":memory:") as store:
        seed = make_observation(source="seeds", day=date(2026, 3, 11), rank=4)
        counts = await store.ingest([seed])
        assert counts == IngestCounts(new=1)
        hf = make_observation(
            title="A study of diffusion\n models",
            arxiv_id="2603.01234v2",
            source="hf",
            observed_at=NOW + timedelta(hours=1),
            signals=Signals(upvotes=12, github_repo="https://github.com/x/y"),
            day=date(2026, 3, 12),
            rank=2,
        )
        assert await store.ingest([hf]) == IngestCounts(updated=1)
        assert await store.count_papers() == 1
        paper = await store.paper_by_id("2603.01234")
        assert paper is not None
        assert paper.sources == ("seeds", "hf")
        assert paper.signals.upvotes == 12
        assert {(e.day, e.rank) for e in paper.trending} == {
            (date(2026, 3, 11), 4),
            (date(2026, 3, 12), 2),
        }
        # The title key no longer names it: its id is now the arXiv id.
        assert await store.paper_by_id(title_key(seed.title)) is None


async def test_version_two_of_a_paper_is_the_same_paper_and_signals_refresh() -> None:
    async with Store.open(":memory:") as store:
        first = make_observation(arxiv_id="2607.00042v1", signals=Signals(upvotes=1))
        later = make_observation(
            arxiv_id="2607.00042v2",
            signals=Signals(upvotes=30),
            observed_at=NOW + timedelta(days=1),
        )
        await store.ingest([first])
        await store.ingest([later])
        paper = await store.paper_by_id("2607.00042")
        assert paper is not None and paper.signals.upvotes == 30
        # An older snapshot ingested afterwards does not roll the upvotes back.
        await store.ingest([make_observation(arxiv_id="2607.00042", signals=Signals(upvotes=2))])
        paper = await store.paper_by_id("2607.00042")
        assert paper is not None and paper.signals.upvotes == 30


async def test_same_title_with_different_arxiv_ids_stays_two_papers() -> None:
    async with Store.open(":memory:") as store:
        await store.ingest([make_observation(title="0", arxiv_id="2101.00001")])
        await store.ingest([make_observation(title="0", arxiv_id="2101.00002")])
        assert await store.count_papers() == 2


async def test_reingest_is_unchanged_and_does_not_bump_the_change_sequence() -> None:
    async with Store.open(":memory:") as store:
        obs = [make_observation(title=f"Paper {i}", day=date(2026, 7, 1), rank=i) for i in range(5)]
        await store.ingest(obs)
        seq = await store.max_seq()
        assert await store.ingest(obs) == IngestCounts(unchanged=5)
        assert await store.max_seq() == seq


async def test_failed_ingest_changes_nothing() -> None:
    async with Store.open(":memory:") as store:
        await store.ingest([make_observation(title="Kept")])

        def broken() -> object:
            yield make_observation(title="Never stored")
            raise ValueError("source broke mid-way")

        with pytest.raises(ValueError):
            await store.ingest(broken())  # type: ignore[arg-type]
        assert await store.count_papers() == 1


async def test_sent_papers_are_remembered_per_destination() -> None:
    async with Store.open(":memory:") as store:
        await store.ingest([make_observation(arxiv_id="2607.00001")])
        await store.enqueue("slack:T:C1", "{}", ["2607.00001", "unknown"], datetime.now(UTC))
        assert await store.sent_paper_ids("slack:T:C1") == frozenset({"2607.00001"})
        assert await store.sent_paper_ids("slack:T:C2") == frozenset()


async def test_every_observation_of_a_batch_is_counted_even_a_repeat() -> None:
    async with Store.open(":memory:") as store:
        await store.ingest([make_observation(title="Known", arxiv_id="2607.00010")])
        batch = [
            make_observation(title="Fresh", arxiv_id="2607.00011v1"),
            make_observation(title="Fresh", arxiv_id="2607.00011v1"),  # the same again
            make_observation(title="Fresh, v2", arxiv_id="2607.00011v2"),  # changes it
            make_observation(title="Known", arxiv_id="2607.00010"),
            make_observation(title="Known", arxiv_id="2607.00010", abstract="New text."),
        ]
        counts = await store.ingest(batch)
        assert (counts.new, counts.updated, counts.unchanged) == (1, 2, 2)
        assert counts.new + counts.updated + counts.unchanged == len(batch)
        assert await store.count_papers() == 2


async def test_a_doi_is_a_papers_id_and_finds_it_again_under_a_new_title() -> None:
    async with Store.open(":memory:") as store:
        v1 = make_observation(
            title="Gut Microbes in Mice",
            doi="10.1101/2024.01.05.574321",
            version=1,
            source="biorxiv",
            links=("https://www.biorxiv.org/content/10.1101/2024.01.05.574321v1",),
        )
        v2 = make_observation(
            title="Gut Microbes Shape Sleep in Mice",
            abstract="Revised.",
            doi="10.1101/2024.01.05.574321",
            version=2,
            source="biorxiv",
            links=("https://www.biorxiv.org/content/10.1101/2024.01.05.574321v2",),
            authors=("Ana Ruiz", "Ben Cole"),
            affiliations=("Univ. of Leeds, UK", ""),
        )
        assert await store.ingest([v1]) == IngestCounts(new=1)
        assert await store.ingest([v2]) == IngestCounts(updated=1)
        # An arXiv paper of the same title is another paper: its id differs.
        await store.ingest(
            [make_observation(title="Gut Microbes Shape Sleep in Mice", arxiv_id="2401.00001")]
        )
        assert await store.count_papers() == 2
        paper = await store.paper_by_id("10.1101/2024.01.05.574321")
        assert paper is not None and paper.arxiv_id is None
        assert (paper.title, paper.abstract, paper.version) == (v2.title, "Revised.", 2)
        assert paper.authors == ("Ana Ruiz", "Ben Cole")
        assert paper.affiliations == ("Univ. of Leeds, UK", "")
        assert paper.url == "https://www.biorxiv.org/content/10.1101/2024.01.05.574321v2"


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
    async with Store.open(path) as store:
        paper = await store.paper_by_id("2607.00042")
        assert paper is not None and (paper.version, paper.affiliations) == (None, ())
        counts = await store.ingest([make_observation(title="Old Paper", arxiv_id="2607.00042v3")])
        assert counts == IngestCounts(updated=1)
        paper = await store.paper_by_id("2607.00042")
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
    async with Store.open(path) as store:
        rows = await store.fetch_raw("SELECT destination, attempts, sends FROM outbox")
        assert sorted(rows) == [("slack:T1:C1", 3, 3), ("slack:T1:C2", 0, 0), ("slack:T1:C3", 1, 0)]


async def test_destinations_whose_message_may_have_arrived_are_sent_to_first() -> None:
    async with Store.open(":memory:") as store:
        ids = [await store.enqueue(f"slack:T1:C{n}", '"x"', (), NOW) for n in range(3)]
        await store.mark_sending(ids[2])  # a crash left its request out
        assert await store.due_destinations(NOW) == ["slack:T1:C2", "slack:T1:C0", "slack:T1:C1"]
