"""Per-workspace budgets: each Slack workspace is paced on its own, so a digest fan-out
across 50 workspaces, one of them throttled by Slack (429, Retry-After 30 s), finishes the
other 49 while the throttled one waits. Counted, not timed: the 49 are done while the
throttled one is still held."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator

import pytest

from bot.app import Services
from bot.delivery.outbox import OutgoingMessage
from bot.models import Destination
from bot.platforms.slack import SlackAdapter, SlackConfig
from bot.render.neutral import Digest, Reply
from bot.storage.types import Installation
from tests.conftest import NOW, make_paper
from tests.slack.fake_slack import FakeSlack, rate_limited, running_fake_slack

WORKSPACES = [f"W{n:02d}" for n in range(50)]
THROTTLED = "W07"
RETRY_AFTER_S = 30


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as running:
        yield running


async def _installed(services: Services, fake: FakeSlack) -> SlackAdapter:
    config = SlackConfig(
        bot_token="",
        signing_secret="secret",
        api_url=fake.api_url,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    adapter = SlackAdapter(services, config)
    assert adapter.workspaces is not None
    for team in WORKSPACES:
        workspace = fake.add_workspace(team)
        await adapter.workspaces.install(
            Installation(team, workspace.token, workspace.bot_id, workspace.bot_user_id, NOW)
        )
    services.delivery.register(adapter)
    return adapter


def _digest(team: str) -> OutgoingMessage:
    digest = Digest(day=NOW.date(), papers=(make_paper(),), style="compact")
    return OutgoingMessage(Destination("slack", team, f"C-{team}"), Reply(digest, ephemeral=False))


async def test_one_throttled_workspace_delays_none_of_the_others(
    services: Services, fake: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    adapter = await _installed(services, fake)
    fake.fail("chat.postMessage", *(rate_limited(RETRY_AFTER_S) for _ in range(6)), channel="C-W07")
    posted: dict[str, float] = {}  # team -> when its digest arrived

    def arrived() -> int:
        for call in fake.calls_to("chat.postMessage"):
            team = fake.team_of(call)
            if team and team != THROTTLED and "thread_ts" not in call.args:
                posted.setdefault(team, call.at)
        return len(posted)

    async def deliver_all() -> None:
        await asyncio.gather(*(services.delivery.deliver(_digest(t)) for t in WORKSPACES))

    started = time.monotonic()
    fan_out = asyncio.create_task(deliver_all())
    try:
        await fake.wait_until(lambda: arrived() == len(WORKSPACES) - 1, timeout=20)
        others_done = time.monotonic() - started
        throttled_calls = [
            c for c in fake.calls_to("chat.postMessage") if c.args["channel"] == "C-W07"
        ]
        # Every other workspace got its digest, each with its own token; the throttled
        # one was refused once and is held for the Retry-After, alone.
        assert set(posted) == set(WORKSPACES) - {THROTTLED}
        assert len(throttled_calls) == 1 and fake.team_of(throttled_calls[0]) == THROTTLED
        assert "C-W07" not in fake.history
        held = adapter.transport.lane(THROTTLED).pacer.shared.delay()
        assert held > RETRY_AFTER_S - 10
        assert all(adapter.transport.lane(t).pacer.shared.delay() < 1 for t in posted)
        assert not fan_out.done()
        assert others_done < held  # the 49 did not wait for it
    finally:
        fan_out.cancel()
        await asyncio.gather(fan_out, return_exceptions=True)
    after = sorted(at - started for at in posted.values())
    with capsys.disabled():
        print(
            f"\n50-workspace fan-out: 49 digests in {others_done * 1000:.0f} ms"
            f" (per workspace: median {statistics.median(after) * 1000:.0f} ms,"
            f" slowest {after[-1] * 1000:.0f} ms); {THROTTLED}: 1 attempt answered 429,"
            f" held {held:.1f} s more by its Retry-After, nobody else held"
        )
