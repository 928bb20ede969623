"""Limits that must hold whatever the concurrency: topics per user, commands per user."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.app import Services, build_services
from bot.config import Settings
from bot.models import Destination
from bot.render.neutral import Help, Notice
from handlers.context import Context, Invocation
from handlers.router import dispatch
from tests.conftest import NOW

ADA = Destination("console", "local", "ada", kind="dm")


async def test_concurrent_subscribes_stop_at_the_limit(services: Services) -> None:
    async def subscribe(number: int) -> Notice:
        invocation = Invocation("console", "local", "shell", "ada", f"subscribe topic{number}")
        reply = await dispatch(Context(invocation, services, NOW))
        assert isinstance(reply.content, Notice)
        return reply.content

    answers = await asyncio.gather(*(subscribe(n) for n in range(60)))
    assert len(await services.subscriptions.subscriptions(ADA)) == 20
    refused = [a for a in answers if a.is_error]
    assert len(refused) == 40
    assert all("the most allowed is 20" in a.text for a in refused)
    numbers = sorted(a.text.split("(#")[1].split(")")[0] for a in answers if not a.is_error)
    assert numbers == sorted(str(n) for n in range(1, 21))  # each new topic's own number


async def test_concurrent_subscribes_to_one_topic_store_it_once(services: Services) -> None:
    async def subscribe(text: str) -> Notice:
        invocation = Invocation("console", "local", "shell", "ada", f"subscribe {text}")
        reply = await dispatch(Context(invocation, services, NOW))
        assert isinstance(reply.content, Notice)
        return reply.content

    answers = await asyncio.gather(*(subscribe(t) for t in ["agents", "Agents", "AGENTS"] * 4))
    assert [s.topic for s in await services.subscriptions.subscriptions(ADA)] == ["agents"]
    refused = [a.text for a in answers if a.is_error]
    assert len(refused) == 11 and all("already follow “agents” (#1)" in t for t in refused)


def _slack(
    user: str = "U1", text: str = "help", workspace: str = "T1", channel: str = "C1"
) -> Invocation:
    return Invocation("slack", workspace, channel, user, text, is_manager=True)


async def test_the_eleventh_command_in_a_minute_is_refused_until_it_fits(
    services: Services,
) -> None:
    for _ in range(10):
        reply = await dispatch(Context(_slack(), services, NOW))
        assert isinstance(reply.content, Help)
    refused = await dispatch(Context(_slack(text="search diffusion"), services, NOW))
    assert refused.content == Notice("Slow down: you can send another command in 6 s.")
    assert refused.ephemeral and refused.private  # for the asker, even after a mention
    # Others are not held back: another user, the same user in another workspace.
    assert isinstance((await dispatch(Context(_slack("U2"), services, NOW))).content, Help)
    other_workspace = _slack(workspace="T2")
    assert isinstance((await dispatch(Context(other_workspace, services, NOW))).content, Help)
    later = NOW + timedelta(seconds=6)
    assert isinstance((await dispatch(Context(_slack(), services, later))).content, Help)


async def test_the_limits_come_from_the_environment() -> None:
    env = {"PAPERWIRE_COMMANDS_PER_MINUTE": "100", "PAPERWIRE_COMMANDS_PER_HOUR": "2"}
    settings = Settings.from_env(env, db=":memory:")
    async with build_services(settings, clock=lambda: NOW) as services:
        answers = [await dispatch(Context(_slack(), services, NOW)) for _ in range(3)]
    assert [isinstance(a.content, Help) for a in answers] == [True, True, False]
    assert answers[2].content == Notice("Slow down: you can send another command in 30 min.")


async def test_the_console_is_not_limited(services: Services) -> None:
    for _ in range(100):
        invocation = Invocation("console", "local", "shell", "ada", "help")
        reply = await dispatch(Context(invocation, services, NOW))
        assert isinstance(reply.content, Help)


async def test_digest_now_runs_at_most_once_a_minute_in_a_channel(services: Services) -> None:
    async def now(channel: str, at: datetime) -> str:
        reply = await dispatch(Context(_slack("U3", "digest now", channel=channel), services, at))
        assert isinstance(reply.content, Notice)
        return reply.content.text

    first = await now("C1", NOW)
    assert "at most once a minute" not in first
    assert await now("C1", NOW + timedelta(seconds=20)) == (
        "`digest now` runs at most once a minute in a channel: try again in 40 s."
    )
    assert "at most once a minute" not in await now("C2", NOW)  # another channel
    assert await now("C1", NOW + timedelta(seconds=60)) == first  # a minute later: it runs
