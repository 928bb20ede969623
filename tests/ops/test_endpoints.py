"""The operator's endpoints of a real `paperwire run`: health, readiness as a platform comes
and goes, metrics that move as messages are sent, and the token-protected status page."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import html5lib
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.models import Destination
from bot.storage import open_storage
from tests.discord.fake_discord import CHANNEL_ID, GUILD_ID, FakeDiscord, running_fake_discord
from tests.postgres import fresh_schema
from tests.processes import closed_port, read_until, start_paperwire_run, stop
from tests.test_run import CONSOLE, assert_clean, seed_missed_digest

TOKEN = "status-token-Secret-123"
LISTENING = re.compile(r"http://127\.0\.0\.1:(\d+)/")
HOSTILE_CHANNEL = Destination("slack", "T1", "C<script>alert(1)</script>")
HOSTILE_ERROR = "<b>boom</b> at https://hooks.slack.com/commands/T1/77/ResponseUrlSecret"


@asynccontextmanager
async def running(
    db: Path | str, listening: str = "health, metrics and status on", **env: str
) -> AsyncIterator[str]:
    """`paperwire run` with the ops endpoints on a free port; yields their base URL."""
    environment = {"PAPERWIRE_HTTP_HOST": "127.0.0.1", "PAPERWIRE_HTTP_PORT": "0"} | env
    process = await start_paperwire_run(db, **environment)
    assert process.stderr is not None
    try:
        line = (await read_until(process.stderr, listening))[-1]
        match = LISTENING.search(line)
        assert match, line
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        code, _ = await stop(process, signal.SIGTERM)
        stderr = (await process.stderr.read()).decode()
        assert code == 0, stderr
        assert_clean(stderr)
        assert TOKEN not in stderr


async def get(url: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, await answer.text()


async def eventually(
    check: Callable[[], Any],
    what: str,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> Any:
    """Ask `check` (a coroutine function) until it returns something true."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                if result := await check():
                    return result
                await asyncio.sleep(0.1)  # an endpoint polled, not a schedule waited for
    except TimeoutError:
        raise AssertionError(what) from None


async def ready(base: str, want: int) -> str | None:
    """/readyz's body when it answers `want`."""
    status, body = await get(f"{base}/readyz")
    return body if status == want else None


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    raise AssertionError(f"no sample {name} {labels}")


async def test_console_run_is_healthy_ready_and_counts_the_digest_it_sends(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await seed_missed_digest(db)
    async with open_storage(db) as storage:  # a destination whose name and error are hostile
        await storage.outbox.record_delivery(
            HOSTILE_CHANNEL.key, datetime.now(UTC) - timedelta(minutes=3), error=HOSTILE_ERROR
        )
    async with running(db, PAPERWIRE_STATUS_TOKEN=TOKEN) as base:
        assert await get(f"{base}/healthz") == (200, "ok\n")  # while it starts, too
        body = await eventually(lambda: ready(base, 200), "never ready")
        assert '"ready": true' in body and '"role": "leader"' in body

        async def sent() -> str | None:
            # The run counts its digest once the send returned: the two land in turn.
            text = (await get(f"{base}/metrics"))[1]
            done = sample(text, "paperwire_messages_sent_total", platform="console") >= 1
            counted = sample(text, "paperwire_digests_posted_total") >= 1
            return text if done and counted else None

        metrics = await eventually(sent, "the console digest was never counted")
        assert sample(metrics, "paperwire_digests_posted_total") == 1
        assert sample(metrics, "paperwire_send_seconds_count", platform="console") >= 1
        assert sample(metrics, "paperwire_outbox_depth", platform="console") == 0
        assert sample(metrics, "paperwire_scheduler_lag_seconds_count", job="outbox") >= 1
        assert "general" not in metrics and "C<script>" not in metrics  # no channel names

        for wrong in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
            assert (await get(f"{base}/status", **wrong))[0] == 404
        assert (await get(f"{base}/status?token=nope"))[0] == 404
        status, page = await get(f"{base}/status", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        assert (await get(f"{base}/status?token={TOKEN}"))[0] == 200
    html5lib.HTMLParser(strict=True).parse(page)  # raises on any parse error
    assert CONSOLE.key in page and "Next digests" in page and "seeds" in page
    assert "C&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "&lt;b&gt;boom&lt;/b&gt; at https://hooks.slack.com/..." in page
    assert "ResponseUrlSecret" not in page and TOKEN not in page


async def test_readyz_names_discord_while_its_gateway_is_gone(tmp_path: Path) -> None:
    """The fake gateway drops its websockets and refuses new ones: discord.py's own
    reconnects fail, /readyz says 503 naming discord; the gateway back, discord.py resumes
    and /readyz is 200 again. The Discord digest sent meanwhile is counted."""
    db = tmp_path / "p.db"
    await seed_missed_digest(db, Destination("discord", GUILD_ID, CHANNEL_ID))
    async with running_fake_discord() as fake, running(db, **_discord(fake)) as base:
        await eventually(lambda: ready(base, 200), "never ready")

        async def sent() -> bool:
            text = (await get(f"{base}/metrics"))[1]
            return sample(text, "paperwire_messages_sent_total", platform="discord") >= 1

        await eventually(sent, "the Discord digest was never counted")
        fake.gateway_down = True
        await fake.drop_connections()
        body = await eventually(lambda: ready(base, 503), "still ready with the gateway gone")
        assert '"not_ready": ["discord"]' in body and '"discord": "disconnected"' in body
        fake.gateway_down = False
        await eventually(lambda: ready(base, 200), "not ready again once the gateway came back")
        assert fake.resumed_count >= 1


async def test_slack_http_mode_serves_events_and_ops_on_one_port(tmp_path: Path) -> None:
    """Slack's own listener serves the endpoints: /healthz answers, /readyz names Slack
    while its API cannot be reached, and /slack/events is there too (unsigned: 401)."""
    with closed_port() as port:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-secret-bot",
            "SLACK_SIGNING_SECRET": "secret-signing",
            "PAPERWIRE_SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
        }
        async with running(tmp_path / "p.db", "Slack: listening on", **env) as base:
            assert await get(f"{base}/healthz") == (200, "ok\n")
            status, body = await get(f"{base}/readyz")
            assert status == 503 and '"slack"' in body
            assert (await get(f"{base}/status"))[0] == 404  # no token set: the page is off
            async with (
                aiohttp.ClientSession() as session,
                session.post(f"{base}/slack/events", data=b"{}") as answer,
            ):
                assert answer.status == 401


@pytest.mark.skipif(
    not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")),
    reason="no headless browser installed (chromium is not on CI)",
)
async def test_status_page_renders_in_a_headless_browser(tmp_path: Path) -> None:
    browser = next(b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b))
    db = tmp_path / "p.db"
    await seed_missed_digest(db)
    async with running(db, PAPERWIRE_STATUS_TOKEN=TOKEN) as base:
        shown = await asyncio.create_subprocess_exec(
            browser,
            "--headless",
            "--no-sandbox",
            "--dump-dom",
            f"{base}/status?token={TOKEN}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        dom, _ = await asyncio.wait_for(shown.communicate(), 60)
    assert "paperwire status" in dom.decode() and "Destinations" in dom.decode()


def _discord(fake: FakeDiscord) -> dict[str, str]:
    return {
        "DISCORD_BOT_TOKEN": fake.token,
        "PAPERWIRE_DISCORD_API_URL": fake.api_base,
        "PAPERWIRE_DISCORD_GATEWAY_URL": fake.gateway_url,
    }


async def test_on_postgresql_the_leader_and_a_follower_are_both_ready() -> None:
    """Several processes: the follower is ready too (it answers and sends its share); each
    says its role, and the leader's metrics read the outbox from PostgreSQL."""
    async with fresh_schema() as url:
        await seed_missed_digest(url)
        async with running(url, PAPERWIRE_LEADER_CHECK_S="1") as leader:
            body = await eventually(lambda: ready(leader, 200), "the leader never ready")
            assert '"role": "leader"' in body
            async with running(url, PAPERWIRE_LEADER_CHECK_S="1") as follower:
                body = await eventually(lambda: ready(follower, 200), "the follower never ready")
                assert '"role": "follower"' in body

                async def sent() -> bool:
                    text = (await get(f"{leader}/metrics"))[1]
                    return sample(text, "paperwire_messages_sent_total", platform="console") >= 1

                await eventually(sent, "the leader's console digest was never counted")
                text = (await get(f"{leader}/metrics"))[1]
                assert sample(text, "paperwire_outbox_oldest_age_seconds") == 0
