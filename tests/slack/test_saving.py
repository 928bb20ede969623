"""The reading list from Slack's buttons, through the real bolt app against the fake Slack:
"Save" under each paper of a digest, a search page and an alert saves it for the presser
alone and says so to them alone; "Previous" / "Next" under a page of the list replace it
(an ephemeral message, through its response URL)."""

from __future__ import annotations

import json

from bot.buttons import STALE_BUTTON
from bot.models import Destination
from bot.render.slack_buttons import ACTION_SAVE, ACTION_SAVED_PAGE
from handlers.reading import NOT_SAVED
from tests.payload_checks import check_slack_message
from tests.slack.fake_slack import SlackCall
from tests.slack.served import Bot, buttons_of, texts_of
from tests.slack.signing import block_actions_payload, interaction_body


def _list_of(user: str) -> Destination:
    return Destination("slack", "T1", user, kind="dm")


async def _saved(bot: Bot, user: str = "U1") -> list[str]:
    return [s.paper_id for s in await bot.services.saved_papers.saved_papers(_list_of(user))]


def _saves(call: SlackCall) -> list[str]:
    """The paper id of every Save button in a message, in order."""
    found = []
    for block in call.args.get("blocks") or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        accessory = [block["accessory"]] if "accessory" in block else []
        found += [e["value"] for e in [*elements, *accessory] if e["action_id"] == ACTION_SAVE]
    return found


async def test_save_under_a_digest_paper_keeps_it_for_the_presser_alone(bot: Bot) -> None:
    bot.fake.users["U3"] = {"is_admin": True}
    await bot.command("digest now", user="U3")
    [digest] = bot.fake.calls_to("chat.postMessage")[:1]
    check_slack_message(digest.args)
    assert len(digest.args["blocks"]) <= 50
    ids = _saves(digest)
    assert len(ids) == len(set(ids)) == 10  # every paper of the digest
    saved = await bot.press(ACTION_SAVE, ids[3])
    check_slack_message(saved.args)
    assert saved.args["response_type"] == "ephemeral"
    assert saved.args["replace_original"] is False  # the digest stays as it was
    assert "Saved — 1 paper in your list." in texts_of(saved)
    again = await bot.press(ACTION_SAVE, ids[3])
    assert "Already in your list (1 paper)." in texts_of(again)
    assert again.args["response_type"] == "ephemeral"
    assert await _saved(bot) == [ids[3]]
    assert await _saved(bot, "U2") == [] and await _saved(bot, "U3") == []
    # Nothing went to the channel: the digest's posts are all there is.
    assert all(c.args["channel"] == "C1" for c in bot.fake.calls_to("chat.postMessage"))
    assert not any("Saved" in texts_of(c) for c in bot.fake.calls_to("chat.postMessage"))


async def test_save_beside_a_search_result(bot: Bot) -> None:
    page = await bot.command("search model")
    check_slack_message(page.args)
    ids = _saves(page)
    assert len(ids) == 5  # one beside each result of the page
    saved = await bot.press(ACTION_SAVE, ids[0], user="U4")
    assert "Saved — 1 paper in your list." in texts_of(saved)
    assert await _saved(bot, "U4") == [ids[0]]


async def test_save_under_an_alert_paper_in_the_direct_message(bot: Bot) -> None:
    from bot.alerts.send import match_new_lists, send_alert
    from bot.alerts.topics import AlertSettings

    await bot.command("subscribe diffusion", user="U7")
    assert await match_new_lists(bot.services) > 0
    run = await send_alert(bot.services, AlertSettings(_list_of("U7")), bot.services.clock())
    assert run is not None and run.posted > 0
    [dm] = bot.fake.calls_to("chat.postMessage")
    check_slack_message(dm.args)
    ids = _saves(dm)
    assert ids
    saved = await bot.press(ACTION_SAVE, ids[-1], user="U7", channel="DU7")
    assert saved.args["response_type"] == "ephemeral"
    assert "Saved — 1 paper in your list." in texts_of(saved)
    listed = await bot.command("saved", user="U7", channel="C9")  # the same list elsewhere
    assert ids[-1] in texts_of(listed)


async def test_a_forged_save_saves_nothing_and_says_so_privately(bot: Bot) -> None:
    for value, answer in (
        ("2101.99999", NOT_SAVED),
        ("<!channel>", STALE_BUTTON),
        ("2509.04664" * 300, STALE_BUTTON),  # longer than a button value may be
        ("", STALE_BUTTON),
    ):
        reply = await bot.press(ACTION_SAVE, value)
        check_slack_message(reply.args)
        assert reply.args["response_type"] == "ephemeral"
        assert answer in texts_of(reply)
    assert await _saved(bot) == []


async def _press_on_ephemeral(bot: Bot, value: str, user: str = "U1") -> SlackCall:
    """A press on a button of an ephemeral message (the list is one), as Slack sends it."""
    before = len(bot.fake.calls_to("response_url"))
    payload = block_actions_payload(
        ACTION_SAVED_PAGE, value, response_url=bot.fake.response_url("button"), user_id=user
    )
    payload["container"]["is_ephemeral"] = True
    del payload["message"]  # Slack sends no copy of an ephemeral message
    assert await bot.post(interaction_body(payload)) == 200
    calls = await bot.fake.wait_for("response_url", count=before + 1)
    await bot.services.delivery.wait_idle()
    return calls[before]


async def test_previous_and_next_page_through_the_list_in_place(bot: Bot) -> None:
    hits = (await bot.services.search.search("model", limit=12)).hits
    for hit in hits:
        await bot.press(ACTION_SAVE, hit.paper.id)
    first = await bot.command("saved")
    check_slack_message(first.args)
    assert "12 papers, newest first (page 1 of 2)" in texts_of(first)
    buttons = buttons_of(first)
    assert set(buttons) == {ACTION_SAVED_PAGE}  # Next only: there is no page before
    assert json.loads(buttons[ACTION_SAVED_PAGE]) == {"p": 2, "t": None}
    second = await _press_on_ephemeral(bot, buttons[ACTION_SAVED_PAGE])
    check_slack_message(second.args)
    assert second.args["replace_original"] is True  # in place of the page it was under
    assert second.args["response_type"] == "ephemeral"
    assert "(page 2 of 2)" in texts_of(second) and "12. " in texts_of(second)
    assert json.loads(buttons_of(second)[ACTION_SAVED_PAGE]) == {"p": 1, "t": None}
    # Another user's press shows their own list, never this one.
    theirs = await _press_on_ephemeral(bot, buttons[ACTION_SAVED_PAGE], user="U2")
    assert "Your list is empty" in texts_of(theirs)


async def test_a_tagged_list_pages_with_its_tag(bot: Bot) -> None:
    hits = (await bot.services.search.search("model", limit=12)).hits
    for hit in hits:
        await bot.press(ACTION_SAVE, hit.paper.id)
    for entry in await bot.services.saved_papers.saved_papers(_list_of("U1")):
        await bot.services.saved_papers.tag_saved(_list_of("U1"), entry.paper_pk, "to-read")
    first = await bot.command("saved --tag to-read")
    value = buttons_of(first)[ACTION_SAVED_PAGE]
    assert json.loads(value) == {"p": 2, "t": "to-read"}
    second = await _press_on_ephemeral(bot, value)
    assert "tagged “to-read”" in texts_of(second) and "(page 2 of 2)" in texts_of(second)
    forged = await _press_on_ephemeral(bot, json.dumps({"p": 2, "t": "<!channel>"}))
    assert STALE_BUTTON in texts_of(forged)
