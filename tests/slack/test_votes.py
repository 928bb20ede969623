"""A channel's votes through the real bolt app against the fake Slack: each digest paper
carries "More like this" and "Not for us", a press records the presser's vote for that
channel and is acknowledged to them alone."""

from __future__ import annotations

from bot.render.slack_buttons import ACTION_MORE_LIKE, ACTION_NOT_FOR_US
from bot.storage.types import VoteCounts
from tests.payload_checks import check_slack_message
from tests.slack.served import Bot, texts_of


async def _digest_paper_ids(bot: Bot) -> list[str]:
    bot.fake.users["U3"] = {"is_admin": True}
    await bot.command("digest now", user="U3")
    main = bot.fake.calls_to("chat.postMessage")[0]
    check_slack_message(main.args)  # the new buttons keep within Block Kit's limits
    ids = []
    for block in main.args["blocks"]:
        if block["type"] != "actions":
            continue
        by_action = {e["action_id"]: e["value"] for e in block["elements"]}
        assert len(block["elements"]) <= 5
        assert by_action[ACTION_MORE_LIKE] == by_action[ACTION_NOT_FOR_US]
        ids.append(by_action[ACTION_MORE_LIKE])
    assert len(ids) == 10  # every paper of the digest
    return ids


async def _counts(bot: Bot, paper_id: str, channel: str = "C1") -> VoteCounts:
    pk = (await bot.services.papers.pks_for_ids([paper_id]))[paper_id]
    return await bot.services.votes.counts(f"slack:T1:{channel}", pk)


async def test_more_like_this_records_the_vote_and_answers_privately(bot: Bot) -> None:
    paper_id = (await _digest_paper_ids(bot))[0]
    reply = await bot.press(ACTION_MORE_LIKE, paper_id)
    check_slack_message(reply.args)
    assert reply.args["response_type"] == "ephemeral"
    assert "Noted: more like this — 1 person here liked it." in texts_of(reply)
    assert "Papers like it" in texts_of(reply)  # and up to five of them
    second = await bot.press(ACTION_MORE_LIKE, paper_id, user="U2")
    assert "2 people here liked it" in texts_of(second)
    assert await _counts(bot, paper_id) == VoteCounts(2, 0)


async def test_not_for_us_replaces_the_users_vote(bot: Bot) -> None:
    paper_id = (await _digest_paper_ids(bot))[1]
    await bot.press(ACTION_MORE_LIKE, paper_id)
    reply = await bot.press(ACTION_NOT_FOR_US, paper_id)
    assert reply.args["response_type"] == "ephemeral"
    assert "Noted: not for us — 1 person here turned it down." in texts_of(reply)
    assert await _counts(bot, paper_id) == VoteCounts(0, 1)


async def test_votes_in_one_channel_never_count_in_another(bot: Bot) -> None:
    paper_id = (await _digest_paper_ids(bot))[2]
    await bot.press(ACTION_MORE_LIKE, paper_id, channel="C1")
    elsewhere = await bot.press(ACTION_MORE_LIKE, paper_id, user="U2", channel="C2")
    assert "1 person here liked it" in texts_of(elsewhere)
    assert await _counts(bot, paper_id, "C1") == VoteCounts(1, 0)
    assert await _counts(bot, paper_id, "C2") == VoteCounts(1, 0)
