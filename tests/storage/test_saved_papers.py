"""Users' reading lists: on every backend."""

from __future__ import annotations

from datetime import timedelta

from bot.models import Destination
from bot.storage import Storage
from tests.conftest import NOW, make_observation

ADA = Destination("slack", "T1", "U1", "dm")
BOB = Destination("slack", "T1", "U2", "dm")
ADA_ELSEWHERE = Destination("slack", "T2", "U1", "dm")
IDS = ("2611.00001", "2611.00002", "2611.00003")


async def _pks(storage: Storage) -> list[int]:
    await storage.papers.ingest(
        [make_observation(arxiv_id=i, title=f"Paper {i}") for i in IDS], now=NOW
    )
    found = await storage.papers.pks_for_ids(IDS)
    return [found[i] for i in IDS]


async def test_saving_is_idempotent_and_the_list_is_newest_first(storage: Storage) -> None:
    first, second, third = await _pks(storage)
    saved = storage.saved_papers
    assert await saved.save_paper(ADA, first, NOW)
    assert await saved.save_paper(ADA, second, NOW + timedelta(minutes=1))
    assert await saved.save_paper(ADA, third, NOW + timedelta(minutes=2))
    assert not await saved.save_paper(ADA, first, NOW + timedelta(minutes=3))  # already there

    mine = await saved.saved_papers(ADA)
    assert [s.paper_id for s in mine] == ["2611.00003", "2611.00002", "2611.00001"]
    assert mine[-1].saved_at == NOW and mine[-1].tags == ()
    page = await saved.saved_papers(ADA, offset=1, limit=1)
    assert [s.paper_id for s in page] == ["2611.00002"]
    assert await saved.saved_papers(ADA, offset=3, limit=10) == []


async def test_a_list_is_its_owners_alone(storage: Storage) -> None:
    first, second, _ = await _pks(storage)
    saved = storage.saved_papers
    await saved.save_paper(ADA, first, NOW)
    await saved.save_paper(BOB, second, NOW)
    await saved.save_paper(ADA_ELSEWHERE, second, NOW)
    assert [s.paper_pk for s in await saved.saved_papers(ADA)] == [first]
    assert not await saved.remove_saved(ADA, second)  # Bob's, not Ada's
    assert not await saved.tag_saved(ADA, second, "llm")
    assert [s.paper_pk for s in await saved.saved_papers(BOB)] == [second]
    assert (await saved.saved_papers(BOB))[0].tags == ()


async def test_removing_and_tagging(storage: Storage) -> None:
    first, second, third = await _pks(storage)
    saved = storage.saved_papers
    for n, pk in enumerate((first, second, third)):
        await saved.save_paper(ADA, pk, NOW + timedelta(minutes=n))
    assert await saved.tag_saved(ADA, first, "to-read")
    assert await saved.tag_saved(ADA, first, "to-read")  # once only
    assert await saved.tag_saved(ADA, first, "théorie")
    assert await saved.tag_saved(ADA, third, "to-read")
    tagged = await saved.saved_papers(ADA, tag="to-read")
    assert [s.paper_pk for s in tagged] == [third, first]
    assert tagged[1].tags == ("to-read", "théorie")
    assert [s.paper_pk for s in await saved.saved_papers(ADA, tag="to-read", offset=1)] == [first]

    assert await saved.remove_saved(ADA, second)
    assert not await saved.remove_saved(ADA, second)
    assert [s.paper_pk for s in await saved.saved_papers(ADA)] == [third, first]
    assert await saved.save_paper(ADA, second, NOW + timedelta(hours=1))  # saved again: newest
    assert (await saved.saved_papers(ADA))[0].paper_pk == second


async def test_forgetting_a_workspace_forgets_its_users_lists(storage: Storage) -> None:
    first, _, _ = await _pks(storage)
    await storage.saved_papers.save_paper(ADA, first, NOW)
    await storage.saved_papers.save_paper(ADA_ELSEWHERE, first, NOW)
    await storage.installations.forget_workspace("T1")
    assert await storage.saved_papers.saved_papers(ADA) == []
    assert len(await storage.saved_papers.saved_papers(ADA_ELSEWHERE)) == 1
