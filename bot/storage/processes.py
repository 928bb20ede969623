"""The processes sharing an SQLite database: one writes it, so it always leads; its
heartbeat row is what `paperwire status`, another process, reads."""

from __future__ import annotations

from datetime import datetime

from bot.storage.database import Database
from bot.storage.types import ProcessBeat


class SqliteProcesses:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def try_lead(self) -> bool:
        return True

    async def resign(self) -> None:
        pass

    async def beat(self, beat: ProcessBeat) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO processes (process, started_at, seen_at, leader, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    beat.process,
                    beat.started_at.isoformat(),
                    beat.seen_at.isoformat(),
                    int(beat.leader),
                    beat.detail,
                ),
            )
            if beat.leader:  # whoever beat as leader before no longer leads
                await conn.execute(
                    "UPDATE processes SET leader = 0 WHERE process <> ? AND leader",
                    (beat.process,),
                )

    async def live_processes(self, seen_since: datetime) -> list[ProcessBeat]:
        rows = await self._db.fetch(
            "SELECT process, started_at, seen_at, leader, detail FROM processes"
            " WHERE seen_at >= ? ORDER BY started_at",
            (seen_since.isoformat(),),
        )
        return [
            ProcessBeat(
                r[0], datetime.fromisoformat(r[1]), datetime.fromisoformat(r[2]), bool(r[3]), r[4]
            )
            for r in rows
        ]

    async def forget_process(self, process: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM processes WHERE process = ?", (process,))
