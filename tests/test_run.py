"""`paperwire run` as a real process: with no tokens the console is the platform, and a
digest missed while it was down (within the grace period) is posted on start. A stop
(SIGTERM, SIGINT) ends it within 5 s at any moment, while its platform cannot be reached
included; a token the platform refuses, or a database or setting it cannot use, ends it at
start with one line and exit code 2."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.digests.settings import WEEKDAYS, DigestSettings
from bot.models import Destination
from bot.runner import Deadline
from bot.storage import open_storage
from bot.storage.migrations import LATEST_VERSION
from tests.canned import slow
from tests.conftest import seed_observations
from tests.discord.fake_discord import running_fake_discord
from tests.processes import closed_port, read_until, start_paperwire_run, stop
from tests.slack.fake_slack import running_fake_slack
from tests.sources.fake_sources import running_fake_sources

WEBHOOK_TOKEN = "SecretWebhookToken" + "w" * 50
WEBHOOK_URL = f"https://discord.com/api/webhooks/123456789012345678/{WEBHOOK_TOKEN}"
SLACK_SECRETS = {"SLACK_BOT_TOKEN": "xoxb-secret-bot", "SLACK_APP_TOKEN": "xapp-secret-app"}
STOP_S = 5.0  # what a stop may take, at any moment


@pytest.fixture
def port() -> Iterator[int]:
    with closed_port() as number:
        yield number


def unreachable(mode: str, port: int) -> dict[str, str]:
    """The environment of each platform mode, its API at a local port nobody answers on."""
    slack = {"PAPERWIRE_SLACK_API_URL": f"http://127.0.0.1:{port}/api/"}
    discord = {
        "PAPERWIRE_DISCORD_API_URL": f"http://127.0.0.1:{port}/api/v10",
        "PAPERWIRE_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}/gw/",
    }
    return {
        "socket": {**slack, **SLACK_SECRETS},
        "http": {
            **slack,
            "SLACK_BOT_TOKEN": "xoxb-secret-bot",
            "SLACK_SIGNING_SECRET": "secret-signing",
            "PAPERWIRE_HTTP_HOST": "127.0.0.1",
            "PAPERWIRE_HTTP_PORT": "0",
        },
        "discord": {**discord, "DISCORD_BOT_TOKEN": "secret-discord-token"},
        "webhook": {**discord, "DISCORD_WEBHOOK_URL": WEBHOOK_URL},
    }[mode]


def assert_clean(stderr: str) -> None:
    """No traceback, and none of the secrets the tests hand out."""
    assert "Traceback" not in stderr, stderr
    for secret in ("secret-bot", "secret-app", "secret-discord", "secret-signing", "Secret"):
        assert secret not in stderr, stderr


CONSOLE = Destination("console", "local", "general")


async def seed_missed_digest(db: Path | str, destination: Destination = CONSOLE) -> DigestSettings:
    due = datetime.now(UTC) - timedelta(hours=1)
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
        settings = DigestSettings(
            destination,
            time=due.time().replace(second=0, microsecond=0),
            timezone="UTC",
            weekdays=WEEKDAYS,
            size=3,
        )
        # Set up before it was due (a run due before the setup is not a missed one).
        await storage.digests.save_channel_digest(settings, "test", due - timedelta(minutes=5))
    return settings


@pytest.mark.parametrize("slack", ["none", "unreachable"])
async def test_run_posts_a_missed_digest_to_the_console_and_stops_on_sigterm(
    tmp_path: Path, port: int, slack: str
) -> None:
    """Slack out of reach holds nothing else up: the console digest goes out meanwhile."""
    db = tmp_path / "p.db"
    settings = await seed_missed_digest(db)
    env = unreachable("socket", port) if slack == "unreachable" else {}
    process = await start_paperwire_run(db, **env)
    assert process.stdout is not None and process.stderr is not None
    try:
        output = "".join(await read_until(process.stdout, "Search:"))
        assert "── #general ──" in output
        assert output.count("\n1. ") == 1 and "3. " in output and "4. " not in output
        running = (await read_until(process.stderr, "paperwire is running"))[-1]
    finally:
        code, _ = await stop(process, signal.SIGTERM)
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert "paperwire stopped" in stderr
    assert_clean(stderr)
    if slack == "unreachable":
        assert "platforms: console, slack (connecting)" in running
    async with open_storage(db) as storage:
        [run] = await storage.digests.digest_runs(settings.destination.key)
        assert run.posted == 3


async def test_run_schedules_at_once_while_missed_digests_are_still_being_posted(
    tmp_path: Path,
) -> None:
    """The catch-up runs through the outbox in the background: a post that takes long
    (here, held by Slack) holds up neither the start nor the schedule."""
    db = tmp_path / "p.db"
    await seed_missed_digest(db, Destination("slack", "T1", "C1"))
    async with running_fake_slack(token="xoxb-secret-bot") as fake:
        held = slow()
        fake.fail("chat.postMessage", held)
        env = unreachable("http", 0) | {"PAPERWIRE_SLACK_API_URL": fake.api_url}
        process = await start_paperwire_run(db, **env)
        assert process.stderr is not None
        try:
            await asyncio.wait_for(held.arrived.wait(), 60)
            # Still held (Slack's client gives up only after 30 s): yet paperwire is running,
            # its scheduler started.
            lines = await read_until(
                process.stderr, "scheduler started", "paperwire is running", timeout=20
            )
            assert not fake.history.get("C1")
            held.release()
            await fake.wait_for("chat.postMessage", count=2, timeout=60)  # and its thread
        finally:
            code, _ = await stop(process, signal.SIGTERM)
    assert code == 0, "".join(lines)
    assert len(fake.history["C1"]) == 1


async def _run_until_logged(db: Path, wanted: str, times: int = 1, **env: str) -> tuple[int, str]:
    """Start `paperwire run`, stop it with SIGTERM once its log has `times` lines with
    `wanted`; returns its exit code and its log."""
    process = await start_paperwire_run(db, **env)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        lines = await read_until(process.stderr, *[wanted] * times)
    finally:
        code, _ = await stop(process, signal.SIGTERM)
    return code, "".join(lines) + (await process.stderr.read()).decode()


async def test_run_with_no_source_serves_the_bundled_papers(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    code, logged = await _run_until_logged(db, "bundled papers:")  # PAPERWIRE_SOURCES=""
    assert code == 0, logged
    async with open_storage(db) as storage:
        assert await storage.papers.count_papers() == len({o.paper_id for o in seed_observations()})


async def test_run_ingests_a_new_deployment_at_once(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with running_fake_sources() as fake:
        today = datetime.now(UTC).date()
        for day in (today, today + timedelta(days=1)):  # in case midnight passes meanwhile
            fake.hf_days[day.isoformat()] = [
                {"paper": {"id": f"2611.{n:05d}", "title": f"Fresh paper {n}"}} for n in (1, 2)
            ]
        code, logged = await _run_until_logged(
            db, "Hugging Face list for", 2, PAPERWIRE_SOURCES="hf", PAPERWIRE_HF_URL=fake.url
        )
    assert code == 0, logged
    assert "start-up ingest of hf" in logged
    async with open_storage(db) as storage:
        assert await storage.papers.count_papers() == 2


@pytest.mark.parametrize(
    ("mode", "sig"),
    [
        ("socket", "SIGTERM"),
        ("socket", "SIGINT"),
        ("http", "SIGTERM"),
        ("discord", "SIGTERM"),
        ("discord", "SIGINT"),
        ("webhook", "SIGTERM"),
    ],
)
async def test_run_stops_within_5_s_while_its_platform_cannot_be_reached(
    tmp_path: Path, port: int, mode: str, sig: str
) -> None:
    process = await start_paperwire_run(tmp_path / "p.db", **unreachable(mode, port))
    assert process.stderr is not None
    try:
        # Tried, found out of reach, running anyway, and trying again.
        lines = await read_until(
            process.stderr, "(attempt 1)", "paperwire is running", "trying again"
        )
    finally:
        code, took = await stop(process, signal.Signals[sig])
    stderr = "".join(lines) + (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert took < STOP_S, f"{sig} took {took:.1f} s"
    assert "paperwire stopped" in stderr
    assert_clean(stderr)
    attempts = [line for line in stderr.splitlines() if "cannot connect" in line]
    assert len(attempts) >= 2 and all(f"127.0.0.1:{port}" in line for line in attempts)
    assert re.search(r"WARNING .*: cannot connect \(.+\); trying again in [\d.]+ s", attempts[0])


async def test_run_stops_within_5_s_while_a_connection_attempt_hangs(tmp_path: Path) -> None:
    """Stopped while still starting: Slack has the first request and does not answer."""
    async with running_fake_slack(token=SLACK_SECRETS["SLACK_BOT_TOKEN"]) as fake:
        fake.fail("auth.test", slow())
        process = await start_paperwire_run(
            tmp_path / "p.db",
            **SLACK_SECRETS,
            PAPERWIRE_SLACK_API_URL=fake.api_url,
        )
        try:
            await fake.wait_for("auth.test", timeout=60)
        finally:
            code, took = await stop(process, signal.SIGTERM)
    assert process.stderr is not None
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert took < STOP_S, f"SIGTERM took {took:.1f} s"
    assert "paperwire is running" not in stderr and "paperwire stopped" in stderr
    assert_clean(stderr)


def _commit_held(wait_s: float) -> str:
    """A preamble: the search index's commit never ends (as a long one, in its thread), and
    a stop waits `wait_s` for it."""
    return "\n".join(
        [
            "import sys, threading",
            "import bot.search.index as index",
            f"index.COMMIT_WAIT_S = {wait_s}",
            "def held(writer):",
            "    print('test: committing', file=sys.stderr, flush=True)",
            "    threading.Event().wait()",
            "index._commit_and_merge = held",
        ]
    )


@pytest.mark.parametrize("wait_s", [1.0, 60.0])
async def test_run_stops_within_5_s_while_the_search_index_commits(
    tmp_path: Path, wait_s: float
) -> None:
    """Stopped during the start-up rebuild of the index (every upgraded install has one).
    The stop waits a moment for the commit, then the process leaves without its thread:
    it exited 1 with a traceback ("Already borrowed"), or waited for the thread forever.
    With a wait longer than the stop's own deadline, the deadline ends the process."""
    db = tmp_path / "p.db"
    async with open_storage(db) as storage:
        await storage.papers.ingest(seed_observations())
    process = await start_paperwire_run(db, False, _commit_held(wait_s))
    assert process.stderr is not None
    try:
        lines = await read_until(process.stderr, "test: committing")
    finally:
        code, took = await stop(process, signal.SIGTERM)
    stderr = "".join(lines) + (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert took < STOP_S, f"SIGTERM took {took:.1f} s"
    assert_clean(stderr)
    assert ("stopping took over" in stderr) == (wait_s > STOP_S), stderr
    assert ("paperwire stopped" in stderr) == (wait_s < STOP_S), stderr


async def _refused(tmp_path: Path, **env: str) -> str:
    """`paperwire run` with `env`: it must end by itself with exit code 2; its stderr."""
    process = await start_paperwire_run(tmp_path / "p.db", **env)
    try:
        async with asyncio.timeout(30):
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    stderr = (await process.stderr.read()).decode()
    assert code == 2, stderr
    assert_clean(stderr)
    assert "paperwire is running" not in stderr
    [message] = [line for line in stderr.splitlines() if line.startswith("paperwire:")]
    assert stderr.endswith(message + "\n")  # the last line, and one line
    return message


async def test_a_slack_bot_token_slack_refuses_ends_run_with_one_line(tmp_path: Path) -> None:
    async with running_fake_slack(token="xoxb-the-right-one") as fake:
        message = await _refused(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-secret-bot",
            SLACK_SIGNING_SECRET="secret-signing",
            PAPERWIRE_HTTP_HOST="127.0.0.1",
            PAPERWIRE_HTTP_PORT="0",
            PAPERWIRE_SLACK_API_URL=fake.api_url,
        )
    assert message.startswith("paperwire: Slack refused SLACK_BOT_TOKEN (invalid_auth)")


async def test_a_slack_app_token_slack_refuses_ends_run_with_one_line(tmp_path: Path) -> None:
    async with running_fake_slack(token=SLACK_SECRETS["SLACK_BOT_TOKEN"]) as fake:
        message = await _refused(
            tmp_path, **SLACK_SECRETS, PAPERWIRE_SLACK_API_URL=fake.api_url
        )  # the fake takes only its own app token
        assert fake.calls_to("auth.test") and fake.calls_to("apps.connections.open")
    assert message.startswith("paperwire: Slack refused SLACK_APP_TOKEN (invalid_auth)")


# A Discord token Discord refuses: tests/discord/test_platform.py.


async def test_a_deleted_discord_webhook_ends_run_with_one_line(tmp_path: Path) -> None:
    async with running_fake_discord() as fake:  # it has no webhooks
        message = await _refused(
            tmp_path, DISCORD_WEBHOOK_URL=WEBHOOK_URL, PAPERWIRE_DISCORD_API_URL=fake.api_base
        )
    assert message.startswith(
        "paperwire: Discord refused DISCORD_WEBHOOK_URL (404 Unknown Webhook)"
    )


# --- start-up failures: one line, exit code 2, nothing changed --------------------------------


def _beside(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}


async def _fails_at_start(db: Path, **env: str) -> str:
    process = await start_paperwire_run(db, **env)
    async with asyncio.timeout(30):
        stdout, stderr = await process.communicate()
    assert process.returncode == 2, stderr.decode()
    assert stdout == b""
    return stderr.decode()


async def test_run_on_a_file_that_is_not_a_database_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "papers.db"
    db.write_text("id,title\n2607.00001,A Study of Diffusion Models\n" * 100)
    before = _beside(db)
    stderr = await _fails_at_start(db)
    assert stderr == f"paperwire: {db} is not a paperwire database (file is not a database)\n"
    assert _beside(db) == before and not (tmp_path / "papers.db.index").exists()


async def test_run_on_a_database_from_a_newer_paperwire_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with aiosqlite.connect(db) as conn:
        await conn.execute("CREATE TABLE papers (pk INTEGER PRIMARY KEY)")
        await conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        await conn.commit()
    before = _beside(db)
    stderr = await _fails_at_start(db)
    assert stderr == (
        f"paperwire: {db} was written by a newer paperwire (schema {LATEST_VERSION + 1},"
        f" this one knows {LATEST_VERSION}): upgrade paperwire\n"
    )
    assert _beside(db) == before  # not switched to WAL: no -wal, no -shm, the same bytes


async def test_run_with_a_webhook_url_that_is_not_one_says_so_first(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    url = f"https://discord.com/api/webhook/123456789012345678/{WEBHOOK_TOKEN}"  # no "s"
    stderr = await _fails_at_start(db, DISCORD_WEBHOOK_URL=url)
    assert stderr.startswith("paperwire: DISCORD_WEBHOOK_URL is not a Discord webhook URL")
    assert stderr.count("\n") == 1 and WEBHOOK_TOKEN not in stderr
    assert not db.exists()  # read before anything was opened


def test_the_stages_of_a_stop_share_one_deadline() -> None:
    """The jobs (2 s at most), the requests (0.5 s twice) and the platforms (2 s) would
    take 5 s one after the other: they take what is left, and leave time to close."""
    now = [100.0]
    deadline = Deadline(4.0, clock=lambda: now[0])
    deadline.start()  # the stop
    now[0] += 0.5
    assert deadline.left(2.0, keep_s=0.5) == 2.0  # the jobs: their most
    now[0] += 2.0
    assert deadline.left(2.0, keep_s=0.5) == 1.0  # the platforms: what is left
    now[0] += 1.0
    assert deadline.left(0.5, keep_s=0.5) == 0.0  # the rest: nothing, closing still can
    assert deadline.left(4.0) == 0.5
    deadline.start()  # a second start moves nothing
    assert deadline.left(4.0) == 0.5
