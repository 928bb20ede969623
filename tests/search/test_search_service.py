from datetime import date
from pathlib import Path

import pytest

from bot.app import Services
from bot.errors import UserError
from bot.models import Observation, Paper
from bot.search import service
from bot.search.analysis import terms
from bot.search.index import SearchIndex
from bot.search.matcher import matches
from bot.search.query import parse
from bot.search.service import MAX_OFFSET, PARTIAL_NOTE
from bot.search.snippets import Highlighter
from bot.storage import open_storage
from tests.conftest import make_observation, offsets_reaching_the_index, seed_observations


async def test_title_matches_outrank_abstract_only_matches(seeded: Services) -> None:
    page = await seeded.search.search("diffusion", limit=5)
    assert len(page.hits) == 5 and page.has_more
    in_title = ["diffusion" in h.paper.title.lower() for h in page.hits]
    assert all(in_title[:3])
    assert page.hits[0].score >= page.hits[-1].score
    highlighted = [piece for piece, marked in page.hits[0].title.segments() if marked]
    assert highlighted and all(p.lower().startswith("diffus") for p in highlighted)


async def test_stemming_phrases_and_prefixes(seeded: Services) -> None:
    stemmed = await seeded.search.search("hallucinating")
    assert stemmed.hits
    assert all("hallucinat" in (h.paper.title + h.paper.abstract).lower() for h in stemmed.hits)
    phrase = await seeded.search.search('"model training"', limit=50)
    words = await seeded.search.search("model training", limit=50)
    assert phrase.hits and all(_has_phrase(h.paper, "model train") for h in phrase.hits)
    assert not all(_has_phrase(h.paper, "model train") for h in words.hits)
    prefix = await seeded.search.search("transform*", limit=50)
    assert any("transformer" in h.paper.title.lower() for h in prefix.hits)
    assert any(
        piece.lower().startswith("transform")
        for h in prefix.hits
        for piece, marked in h.snippet.segments()
        if marked
    )


def _has_phrase(paper: Paper, stems: str) -> bool:
    return any(stems in " ".join(terms(text)) for text in (paper.title, paper.abstract))


async def test_date_and_author_filters(services: Services) -> None:
    from datetime import date

    await services.papers.ingest(
        [
            make_observation(
                title="Graph nets one", authors=("Ada Lovelace",), day=date(2026, 7, 1), rank=1
            ),
            make_observation(
                title="Graph nets two", authors=("Alan Turing",), day=date(2026, 8, 1), rank=1
            ),
        ]
    )
    await services.refresh_index()
    july = await services.search.search("graph until:2026-07-31")
    assert [h.paper.title for h in july.hits] == ["Graph nets one"]
    turing = await services.search.search('graph author:"alan turing"')
    assert [h.paper.title for h in turing.hits] == ["Graph nets two"]


async def test_date_filters_match_any_day_a_paper_trended(seeded: Services) -> None:
    # MatFormer trended on 2026-03-11 and again on 2026-05-09.
    march = await seeded.search.search("MatFormer since:2026-03-01 until:2026-03-31")
    [hit] = march.hits
    assert hit.paper.title.startswith("MatFormer")
    assert matches(parse("MatFormer since:2026-03-01 until:2026-03-31"), hit.paper)
    assert len((await seeded.search.search("MatFormer since:2026-05-09")).hits) == 1
    between = "MatFormer since:2026-03-12 until:2026-05-08"
    assert not (await seeded.search.search(between)).hits
    assert not matches(parse(between), hit.paper)


async def test_a_paper_joining_or_leaving_a_list_is_reindexed(services: Services) -> None:
    def listed(day: date, *titles: str) -> list[Observation]:
        return [make_observation(title=t, day=day, rank=i) for i, t in enumerate(titles, 1)]

    async def found(query: str) -> list[str]:
        await services.refresh_index()
        return sorted(h.paper.title for h in (await services.search.search(query)).hits)

    july, august = date(2026, 7, 1), date(2026, 8, 1)
    await services.papers.ingest(listed(july, "Graph nets one", "Graph nets two"))
    assert await found("graph since:2026-07-01 until:2026-07-01") == [
        "Graph nets one",
        "Graph nets two",
    ]
    # The same paper, unchanged, on a later list: both of its days count.
    await services.papers.ingest(listed(august, "Graph nets one"))
    assert await found("graph since:2026-08-01") == ["Graph nets one"]
    assert await found("graph until:2026-07-31") == ["Graph nets one", "Graph nets two"]
    # July's list fetched again without it: July no longer counts for it.
    await services.papers.ingest(listed(july, "Graph nets two"))
    assert await found("graph until:2026-07-31") == ["Graph nets two"]


@pytest.mark.parametrize(
    "raw", ["C++", "NEAR(", '"unbalanced', "title:x", "AND model", "-x model", "émoji 😀 model"]
)
async def test_hostile_queries_give_results_not_errors(seeded: Services, raw: str) -> None:
    page = await seeded.search.search(raw)
    assert page.query == raw


@pytest.mark.parametrize("raw", ["", "AND", "-x", "😀", "   "])
async def test_queries_with_nothing_to_search_get_a_clear_message(
    seeded: Services, raw: str
) -> None:
    with pytest.raises(UserError, match="nothing to search for"):
        await seeded.search.search(raw)


async def test_ten_kilobytes_of_text_is_refused_clearly(seeded: Services) -> None:
    with pytest.raises(UserError, match="characters long"):
        await seeded.search.search("model " * 1700)


async def test_no_paper_with_every_word_falls_back_to_some(seeded: Services) -> None:
    page = await seeded.search.search("diffusion qwxzv")
    assert page.hits and page.note == PARTIAL_NOTE


async def test_paging_and_total(seeded: Services) -> None:
    first = await seeded.search.search("model", limit=5)
    second = await seeded.search.search("model", limit=5, offset=5)
    assert first.has_more and second.has_more
    assert not {h.paper.id for h in first.hits} & {h.paper.id for h in second.hits}


async def test_an_offset_past_the_bound_never_reaches_the_index(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    offsets = offsets_reaching_the_index(seeded, monkeypatch)
    with pytest.raises(UserError, match="Results stop at 1,000"):
        await seeded.search.search("model", limit=5, offset=10**10)
    with pytest.raises(UserError):
        await seeded.search.search("model", limit=5, offset=MAX_OFFSET + 1)
    assert offsets == []  # refused before tantivy reserved anything
    deepest = await seeded.search.search("model", limit=5, offset=MAX_OFFSET)
    assert deepest.offset == MAX_OFFSET and offsets and max(offsets) == MAX_OFFSET


async def test_no_next_page_is_offered_past_the_bound(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_OFFSET", 5)  # the seeds have fewer than 1,000 hits
    assert (await seeded.search.search("model", limit=5)).has_more
    last = await seeded.search.search("model", limit=5, offset=5)
    assert last.hits and not last.has_more  # its next page would start past the bound


async def test_index_on_disk_follows_the_store_and_rebuilds(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    index_dir = tmp_path / "p.db.index"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
        index = SearchIndex.open(index_dir)
        assert await index.sync(storage.papers) == 223
        assert await index.sync(storage.papers) == 0  # nothing changed
        await storage.papers.ingest([make_observation(title="Brand new zygote paper")])
        reopened = SearchIndex.open(index_dir)
        assert reopened.num_docs() == 223
        assert await reopened.sync(storage.papers) == 1
        assert reopened.num_docs() == 224
        # A damaged index is thrown away and rebuilt from the store.
        (index_dir / "paperwire-index.json").write_text("{broken")
        rebuilt = SearchIndex.open(index_dir)
        assert rebuilt.num_docs() == 0
        assert await rebuilt.sync(storage.papers) == 224


async def test_updated_papers_replace_their_index_document(services: Services) -> None:
    await services.papers.ingest([make_observation(arxiv_id="2607.00001", title="Old words")])
    await services.refresh_index()
    await services.papers.ingest([make_observation(arxiv_id="2607.00001", title="Fresh words")])
    await services.refresh_index()
    assert services.index.num_docs() == 1
    page = await services.search.search("fresh")
    assert [h.paper.title for h in page.hits] == ["Fresh words"]


def test_snippet_window_prefers_the_densest_matches() -> None:
    text = ("filler " * 60) + "diffusion models beat diffusion baselines. " + ("tail " * 60)
    snippet = Highlighter(["diffus"]).snippet(text, 80)
    assert snippet.text.startswith("… ") and snippet.text.endswith(" …")
    marked = [piece for piece, on in snippet.segments() if on]
    assert marked == ["diffusion", "diffusion"]
    assert len(snippet.text) <= 80 + 4
