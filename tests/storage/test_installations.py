"""Slack installations, OAuth states, and what an uninstall does to a workspace's data: on
every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from bot.alerts.topics import AlertSettings
from bot.digests.settings import DigestSettings
from bot.models import Destination
from bot.storage import Storage
from bot.storage.types import Installation, VoteCounts
from tests.conftest import NOW, make_observation

LEAVING = Destination("slack", "T1", "C1")
STAYING = Destination("slack", "T2", "C1")
LEAVING_USER = Destination("slack", "T1", "U1", "dm")
STAYING_USER = Destination("slack", "T2", "U1", "dm")


def installed(team: str, **overrides: object) -> Installation:
    values: dict[str, object] = {
        "team_id": team,
        "bot_token": f"xoxb-{team}-secret",
        "bot_id": f"B{team}",
        "bot_user_id": f"U{team}BOT",
        "installed_at": NOW,
        "scopes": "chat:write,commands",
        "team_name": f"Team {team}",
    }
    values.update(overrides)
    return Installation(**values)  # type: ignore[arg-type]


async def test_an_installation_reads_back_and_a_reinstall_replaces_it(storage: Storage) -> None:
    rotating = installed(
        "T1",
        refresh_token="xoxe-1-refresh",
        token_expires_at=NOW + timedelta(hours=12),
        enterprise_id="E1",
        installer="U9",
        app_id="A1",
    )
    await storage.installations.save_installation(rotating)
    await storage.installations.save_installation(installed("T2"))
    assert await storage.installations.installation("T1") == rotating
    assert await storage.installations.installation("T3") is None
    newer = replace(rotating, bot_token="xoxb-T1-new", installed_at=NOW + timedelta(days=1))
    await storage.installations.save_installation(newer)
    assert [i.team_id for i in await storage.installations.installations()] == ["T1", "T2"]
    assert (await storage.installations.installations())[0] == newer


async def test_refreshed_tokens_never_undo_an_uninstall_nor_another_refresh(
    storage: Storage,
) -> None:
    later = NOW + timedelta(hours=12)
    await storage.installations.save_installation(installed("T1", refresh_token="xoxe-r1"))
    replace_tokens = storage.installations.replace_tokens
    assert await replace_tokens("T1", "xoxe-r1", "xoxb-new", "xoxe-r2", later)
    assert not await replace_tokens("T1", "xoxe-r1", "xoxb-other", "xoxe-r3", later)  # stale
    kept = await storage.installations.installation("T1")
    assert kept is not None and (kept.bot_token, kept.refresh_token) == ("xoxb-new", "xoxe-r2")
    assert kept.token_expires_at == later
    assert await storage.installations.uninstall("T1", NOW)
    assert not await replace_tokens("T1", "xoxe-r2", "xoxb-back", "xoxe-r4", later)
    gone = await storage.installations.installation("T1")
    assert gone is not None and not gone.installed and gone.bot_token == ""


def test_tokens_never_show_in_repr() -> None:
    shown = repr(installed("T1", refresh_token="xoxe-1-refresh"))
    assert "secret" not in shown and "xoxe" not in shown and "T1" in shown


async def test_an_uninstall_forgets_the_tokens_and_dates_it(storage: Storage) -> None:
    await storage.installations.save_installation(installed("T1", refresh_token="xoxe-1-r"))
    assert await storage.installations.uninstall("T1", NOW)
    assert not await storage.installations.uninstall("T1", NOW + timedelta(hours=1))
    assert not await storage.installations.uninstall("T9", NOW)
    gone = await storage.installations.installation("T1")
    assert gone is not None and not gone.installed
    assert gone.bot_token == "" and gone.refresh_token is None and gone.uninstalled_at == NOW
    assert await storage.installations.uninstalled_before(NOW + timedelta(days=30)) == ["T1"]
    assert await storage.installations.uninstalled_before(NOW) == []
    await storage.installations.save_installation(installed("T1"))  # back
    assert await storage.installations.uninstalled_before(NOW + timedelta(days=30)) == []


async def test_an_oauth_state_is_used_once_and_only_before_it_expires(storage: Storage) -> None:
    repo = storage.installations
    await repo.issue_oauth_state("s-fresh", NOW + timedelta(minutes=10))
    await repo.issue_oauth_state("s-late", NOW + timedelta(minutes=10))
    assert await repo.consume_oauth_state("s-fresh", NOW + timedelta(minutes=1))
    assert not await repo.consume_oauth_state("s-fresh", NOW + timedelta(minutes=1))  # reused
    assert not await repo.consume_oauth_state("s-forged", NOW)
    assert not await repo.consume_oauth_state("s-late", NOW + timedelta(minutes=10))  # expired


async def _workspace_data(storage: Storage, channel: Destination, user: Destination) -> None:
    await storage.digests.save_channel_digest(DigestSettings(channel), by="U1", at=NOW)
    await storage.subscriptions.add_subscription(user, "diffusion", NOW, limit=20)
    alerts = AlertSettings(user, time(8, 0), "UTC")
    await storage.subscriptions.save_alert_settings(alerts, NOW)
    await storage.outbox.enqueue(channel.key, '"digest"', ["2611.00001"], NOW)
    await storage.outbox.enqueue(user.key, '"alert"', [], NOW)


async def test_stopping_a_workspace_stops_its_destinations_and_drops_its_queue(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(arxiv_id="2611.00001")])
    await _workspace_data(storage, LEAVING, LEAVING_USER)
    await _workspace_data(storage, STAYING, STAYING_USER)
    reply = Destination.reply_in("slack", "T1", "C1")
    await storage.outbox.enqueue(reply.key, '"reply"', [], NOW, handle="{}")

    stop = await storage.installations.stop_workspace("T1", "app_uninstalled", NOW)

    assert (stop.destinations, stop.dropped) == (2, 3)
    for key in (LEAVING.key, LEAVING_USER.key):
        state = await storage.outbox.destination_state(key)
        assert state.stopped and state.error == "app_uninstalled"
    assert not (await storage.outbox.destination_state(STAYING.key)).stopped
    assert set(await storage.outbox.due_destinations(NOW)) == {STAYING.key, STAYING_USER.key}

    # Back within the grace: the same destinations take messages again; what was queued
    # while it was away is not sent.
    await storage.outbox.enqueue(LEAVING.key, '"while away"', [], NOW)
    back = await storage.installations.resume_workspace("T1", "app_uninstalled", NOW)
    assert (back.destinations, back.dropped) == (2, 1)
    assert not (await storage.outbox.destination_state(LEAVING.key)).stopped
    assert await storage.digests.channel_digest(LEAVING.key) is not None
    assert await storage.outbox.due_messages(LEAVING.key, NOW) == []


async def test_forgetting_a_workspace_deletes_its_data_and_no_one_elses(
    storage: Storage,
) -> None:
    await storage.papers.ingest([make_observation(arxiv_id="2611.00001")])
    await storage.installations.save_installation(installed("T1"))
    await storage.installations.save_installation(installed("T2"))
    await _workspace_data(storage, LEAVING, LEAVING_USER)
    await _workspace_data(storage, STAYING, STAYING_USER)
    # A team whose id starts like another's is another team.
    await _workspace_data(storage, Destination("slack", "T10", "C1"), STAYING_USER)
    pk = (await storage.papers.pks_for_ids(["2611.00001"]))["2611.00001"]
    await storage.votes.vote(LEAVING.key, pk, LEAVING_USER.key, 1, NOW)
    await storage.votes.vote(STAYING.key, pk, STAYING_USER.key, -1, NOW)

    assert await storage.installations.forget_workspace("T1") >= 4

    assert await storage.installations.installation("T1") is None
    assert await storage.installations.installation("T2") is not None
    assert await storage.digests.channel_digest(LEAVING.key) is None
    assert await storage.subscriptions.subscriptions(LEAVING_USER) == []
    assert await storage.subscriptions.alert_settings(LEAVING_USER) is None
    assert await storage.outbox.sent_paper_ids(LEAVING.key) == frozenset()
    assert await storage.outbox.due_messages(LEAVING.key, NOW) == []
    assert await storage.digests.channel_digest(STAYING.key) is not None
    assert await storage.digests.channel_digest("slack:T10:C1") is not None
    assert len(await storage.subscriptions.subscriptions(STAYING_USER)) == 1
    assert await storage.outbox.sent_paper_ids(STAYING.key) == frozenset({"2611.00001"})
    assert await storage.votes.channel_counts(LEAVING.key) == {}
    assert await storage.votes.counts(STAYING.key, pk) == VoteCounts(0, 1)
