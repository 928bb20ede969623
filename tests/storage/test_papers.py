from datetime import date, datetime, timedelta

import pytest

from bot.models import Signals, title_key
from bot.storage import IngestCounts, Storage
from tests.conftest import NOW, make_observation


async def test_same_paper_from_two_sources_and_days_is_one_record(
    storage: Storage,
) -> None:
    seed = make_observation(source="seeds", day=date(2026, 3, 11), rank=4)
    counts = await storage.papers.ingest([seed])
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
    assert await storage.papers.ingest([hf]) == IngestCounts(updated=1)
    assert await storage.papers.count_papers() == 1
    paper = await storage.papers.paper_by_id("2603.01234")
    assert paper is not None
    assert paper.sources == ("seeds", "hf")
    assert paper.signals.upvotes == 12
    assert {(e.day, e.rank) for e in paper.trending} == {
        (date(2026, 3, 11), 4),
        (date(2026, 3, 12), 2),
    }
    # The title key no longer names it: its id is now the arXiv id.
    assert await storage.papers.paper_by_id(title_key(seed.title)) is None


async def test_version_two_of_a_paper_is_the_same_paper_and_signals_refresh(
    storage: Storage,
) -> None:
    first = make_observation(arxiv_id="2607.00042v1", signals=Signals(upvotes=1))
    later = make_observation(
        arxiv_id="2607.00042v2",
        signals=Signals(upvotes=30),
        observed_at=NOW + timedelta(days=1),
    )
    await storage.papers.ingest([first])
    await storage.papers.ingest([later])
    paper = await storage.papers.paper_by_id("2607.00042")
    assert paper is not None and paper.signals.upvotes == 30
    # An older snapshot ingested afterwards does not roll the upvotes back.
    await storage.papers.ingest(
        [make_observation(arxiv_id="2607.00042", signals=Signals(upvotes=2))]
    )
    paper = await storage.papers.paper_by_id("2607.00042")
    assert paper is not None and paper.signals.upvotes == 30


async def test_same_title_with_different_arxiv_ids_stays_two_papers(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(title="0", arxiv_id="2101.00001")])
    await storage.papers.ingest([make_observation(title="0", arxiv_id="2101.00002")])
    assert await storage.papers.count_papers() == 2


async def test_reingest_is_unchanged_and_does_not_bump_the_change_sequence(
    storage: Storage,
) -> None:
    obs = [make_observation(title=f"Paper {i}", day=date(2026, 7, 1), rank=i) for i in range(5)]
    await storage.papers.ingest(obs)
    seq = await storage.papers.max_seq()
    assert await storage.papers.ingest(obs) == IngestCounts(unchanged=5)
    assert await storage.papers.max_seq() == seq


async def test_failed_ingest_changes_nothing(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(title="Kept")])

    def broken() -> object:
        yield make_observation(title="Never stored")
        raise ValueError("source broke mid-way")

    with pytest.raises(ValueError):
        await storage.papers.ingest(broken())  # type: ignore[arg-type]
    assert await storage.papers.count_papers() == 1


async def test_every_observation_of_a_batch_is_counted_even_a_repeat(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(title="Known", arxiv_id="2607.00010")])
    batch = [
        make_observation(title="Fresh", arxiv_id="2607.00011v1"),
        make_observation(title="Fresh", arxiv_id="2607.00011v1"),  # the same again
        make_observation(title="Fresh, v2", arxiv_id="2607.00011v2"),  # changes it
        make_observation(title="Known", arxiv_id="2607.00010"),
        make_observation(title="Known", arxiv_id="2607.00010", abstract="New text."),
    ]
    counts = await storage.papers.ingest(batch)
    assert (counts.new, counts.updated, counts.unchanged) == (1, 2, 2)
    assert counts.new + counts.updated + counts.unchanged == len(batch)
    assert await storage.papers.count_papers() == 2


async def test_a_doi_is_a_papers_id_and_finds_it_again_under_a_new_title(
    storage: Storage,
) -> None:
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
    assert await storage.papers.ingest([v1]) == IngestCounts(new=1)
    assert await storage.papers.ingest([v2]) == IngestCounts(updated=1)
    # An arXiv paper of the same title is another paper: its id differs.
    await storage.papers.ingest(
        [make_observation(title="Gut Microbes Shape Sleep in Mice", arxiv_id="2401.00001")]
    )
    assert await storage.papers.count_papers() == 2
    paper = await storage.papers.paper_by_id("10.1101/2024.01.05.574321")
    assert paper is not None and paper.arxiv_id is None
    assert (paper.title, paper.abstract, paper.version) == (v2.title, "Revised.", 2)
    assert paper.authors == ("Ana Ruiz", "Ben Cole")
    assert paper.affiliations == ("Univ. of Leeds, UK", "")
    assert paper.url == "https://www.biorxiv.org/content/10.1101/2024.01.05.574321v2"


async def test_what_is_stored_is_dated_by_the_injected_clock(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(arxiv_id="2607.00001")])
    later = NOW + timedelta(days=1)
    await storage.papers.ingest(
        [make_observation(arxiv_id="2607.00001", abstract="A new version.")], now=later
    )
    [(first_seen, updated_at)] = await storage.db.fetch_raw(
        "SELECT first_seen, updated_at FROM papers"
    )
    # SQLite keeps ISO text, PostgreSQL timestamps.
    stored = [
        datetime.fromisoformat(t) if isinstance(t, str) else t for t in (first_seen, updated_at)
    ]
    assert stored == [NOW, later]
