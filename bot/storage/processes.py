"""The processes sharing an SQLite database: one writes it, so it always leads; its
heartbeat row is what `paperwire status`, another process, reads."""

from __future__ import annotations

from datetime import datetime

from bot.storage.database import Database
from bot.storage.decode import PROCESS_COLUMNS, process_beat_from_row
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
                f"INSERT OR REPLACE INTO processes ({PROCESS_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
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
            f"SELECT {PROCESS_COLUMNS} FROM processes WHERE seen_at >= ? ORDER BY started_at",
            (seen_since.isoformat(),),
        )
        return [process_beat_from_row(r) for r in rows]

    async def forget_process(self, process: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM processes WHERE process = ?", (process,))
