"""Topic subscriptions end to end through the console: commands, matching of complete
lists, one direct message a day, caps, pause, and privacy."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.send import PendingAlert, compose_alert, match_new_lists, send_alert
from bot.alerts.topics import AlertSettings, Subscription
from bot.app import Services
from bot.day_lists import CompletionRule
from bot.digests.settings import DigestRun, Outcome
from bot.ingest import ingest_seeds
from bot.models import Destination, Signals
from bot.platforms.console import ConsoleTransport
from bot.render.discord import render_discord
from bot.render.neutral import Notice
from bot.render.slack import render_slack
from bot.render.text import render_text
from bot.search.matcher import matches
from bot.search.query import parse
from bot.taste.loading import freqs_for
from handlers.context import Context, Invocation
from handlers.router import dispatch
from schedules.alerts import alert_trigger
from tests.conftest import NOW, make_observation, make_paper
from tests.payload_checks import (
    HOSTILE_TITLE,
    check_discord_message,
    check_slack_message,
    slack_texts,
)

ADA = Destination("console", "local", "ada", kind="dm")


async def ask(
    services: Services, text: str, user: str = "ada", workspace: str = "local", at: datetime = NOW
) -> Notice:
    invocation = Invocation("console", workspace, "shell", user, text)
    reply = await dispatch(Context(invocation, services, at))
    assert isinstance(reply.content, Notice)
    return reply.content


async def publish(
    services: Services, day: date, titles: list[str], at: datetime = NOW, first_id: int = 1
) -> None:
    """A Hugging Face list of `day` with these papers, complete at `at`."""
    observations = [
        make_observation(
            title=title,
            abstract=f"About {title.lower()}.",
            arxiv_id=f"2607.{i:05d}",
            day=day,
            rank=i - first_id + 1,
            signals=Signals(upvotes=10 - i),
            source="hf",
        )
        for i, title in enumerate(titles, first_id)
    ]
    await services.papers.ingest(observations, CompletionRule(settle=timedelta(0)), at)


def console(services: Services) -> io.StringIO:
    out = io.StringIO()
    services.delivery.register(ConsoleTransport(out))
    return out


async def alert_for(
    services: Services, at: datetime = NOW, user: Destination = ADA
) -> DigestRun | None:
    settings = await services.subscriptions.alert_settings(user) or AlertSettings(user)
    return await send_alert(services, settings, at)


async def test_subscribe_list_and_unsubscribe(services: Services) -> None:
    assert (
        "Subscribed to “diffusion models” (#1)"
        in (await ask(services, "subscribe diffusion models")).text
    )
    await ask(services, 'subscribe author:"Ada Lovelace"')
    await ask(services, "subscribe cat:cs.CL")
    listed = (await ask(services, "subscriptions")).text
    assert "1. “diffusion models” · no match yet" in listed
    assert "3. “cat:cs.CL”" in listed and "daily at 09:00 UTC" in listed
    assert "(1 in all)" in (await ask(services, "unsubscribe 2")).text
    assert "(1 in all)" in (await ask(services, "unsubscribe Diffusion  Models")).text
    assert "(1 in all)" in (await ask(services, "unsubscribe all")).text
    assert "no topics" in (await ask(services, "subscriptions")).text


async def test_bad_topics_are_explained_and_store_nothing(services: Services) -> None:
    for bad, message in [
        ("", "Give a topic"),
        ("x" * 201, "keep it under 200"),
        ("-survey", "nothing to look for"),
        ("since:yesterday agents", "takes a date"),
    ]:
        reply = await ask(services, f"subscribe {bad}")
        assert reply.is_error and message in reply.text, (bad, reply.text)
    await ask(services, "subscribe agents")
    duplicate = await ask(services, "subscribe  AGENTS ")
    assert duplicate.is_error and "already follow" in duplicate.text
    limited = replace(services, settings=replace(services.settings, max_subscriptions=1))
    over = await ask(limited, "subscribe robots")
    assert over.is_error and "the most allowed is 1" in over.text
    assert [s.topic for s in await services.subscriptions.subscriptions(ADA)] == ["agents"]


async def test_subscriptions_are_private(services: Services) -> None:
    await ask(services, "subscribe agents")
    assert "no topics" in (await ask(services, "subscriptions", user="bob")).text
    assert (await ask(services, "unsubscribe 1", user="bob")).is_error
    assert "no topics" in (await ask(services, "subscriptions", workspace="other")).text
    assert len(await services.subscriptions.subscriptions(ADA)) == 1


async def test_matches_arrive_once_as_one_direct_message_a_day(services: Services) -> None:
    out = console(services)
    await ask(services, "subscribe diffusion")
    await ask(services, "subscribe video")
    await publish(
        services, date(2026, 11, 21), ["Video Diffusion Today", "Graph Nets", "Video Codecs"]
    )
    assert await match_new_lists(services) == 2  # the diffusion one matches both topics once
    assert await match_new_lists(services) == 0  # a list is matched once
    run = await alert_for(services)
    assert run is not None and run.outcome is Outcome.POSTED and run.posted == 2
    text = out.getvalue()
    assert "── direct message to ada ──" in text and "2 new papers for your topics" in text
    assert text.count("Video Diffusion Today") == 1 and "Graph Nets" not in text
    assert await alert_for(services) is None  # at most one a day
    # The next day: the same paper on a new list is not sent again; a new one is.
    await publish(services, date(2026, 11, 22), ["Video Diffusion Today", "Diffusion Again"])
    await match_new_lists(services)
    tomorrow = NOW + timedelta(days=1)
    run = await alert_for(services, tomorrow)
    assert run is not None and run.posted == 1
    assert out.getvalue().count("Video Diffusion Today") == 1
    listed = (await ask(services, "subscriptions")).text
    assert "last match" in listed


async def test_a_topic_gets_only_lists_completed_after_it_was_made(services: Services) -> None:
    out = console(services)
    months_ago = NOW - timedelta(days=90)
    await ask(services, "subscribe diffusion", user="bob", at=months_ago - timedelta(days=1))
    # A list loaded months ago (say by `paperwire ingest` while the bot was stopped), not
    # matched yet when Ada subscribes.
    await publish(services, date(2026, 8, 20), ["Old Diffusion", "Older Diffusion"], months_ago)
    await ask(services, "subscribe diffusion")
    assert await match_new_lists(services) == 2  # Bob's, made before that list: not Ada's
    assert await services.subscriptions.pending_matches(ADA) == []
    await publish(services, date(2026, 11, 22), ["Diffusion Today"], NOW, first_id=3)
    assert await match_new_lists(services) == 2  # Ada's and Bob's
    run = await alert_for(services)
    assert run is not None and run.posted == 1
    assert "1 new paper for your topics" in out.getvalue()
    assert "Diffusion Today" in out.getvalue() and "Old" not in out.getvalue()


async def test_subscribing_after_the_bundled_papers_brings_no_old_papers(
    services: Services,
) -> None:
    await ingest_seeds(services)  # as `paperwire demo` does, at NOW
    await ask(services, "subscribe diffusion", at=NOW + timedelta(minutes=1))
    assert await match_new_lists(services) == 0
    run = await alert_for(services, NOW + timedelta(hours=1))
    assert run is not None and run.outcome is Outcome.NO_MATCH


async def test_subscribing_previews_recent_matches(seeded: Services) -> None:
    reply = await ask(seeded, "subscribe diffusion")
    assert "Subscribed to “diffusion”" in reply.text and "Recent papers it matches" in reply.text
    assert len(reply.papers) == 3
    assert all(matches(parse("diffusion"), paper) for paper in reply.papers)
    newest = (await seeded.papers.trending_days())[0]
    assert reply.papers[0].trending[0].day == newest  # the newest list first
    none = await ask(seeded, "subscribe zyxwvut")
    assert none.papers == () and "No paper on the 7 newest trending lists" in none.text
    # Nothing was queued by the preview: alerts stay about new lists.
    assert await seeded.subscriptions.pending_matches(ADA) == []


async def test_the_preview_reaches_every_platform_within_limits(seeded: Services) -> None:
    await seeded.papers.ingest(
        [make_observation(title=HOSTILE_TITLE + " diffusion", day=NOW.date(), rank=1)]
    )
    reply = await ask(seeded, "subscribe diffusion")
    assert reply.papers[0].title.startswith(HOSTILE_TITLE)
    text = render_text(reply)
    assert text.count("\n1. ") == 1 and "\n3. " in text and "Trended" in text
    slack = render_slack(reply)
    for body in slack:
        check_slack_message(body)
    assert sum("Trended" in t for body in slack for t in slack_texts(body)) == 3
    discord = render_discord(reply)
    for body in discord:
        check_discord_message(body)
    assert [len(body["embeds"]) for body in discord] == [3]


async def test_cap_and_more(services: Services) -> None:
    out = console(services)
    await ask(services, "subscribe paper")
    await publish(services, date(2026, 11, 21), [f"Paper {i}" for i in range(1, 15)])
    await match_new_lists(services)
    run = await send_alert(services, AlertSettings(ADA), NOW, cap=10)
    assert run is not None and run.posted == 10
    assert "…and 4 more: /papers search paper" in out.getvalue()
    assert await services.subscriptions.pending_matches(ADA) == []


async def test_pause_and_resume(services: Services) -> None:
    console(services)
    await ask(services, "subscribe agents")
    await publish(services, date(2026, 11, 21), ["Agents Everywhere"])
    await match_new_lists(services)
    assert "paused for 3 days" in (await ask(services, "pause 3")).text
    assert await alert_for(services) is None
    assert "paused until 2026-11-25" in (await ask(services, "subscriptions")).text
    assert (await ask(services, "pause 0")).is_error
    assert "until `/papers resume`" in (await ask(services, "pause")).text
    assert "paused (until `/papers resume`)" in (await ask(services, "subscriptions")).text
    assert await alert_for(services, NOW + timedelta(days=300)) is None
    await ask(services, "resume")
    run = await alert_for(services)
    assert run is not None and run.posted == 1


async def test_no_match_sends_nothing(services: Services) -> None:
    out = console(services)
    await ask(services, "subscribe quantum chromodynamics")
    await publish(services, date(2026, 11, 21), ["Agents Everywhere"])
    await match_new_lists(services)
    run = await alert_for(services)
    assert run is not None and run.outcome is Outcome.NO_MATCH and out.getvalue() == ""


async def test_delivery_time_in_two_time_zones(services: Services) -> None:
    assert "08:00 Europe/Paris" in (await ask(services, "alerts 08:00 Europe/Paris")).text
    paris = await services.subscriptions.alert_settings(ADA)
    assert paris is not None
    fire = alert_trigger(paris).get_next_fire_time(None, NOW)
    assert fire.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M") == "08:00"
    assert fire.astimezone(UTC) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    tokyo = replace(paris, timezone="Asia/Tokyo")
    fire = alert_trigger(tokyo).get_next_fire_time(None, NOW)
    assert fire.astimezone(UTC) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    # The local day decides "once a day": 23:30 UTC on the 22nd is the 23rd in Tokyo.
    await ask(services, "subscribe agents")
    await publish(services, date(2026, 11, 21), ["Agents Everywhere"])
    await match_new_lists(services)
    console(services)
    first = await send_alert(services, tokyo, datetime(2026, 11, 22, 14, 0, tzinfo=UTC))
    second = await send_alert(services, tokyo, datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    assert first is not None and second is not None  # two local days
    assert (await ask(services, "alerts 25:00")).is_error


def test_similar_topic_prefers_ai_keywords_then_distinctive_title_words() -> None:
    from bot.alerts.topics import similar_topic
    from tests.conftest import make_paper

    with_keywords = make_paper(signals=Signals(ai_keywords=("video diffusion", "world models")))
    assert similar_topic(with_keywords) == '"video diffusion" OR "world models"'
    plain = make_paper(title="A Study of Diffusion Transformers for Protein Design")
    assert similar_topic(plain) == "transformers diffusion"


async def test_the_topic_index_is_kept_across_runs_and_follows_the_subscriptions(
    services: Services,
) -> None:
    await ask(services, "subscribe diffusion")
    await ask(services, "subscribe graph")
    await publish(services, date(2026, 11, 21), ["Diffusion Models", "Graph Nets"])
    assert await match_new_lists(services) == 2
    first = services.topics.update({}, parse)  # (what the last run left, emptied here)
    await ask(services, "unsubscribe 1")  # diffusion
    await ask(services, "subscribe codecs")
    day_two = ["Diffusion Again", "Video Codecs", "Graph Cuts"]
    await publish(services, date(2026, 11, 22), day_two, first_id=3)
    assert await match_new_lists(services) == 2  # graph and codecs; diffusion no longer
    kept = services.topics.update(
        {s.id: s.topic for s in await services.subscriptions.subscriptions()}, parse
    )
    assert kept is first  # the same index, brought in step rather than built again
    assert kept.topic_ids() == {s.id for s in await services.subscriptions.subscriptions()}
    by_topic = [sub_id for _, sub_id in await services.subscriptions.pending_matches(ADA)]
    assert sorted(by_topic) == [2, 2, 3]  # graph twice, codecs; diffusion gone with its topic


@pytest.mark.backends("sqlite")  # PostgreSQL never hands an id out again
async def test_a_new_topic_that_takes_a_deleted_ones_id_is_matched_as_itself(
    services: Services,
) -> None:
    bob = Destination("console", "local", "bob", kind="dm")
    await ask(services, "subscribe diffusion")
    await publish(services, date(2026, 11, 21), ["Graph Nets"])
    await match_new_lists(services)  # the kept index now knows "diffusion"
    [diffusion] = await services.subscriptions.subscriptions(ADA)
    await ask(services, "unsubscribe all")
    await ask(services, "subscribe robots", user="bob")
    [robots] = await services.subscriptions.subscriptions(bob)
    assert robots.id == diffusion.id  # SQLite hands the deleted row's id out again
    await publish(services, date(2026, 11, 22), ["Diffusion Today"], first_id=3)
    assert await match_new_lists(services) == 0  # not Ada's old "diffusion" under Bob's id
    await publish(services, date(2026, 11, 23), ["Robots Walk"], first_id=5)
    assert await match_new_lists(services) == 1
    assert [sub for _, sub in await services.subscriptions.pending_matches(bob)] == [robots.id]


def test_composing_an_alert_reads_only_what_it_is_given_and_writes_nothing() -> None:
    """`compose_alert` is a plain function of what was read: what to send and what to
    record come back to `send_alert`, which does every write."""
    papers = {pk: make_paper(id=f"p{pk}", title=f"Paper {pk}") for pk in range(1, 6)}
    topics = {7: Subscription(7, ADA, "diffusion", NOW), 8: Subscription(8, ADA, "video", NOW)}
    pending = PendingAlert(
        # p1 was sent before, p3 matches both topics, topic 9 was deleted since.
        matches=[(1, 7), (2, 7), (3, 7), (3, 8), (4, 8), (5, 8), (5, 9)],
        sent=frozenset({"p1"}),
        subscriptions=topics,
        papers=papers,
    )
    draft = compose_alert(pending, cap=3)
    assert draft.paper_ids == ("p2", "p3", "p4")
    assert draft.alert is not None
    assert [(g.topic, len(g.papers), g.more) for g in draft.alert.groups] == [
        ("diffusion", 2, 0),
        ("video", 1, 1),
    ]
    assert draft.last_matches == ((7, "Paper 2"), (8, "Paper 4"))
    nothing = compose_alert(replace(pending, sent=frozenset(f"p{pk}" for pk in papers)), cap=3)
    assert (nothing.alert, nothing.paper_ids, nothing.last_matches) == (None, (), ())


async def test_a_list_that_completes_has_its_taste_vectors_made_before_any_digest(
    services: Services,
) -> None:
    """The channels' digests of the day then find them made (the first digest of a day
    costs what the others do)."""
    titles = ["Video Diffusion Today", "Graph Nets"]
    await publish(services, date(2026, 11, 21), titles)
    await services.refresh_index()
    made = freqs_for(services.index).vectors
    made.clear()
    await match_new_lists(services)
    assert sorted(title for _, title, _ in made) == sorted(titles)
