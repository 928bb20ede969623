"""`/papers save` and `/papers saved …` as neutral invocations: on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import rispy
from bibtexparser.entrypoint import parse_string

from bot.app import Services, build_services
from bot.render.neutral import Attachment, Notice, Reply
from handlers.context import Context, Invocation
from handlers.router import dispatch
from tests.conftest import NOW, make_observation
from tests.sources.fake_sources import FakeSources, running_fake_sources, settings_for, status

IDS = [f"2611.{n:05d}" for n in range(1, 13)]
ARXIV_PATH = "/api/query"  # where `settings_for` sends arXiv API requests


@pytest.fixture
async def fake() -> AsyncIterator[FakeSources]:
    async with running_fake_sources() as running:
        yield running


@pytest.fixture
async def services(database: str, fake: FakeSources) -> AsyncIterator[Services]:
    """Services whose arXiv is the fake: a paper not in the corpus is asked of it."""
    settings = settings_for(fake, db_path=database)
    async with build_services(settings, clock=lambda: NOW) as built:
        yield built


async def _corpus(services: Services) -> None:
    await services.papers.ingest(
        [
            make_observation(
                arxiv_id=paper_id,
                title=f"Paper {n} on {'diffusion' if n % 2 else 'agents'} & co",
                abstract="Short." if n % 3 else "About protein folding.",
                categories=("cs.LG",),
                published=date(2026, 11, 1),
            )
            for n, paper_id in enumerate(IDS, 1)
        ],
        now=NOW,
    )


async def _reply(services: Services, text: str, user: str = "ada", minutes: int = 0) -> Reply:
    when = NOW + timedelta(minutes=minutes)
    invocation = Invocation("slack", "T1", "C1", user, text)
    reply: Reply = await dispatch(Context(invocation, services, when))
    assert isinstance(reply.content, Notice)
    assert reply.private  # a reading list is its owner's alone, even for a public mention
    return reply


async def _ask(services: Services, text: str, user: str = "ada", minutes: int = 0) -> Notice:
    return (await _exported(services, text, user, minutes))[0]


async def _exported(
    services: Services, text: str, user: str = "ada", minutes: int = 0
) -> tuple[Notice, tuple[Attachment, ...]]:
    """The answer's text and its files."""
    reply = await _reply(services, text, user, minutes)
    assert isinstance(reply.content, Notice)
    return reply.content, reply.files


async def _save_all(services: Services, ids: list[str], start: int = 0) -> None:
    """Saved a minute apart, from `start` minutes past NOW."""
    for n, paper_id in enumerate(ids):
        notice = await _ask(services, f"save {paper_id}", minutes=start + n)
        assert not notice.is_error, notice.text


async def test_save_by_id_or_url_is_idempotent(services: Services) -> None:
    await _corpus(services)
    first = await _ask(services, "save https://arxiv.org/abs/2611.00001v2")
    assert not first.is_error and first.text.startswith("Saved “Paper 1 on diffusion & co”")
    again = await _ask(services, "save arXiv:2611.00001")
    assert not again.is_error and "already in your list" in again.text
    missing = await _ask(services, "save 2611.99999")
    assert missing.is_error and "arXiv knows no paper 2611.99999" in missing.text
    doi = await _ask(services, "save https://doi.org/10.1101/2026.01.01.000001")
    assert doi.is_error and "has not seen 10.1101/2026.01.01.000001" in doi.text
    nonsense = await _ask(services, "save not-a-paper")
    assert nonsense.is_error and "no arXiv id" in nonsense.text
    assert "1 paper," in (await _ask(services, "saved")).text
    assert "empty" in (await _ask(services, "saved", user="bob")).text  # Ada's, not Bob's


async def test_the_list_is_paged_newest_first(services: Services) -> None:
    await _corpus(services)
    await _save_all(services, IDS)
    page = await _ask(services, "saved")
    lines = page.text.splitlines()
    assert lines[0] == "12 papers, newest first (page 1 of 2):"
    assert lines[1].startswith("1. Paper 12 on agents & co · 2611.00012 · saved 2026-11-22")
    assert len(lines) == 12 and lines[-1] == "Next: `/papers saved 2`"
    second = (await _ask(services, "saved 2")).text.splitlines()
    assert second[1].startswith("11. Paper 2 ") and second[2].startswith("12. Paper 1 ")
    assert len(second) == 3
    assert "pick 1 to 2" in (await _ask(services, "saved 3")).text


async def test_remove_by_number_or_id_and_tag(services: Services) -> None:
    await _corpus(services)
    await _save_all(services, IDS[:3])  # listed 3, 2, 1
    assert "Removed 2611.00002" in (await _ask(services, "saved remove 2")).text
    assert "Removed 2611.00001" in (await _ask(services, "saved rm arxiv.org/abs/2611.00001")).text
    gone = await _ask(services, "saved remove 2611.00001")
    assert gone.is_error and "not in your list" in gone.text
    assert "Tagged 2611.00003 “to-read”" in (await _ask(services, "saved tag 1 #To-Read")).text
    assert (await _ask(services, "saved tag 9 x")).is_error
    assert (await _ask(services, "saved tag 1 two words")).is_error
    await _save_all(services, IDS[5:6], start=60)
    tagged = (await _ask(services, "saved --tag to-read")).text.splitlines()
    # Numbers stay those of the whole list: `remove 2` removes what `--tag` shows as 2.
    assert tagged == [
        "1 paper tagged “to-read”, newest first (page 1 of 1):",
        "2. Paper 3 on diffusion & co · 2611.00003 · saved 2026-11-22 · #to-read",
    ]


async def test_search_within_the_list(services: Services) -> None:
    await _corpus(services)
    await _save_all(services, IDS[:6])
    found = (await _ask(services, "saved search PROTEIN folding")).text.splitlines()
    assert found == [
        "2 saved papers match “PROTEIN folding”:",
        "1. Paper 6 on agents & co · 2611.00006 · saved 2026-11-22",
        "4. Paper 3 on diffusion & co · 2611.00003 · saved 2026-11-22",
    ]
    assert "No saved paper matches" in (await _ask(services, "saved search robots")).text


async def test_export_sends_the_file_whatever_its_length(services: Services) -> None:
    await _corpus(services)
    empty, none = await _exported(services, "saved export")
    assert "No saved paper to export" in empty.text and not none
    await _save_all(services, IDS[:2])
    await _ask(services, "saved tag 1 mine")
    tagged, [file] = await _exported(services, "saved export bibtex --tag mine")
    assert file.filename == "paperwire-saved-mine.bib" and file.mime == "application/x-bibtex"
    assert tagged == Notice(
        f"paperwire-saved-mine.bib: 1 entry (BibTeX, {len(file.data)} bytes).",
        title="Your reading list",
    )
    library = parse_string(file.data.decode("utf-8"))
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == ["lovelace2026paper"]
    assert library.entries[0]["title"] == r"Paper 2 on agents \& co"
    _, [ris] = await _exported(services, "saved export ris")
    assert ris.filename == "paperwire-saved.ris"
    assert [r["title"] for r in rispy.loads(ris.data.decode())] == [
        "Paper 2 on agents & co",
        "Paper 1 on diffusion & co",
    ]
    await _save_all(services, IDS, start=60)  # a list far longer than a message
    long, [whole] = await _exported(services, "saved export")
    assert len(parse_string(whole.data.decode()).entries) == len(IDS)
    assert "12 entries (BibTeX, 3.1 KiB)" in long.text
    assert (await _ask(services, "saved export pdf")).is_error


async def test_an_export_over_the_file_limit_is_refused_plainly(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _corpus(services)
    await _save_all(services, IDS)
    monkeypatch.setattr("handlers.reading.MAX_FILE_BYTES", 1024)
    refused, files = await _exported(services, "saved export ris")
    assert not files and refused.is_error
    assert refused.text.startswith("paperwire-saved.ris would be")
    assert "over the 1 KiB a file can be here; `--tag <tag>` exports fewer." in refused.text


async def test_a_paper_not_in_the_corpus_is_fetched_from_arxiv(
    services: Services, fake: FakeSources
) -> None:
    saved = await _ask(services, "save https://arxiv.org/abs/1707.08567v1")
    assert not saved.is_error and "Proceedings of Workshop AEW10" in saved.text
    assert [r.query["id_list"] for r in fake.requests_to(ARXIV_PATH)] == ["1707.08567"]
    assert await services.papers.paper_by_id("1707.08567") is not None  # now in the corpus
    assert "already in your list" in (await _ask(services, "save 1707.08567")).text
    assert len(fake.requests_to(ARXIV_PATH)) == 1  # known now: arXiv is not asked again


async def test_arxiv_failing_is_said_plainly(services: Services, fake: FakeSources) -> None:
    fake.fail(ARXIV_PATH, status(400))
    failed = await _ask(services, "save 2611.00042")
    assert failed.is_error
    assert failed.text == "arXiv did not answer about 2611.00042 just now; try again later."
