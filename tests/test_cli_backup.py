"""`paperwire backup` and `paperwire restore` as the real command, on a live database."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from tests.processes import read_until, start_paperwire_run, stop


def paperwire(db: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERWIRE_DB": str(db)}
    for name in ("PAPERWIRE_DATABASE_URL", "SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal: exit code 2, one line on stderr, no traceback; that line."""
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("paperwire: ")
    return result.stderr


def test_backup_then_restore_rebuilds_the_index(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    assert paperwire(db, "ingest", "seeds").returncode == 0
    result = paperwire(db, "backup", str(tmp_path / "b.db"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"backed up {db} to {tmp_path / 'b.db'}: 223 papers, ")
    assert result.stdout.count("\n") == 1 and "integrity ok" in result.stdout
    assert stat.S_IMODE((tmp_path / "b.db").stat().st_mode) == 0o600
    assert "add --force" in refused(paperwire(db, "backup", str(tmp_path / "b.db")))
    assert paperwire(db, "backup", str(tmp_path / "b.db"), "--force").returncode == 0
    assert Path(f"{db}.index").is_dir()  # `ingest` built it
    result = paperwire(db, "restore", str(tmp_path / "b.db"))
    assert result.returncode == 0, result.stderr
    assert f"restored {tmp_path / 'b.db'} into {db}: 223 papers" in result.stdout
    assert "before-restore-" in result.stdout and "next: start paperwire" in result.stdout
    assert not Path(f"{db}.index").exists()
    search = paperwire(db, "search", "diffusion", "--limit", "1", "--json")
    assert search.returncode == 0 and '"rank": 1' in search.stdout  # the index, rebuilt


async def test_a_running_paperwire_is_backed_up_live_and_not_restored_over(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    process = await start_paperwire_run(db)
    assert process.stderr is not None
    try:
        await read_until(process.stderr, "paperwire is running")
        backup = paperwire(db, "backup", str(tmp_path / "b.db"))
        assert backup.returncode == 0, backup.stderr
        assert ": 223 papers, " in backup.stdout  # the bundled papers, loaded at start
        message = refused(paperwire(db, "restore", str(tmp_path / "b.db")))
        assert f"paperwire is running on {db} (process " in message
    finally:
        code, _ = await stop(process, signal.SIGTERM)
    assert code == 0
    result = paperwire(db, "restore", str(tmp_path / "b.db"))  # stopped: it goes
    assert result.returncode == 0, result.stderr


def test_postgresql_and_wrong_paths_are_refused_in_one_line(tmp_path: Path) -> None:
    url = "postgresql://paperwire:hunter2@db.internal/paperwire"
    message = refused(paperwire(url, "backup", str(tmp_path / "b.db")))
    assert "use pg_dump" in message and "README" in message and "hunter2" not in message
    message = refused(paperwire(url, "restore", str(tmp_path / "b.db")))
    assert "use pg_restore" in message and "hunter2" not in message
    db = tmp_path / "p.db"
    assert "nothing to back up" in refused(paperwire(db, "backup", str(tmp_path / "b.db")))
    assert "no backup at" in refused(paperwire(db, "restore", str(tmp_path / "b.db")))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
