"""`paperwire migrate-db`: an SQLite deployment copied into an empty PostgreSQL database
reads back the same through every repository. The copies need PostgreSQL (they skip
without PAPERWIRE_TEST_DATABASE_URL); the refusals of a bad source need no server."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
import pytest

from bot.alerts.topics import AlertSettings
from bot.digests.settings import DigestRun, DigestSettings, Outcome
from bot.errors import UserError
from bot.models import Destination, Observation
from bot.storage import Storage, open_storage
from bot.storage.copy_tables import TABLES
from bot.storage.migrate_db import copy_to_postgres
from bot.storage.migrations import LATEST_VERSION, MIGRATIONS
from tests.conftest import NOW, seed_observations
from tests.postgres import fresh_schema
from tests.storage.test_installations import installed

CHANNEL = Destination("slack", "T1", "C1")
STOPPED = Destination("discord", "G1", "C9")
OWNER = Destination("slack", "T1", "U1", "dm")
RUN_DAY = date(2026, 11, 22)
INSTALLED = installed("T1", refresh_token="xoxe-1-r", token_expires_at=NOW + timedelta(hours=9))
NOWHERE = "postgresql://nobody@127.0.0.1:1/none"  # never reached: the source is refused first


@dataclass(frozen=True)
class Deployment:
    path: Path
    message_ids: tuple[int, ...]
    subscription_ids: tuple[int, ...]
    query_key: str


async def build_deployment(path: Path) -> Deployment:
    """An SQLite deployment with something in every table, written by the repositories."""
    async with open_storage(path, clock=lambda: NOW) as s:
        await s.papers.ingest(seed_observations())
        day = (await s.papers.trending_days())[0]
        [first, second, *_] = await s.papers.trending_list(day)
        digest = DigestSettings(CHANNEL, topic="diffusion", weekdays=("mon", "thu"), size=7)
        await s.digests.save_channel_digest(digest, by="U1", at=NOW)
        assert await s.digests.claim_run(CHANNEL.key, RUN_DAY, NOW, timedelta(minutes=30))
        sent = await s.outbox.enqueue(
            CHANNEL.key, '"digest"', [first.id, second.id], NOW, run=(CHANNEL.key, RUN_DAY)
        )
        await s.outbox.mark_sending(sent)
        await s.outbox.mark_sent(sent, ["1700000000.000100"], NOW + timedelta(seconds=2))
        await s.digests.finish_run(
            DigestRun(CHANNEL.key, RUN_DAY, NOW, Outcome.POSTED, NOW + timedelta(seconds=3), day, 2)
        )
        await s.outbox.record_delivery(CHANNEL.key, NOW + timedelta(seconds=2))
        waiting = await s.outbox.enqueue(OWNER.key, '"alert"', [first.id], NOW, handle='{"u":1}')
        await s.outbox.mark_failed(waiting, "timed out", NOW + timedelta(minutes=5))
        stopped = await s.outbox.enqueue(STOPPED.key, '"digest"', [second.id], NOW)
        await s.outbox.record_delivery(STOPPED.key, NOW, "Missing Access", permanent=True)
        subs = []
        for topic in ("diffusion", "agents", "protein folding"):
            sub_id, _ = await s.subscriptions.add_subscription(OWNER, topic, NOW, limit=20)
            assert sub_id is not None
            subs.append(sub_id)
        await s.subscriptions.remove_subscriptions(OWNER, [subs[1]])
        alerts = AlertSettings(OWNER, time(7, 30), "Europe/Paris", NOW + timedelta(days=2))
        await s.subscriptions.save_alert_settings(alerts, NOW)
        [(list_day, source, _), *_] = await s.subscriptions.lists_to_match()
        await s.subscriptions.queue_matches(
            [(OWNER, second.id, subs[0])], [(list_day, source)], NOW
        )
        await s.subscriptions.note_last_match(subs[0], second.title, NOW)
        key = await s.saved_queries.save_query('"language model" reasoning -survey', NOW)
        await s.installations.save_installation(INSTALLED)
        await s.installations.save_installation(replace(INSTALLED, team_id="T9"))
        await s.installations.uninstall("T9", NOW)
        first_pk = (await s.papers.pks_for_ids([first.id]))[first.id]
        await s.votes.vote(CHANNEL.key, first_pk, OWNER.key, 1, NOW)
        pks = await s.papers.pks_for_ids([first.id, second.id])
        await s.saved_papers.save_paper(OWNER, pks[first.id], NOW)
        await s.saved_papers.save_paper(OWNER, pks[second.id], NOW + timedelta(minutes=1))
        await s.saved_papers.tag_saved(OWNER, pks[first.id], "to-read")
        published = Observation(
            title=first.title,
            source="arxiv",
            observed_at=NOW + timedelta(minutes=2),
            arxiv_id=f"{first.arxiv_id}v2",
            journal_doi="10.1000/copied",
            journal_ref="J. Copies 1 (2026)",
        )
        await s.papers.ingest([published], now=NOW + timedelta(minutes=2))
        [told, *_] = await s.saved_papers.pending_changes(OWNER)
        await s.outbox.enqueue(OWNER.key, '"alert"', [], NOW, notices=[told.id])
    return Deployment(path, (sent, waiting, stopped), (subs[0], subs[2]), key)


async def observed(s: Storage, deployment: Deployment) -> dict[str, Any]:
    """Everything the repositories tell of the deployment."""
    changes = await s.papers.changes_since(0, limit=100_000)
    days = await s.papers.trending_days()
    destinations = [CHANNEL.key, STOPPED.key, OWNER.key]
    return {
        "changes": changes,
        "max_seq": await s.papers.max_seq(),
        "count": await s.papers.count_papers(),
        "papers": await s.papers.papers_by_pk([c.pk for c in changes]),
        "days": days,
        "trending": {d: sorted(await s.papers.trending_list(d), key=lambda p: p.id) for d in days},
        "lists": await s.day_lists.list_states(),
        "digests": await s.digests.channel_digests(enabled_only=False),
        "digests_updated_at": [
            d.updated_at for d in await s.digests.channel_digests(enabled_only=False)
        ],
        "runs": await s.digests.digest_runs(CHANNEL.key),
        "subscriptions": await s.subscriptions.subscriptions(),
        "alerts": await s.subscriptions.alert_settings(OWNER),
        "pending": await s.subscriptions.pending_matches(OWNER),
        "to_match": await s.subscriptions.lists_to_match(),
        "due": await s.outbox.due_messages(None, NOW + timedelta(hours=1)),
        "heads": sorted(await s.outbox.outbox_heads(), key=lambda h: h.destination),
        "depths": await s.outbox.outbox_depths(),
        "states": sorted(await s.outbox.destination_states(), key=lambda d: d.destination),
        "sent": {d: await s.outbox.sent_paper_ids(d) for d in destinations},
        "message_states": [await s.outbox.outbox_state(i) for i in deployment.message_ids],
        "saved": await s.saved_queries.saved_query(deployment.query_key),
        "installations": await s.installations.installations(),
        "votes": await s.votes.channel_counts(CHANNEL.key),
        "saved_papers": await s.saved_papers.saved_papers(OWNER),
        "paper_changes": await s.saved_papers.pending_changes(OWNER),
    }


async def test_a_copy_reads_back_the_same_through_every_repository(tmp_path: Path) -> None:
    deployment = await build_deployment(tmp_path / "paperwire.db")
    async with open_storage(deployment.path, clock=lambda: NOW) as sqlite:
        before = await observed(sqlite, deployment)
    async with fresh_schema() as url:
        report = await copy_to_postgres(deployment.path, url)
        async with open_storage(url, clock=lambda: NOW) as pg:
            after = await observed(pg, deployment)
            assert after == before
            # New ids follow the copied ones: an outbox id is a nonce, never used twice.
            new_sub, _ = await pg.subscriptions.add_subscription(OWNER, "robots", NOW, 20)
            assert new_sub is not None and new_sub > max(deployment.subscription_ids)
            new_message = await pg.outbox.enqueue(CHANNEL.key, '"next"', [], NOW)
            assert new_message > max(deployment.message_ids)
    assert [t.name for t in report.tables] == [t.name for t in TABLES]
    assert all(t.rows > 0 for t in report.tables), report.tables  # every table was exercised
    assert {t.name: t.rows for t in report.tables}["papers"] == before["count"] == 223
    async with open_storage(deployment.path, clock=lambda: NOW) as sqlite:
        assert await observed(sqlite, deployment) == before  # the source is as it was


async def test_a_target_holding_data_is_refused_and_left_untouched(tmp_path: Path) -> None:
    deployment = await build_deployment(tmp_path / "paperwire.db")
    async with fresh_schema() as url:
        async with open_storage(url, clock=lambda: NOW) as pg:
            await pg.subscriptions.add_subscription(OWNER, "already here", NOW, limit=20)
            before = await observed(pg, deployment)
        with pytest.raises(UserError) as refused:
            await copy_to_postgres(deployment.path, url)
        assert "already holds paperwire data (in subscriptions)" in str(refused.value)
        async with open_storage(url, clock=lambda: NOW) as pg:
            assert await observed(pg, deployment) == before


async def test_a_second_copy_into_the_same_target_is_refused(tmp_path: Path) -> None:
    deployment = await build_deployment(tmp_path / "paperwire.db")
    async with fresh_schema() as url:
        first = await copy_to_postgres(deployment.path, url)
        with pytest.raises(UserError, match="already holds paperwire data"):
            await copy_to_postgres(deployment.path, url)
        async with open_storage(url) as pg:
            [(papers,)] = await pg.db.fetch_raw("SELECT count(*) FROM papers")
    assert papers == {t.name: t.rows for t in first.tables}["papers"]


async def test_what_a_live_process_writes_during_the_copy_stays_out_of_it(
    tmp_path: Path,
) -> None:
    """The source is read in one read transaction: a row written meanwhile into a table
    already copied is neither copied nor counted (the counts would differ otherwise)."""
    deployment = await build_deployment(tmp_path / "paperwire.db")

    def write_meanwhile(step: str) -> None:
        if step == "copying outbox":  # saved_queries went before it
            with closing(sqlite3.connect(deployment.path, timeout=5)) as conn, conn:
                conn.execute(
                    "INSERT INTO saved_queries VALUES ('late', 'q', ?)", (NOW.isoformat(),)
                )

    async with fresh_schema() as url:
        report = await copy_to_postgres(deployment.path, url, progress=write_meanwhile)
        async with open_storage(url) as pg:
            assert await pg.saved_queries.saved_query("late") is None
    assert {t.name: t.rows for t in report.tables}["saved_queries"] == 1
    async with open_storage(deployment.path) as sqlite:
        assert await sqlite.saved_queries.saved_query("late") == "q"


async def test_an_older_source_is_migrated_then_copied(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path) as conn:
        await conn.executescript(f"BEGIN; {MIGRATIONS[0]} PRAGMA user_version = 1; COMMIT;")
        await conn.execute(
            "INSERT INTO papers (pk, id, title_hash, title, published, first_seen, updated_at,"
            " seq) VALUES (1, '2401.00001', 42, 'Old Paper', '2024-01-02',"
            " '2024-01-03T10:00:00+00:00', '2024-01-03T10:00:00', 1)"  # one without offset
        )
        await conn.commit()
    async with fresh_schema() as url:
        report = await copy_to_postgres(path, url)
        async with open_storage(url) as pg:
            paper = await pg.papers.paper_by_id("2401.00001")
            rows = await pg.db.fetch_raw("SELECT first_seen = updated_at FROM papers")
    assert {t.name: t.rows for t in report.tables}["papers"] == 1
    assert paper is not None and paper.published == date(2024, 1, 2)
    assert rows == [(True,)]  # a time without an offset was UTC


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_a_missing_source_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "paperwire.db"
    with pytest.raises(UserError) as refused:
        await copy_to_postgres(missing, NOWHERE)
    assert str(refused.value) == (
        f"{missing} does not exist: there is no SQLite database to copy there"
    )
    assert names_in(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "is not a paperwire database (it has no paperwire tables)"),
        (b"plain text, no database", "is not a paperwire database (file is not a database)"),
    ],
)
async def test_a_file_that_is_no_paperwire_database_is_refused_as_it_was(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / "other.db"
    path.write_bytes(content)
    with pytest.raises(UserError) as refused:
        await copy_to_postgres(path, NOWHERE)
    assert str(refused.value) == f"{path} {why}"
    assert names_in(tmp_path) == ["other.db"]
    assert path.read_bytes() == content


async def test_a_source_from_a_newer_paperwire_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    async with aiosqlite.connect(path) as conn:
        await conn.execute("CREATE TABLE papers (pk INTEGER PRIMARY KEY)")
        await conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        await conn.commit()
    with pytest.raises(UserError, match="written by a newer paperwire"):
        await copy_to_postgres(path, NOWHERE)


async def test_only_postgresql_urls_are_targets_and_sqlite_files_sources(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^the target must be a postgresql:// URL"):
        await copy_to_postgres(tmp_path / "a.db", str(tmp_path / "b.db"))
    with pytest.raises(UserError) as refused:
        await copy_to_postgres("postgresql://me:hunter2@db.example/pw", NOWHERE)
    assert str(refused.value).startswith("the source is PostgreSQL pw on db.example:5432:")
    assert "hunter2" not in str(refused.value)


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def paperwire(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_DATABASE")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_the_command_prints_a_line_per_table_and_never_the_password(
    tmp_path: Path,
) -> None:
    deployment = await build_deployment(tmp_path / "paperwire.db")
    password = "s3cret-Pa55"
    async with fresh_schema() as url:
        target = with_password(url, password)
        done = paperwire("--db", str(deployment.path), "migrate-db", "--to", target)
        again = paperwire("migrate-db", "--db", str(deployment.path), "--to", target)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    host = urlsplit(url)
    where = f"PostgreSQL {host.path.lstrip('/')} on {host.hostname}:{host.port or 5432}"
    assert lines[0].startswith(f"Copied {deployment.path} into {where} in ")
    assert [line.split()[0] for line in lines[1 : 1 + len(TABLES)]] == [t.name for t in TABLES]
    assert lines[1].split()[1:] == ["223", "rows"]
    assert lines[1 + len(TABLES)] == "Every table's rows were counted on both sides: they match."
    assert "PAPERWIRE_DATABASE_URL" in lines[-3] and " run: " in lines[-2]
    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr == (
        f"paperwire: {where} already holds paperwire data (in {', '.join(t.name for t in TABLES)}):"
        " migrate-db copies into an empty database only, and changed nothing\n"
    )
    for result in (done, again):
        assert password not in result.stdout + result.stderr


def test_the_command_refuses_a_missing_source_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "p.db"
    result = paperwire("--db", str(missing), "migrate-db", "--to", NOWHERE)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"paperwire: {missing} does not exist: there is no SQLite database to copy there\n"
    )
    assert not missing.exists()
