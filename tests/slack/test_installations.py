"""bolt's installation and state stores over paperwire's repositories, and `Workspaces`'
tokens: a workspace's installation as bolt saves it reads back as bolt looks for it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from slack_sdk.oauth.installation_store import Installation as SlackInstallation

from bot.app import Services
from bot.delivery import codec
from bot.models import Destination
from bot.platforms.slack.installations import InstallationStore, OAuthStateStore
from bot.platforms.slack.workspaces import Workspaces, forget_uninstalled
from bot.render.neutral import Notice, Reply
from tests.conftest import NOW


def slack_installation(team: str = "T1", **extra: object) -> SlackInstallation:
    return SlackInstallation(
        app_id="A1",
        team_id=team,
        team_name=f"Team {team}",
        bot_token=f"xoxb-{team}-secret",
        bot_id=f"B{team}",
        bot_user_id=f"U{team}BOT",
        bot_scopes="chat:write,commands",
        user_id="UINSTALLER",
        **extra,  # type: ignore[arg-type]
    )


async def test_what_bolt_saves_it_finds_by_team(services: Services) -> None:
    store = InstallationStore(Workspaces(services.installations, services.clock))
    await store.async_save(slack_installation("T1"))
    await store.async_save(slack_installation("T2"))

    bot = await store.async_find_bot(enterprise_id=None, team_id="T2")
    assert bot is not None and (bot.bot_token, bot.bot_user_id) == ("xoxb-T2-secret", "UT2BOT")
    assert bot.bot_scopes == ["chat:write", "commands"]
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == "xoxb-T1-secret"
    assert found.user_id == "UINSTALLER"
    assert await store.async_find_bot(enterprise_id=None, team_id="T3") is None
    # A user's own installation is never kept (paperwire asks for no user scopes).
    assert (
        await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1") is None
    )


async def test_a_rotating_token_keeps_its_refresh_token_and_expiry(services: Services) -> None:
    store = InstallationStore(Workspaces(services.installations, services.clock))
    await store.async_save(
        slack_installation("T1", bot_refresh_token="xoxe-1-r", bot_token_expires_in=43200)
    )
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_refresh_token == "xoxe-1-r"
    assert bot.bot_token_expires_at is not None


async def test_an_uninstall_stops_the_workspace_and_a_reinstall_resumes_it(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    workspaces = Workspaces(services.installations, services.clock)
    store = InstallationStore(workspaces)
    await store.async_save(slack_installation("T1"))
    channel = Destination("slack", "T1", "C1")
    await services.outbox.enqueue(channel.key, codec.dumps(Reply(Notice("hi"))), [], NOW)

    await store.async_delete_all(enterprise_id=None, team_id="T1")

    assert await workspaces.bot_token("T1") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert (await services.outbox.destination_state(channel.key)).error == "app_uninstalled"
    assert await services.outbox.due_messages(channel.key, NOW) == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "1 destination stopped, 1 waiting message dropped" in logged
    assert "secret" not in logged

    await store.async_save(slack_installation("T1"))
    assert await workspaces.bot_token("T1") == "xoxb-T1-secret"
    assert not (await services.outbox.destination_state(channel.key)).stopped
    assert "installed paperwire again: its settings were kept" in caplog.text


async def test_data_is_forgotten_after_the_grace_period_only(services: Services) -> None:
    workspaces = Workspaces(services.installations, services.clock)
    store = InstallationStore(workspaces)
    await store.async_save(slack_installation("T1"))
    await store.async_delete_bot(enterprise_id=None, team_id="T1")  # tokens_revoked
    assert await forget_uninstalled(services.installations, NOW + timedelta(days=29), 30) == 0
    assert await services.installations.installation("T1") is not None
    assert await forget_uninstalled(services.installations, NOW + timedelta(days=31), 30) == 1
    assert await services.installations.installation("T1") is None


async def test_a_state_is_good_once(services: Services) -> None:
    states = OAuthStateStore(services.installations, services.clock)
    state = await states.async_issue()
    assert len(state) >= 32
    assert await states.async_consume(state)
    assert not await states.async_consume(state)
    assert not await states.async_consume("forged")
    assert not await states.async_consume("")
