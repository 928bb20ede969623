"""The client answering interactions: whatever fails, the person gets an apology and the log
one traceback (`bot/platforms/discord/client.py`)."""

from __future__ import annotations

import pytest

import bot.platforms.discord.client as client_module
from bot.platforms.discord import PaperwireDiscord
from tests.discord.asking import FOLLOW_UP, error_records, is_apology, text_of
from tests.discord.fake_discord import FakeDiscord, component_interaction, slash_interaction
from tests.payload_checks import check_discord_message


async def test_a_bug_in_a_button_handler_is_an_apology_and_one_logged_traceback(
    fake: FakeDiscord,
    bot: PaperwireDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    key = await bot.services.saved_queries.save_query("model", bot.services.clock())
    monkeypatch.setattr(bot.services.search, "search", broken)
    await fake.dispatch("INTERACTION_CREATE", component_interaction(f"pw:next:5:{key}"))
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    check_discord_message(answer.json)
    assert is_apology(answer.json) and "boom" not in text_of(answer.json)
    [error] = error_records(caplog)
    assert error.getMessage() == "button failed: next" and error.exc_info is not None


@pytest.mark.parametrize("where", ["command", "button", "tree"])
async def test_an_error_past_the_handlers_gets_an_apology_follow_up(
    fake: FakeDiscord,
    bot: PaperwireDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    """Without the hook, discord.py logs the error and Discord's "thinking..." stays."""

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    if where == "command":
        monkeypatch.setattr(client_module, "dispatch", broken)
        interaction = slash_interaction(subcommand="help")
    elif where == "button":
        monkeypatch.setattr(client_module, "press", broken)
        interaction = component_interaction("pw:abstract:2509.04664")
    else:  # a command the tree does not know (an old registration): the tree's hook
        interaction = slash_interaction(name="nosuch", subcommand=None, options={})
    await fake.dispatch("INTERACTION_CREATE", interaction)
    [answer] = await fake.wait_for("POST", FOLLOW_UP)
    [deferred] = fake.interaction_responses()
    assert deferred["type"] == 5 and deferred["data"]["flags"] & 64
    check_discord_message(answer.json)
    assert is_apology(answer.json) and "boom" not in text_of(answer.json)
    await bot.services.delivery.wait_idle()
    [error] = error_records(caplog)
    assert error.getMessage() == "Discord: answering an interaction failed"
    assert error.exc_info is not None
