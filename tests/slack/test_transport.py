"""Sending to Slack (transport.py): digests with their thread, DMs, retries after a 429 or a
5xx, a channel stopped for good, replies through response URLs kept in the outbox, and a
send that looks first for what an earlier one posted."""

from __future__ import annotations

from dataclasses import replace

from bot.digests.settings import DigestSettings
from bot.models import Destination
from bot.render.slack_buttons import ACTION_ABSTRACT, ACTION_SIMILAR
from tests.conftest import drained_later
from tests.payload_checks import check_slack_message
from tests.slack.fake_slack import api_error, rate_limited, server_error
from tests.slack.served import Bot, buttons_of, mention, texts_of
from tests.slack.signing import slash_command_body


async def test_digest_posts_to_the_channel_with_abstracts_in_a_thread(bot: Bot) -> None:
    bot.fake.users["U3"] = {"is_admin": True}
    reply = await bot.command("digest now", user="U3")
    assert "Posted 10 papers" in texts_of(reply)
    posts = bot.fake.calls_to("chat.postMessage")
    assert len(posts) >= 2
    main, *thread = posts
    assert main.args["channel"] == "C1" and "thread_ts" not in main.args
    assert all(p.args["thread_ts"] for p in thread)
    for post in posts:
        check_slack_message(post.args)
        assert "link_names" not in post.args and "parse" not in post.args
        assert post.args["unfurl_links"] is False
    assert ACTION_ABSTRACT in buttons_of(main)
    assert len(await bot.services.outbox.sent_paper_ids("slack:T1:C1")) == 10


async def test_rate_limited_and_failing_posts_are_retried(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", rate_limited(retry_after=0), server_error(500))
    settings = DigestSettings(Destination("slack", "T1", "C9"), size=2)
    await bot.services.digests.save_channel_digest(settings, "test", bot.services.clock())
    from bot.digests.runs import run_channel_digest

    run = await run_channel_digest(bot.services, settings, bot.services.clock())
    assert run is not None and run.posted == 2
    assert bot.fake.pending("chat.postMessage") == 0


async def test_channel_not_found_stops_the_destination_and_shows_in_status(bot: Bot) -> None:
    bot.fake.users["U3"] = {"is_admin": True}
    bot.fake.fail("chat.postMessage", api_error("channel_not_found"))
    reply = await bot.command("digest now", user="U3")
    assert "channel_not_found" in texts_of(reply)
    state = await bot.services.outbox.destination_state("slack:T1:C1")
    assert state.stopped and state.error == "channel_not_found"
    # Kept. (The command's own reply may still be marked sent: only the channel's queue.)
    assert (await bot.services.outbox.outbox_depths()).get("slack:T1:C1") == 1
    status = await bot.command("digest status", user="U3")
    assert "stopped" in texts_of(status) and "channel_not_found" in texts_of(status)
    # Turning it on again (after inviting the bot) resumes posting.
    await bot.command("digest on", user="U3")
    assert not (await bot.services.outbox.destination_state("slack:T1:C1")).stopped


async def test_subscriptions_on_slack_end_in_a_direct_message(bot: Bot) -> None:
    from bot.alerts.send import match_new_lists, send_alert
    from bot.alerts.topics import AlertSettings

    reply = await bot.command("subscribe diffusion", user="U7")
    assert "Subscribed to “diffusion”" in texts_of(reply)
    paper = (await bot.services.search.search("graph", limit=1)).hits[0].paper
    similar = await bot.press(ACTION_SIMILAR, paper.id)
    assert "Subscribed to" in texts_of(similar)
    assert (
        len(await bot.services.subscriptions.subscriptions(Destination("slack", "T1", "U1", "dm")))
        == 1
    )
    assert await match_new_lists(bot.services) > 0
    owner = Destination("slack", "T1", "U7", kind="dm")
    run = await send_alert(bot.services, AlertSettings(owner), bot.services.clock())
    assert run is not None and run.posted > 0
    [opened] = bot.fake.calls_to("conversations.open")
    assert opened.args["users"] == "U7"
    [dm] = bot.fake.calls_to("chat.postMessage")
    assert dm.args["channel"] == "DU7"
    check_slack_message(dm.args)
    assert "for your topics" in texts_of(dm)


async def test_a_recovering_send_skips_the_parts_that_arrived(bot: Bot) -> None:
    from bot.delivery.outbox import OutgoingMessage
    from bot.render.neutral import Digest, Reply

    day = (await bot.services.papers.trending_days())[0]
    papers = tuple((await bot.services.papers.trending_list(day))[:2])
    message = OutgoingMessage(
        Destination("slack", "T1", "C1"), Reply(Digest(day=day, papers=papers)), outbox_id=7
    )
    # Before the crash, the main message went out (it carries its outbox marker).
    bot.fake.history["C1"] = [
        {
            "ts": "1699999999.000100",
            "text": "digest",
            "metadata": {"event_type": "paperwire_outbox", "event_payload": {"id": 7, "part": 0}},
        }
    ]
    receipt = await bot.adapter.send(replace(message, recovering=True))
    assert receipt.ok and receipt.platform_ids == ("1699999999.000100",)
    posts = bot.fake.calls_to("chat.postMessage")
    assert posts and all(p.args.get("thread_ts") == "1699999999.000100" for p in posts)
    assert all(p.args["metadata"]["event_payload"]["id"] == 7 for p in posts)
    assert bot.fake.calls_to("conversations.history")[0].args["include_all_metadata"] in (
        True,
        "true",
        "1",
        1,
    )


async def test_a_reply_kept_in_the_outbox_is_sent_after_a_restart(bot: Bot) -> None:
    bot.fake.fail("response_url", server_error(503))
    body = slash_command_body("search diffusion", response_url=bot.fake.response_url())
    assert await bot.post(body) == 200
    await bot.fake.wait_for("response_url")
    await bot.services.delivery.wait_idle()
    [(key, depth)] = (await bot.services.outbox.outbox_depths()).items()
    assert key.startswith("slack:T1:C1!") and depth == 1  # a queue of its own
    assert not (await bot.services.outbox.destination_state("slack:T1:C1")).stopped
    # A new process, a minute later: the reply goes through the same response URL.
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    first, second = bot.fake.calls_to("response_url")
    assert second.args["blocks"] == first.args["blocks"]
    assert second.args["response_type"] == "ephemeral"
    assert await bot.services.outbox.outbox_depths() == {}


async def test_a_reply_past_its_response_url_lifetime_is_dropped(bot: Bot) -> None:
    bot.fake.fail("response_url", server_error(500))
    body = slash_command_body("help", response_url=bot.fake.response_url())
    assert await bot.post(body) == 200
    await bot.fake.wait_for("response_url")
    await bot.services.delivery.wait_idle()
    receipt = await drained_later(bot.services, bot.adapter, minutes=31)
    assert not receipt.ok and receipt.error == "expired"
    assert len(bot.fake.calls_to("response_url")) == 1  # not tried again
    assert await bot.services.outbox.outbox_depths() == {}
    assert await bot.services.outbox.destination_states() == []  # nothing stopped


async def test_a_mention_answer_that_failed_is_posted_once_later(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", server_error(500))
    await mention(bot)
    await bot.fake.wait_for("chat.postMessage")
    receipt = await drained_later(bot.services, bot.adapter, minutes=1)
    assert receipt.ok
    [thread] = bot.fake.threads.values()
    assert len(thread) == 1 and thread[0]["thread_ts"] == "1700000000.000200"
    assert bot.fake.calls_to("conversations.replies")  # it looked in the thread first


async def test_a_weekly_recap_posts_to_the_channel_as_a_valid_message(bot: Bot) -> None:
    from bot.digests.recap_run import run_recap

    bot.fake.users["U3"] = {"is_admin": True}
    await bot.command("digest now", user="U3")
    await bot.command("digest set recap sun", user="U3")
    settings = await bot.services.digests.channel_digest("slack:T1:C1")
    assert settings is not None
    before = len(bot.fake.calls_to("chat.postMessage"))
    run = await run_recap(bot.services, settings, bot.services.clock())
    assert run is not None and run.posted == 10
    [post] = bot.fake.calls_to("chat.postMessage")[before:]
    check_slack_message(post.args)
    assert post.args["channel"] == "C1"
    assert "#general's week in papers" in texts_of(post)
    assert "10 papers reached this channel on 1 day" in texts_of(post)
