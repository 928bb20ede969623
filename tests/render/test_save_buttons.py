"""The "Save" button on every paper of a digest, a search page and an alert, and a reading
list's "Previous" / "Next", as each platform renders them, within each one's limits: a
10-paper digest with all its buttons stays one Slack message of at most 50 blocks, and on
Discord 5 papers a message of at most 5 rows of 5 buttons."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bot.app import Services
from bot.models import Destination
from bot.platforms.discord.buttons import list_pages_view, save_views, with_next
from bot.platforms.discord.transport import _views, digest_bodies
from bot.render.discord import render_discord
from bot.render.neutral import (
    AlertGroup,
    Highlighted,
    Hit,
    ListPages,
    Notice,
    SearchPage,
    TopicAlert,
)
from bot.render.slack import render_slack
from bot.render.slack_buttons import (
    ACTION_ABSTRACT,
    ACTION_MORE_LIKE,
    ACTION_NOT_FOR_US,
    ACTION_SAVE,
    ACTION_SAVED_PAGE,
    ACTION_SIMILAR,
)
from tests.conftest import make_paper
from tests.payload_checks import (
    big_digest,
    check_discord_components,
    check_discord_message,
    check_slack_message,
)

Body = dict[str, Any]


def _actions(body: Body) -> list[list[dict[str, Any]]]:
    return [b["elements"] for b in body["blocks"] if b["type"] == "actions"]


def _search_page(count: int, has_more: bool = True) -> SearchPage:
    hits = tuple(
        Hit(
            make_paper(id=f"2605.{i:05d}", arxiv_id=f"2605.{i:05d}", title=f"Paper {i}"),
            1.0,
            Highlighted(f"Paper {i}", ((0, 5),)),
            Highlighted("We study diffusion models."),
        )
        for i in range(count)
    )
    return SearchPage("paper", hits, offset=20, has_more=has_more)


def test_a_ten_paper_digest_with_every_button_is_one_slack_message_within_50_blocks() -> None:
    digest = big_digest(10)
    [body] = render_slack(digest, interactive=True)
    check_slack_message(body)
    # the header, 10 x (the paper, its row of buttons), 9 dividers, the footer
    assert len(body["blocks"]) == 1 + 20 + 9 + 1 <= 50
    rows = _actions(body)
    assert len(rows) == 10
    for row, paper in zip(rows, digest.papers, strict=True):
        assert [(e["action_id"], e["value"]) for e in row] == [
            (ACTION_ABSTRACT, paper.id),
            (ACTION_SIMILAR, paper.id),
            (ACTION_MORE_LIKE, paper.id),
            (ACTION_NOT_FOR_US, paper.id),
            (ACTION_SAVE, paper.id),
        ]
        assert row[-1]["text"]["text"] == "Save"


def test_without_interaction_there_is_no_save_button() -> None:
    [body] = render_slack(big_digest(3))
    assert _actions(body) == []
    [page] = render_slack(_search_page(3))
    assert not any("accessory" in b for b in page["blocks"])


def test_each_search_result_has_a_save_beside_it_taking_no_block_of_its_own() -> None:
    page = _search_page(20)
    bodies = render_slack(page, interactive=True)
    for body in bodies:
        check_slack_message(body)
    saves = [b["accessory"] for body in bodies for b in body["blocks"] if "accessory" in b]
    assert [(s["action_id"], s["value"]) for s in saves] == [
        (ACTION_SAVE, hit.paper.id) for hit in page.hits
    ]
    plain = render_slack(page)  # the same blocks, but for Share and Next at the end
    assert [len(b["blocks"]) for b in bodies[:-1]] == [len(b["blocks"]) for b in plain[:-1]]
    assert len(bodies[-1]["blocks"]) == len(plain[-1]["blocks"]) + 1
    [five] = render_slack(_search_page(5), interactive=True)  # the default page size
    assert len(five["blocks"]) == 1 + 10 + 4 + 2


def test_each_alert_paper_has_a_save_button_on_slack() -> None:
    papers = big_digest(10).papers
    alert = TopicAlert((AlertGroup("diffusion", papers[:6]), AlertGroup("graphs", papers[6:])))
    bodies = render_slack(alert, interactive=True)
    for body in bodies:
        check_slack_message(body)
    saved = [
        e["value"]
        for b in bodies
        for row in _actions(b)
        for e in row
        if e["action_id"] == ACTION_SAVE
    ]
    assert saved == [p.id for p in papers]


def test_a_paper_id_longer_than_a_button_value_gets_no_buttons() -> None:
    paper = make_paper(id="x" * 2001)
    [body] = render_slack(replace(big_digest(1), papers=(paper,)), interactive=True)
    assert _actions(body) == []


def test_a_reading_list_page_has_previous_and_next_on_slack() -> None:
    def buttons(pages: ListPages) -> list[tuple[str, Any]]:
        [body] = render_slack(Notice("3 papers", pages=pages), interactive=True)
        check_slack_message(body)
        return [(e["text"]["text"], json.loads(e["value"])) for row in _actions(body) for e in row]

    assert buttons(ListPages(1, 3)) == [("Next", {"p": 2, "t": None})]
    assert buttons(ListPages(2, 3, "to-read")) == [
        ("Previous", {"p": 1, "t": "to-read"}),
        ("Next", {"p": 3, "t": "to-read"}),
    ]
    assert buttons(ListPages(3, 3)) == [("Previous", {"p": 2, "t": None})]
    assert all(
        e["action_id"] == ACTION_SAVED_PAGE
        for row in _actions(render_slack(Notice("x", pages=ListPages(2, 3)), interactive=True)[0])
        for e in row
    )
    [plain] = render_slack(Notice("x", pages=ListPages(2, 3)))  # not interactive: no buttons
    assert _actions(plain) == []


# --- Discord (the views discord.py sends with each part) -------------------------------------


async def test_a_ten_paper_digest_is_two_discord_messages_of_five_rows_of_five() -> None:
    digest = big_digest(10)
    bodies = digest_bodies(digest)
    assert [len(b["embeds"]) for b in bodies] == [5, 5]
    saves = []
    for body in bodies:
        check_discord_message(body)
        rows = body["components"]
        assert len(rows) == 5 and all(len(r["components"]) == 5 for r in rows)
        for row in rows:
            ids = [c["custom_id"] for c in row["components"]]
            paper_id = ids[0].split(":", 2)[2]
            assert ids == [
                f"pw:abstract:{paper_id}",
                f"pw:similar:{paper_id}",
                f"pw:more:{paper_id}",
                f"pw:notforus:{paper_id}",
                f"pw:save:{paper_id}",
            ]
            saves.append(paper_id)
    assert saves == [p.id for p in digest.papers]
    assert bodies[1]["components"][0]["components"][4]["label"] == "Save 6"


async def test_a_search_page_of_20_on_discord_has_a_save_for_each_and_next() -> None:
    page = _search_page(20)
    bodies = render_discord(page)
    views = save_views([(str(n), h.paper) for n, h in enumerate(page.hits, 21)], bodies)
    views[-1] = with_next(views[-1], "a" * 18, 40)
    labels, ids = [], []
    for body, view in zip(bodies, views, strict=True):
        assert view is not None
        components = view.to_components()
        check_discord_components(components)
        assert len(components) <= 3  # 10 results a part: 2 rows of Save, the Next's own
        ids += [c["custom_id"] for row in components for c in row["components"]]
        labels += [c["label"] for row in components for c in row["components"]]
        assert len(body["embeds"]) <= 10
    assert [i for i in ids if i.startswith("pw:save:")] == [
        f"pw:save:{h.paper.id}" for h in page.hits
    ]
    assert labels[0] == "Save 21" and labels[-1] == "Next" and ids[-1] == f"pw:next:40:{'a' * 18}"


async def test_an_alert_in_a_direct_message_names_its_server_when_it_fits() -> None:
    short = make_paper(id="2605.00001")
    long = make_paper(id="10.1101/" + "9" * 70)  # 78 characters: no room for the server
    alert = TopicAlert((AlertGroup("diffusion", (short, long, short)),))
    bodies = render_discord(alert)
    papers = [("1", short), ("2", long), ("3", short)]  # an id twice: saved once
    [view] = save_views(papers, bodies, guild="12345678901234567890")
    assert view is not None
    components = view.to_components()
    check_discord_components(components)
    assert [c["custom_id"] for row in components for c in row["components"]] == [
        "pw:save:2605.00001:12345678901234567890",
        f"pw:save:{long.id}",
    ]


async def test_a_reading_list_page_has_previous_and_next_on_discord() -> None:
    def ids(pages: ListPages) -> list[tuple[str, str]]:
        view = list_pages_view(pages)
        assert view is not None
        return [(c["label"], c["custom_id"]) for r in view.to_components() for c in r["components"]]

    assert ids(ListPages(1, 2)) == [("Next", "pw:saved:2")]
    assert ids(ListPages(2, 3, "to-read")) == [
        ("Previous", "pw:saved:1:to-read"),
        ("Next", "pw:saved:3:to-read"),
    ]
    assert list_pages_view(ListPages(1, 1)) is None
    longest = "é" * 40  # the longest tag: the id stays within Discord's 100 characters
    assert all(len(i) <= 100 for _, i in ids(ListPages(9999, 10_000, longest)))


async def test_an_alert_of_several_topics_names_each_saves_topic(seeded: Services) -> None:
    papers = big_digest(4).papers
    alert = TopicAlert((AlertGroup("diffusion", papers[:2]), AlertGroup("graphs", papers[2:])))
    bodies = render_discord(alert)
    owner = Destination("discord", "300", "500", kind="dm")
    [view] = await _views(seeded, alert, bodies, owner)
    assert view is not None
    labels = [(c["label"], c["custom_id"]) for r in view.to_components() for c in r["components"]]
    assert labels == [
        ("Save 1 · diffusion", f"pw:save:{papers[0].id}:300"),
        ("Save 2 · diffusion", f"pw:save:{papers[1].id}:300"),
        ("Save 1 · graphs", f"pw:save:{papers[2].id}:300"),
        ("Save 2 · graphs", f"pw:save:{papers[3].id}:300"),
    ]
