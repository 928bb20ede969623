"""The database is private to its owner: the outbox holds pending `response_url`s and
Discord interaction tokens."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_services
from bot.config import Settings
from bot.errors import UserError
from bot.storage import open_storage
from tests.conftest import make_observation


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def loose_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


async def test_a_new_database_is_created_private_whatever_the_umask(
    tmp_path: Path, loose_umask: int
) -> None:
    db = tmp_path / "home" / "data" / "paperwire.db"
    async with build_services(Settings(db_path=str(db), sources=())) as services:
        await services.papers.ingest([make_observation()])
        await services.refresh_index()
        # While it runs: the WAL files exist, and take the database file's mode.
        assert {p.name for p in db.parent.iterdir()} >= {
            "paperwire.db",
            "paperwire.db-wal",
            "paperwire.db-shm",
            "paperwire.db.index",
        }
        for name in ("paperwire.db", "paperwire.db-wal", "paperwire.db-shm"):
            assert _mode(db.parent / name) == 0o600, name
        assert _mode(db.parent / "paperwire.db.index") == 0o700
    assert _mode(db.parent) == 0o700
    assert _mode(tmp_path / "home") == 0o777 & ~loose_umask  # made on the way: as usual


async def test_files_of_an_older_paperwire_are_narrowed_with_a_log_line(
    tmp_path: Path, loose_umask: int, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "paperwire.db"
    async with build_services(Settings(db_path=str(db), sources=())) as services:
        await services.papers.ingest([make_observation()])
        await services.refresh_index()
    # Another process (a reader) keeps the WAL files in place while this one starts.
    reader = sqlite3.connect(db)
    try:
        reader.execute("SELECT count(*) FROM papers").fetchone()
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            os.chmod(path, 0o644)
        os.chmod(tmp_path / "paperwire.db.index", 0o755)
        os.chmod(tmp_path, 0o755)
        with caplog.at_level(logging.WARNING):
            async with build_services(Settings(db_path=str(db), sources=())):
                for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                    assert _mode(path) == 0o600, path
                assert _mode(tmp_path / "paperwire.db.index") == 0o700
    finally:
        reader.close()
    narrowed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("narrowed")]
    assert sorted(narrowed) == sorted(
        [
            f"narrowed {db} from mode 0644 to 0600: only its owner may read it",
            f"narrowed {db}-wal from mode 0644 to 0600: only its owner may read it",
            f"narrowed {db}-shm from mode 0644 to 0600: only its owner may read it",
            f"narrowed {db}.index from mode 0755 to 0700: only its owner may read it",
        ]
    )
    # A folder someone chose for the database is theirs: it may be shared on purpose.
    assert _mode(tmp_path) == 0o755


async def test_paperwires_own_data_folder_is_narrowed_when_found_wide(
    tmp_path: Path, loose_umask: int
) -> None:
    folder = tmp_path / "paperwire"
    folder.mkdir()
    os.chmod(folder, 0o755)
    settings = Settings.from_env({"XDG_DATA_HOME": str(tmp_path), "PAPERWIRE_SOURCES": ""})
    assert settings.own_data_folder
    async with open_storage(settings.db_path, settings.own_data_folder):
        pass
    assert _mode(folder) == 0o700
    assert _mode(folder / "paperwire.db") == 0o600


def test_only_the_default_folder_is_paperwires_own(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    assert Settings.from_env(env).own_data_folder
    default = str(tmp_path / "paperwire" / "paperwire.db")
    assert Settings.from_env({**env, "PAPERWIRE_DB": default}).own_data_folder
    assert Settings.from_env({**env, "PAPERWIRE_DB": default + "-test"}).own_data_folder
    assert not Settings.from_env({**env, "PAPERWIRE_DB": str(tmp_path / "x.db")}).own_data_folder
    assert not Settings.from_env(env, db=str(tmp_path / "elsewhere" / "x.db")).own_data_folder


async def test_another_programs_file_keeps_its_mode(tmp_path: Path, loose_umask: int) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database, and readable by all on purpose")
    os.chmod(path, 0o644)
    with pytest.raises(UserError, match="not a paperwire database"):
        async with open_storage(path):
            pass
    assert _mode(path) == 0o644


async def test_a_folder_that_cannot_be_made_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(UserError, match=r"cannot create the folder .*file/data"):
        async with open_storage(tmp_path / "file" / "data" / "paperwire.db"):
            pass


async def test_a_file_paperwire_cannot_narrow_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "paperwire.db"
    async with open_storage(db):
        pass
    os.chmod(db, 0o644)  # as if another user's, in a shared folder: chmod is refused

    def not_yours(path: object, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", not_yours)
    with pytest.raises(UserError) as refused:
        async with open_storage(db):
            pass
    assert str(refused.value) == (
        f"{db} is open to others (mode 0644) and paperwire cannot narrow it"
        " (Operation not permitted): keep the database in a folder of your own"
    )
