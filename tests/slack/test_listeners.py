"""How commands, button presses and mentions arrive and are answered (listeners.py), end to
end: signed requests shaped like Slack's, the real bolt app, a local fake Web API."""

from __future__ import annotations

import json
import logging

import pytest

from bot.buttons import STALE_BUTTON
from bot.render.slack_buttons import (
    ACTION_ABSTRACT,
    ACTION_NEXT,
    ACTION_SAVE,
    ACTION_SHARE,
    ACTION_SIMILAR,
)
from bot.search.service import MAX_OFFSET
from tests.conftest import make_observation, offsets_reaching_the_index
from tests.payload_checks import check_slack_message
from tests.slack.served import Bot, buttons_of, mention, texts_of


async def test_search_is_acknowledged_then_answered_ephemerally(bot: Bot) -> None:
    reply = await bot.command("search diffusion")
    check_slack_message(reply.args)
    assert reply.args["response_type"] == "ephemeral"
    assert "iffusion" in texts_of(reply)
    buttons = buttons_of(reply)
    assert set(buttons) == {ACTION_SHARE, ACTION_NEXT, ACTION_SAVE}  # a Save beside each


async def test_help_and_unknown_commands_answer_with_help(bot: Bot) -> None:
    reply = await bot.command("frobnicate")
    check_slack_message(reply.args)
    assert "Unknown command" in texts_of(reply) and "/papers search" in texts_of(reply)


async def test_hostile_query_is_escaped_in_the_reply(bot: Bot) -> None:
    reply = await bot.command("search <!channel> @everyone *bold*")
    check_slack_message(reply.args)
    assert "<!channel>" not in texts_of(reply)
    assert "&lt;!channel&gt;" in texts_of(reply)


async def test_buttons_next_share_and_abstract(bot: Bot) -> None:
    first = await bot.command("search model")
    buttons = buttons_of(first)
    following = await bot.press(ACTION_NEXT, buttons[ACTION_NEXT])
    check_slack_message(following.args)
    assert following.args["replace_original"] is True
    assert "Results 6" in texts_of(following)
    shared = await bot.press(ACTION_SHARE, buttons[ACTION_SHARE])
    assert shared.args["response_type"] == "in_channel"
    assert shared.args["replace_original"] is False
    paper = (await bot.services.search.search("model", limit=1)).hits[0].paper
    abstract = await bot.press(ACTION_ABSTRACT, paper.id)
    check_slack_message(abstract.args)
    assert abstract.args["response_type"] == "ephemeral"
    assert paper.abstract[:40].replace("&", "&amp;") in texts_of(abstract)


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        (ACTION_NEXT, '{"q":"model","o":10000000000}'),  # aborted the process (160 GB)
        (ACTION_NEXT, '{"q":"model","o":1001}'),
        (ACTION_NEXT, '{"q":"model","o":-5}'),
        (ACTION_NEXT, '{"q":"model","o":1e999}'),
        (ACTION_NEXT, '{"q":"model","o":"5"}'),
        (ACTION_NEXT, '{"q":"model","o":true}'),
        (ACTION_NEXT, '{"q":["model"],"o":5}'),
        (ACTION_NEXT, '["model",5]'),
        (ACTION_NEXT, "not json"),
        (ACTION_NEXT, "[" * 999 + "]" * 999),  # json.loads: RecursionError, not ValueError
        (ACTION_SHARE, '{"q":"model","o":10000000000}'),
        (ACTION_SHARE, '{"q":" ","o":0}'),
        (ACTION_ABSTRACT, "2509.04664" * 9),  # longer than any paper id
        (ACTION_ABSTRACT, "2509.04664 or 1=1"),
        (ACTION_SIMILAR, ""),
    ],
)
async def test_a_button_value_paperwire_did_not_write_is_refused_in_one_line(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, action_id: str, value: str
) -> None:
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    answer = await bot.press(action_id, value)
    check_slack_message(answer.args)
    assert STALE_BUTTON in texts_of(answer) and "Results" not in texts_of(answer)
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["replace_original"] is False  # the message with the button stays
    assert offsets == []  # nothing reached the index


async def test_the_deepest_page_a_button_may_ask_for_is_answered(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    offsets = offsets_reaching_the_index(bot.services, monkeypatch)
    answer = await bot.press(ACTION_NEXT, json.dumps({"q": "model", "o": MAX_OFFSET}))
    assert STALE_BUTTON not in texts_of(answer) and answer.args["replace_original"] is True
    assert offsets and max(offsets) == MAX_OFFSET


async def test_a_mention_is_answered_in_a_thread(bot: Bot) -> None:
    await mention(bot)
    [post] = await bot.fake.wait_for("chat.postMessage")
    check_slack_message(post.args)
    assert post.args["thread_ts"] == "1700000000.000200"
    assert "iffusion" in texts_of(post)
    assert buttons_of(post) == {}  # buttons answer one person: none in a public thread


async def test_a_mention_takes_the_command_name_in_any_case(bot: Bot) -> None:
    bot.fake.users["U1"] = {"is_admin": True}
    await mention(bot, "<@UBOT> /PAPERS digest status")
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert "No daily digest here yet" in texts_of(post)


async def test_the_eleventh_command_in_a_minute_is_refused_and_the_digest_still_posts(
    bot: Bot,
) -> None:
    await mention(bot)  # a mention counts: its answer is a public post
    await bot.fake.wait_for("chat.postMessage")
    for _ in range(9):
        assert "Slow down" not in texts_of(await bot.command("help"))
    refused = await bot.command("search diffusion")
    assert texts_of(refused).startswith("Slow down: you can send another command in 6 s.")
    assert refused.args["response_type"] == "ephemeral"
    # A mention over the budget is answered to the asker alone: no public post.
    await mention(bot)
    [private] = await bot.fake.wait_for("chat.postEphemeral")
    check_slack_message(private.args)
    assert private.args["user"] == "U1" and private.args["thread_ts"] == "1700000000.000200"
    assert texts_of(private).startswith("Slow down")
    assert len(bot.fake.calls_to("chat.postMessage")) == 1
    # The channel's digest is not held back by one person's commands.
    bot.fake.users["U3"] = {"is_admin": True}
    assert "Posted 10 papers" in texts_of(await bot.command("digest now", user="U3"))
    assert len(await bot.services.outbox.sent_paper_ids("slack:T1:C1")) == 10


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_bug_in_a_button_handler_is_an_apology_and_one_logged_traceback(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.services.search, "search", broken)
    answer = await bot.press(ACTION_NEXT, json.dumps({"q": "model", "o": 5}))
    check_slack_message(answer.args)
    shown = texts_of(answer)
    assert shown.startswith("Sorry, something went wrong") and "boom" not in shown
    assert answer.args["replace_original"] is False  # the results it was pressed under stay
    [error] = _errors(caplog)
    assert error.getMessage() == "button failed: next" and error.exc_info is not None


@pytest.mark.parametrize("where", ["command", "button"])
async def test_an_error_past_the_handlers_gets_an_apology_from_the_error_hook(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    """bolt's error hook: what the adapter itself raised is answered and logged once."""
    import bot.platforms.slack.listeners as listeners

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(listeners, "dispatch" if where == "command" else "press", broken)
    if where == "command":
        answer = await bot.command("help")
    else:
        answer = await bot.press(ACTION_ABSTRACT, "2509.04664")
    check_slack_message(answer.args)
    shown = texts_of(answer)
    assert shown.startswith("Sorry, something went wrong") and "boom" not in shown
    assert answer.args["response_type"] == "ephemeral"
    [error] = _errors(caplog)
    assert error.name == "bot.platforms.slack.listeners" and error.getMessage().startswith(
        "Slack: answering"
    )
    assert error.exc_info is not None and str(error.exc_info[1]) == "boom"


async def test_a_mention_that_fails_gets_an_apology_for_the_asker_alone(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.platforms.slack.listeners as listeners

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(listeners, "dispatch", broken)
    await mention(bot)
    [private] = await bot.fake.wait_for("chat.postEphemeral")
    assert private.args["user"] == "U1" and private.args["thread_ts"] == "1700000000.000200"
    assert texts_of(private).startswith("Sorry, something went wrong")
    assert bot.fake.calls_to("chat.postMessage") == []
    await bot.services.delivery.wait_idle()
    assert len(_errors(caplog)) == 1


async def test_a_reading_list_is_answered_to_its_owner_alone(bot: Bot) -> None:
    await bot.services.papers.ingest(
        [make_observation(arxiv_id="2611.00001", title="R&D <@U2> *bold* ```fence```")]
    )
    saved = await bot.command("save https://arxiv.org/abs/2611.00001")
    check_slack_message(saved.args)
    assert saved.args["response_type"] == "ephemeral" and "Saved" in texts_of(saved)
    exported = await bot.command("saved export")
    check_slack_message(exported.args)
    assert exported.args["response_type"] == "ephemeral"
    assert "Sent paperwire-saved.bib to your DMs." in texts_of(exported)  # test_uploads.py
    # A mention's answer about a reading list goes to the asker alone, not to the thread.
    await mention(bot, "<@UBOT> saved")
    [private] = await bot.fake.wait_for("chat.postEphemeral")
    check_slack_message(private.args)
    assert private.args["user"] == "U1" and "1 paper" in texts_of(private)
    assert bot.fake.calls_to("chat.postMessage") == []
