"""`paperwire backup` and `paperwire restore`: an SQLite database copied while it is in use,
and put back while it is not.

The copy goes through SQLite's online backup API in one step: one read transaction, so the
copy is the database as of one commit, while `paperwire run` goes on writing (WAL lets a
reader and the writer work side by side). A backup is one self-contained file (its journal
mode is set back to DELETE: no `-wal` beside it), private (0600), checked before it takes
its name. PostgreSQL has its own tools: `pg_dump` and `pg_restore`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.errors import UserError
from bot.private_files import private_folder
from bot.search.index import index_path_for
from bot.storage.database import check_schema
from bot.storage.locations import is_postgres_url
from bot.storage.migrations import LATEST_VERSION
from bot.storage.types import PROCESS_GONE_AFTER
from bot.wording import plural

README_SECTION = 'README: "Operations: running it for real"'
# SQLite's companions of a database file: what a crash or a live process leaves beside it.
COMPANIONS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Checked:
    """A database file that passed the checks: its schema version, papers and size."""

    version: int
    papers: int
    size: int

    def summary(self) -> str:
        return (
            f"{plural(self.papers, 'paper')}, {_megabytes(self.size)}, schema {self.version},"
            " integrity ok"
        )


@dataclass(frozen=True)
class BackupReport:
    source: str
    target: Path
    checked: Checked
    seconds: float

    def line(self) -> str:
        return (
            f"backed up {self.source} to {self.target}: {self.checked.summary()}"
            f" ({self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class RestoreReport:
    backup: Path
    database: Path
    checked: Checked
    kept: Path | None  # the database it replaced, set aside
    index_removed: Path | None

    def lines(self, paperwire: str = "paperwire") -> list[str]:
        lines = [f"restored {self.backup} into {self.database}: {self.checked.summary()}"]
        if self.kept is not None:
            lines.append(
                f"the database it replaced is kept as {self.kept}: delete it once all is well"
            )
        if self.index_removed is not None:
            lines.append(
                f"removed the search index {self.index_removed}: it is rebuilt from the"
                " database at the next start"
            )
        if self.checked.version < LATEST_VERSION:
            lines.append(
                f"the backup is at schema {self.checked.version}: the next start brings it"
                f" to {LATEST_VERSION}"
            )
        lines.append(
            f"next: start paperwire again (`{paperwire} run`, or `systemctl start paperwire`)"
        )
        return lines


async def back_up(db: str, target: Path, force: bool = False) -> BackupReport:
    """Copy the SQLite database `db` to `target` (refused if it exists, unless `force`),
    safe while another process writes `db`; the copy is checked before it takes its name."""
    source, target = _backup_paths(db, target, force)
    started = time.monotonic()
    async with _temporary_beside(target) as partial:
        async with _connect(source) as live:
            if await check_schema(live, source) == 0:
                raise UserError(f"{db} is not a paperwire database (it is empty)")
            async with _connect(partial) as copy:
                # One step (-1: every page): one read transaction, one commit's state.
                await _sqlite(live.backup(copy, pages=-1), f"cannot back up {db}")
                # A self-contained file: the copy takes the WAL mode, set back here.
                await copy.execute("PRAGMA journal_mode=DELETE")
        checked = await check_database(partial, label=target)
        _put_in_place(partial, target)
    return BackupReport(db, target, checked, time.monotonic() - started)


async def restore(db: str, backup: Path, now: datetime, own_folder: bool = False) -> RestoreReport:
    """Put the backup file `backup` in place of the SQLite database `db`, which no process
    may have open: the database it replaces is kept beside it (with its -wal and -shm),
    the search index beside it removed (rebuilt at the next start)."""
    database, backup = _restore_paths(db, backup, own_folder)
    async with _temporary_beside(database) as staged:
        # Copied through SQLite (not byte by byte): a backup left in WAL mode with its
        # -wal beside it arrives whole. Read only: the backup is never changed.
        async with _connect(backup, read_only=True) as source:
            await check_schema(source, backup)
            async with _connect(staged) as copy:
                await _sqlite(source.backup(copy, pages=-1), f"cannot read {backup}")
                await copy.execute("PRAGMA journal_mode=DELETE")
        checked = await check_database(staged, label=backup)
        kept = await asyncio.to_thread(_swap, database, staged, now)
    removed = _remove_index(database)
    return RestoreReport(backup, database, checked, kept, removed)


async def check_database(path: Path, label: Path | str) -> Checked:
    """`path` read only: a paperwire database this paperwire knows (schema 1 to the
    latest) whose `PRAGMA integrity_check` is ok. Messages name it `label`."""
    async with _connect(path, read_only=True) as conn:
        version = await check_schema(conn, label)
        if version == 0:
            raise UserError(f"{label} is not a paperwire database (it is empty)")
        problems = [str(row[0]) for row in await conn.execute_fetchall("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise UserError(f"{label} is damaged (integrity check: {problems[0][:200]})")
        [(papers,)] = await conn.execute_fetchall("SELECT count(*) FROM papers")
        [(pages,)] = await conn.execute_fetchall("PRAGMA page_count")
        [(page_size,)] = await conn.execute_fetchall("PRAGMA page_size")
    return Checked(version, int(papers), int(pages) * int(page_size))


def _backup_paths(db: str, target: Path, force: bool) -> tuple[Path, Path]:
    """The database to back up and the backup's absolute path, checked."""
    _refuse_postgres(db, "backup", "pg_dump")
    source = Path(db)
    if not source.is_file():
        raise UserError(f"no database at {db}: nothing to back up")
    target = Path(os.path.abspath(target.expanduser()))
    if _is_part_of(target, source):
        raise UserError(f"{target} is the database or a file of it: back up somewhere else")
    if target.is_dir():
        raise UserError(f"{target} is a folder: give the backup file's path")
    if target.exists() and not force:
        raise UserError(f"{target} exists: choose another path, or add --force to replace it")
    if not target.parent.is_dir():
        raise UserError(f"no folder {target.parent} to back up into")
    return source, target


def _restore_paths(db: str, backup: Path, own_folder: bool) -> tuple[Path, Path]:
    """The database to replace (its folder made if missing) and the backup, checked."""
    _refuse_postgres(db, "restore", "pg_restore")
    database = Path(os.path.abspath(db))
    backup = Path(os.path.abspath(backup.expanduser()))
    if not backup.is_file():
        raise UserError(f"no backup at {backup}")
    if _is_part_of(backup, database):
        raise UserError(f"{backup} is the database itself: give a backup's path")
    private_folder(database.parent, narrow_existing=own_folder)
    return database, backup


def _refuse_postgres(db: str, command: str, tool: str) -> None:
    if is_postgres_url(db):
        raise UserError(
            f"paperwire {command} copies an SQLite file; for PostgreSQL use {tool}"
            f" ({README_SECTION})"
        )


def _is_part_of(path: Path, database: Path) -> bool:
    """`path` names the database file, one of its companions, or its search index."""
    database = Path(os.path.abspath(database))
    own = [database, *(Path(f"{database}{suffix}") for suffix in COMPANIONS)]
    own.append(Path(f"{database}.index"))
    if path in own:
        return True
    return path.exists() and database.exists() and path.samefile(database)


@contextlib.asynccontextmanager
async def _temporary_beside(path: Path) -> AsyncIterator[Path]:
    """A new private (0600) file in `path`'s folder, so that it takes `path`'s name with an
    atomic rename; removed, with any companion SQLite left, unless it was renamed."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise UserError(f"cannot write in {path.parent} ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        yield Path(name)
    finally:
        _remove_with_companions(name)


def _remove_with_companions(name: str) -> None:
    for suffix in ("", *COMPANIONS):
        Path(f"{name}{suffix}").unlink(missing_ok=True)


def _remove_index(database: Path) -> Path | None:
    """Remove the search index beside `database`; where it was, if there was one."""
    index = index_path_for(str(database))
    if index is None or not index.exists():
        return None
    shutil.rmtree(index)
    return index


@contextlib.asynccontextmanager
async def _connect(path: Path, read_only: bool = False) -> AsyncIterator[aiosqlite.Connection]:
    location = path.as_uri() + ("?mode=ro" if read_only else "")
    try:
        conn = await aiosqlite.connect(location, uri=True)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open {path} ({exc})") from None
    try:
        yield conn
    finally:
        await conn.close()


async def _sqlite(work: Awaitable[None], failed: str) -> None:
    """Await `work`, an SQLite error (a full disk, an unreadable file) as one line."""
    try:
        await work
    except sqlite3.Error as exc:
        raise UserError(f"{failed} ({exc})") from None


def _put_in_place(partial: Path, target: Path) -> None:
    try:
        os.replace(partial, target)
    except OSError as exc:
        raise UserError(f"cannot write {target} ({exc.strerror or exc})") from None
    _sync_folder(target.parent)


def _swap(database: Path, staged: Path, now: datetime) -> Path | None:
    """With no process on `database` (refused otherwise), set it aside with its companions
    and put `staged` in its place; returns where the old database went. A -wal left
    without its file is set aside too: SQLite would replay it into the new one."""
    present = [s for s in ("", *COMPANIONS) if Path(f"{database}{s}").exists()]
    if not present:
        _put_in_place(staged, database)
        return None
    kept = _kept_name(database, now)
    with _alone_on(database, now) if "" in present else contextlib.nullcontext():
        for suffix in ("", *COMPANIONS):  # a -wal belongs to its file: kept together
            if Path(f"{database}{suffix}").exists():
                os.rename(f"{database}{suffix}", f"{kept}{suffix}")
        _put_in_place(staged, database)
    return kept


@contextlib.contextmanager
def _alone_on(database: Path, now: datetime) -> Iterator[None]:
    """Hold `database` locked for this process alone, after making sure no paperwire
    process uses it: none beat in the last PROCESS_GONE_AFTER, none has it open. Leaving
    WAL mode needs every other connection closed, and writes the WAL into the file: the
    database set aside is then one file."""
    try:
        conn = sqlite3.connect(database, timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open {database} ({exc})") from None
    try:
        try:
            _refuse_live_processes(conn, database, now)
            conn.execute("PRAGMA journal_mode=DELETE").fetchall()
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise UserError(
                    f"{database} is open in another process (`paperwire run`, `shell`,"
                    " `status`?): stop it, then restore"
                ) from None
            raise UserError(f"cannot lock {database} ({exc})") from None
        except sqlite3.DatabaseError:
            pass  # damaged (perhaps why it is restored): set aside as it is
        yield
    finally:
        conn.close()


def _refuse_live_processes(conn: sqlite3.Connection, database: Path, now: datetime) -> None:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'processes'").fetchall():
        return  # a database older than the heartbeats (schema 12)
    since = (now - PROCESS_GONE_AFTER).isoformat()
    rows = conn.execute(
        "SELECT process, seen_at FROM processes WHERE seen_at >= ? ORDER BY seen_at DESC",
        (since,),
    ).fetchall()
    if rows:
        process, seen_at = rows[0]
        seconds = max(0, round((now - datetime.fromisoformat(seen_at)).total_seconds()))
        gone_after = int(PROCESS_GONE_AFTER.total_seconds())
        raise UserError(
            f"paperwire is running on {database} (process {process} seen {seconds} s ago):"
            f" stop it, then restore (one that crashed counts as gone after {gone_after} s)"
        )


def _kept_name(database: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    kept = Path(f"{database}.before-restore-{stamp}")
    n = 2
    while kept.exists():
        kept = Path(f"{database}.before-restore-{stamp}-{n}")
        n += 1
    return kept


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a crash right after keeps the new name)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"
