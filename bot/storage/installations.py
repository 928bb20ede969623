"""Slack installations (one per workspace that installed the app through OAuth), the OAuth
flow's states, and what installing and uninstalling do to a workspace's data. One
implementation for both backends: the SQL is the same but for the placeholders, and times
go to SQLite as ISO text, to PostgreSQL as they are."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.models import Destination
from bot.storage.rows import WAITING, as_datetime, to_datetime
from bot.storage.types import Installation, WorkspaceStop

INSTALLATION_COLUMNS = (
    "team_id, bot_token, bot_id, bot_user_id, installed_at, enterprise_id, team_name, app_id,"
    " scopes, installer, refresh_token, token_expires_at, uninstalled_at"
)

# Where a workspace's destinations are named (its channels' and its users' keys start with
# `slack:<team>:`), and the tables that keep its data.
_NAMED_IN = (
    ("channel_digests", "destination"),
    ("alert_settings", "owner"),
    ("subscriptions", "owner"),
    ("destinations", "destination"),
)
_FORGOTTEN = (
    ("pending_matches", "owner"),
    ("subscriptions", "owner"),
    ("alert_settings", "owner"),
    ("channel_digests", "destination"),
    ("digest_runs", "destination"),
    ("sent_papers", "destination"),
    ("destinations", "destination"),
    ("votes", "destination"),
    ("saved_papers", "owner"),
    ("saved_notices", "owner"),
)


def workspace_prefix(team_id: str) -> str:
    """What every destination key of a Slack workspace starts with."""
    return Destination("slack", team_id, "").workspace_prefix


def installation_from_row(row: Sequence[Any]) -> Installation:
    return Installation(
        team_id=row[0],
        bot_token=row[1] or "",
        bot_id=row[2],
        bot_user_id=row[3],
        installed_at=to_datetime(row[4]),
        enterprise_id=row[5],
        team_name=row[6],
        app_id=row[7],
        scopes=row[8],
        installer=row[9],
        refresh_token=row[10],
        token_expires_at=as_datetime(row[11]),
        uninstalled_at=as_datetime(row[12]),
    )


class _Db(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]: ...


class SqlInstallations:
    """The `Installations` repository over either backend (`postgres`: its placeholders
    and types)."""

    def __init__(self, db: _Db, postgres: bool = False) -> None:
        self._db = db
        self._sql: Callable[[str], str] = (lambda s: s.replace("?", "%s")) if postgres else str
        self._time: Callable[[datetime | None], Any] = (
            (lambda t: t) if postgres else (lambda t: t.isoformat() if t else None)
        )

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(self._sql(sql), params)
            return int(cursor.rowcount)

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]:
        return await self._db.fetch(self._sql(sql), params)

    async def save_installation(self, installation: Installation) -> None:
        i = installation
        await self._execute(
            f"INSERT INTO slack_installations ({INSTALLATION_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team_id) DO UPDATE SET"
            " bot_token = excluded.bot_token, bot_id = excluded.bot_id,"
            " bot_user_id = excluded.bot_user_id, installed_at = excluded.installed_at,"
            " enterprise_id = excluded.enterprise_id, team_name = excluded.team_name,"
            " app_id = excluded.app_id, scopes = excluded.scopes, installer = excluded.installer,"
            " refresh_token = excluded.refresh_token,"
            " token_expires_at = excluded.token_expires_at,"
            " uninstalled_at = excluded.uninstalled_at",
            (
                i.team_id,
                i.bot_token or None,
                i.bot_id,
                i.bot_user_id,
                self._time(i.installed_at),
                i.enterprise_id,
                i.team_name,
                i.app_id,
                i.scopes,
                i.installer,
                i.refresh_token,
                self._time(i.token_expires_at),
                self._time(i.uninstalled_at),
            ),
        )

    async def replace_tokens(
        self,
        team_id: str,
        old_refresh_token: str,
        bot_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> bool:
        changed = await self._execute(
            "UPDATE slack_installations SET bot_token = ?, refresh_token = ?,"
            " token_expires_at = ? WHERE team_id = ? AND uninstalled_at IS NULL"
            " AND refresh_token = ?",
            (bot_token, refresh_token, self._time(expires_at), team_id, old_refresh_token),
        )
        return changed == 1

    async def installation(self, team_id: str) -> Installation | None:
        rows = await self._fetch(
            f"SELECT {INSTALLATION_COLUMNS} FROM slack_installations WHERE team_id = ?",
            (team_id,),
        )
        return installation_from_row(rows[0]) if rows else None

    async def installations(self) -> list[Installation]:
        rows = await self._fetch(
            f"SELECT {INSTALLATION_COLUMNS} FROM slack_installations ORDER BY team_id"
        )
        return [installation_from_row(r) for r in rows]

    async def uninstall(self, team_id: str, at: datetime) -> bool:
        changed = await self._execute(
            "UPDATE slack_installations SET bot_token = NULL, refresh_token = NULL,"
            " token_expires_at = NULL, uninstalled_at = ?"
            " WHERE team_id = ? AND uninstalled_at IS NULL",
            (self._time(at), team_id),
        )
        return changed > 0

    async def uninstalled_before(self, before: datetime) -> list[str]:
        rows = await self._fetch(
            "SELECT team_id FROM slack_installations WHERE uninstalled_at < ? ORDER BY team_id",
            (self._time(before),),
        )
        return [str(r[0]) for r in rows]

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None:
        await self._execute(
            "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
            (state, self._time(expires_at)),
        )

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                self._sql("DELETE FROM slack_oauth_states WHERE state = ? AND expires_at > ?"),
                (state, self._time(now)),
            )
            consumed = int(cursor.rowcount) == 1
            await conn.execute(  # the expired ones, never used, go too
                self._sql("DELETE FROM slack_oauth_states WHERE expires_at <= ?"),
                (self._time(now),),
            )
        return consumed

    async def stop_workspace(self, team_id: str, error: str, at: datetime) -> WorkspaceStop:
        prefix = workspace_prefix(team_id)
        match = (len(prefix), prefix)
        when = self._time(at)
        async with self._db.transaction() as conn:
            keys: set[str] = set()
            for table, column in _NAMED_IN:
                cursor = await conn.execute(
                    self._sql(
                        f"SELECT DISTINCT {column} FROM {table} WHERE substr({column}, 1, ?) = ?"
                    ),
                    match,
                )
                keys.update(str(r[0]) for r in await cursor.fetchall())
            cursor = await conn.execute(
                self._sql(
                    f"SELECT DISTINCT destination FROM outbox WHERE {WAITING}"
                    " AND substr(destination, 1, ?) = ?"
                ),
                match,
            )
            keys.update(str(r[0]) for r in await cursor.fetchall())
            keys = {k for k in keys if "!" not in k}  # a command's reply is no destination
            for key in sorted(keys):
                await conn.execute(
                    self._sql(
                        "INSERT INTO destinations (destination, stopped_at, error, last_error_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (destination) DO UPDATE SET"
                        " stopped_at = excluded.stopped_at, error = excluded.error,"
                        " last_error_at = excluded.last_error_at"
                    ),
                    (key, when, error, when),
                )
            dropped = await self._drop_waiting(conn, match, error)
        return WorkspaceStop(len(keys), dropped)

    async def resume_workspace(self, team_id: str, error: str, at: datetime) -> WorkspaceStop:
        prefix = workspace_prefix(team_id)
        match = (len(prefix), prefix)
        async with self._db.transaction() as conn:
            # What was queued while it was away is not sent now: it was for then.
            dropped = await self._drop_waiting(conn, match, "queued while uninstalled")
            cursor = await conn.execute(
                self._sql(
                    "UPDATE destinations SET stopped_at = NULL"
                    " WHERE substr(destination, 1, ?) = ? AND stopped_at IS NOT NULL"
                    " AND error = ?"
                ),
                (*match, error),
            )
            resumed = int(cursor.rowcount)
        return WorkspaceStop(resumed, dropped)

    async def _drop_waiting(self, conn: Any, match: tuple[int, str], error: str) -> int:
        cursor = await conn.execute(
            self._sql(
                "UPDATE outbox SET state = 'dropped', last_error = ?, handle = NULL"
                f" WHERE {WAITING} AND substr(destination, 1, ?) = ?"
            ),
            (error, *match),
        )
        return int(cursor.rowcount)

    async def forget_workspace(self, team_id: str) -> int:
        prefix = workspace_prefix(team_id)
        match = (len(prefix), prefix)
        forgotten = 0
        async with self._db.transaction() as conn:
            for table, column in _FORGOTTEN:
                cursor = await conn.execute(
                    self._sql(f"DELETE FROM {table} WHERE substr({column}, 1, ?) = ?"), match
                )
                forgotten += int(cursor.rowcount)
            # The outbox keeps its rows until its own pruning (an id is never reused).
            await self._drop_waiting(conn, match, "workspace forgotten")
            await conn.execute(
                self._sql("DELETE FROM slack_installations WHERE team_id = ?"), (team_id,)
            )
        return forgotten
