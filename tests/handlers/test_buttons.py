"""The buttons' handlers, called with a neutral press: no platform involved."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import Services
from bot.buttons import STALE_BUTTON
from bot.errors import UserError
from bot.models import Destination
from bot.render.neutral import ListPages, Notice, Reply, SearchPage
from bot.search.service import MAX_OFFSET
from handlers import buttons
from handlers.buttons import ABSTRACT, NEXT, SAVE, SAVED_PAGE, SHARE, SIMILAR, ListPage, Page, Press
from handlers.context import Context, Invocation
from handlers.guards import REFUSAL, UNCHECKED, ManagersOnly
from handlers.reading import NOT_SAVED
from handlers.router import dispatch, needs_manager, press
from tests.conftest import NOW, offsets_reaching_the_index


def _ctx(services: Services, is_manager: bool | None = False) -> Context:
    invocation = Invocation("slack", "T1", "C1", "U1", "", is_manager=is_manager)
    return Context(invocation, services, NOW)


def _notice(reply: Reply) -> Notice:
    assert isinstance(reply.content, Notice)
    return reply.content


async def test_next_answers_the_page_it_stands_for(seeded: Services) -> None:
    reply = await press(_ctx(seeded), Press(NEXT, Page(5, query="model")))
    assert isinstance(reply.content, SearchPage) and reply.ephemeral
    assert reply.content.offset == 5 and reply.content.query == "model" and reply.content.hits


async def test_next_finds_a_saved_query_by_its_key(seeded: Services) -> None:
    key = await seeded.saved_queries.save_query("model", NOW)
    reply = await press(_ctx(seeded), Press(NEXT, Page(5, saved_as=key)))
    assert isinstance(reply.content, SearchPage) and reply.content.query == "model"
    gone = _notice(await press(_ctx(seeded), Press(NEXT, Page(5, saved_as="0" * 18))))
    assert gone.is_error and gone.text == buttons.EXPIRED_SEARCH


async def test_share_posts_the_same_page_for_everyone(seeded: Services) -> None:
    shared = await press(_ctx(seeded), Press(SHARE, Page(0, query="model")))
    private = await press(_ctx(seeded), Press(NEXT, Page(0, query="model")))
    assert not shared.ephemeral and shared.content == private.content


async def test_abstract_shows_the_papers_abstract_to_the_presser(seeded: Services) -> None:
    paper = (await seeded.search.search("model", limit=1)).hits[0].paper
    notice = _notice(await press(_ctx(seeded), Press(ABSTRACT, paper.id)))
    assert notice.title == paper.title and notice.text == paper.abstract
    gone = _notice(await press(_ctx(seeded), Press(ABSTRACT, "2101.00000")))
    assert gone.is_error and gone.text == buttons.GONE_PAPER


async def test_similar_subscribes_the_presser_to_the_papers_keywords(seeded: Services) -> None:
    paper = (await seeded.search.search("graph", limit=1)).hits[0].paper
    notice = _notice(await press(_ctx(seeded), Press(SIMILAR, paper.id)))
    assert notice.text.startswith("Subscribed to")
    mine = await seeded.subscriptions.subscriptions(Destination("slack", "T1", "U1", kind="dm"))
    assert len(mine) == 1
    again = _notice(await press(_ctx(seeded), Press(SIMILAR, paper.id)))
    assert again.is_error and again.text.startswith("You already follow")


@pytest.mark.parametrize(
    "pressed",
    [
        Press(NEXT, Page(MAX_OFFSET + 1, query="model")),
        Press(NEXT, Page(10_000_000_000, query="model")),
        Press(NEXT, Page(-5, query="model")),
        Press(NEXT, Page(True, query="model")),
        Press(NEXT, Page(5, query=" ")),
        Press(NEXT, Page(5)),  # neither a query nor a key
        Press(NEXT, None),  # Slack's value did not decode
        Press(NEXT, "2509.04664"),  # a paper id where a page goes
        Press(SHARE, Page(10_000_000_000, query="model")),
        Press(ABSTRACT, "2509.04664" * 9),
        Press(ABSTRACT, "2509.04664 or 1=1"),
        Press(ABSTRACT, Page(5, query="model")),
        Press(SIMILAR, ""),
        Press(SIMILAR, None),
        Press("frobnicate", "2509.04664"),
        Press("", None),
    ],
)
async def test_a_value_paperwire_did_not_write_is_refused_in_one_line(
    seeded: Services, monkeypatch: pytest.MonkeyPatch, pressed: Press
) -> None:
    offsets = offsets_reaching_the_index(seeded, monkeypatch)
    notice = _notice(await press(_ctx(seeded), pressed))
    assert notice.is_error and notice.text == STALE_BUTTON
    assert offsets == []  # nothing reached the index
    assert (
        await seeded.subscriptions.subscriptions(Destination("slack", "T1", "U1", kind="dm")) == []
    )


async def test_a_bug_becomes_an_apology_and_one_logged_traceback(
    seeded: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(seeded.papers, "paper_by_id", broken)
    notice = _notice(await press(_ctx(seeded), Press(ABSTRACT, "2509.04664")))
    assert notice.is_error and notice.text.startswith("Sorry") and "boom" not in notice.text
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.getMessage() == "button failed: abstract" and error.exc_info is not None


async def test_presses_spend_no_command_budget(seeded: Services) -> None:
    for _ in range(seeded.settings.commands_per_minute + 5):
        reply = await press(_ctx(seeded), Press(NEXT, Page(0, query="model")))
        assert isinstance(reply.content, SearchPage)
    invocation = Invocation("slack", "T1", "C1", "U1", "help")
    answer = await dispatch(Context(invocation, seeded, NOW))
    assert not (isinstance(answer.content, Notice) and answer.content.text.startswith("Slow"))


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("digest on 08:30", True),
        ("DIGEST status", True),
        ("digest", True),
        ("/papers digest now", True),  # the command's name typed again
        ("papers DIGEST off", True),
        ("search digest", False),
        ("digestion", False),
        ("help", False),
        ("", False),
    ],
)
def test_the_commands_that_need_a_manager_are_known_before_dispatch(
    text: str, wanted: bool
) -> None:
    assert needs_manager(text) is wanted


def test_no_button_needs_a_manager_yet() -> None:
    assert not any(buttons.needs_manager(action) for action in (NEXT, SHARE, ABSTRACT, SIMILAR))


async def test_the_manager_guard_refuses_before_the_handler_runs(services: Services) -> None:
    ran: list[str] = []

    async def rename_channel(ctx: Context, pressed: Press) -> Reply:
        ran.append(str(pressed.value))
        return Reply(Notice("renamed"))

    guarded = ManagersOnly(rename_channel)
    for is_manager, text in ((False, REFUSAL), (None, UNCHECKED)):
        with pytest.raises(UserError) as refused:
            await guarded(_ctx(services, is_manager), Press("rename", "x"))
        assert str(refused.value) == text
    assert ran == []
    assert _notice(await guarded(_ctx(services, True), Press("rename", "x"))).text == "renamed"
    assert ran == ["x"]


async def test_save_keeps_the_paper_for_the_presser_alone_and_says_so_once(
    seeded: Services,
) -> None:
    papers = [hit.paper for hit in (await seeded.search.search("model", limit=2)).hits]
    first = await press(_ctx(seeded), Press(SAVE, papers[0].id))
    assert first.private and first.ephemeral
    assert _notice(first).text == "Saved — 1 paper in your list."
    assert _notice(first).title == papers[0].title
    second = _notice(await press(_ctx(seeded), Press(SAVE, papers[1].id)))
    assert second.text == "Saved — 2 papers in your list."
    again = _notice(await press(_ctx(seeded), Press(SAVE, papers[0].id)))
    assert again.text == "Already in your list (2 papers)." and not again.is_error
    mine = await seeded.saved_papers.saved_papers(Destination("slack", "T1", "U1", "dm"))
    assert {s.paper_id for s in mine} == {papers[0].id, papers[1].id}
    assert await seeded.saved_papers.saved_papers(Destination("slack", "T1", "U2", "dm")) == []


@pytest.mark.parametrize(
    ("value", "answer"),
    [
        ("2101.99999", NOT_SAVED),  # the shape of a paper id, but no paper paperwire knows
        ("<!channel>", STALE_BUTTON),
        ("x" * 81, STALE_BUTTON),
        (None, STALE_BUTTON),
        (Page(0, query="model"), STALE_BUTTON),
    ],
)
async def test_save_of_a_paper_paperwire_does_not_know_saves_nothing(
    seeded: Services, value: Any, answer: str
) -> None:
    reply = await press(_ctx(seeded), Press(SAVE, value))
    assert reply.ephemeral and _notice(reply).is_error and _notice(reply).text == answer
    assert await seeded.saved_papers.saved_papers(Destination("slack", "T1", "U1", "dm")) == []


async def test_a_reading_lists_page_button_shows_that_page(seeded: Services) -> None:
    papers = [hit.paper for hit in (await seeded.search.search("model", limit=12)).hits]
    assert len(papers) == 12
    for paper in papers:
        await press(_ctx(seeded), Press(SAVE, paper.id))
    reply = await press(_ctx(seeded), Press(SAVED_PAGE, ListPage(2)))
    notice = _notice(reply)
    assert reply.private and "(page 2 of 2)" in notice.text and notice.pages == ListPages(2, 2)
    assert notice.text.count("\n") == 2 and "11. " in notice.text and "12. " in notice.text


@pytest.mark.parametrize(
    "value",
    [ListPage(0), ListPage(10_001), ListPage(True), ListPage(2, "no spaces"), "2", None],
)
async def test_a_page_button_paperwire_did_not_write_is_refused(
    seeded: Services, value: Any
) -> None:
    notice = _notice(await press(_ctx(seeded), Press(SAVED_PAGE, value)))
    assert notice.is_error and notice.text == STALE_BUTTON
