"""`/papers forget me` and `/papers digest taste reset` through the real bolt app against the
fake Slack: each asks first, privately, with a destructive button and a Cancel; a press
answers in place of the question; only the presser's data (or, for a manager, the channel's
votes) goes."""

from __future__ import annotations

from bot.models import Destination
from bot.render.slack_buttons import choice_action_id
from handlers.confirm import CANCEL
from handlers.forget import FORGET_ME
from handlers.guards import REFUSAL
from handlers.taste import TASTE_RESET
from tests.conftest import NOW
from tests.payload_checks import check_slack_message
from tests.slack.served import Bot, buttons_of, texts_of

ANN = Destination("slack", "T1", "U1", kind="dm")


async def _ann_votes_and_follows(bot: Bot) -> int:
    paper_id = (await bot.services.search.search("graph", limit=1)).hits[0].paper.id
    pk = (await bot.services.papers.pks_for_ids([paper_id]))[paper_id]
    for channel in ("C1", "C2"):
        await bot.services.votes.vote(f"slack:T1:{channel}", pk, ANN.key, 1, NOW)
    await bot.services.votes.vote("slack:T1:C1", pk, "slack:T1:@U2", -1, NOW)
    await bot.services.subscriptions.add_subscription(ANN, "diffusion", NOW, 10)
    await bot.services.saved_papers.save_paper(ANN, pk, NOW)
    return pk


async def test_forget_me_asks_privately_and_cancel_keeps_everything(bot: Bot) -> None:
    pk = await _ann_votes_and_follows(bot)
    question = await bot.command("forget me")
    check_slack_message(question.args)
    assert question.args["response_type"] == "ephemeral"
    assert "votes in every channel" in texts_of(question)
    [actions] = [b for b in question.args["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e.get("style")) for e in actions["elements"]] == [
        ("Forget me", "danger"),
        ("Cancel", None),
    ]
    assert set(buttons_of(question)) == {choice_action_id(FORGET_ME), choice_action_id(CANCEL)}
    cancelled = await bot.press(choice_action_id(CANCEL), CANCEL)
    assert "Cancelled: nothing was removed." in texts_of(cancelled)
    assert cancelled.args["replace_original"] is True  # the question (and its buttons) goes
    assert await bot.services.votes.vote_of("slack:T1:C2", pk, ANN.key) == 1
    assert len(await bot.services.subscriptions.subscriptions(ANN)) == 1
    assert len(await bot.services.saved_papers.saved_papers(ANN)) == 1


async def test_the_forget_me_button_removes_the_pressers_data(bot: Bot) -> None:
    pk = await _ann_votes_and_follows(bot)
    done = await bot.press(choice_action_id(FORGET_ME), FORGET_ME)
    check_slack_message(done.args)
    assert done.args["response_type"] == "ephemeral" and done.args["replace_original"] is True
    assert "removed 2 votes, 1 topic with your alert settings, and 1 saved paper" in (
        texts_of(done)
    )
    assert await bot.services.votes.vote_of("slack:T1:C1", pk, ANN.key) is None
    assert await bot.services.votes.vote_of("slack:T1:C1", pk, "slack:T1:@U2") == -1
    assert await bot.services.subscriptions.subscriptions(ANN) == []
    assert await bot.services.saved_papers.saved_papers(ANN) == []


async def test_taste_reset_is_for_managers_and_asks_first(bot: Bot) -> None:
    pk = await _ann_votes_and_follows(bot)
    refused = await bot.command("digest taste reset", user="U2")
    assert REFUSAL in texts_of(refused)
    bot.fake.users["U3"] = {"is_admin": True}
    question = await bot.command("digest taste reset", user="U3")
    assert "clears all 2 votes" in texts_of(question)
    assert choice_action_id(TASTE_RESET) in buttons_of(question)
    # A press is checked again: the question may have reached someone else.
    pressed = await bot.press(choice_action_id(TASTE_RESET), TASTE_RESET, user="U2")
    assert REFUSAL in texts_of(pressed)
    assert len(await bot.services.votes.channel_counts("slack:T1:C1")) == 1
    cleared = await bot.press(choice_action_id(TASTE_RESET), TASTE_RESET, user="U3")
    assert "Cleared 2 votes" in texts_of(cleared)
    assert await bot.services.votes.channel_counts("slack:T1:C1") == {}
    assert await bot.services.votes.vote_of("slack:T1:C2", pk, ANN.key) == 1
