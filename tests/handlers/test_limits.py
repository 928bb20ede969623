"""Limits that must hold whatever the concurrency: topics per user, commands per user."""

from __future__ import annotations

import asyncio

from bot.app import Services
from bot.models import Destination
from bot.render.neutral import Notice
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
    assert len(await services.store.subscriptions(ADA)) == 20
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
    assert [s.topic for s in await services.store.subscriptions(ADA)] == ["agents"]
    refused = [a.text for a in answers if a.is_error]
    assert len(refused) == 11 and all("already follow “agents” (#1)" in t for t in refused)
